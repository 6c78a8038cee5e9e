"""Formula benchmark: what a student's own f(x, y) costs, with one interpreter for every formula
against a program compiled for each formula (how formulas ran before), in the same process.

Run from the repository root:  python -m bench.formula [--formulas 500]
Budgets (issue 22), warm process, this 2-core CPU: a new formula, text -> surface with its minima ->
race of 3 optimizers x 300 steps -> contour grid, median <= 50 ms; <= 100 ms racing every optimizer;
after 500 distinct formulas, resident memory within 30 MB of where it stood after the first five.
Compile times of the shared programs (paid once per process, or loaded from JAX's persistent cache)
are reported, not budgeted.

The compiled-per-formula baseline is the same tree composed as a plain JAX function
(`tests.formula_reference`) on a surface of its own, which the engine compiles for like a built-in;
it gets the race and the grid only (its landmark search compiled per formula too, which made it
slower still).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import statistics
import time

import optviz
from optviz.lab.race import surface_grid
from surfaces import from_formula
from surfaces.formula import _build
from surfaces.formula.parse import checked_tree
from tests.formula_reference import reference_function

THREE = ["gd", "momentum", "adam"]
START, STEPS = (1.0, 1.0), 300
BUDGET_MS, BUDGET_ALL_MS, MEMORY_BUDGET_MB = 50, 100, 30


def formulas(count: int, offset: int = 0) -> list[str]:
    """`count` distinct formulas a class might type: bowls, ripples and quartics with their own numbers."""
    templates = (
        "sin({a}*x)*cos({b}*y) + 0.1*(x^2 + y^2)",
        "(x - {a})^2 + {b}*(y + 0.5)^2 + 0.3*x*y",
        "x^4 - {a}*x^2 + {b}*y^2 + x*y/3",
        "log(1 + (x - {b})^2 + {a}*y^2)",
        "exp(-((x-{a})^2 + y^2)) - exp(-((x+1)^2 + (y-{b})^2)) + 0.05*(x^2 + y^2)",
    )
    return [
        templates[k % len(templates)].format(a=round(0.5 + 0.013 * k, 3), b=round(1.0 + 0.007 * k, 3))
        for k in range(offset, offset + count)
    ]


def new_formula_ms(text: str, optimizers: list[str]) -> float:
    """Milliseconds from the text to its surface (with minima), its race and its contour grid."""
    start = time.perf_counter()
    surface = from_formula(text)
    optviz.compare(surface, optimizers, start=START, steps=STEPS)
    surface_grid(surface)
    return (time.perf_counter() - start) * 1e3


def compiled_per_formula_ms(text: str) -> float:
    """The same race and grid on a surface whose function is compiled for this formula alone."""
    surface = from_formula(text)
    start = time.perf_counter()
    alone = dataclasses.replace(surface, fn=reference_function(checked_tree(text)), family=None, params=None)
    optviz.compare(alone, THREE, start=START, steps=STEPS)
    surface_grid(alone)
    return (time.perf_counter() - start) * 1e3


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--formulas", type=int, default=500, help="distinct formulas for the memory run")
    count = parser.parse_args(argv).formulas

    start = time.perf_counter()
    new_formula_ms("x^2 + 3*y^2", list(optviz.OPTIMIZERS))
    new_formula_ms("x^2 + 4*y^2", THREE)
    print(
        f"first formula in this process (compiles the shared programs): {time.perf_counter() - start:.1f} s"
    )

    three = [new_formula_ms(text, THREE) for text in formulas(40)]
    every = [new_formula_ms(text, list(optviz.OPTIMIZERS)) for text in formulas(40, offset=40)]
    baseline = [compiled_per_formula_ms(text) for text in formulas(5, offset=80)]
    median3, median_all, base = (
        statistics.median(three),
        statistics.median(every),
        statistics.median(baseline),
    )
    print(f"a new formula, warm: text -> surface with minima -> race {STEPS} steps -> contour grid")
    print(
        f"  {len(THREE)} optimizers: median {median3:6.1f} ms (budget {BUDGET_MS} ms, "
        f"{median3 / BUDGET_MS:.2f} of it); max {max(three):.0f} ms"
    )
    print(
        f"  all {len(optviz.OPTIMIZERS)}:       median {median_all:6.1f} ms (budget {BUDGET_ALL_MS} ms, "
        f"{median_all / BUDGET_ALL_MS:.2f} of it)"
    )
    print(
        f"  compiled per formula (baseline, race and grid only): median {base:.0f} ms -> "
        f"the interpreter is {base / median3:.0f}x faster"
    )

    texts = formulas(count, offset=1000)
    for text in texts[:5]:
        new_formula_ms(text, THREE)
    gc.collect()
    after_five = resident_mb()
    for text in texts[5:]:
        new_formula_ms(text, THREE)
    gc.collect()
    growth = resident_mb() - after_five
    cache = _build.cache_info()
    print(
        f"memory over {count} distinct formulas: {after_five:.0f} MB after five, {growth:+.1f} MB after all "
        f"(budget {MEMORY_BUDGET_MB} MB); surface cache {cache.currsize}/{cache.maxsize}"
    )


if __name__ == "__main__":
    main()
