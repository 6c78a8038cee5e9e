"""The command line: `python -m optviz export ...` writes the lab's race as HTML, GIF or PNG.

Every option is named like the lab page's URL parameter for the same control, and takes the same
choices, ranges and defaults (optviz/lab/config.py), so a link's settings can be copied onto a
command line. Where the page clamps a value from a link (a link must always open), the command line
refuses it: a script that asked for steps=5000 should fail loudly, not quietly export another race.
Bad arguments get a one-line message and exit code 2 (argparse's convention); a failed export (e.g.
no browser for images) exits 1; success prints one line.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from optviz.lab import config as lab
from optviz.lab import export
from optviz.lab.config import RaceConfig
from optviz.lab.export.images import FORMATS
from optviz.lab.export.view import RaceExport
from optviz.optimizers import HYPERPARAMETERS, OPTIMIZERS
from optviz.params import hyperparameter_key
from optviz.schedules import SCHEDULES
from surfaces import SURFACES, from_formula, get_surface


def _words(text: str) -> str:
    """'Side-by-side', 'very_fast' -> 'side by side', 'very fast' (how choices are matched)."""
    return " ".join(text.replace("-", " ").replace("_", " ").casefold().split())


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: the problem, then where to read more; exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _HelpFormatter(argparse.HelpFormatter):
    """Shows an option's default unless it is None or its help already says it."""

    def _get_help_string(self, action):
        text = action.help or ""
        if (
            action.default not in (None, argparse.SUPPRESS)
            and "default" not in text
            and action.option_strings
        ):
            text += " (default: %(default)s)"
        return text


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m optviz",
        description="optviz from the command line: export the optimizer lab's race for slides and "
        "offline use.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    ex = commands.add_parser(
        "export",
        help="write the race as a standalone HTML page, an animated GIF or a PNG",
        description="Race optimizers on a loss surface and write the animation as a standalone HTML "
        "page (plays offline, the live race chart inside), an animated GIF or a PNG of one step. Options "
        "are named like the lab page's URL parameters; bad values exit with code 2.",
        epilog="Example: python -m optviz export --surface beale --optimizers gd,momentum,adam "
        "--steps 300 --out race.gif",
        formatter_class=_HelpFormatter,
    )
    race_options = ex.add_argument_group("the race (as on the lab page)")
    race_options.add_argument(
        "--surface",
        default=next(iter(SURFACES)),
        metavar="NAME",
        help=f"loss surface: {', '.join(SURFACES)}, or {lab.CUSTOM} (with --formula)",
    )
    race_options.add_argument(
        "--formula",
        metavar="TEXT",
        help="f(x, y) for --surface custom, e.g. 'sin(x)*cos(y) + 0.1*(x^2 + y^2)'",
    )
    (x0, x1), (y0, y1) = lab.FORMULA_WINDOW
    for name, default in (("formula_x0", x0), ("formula_x1", x1), ("formula_y0", y0), ("formula_y1", y1)):
        race_options.add_argument(
            f"--{name}", type=_number, default=default, metavar="V", help="window of the custom formula"
        )
    race_options.add_argument(
        "--start_x", type=_number, metavar="X", help="start point x (default: the surface's default start)"
    )
    race_options.add_argument(
        "--start_y", type=_number, metavar="Y", help="start point y (default: the surface's default start)"
    )
    race_options.add_argument(
        "--optimizers",
        default=",".join(lab.DEFAULT_OPTIMIZERS),
        metavar="A,B,...",
        help=f"comma-separated, from: {', '.join(OPTIMIZERS)}",
    )
    race_options.add_argument(
        "--steps",
        type=_integer,
        metavar="N",
        help=f"optimizer steps, {lab.MIN_STEPS}..{lab.MAX_STEPS} (default: the surface's default)",
    )
    race_options.add_argument(
        "--noise",
        type=_number,
        default=0.0,
        metavar="SIGMA",
        help=f"gradient noise for every optimizer, {lab.NOISE_RANGE[0]:g}..{lab.NOISE_RANGE[1]:g}",
    )
    race_options.add_argument("--seed", type=_integer, default=0, help=f"noise seed, 0..{lab.MAX_SEED}")
    race_options.add_argument(
        "--schedule",
        default="constant",
        metavar="KIND",
        help=f"learning-rate schedule: {'|'.join(SCHEDULES)}",
    )
    race_options.add_argument(
        "--schedule_gamma",
        type=_number,
        default=lab.DEFAULT_GAMMA,
        metavar="G",
        help="step decay: factor, in (0, 1]",
    )
    race_options.add_argument(
        "--schedule_every",
        type=_integer,
        metavar="K",
        help=f"step decay: every K steps, 1..{lab.MAX_STEPS} (default: steps // 4)",
    )
    race_options.add_argument(
        "--schedule_warmup",
        type=_integer,
        metavar="W",
        help=f"warmup: over W steps, 1..{lab.MAX_STEPS} (default: steps // 5); cosine anneals over the run",
    )
    race_options.add_argument(
        "--layout", default="overlay", metavar="LAYOUT", help="overlay | side-by-side ('Side by side')"
    )
    race_options.add_argument(
        "--presenter",
        action="store_true",
        help="presenter mode, as on the page: larger text, thicker lines, higher contrast",
    )
    race_options.add_argument(
        "--equal_scale",
        action="store_true",
        help=f"x and y on one scale, as on the page (a window at most {lab.EQUAL_SCALE_MAX_RATIO:g} times "
        "longer one way than the other)",
    )
    race_options.add_argument(
        "--speed",
        default="normal",
        metavar="SPEED",
        help=f"animation speed: {' | '.join(lab.SPEEDS)} (the HTML page plays "
        f"{'/'.join(str(v) for v in lab.CHART_SPEEDS.values())} steps per second, as the live chart; "
        f"a GIF shows {'/'.join(str(fps) for fps in lab.SPEEDS.values())} frames per second)",
    )
    hp = ex.add_argument_group(
        "hyperparameters", "--hp_OPTIMIZER_NAME VALUE; default: the surface's recommended value"
    )
    for optimizer, spec in OPTIMIZERS.items():
        for name in spec.hyperparams:
            info = HYPERPARAMETERS[name]
            hp.add_argument(
                f"--{hyperparameter_key(optimizer, name)}",
                type=_number,
                metavar="V",
                help=f"{spec.label}: {info.description}, {info.low:g}..{info.high:g}",
            )
    out = ex.add_argument_group("the export")
    out.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    out.add_argument("--format", metavar="FORMAT", help="html | gif | png (default: from the --out suffix)")
    out.add_argument(
        "--frames",
        type=_integer,
        metavar="N",
        help="GIF: frames, 2..steps + 1 (default: 100, or steps + 1 if fewer)",
    )
    out.add_argument("--step", type=_integer, metavar="N", help="PNG: the step shown (default: the last)")
    out.add_argument(
        "--width", type=_integer, metavar="PX", help="GIF/PNG width, 100..4096 (default: GIF 960, PNG 1280)"
    )
    out.add_argument(
        "--height",
        type=_integer,
        metavar="PX",
        help="GIF/PNG height, 100..4096 (default: GIF 540, PNG 720); HTML: the chart's height (520)",
    )
    out.add_argument("--scale", type=_number, default=1.0, help="PNG: pixel density, 0.5..4")
    parser.export_parser = ex  # its errors start "python -m optviz export: error: ..."
    return parser


def _in_range(parser, option: str, value, low, high) -> None:
    if value is not None and not low <= value <= high:
        parser.error(f"--{option} must be between {low:g} and {high:g}, got {value:g}")


def _choice(parser, option: str, text: str, options) -> str:
    by_words = {_words(o): o for o in options}
    if _words(text) not in by_words:
        parser.error(f"--{option}: unknown {text!r}; choose one of: {', '.join(options)}")
    return by_words[_words(text)]


def _surface(parser, args):
    if _words(args.surface) in (lab.CUSTOM, "your own f(x, y)"):
        if not args.formula:
            parser.error("--surface custom needs --formula TEXT")
        window = ((args.formula_x0, args.formula_x1), (args.formula_y0, args.formula_y1))
        try:
            return from_formula(args.formula, window)
        except ValueError as problem:
            parser.error(f"--formula: {problem}")
    if args.formula:
        parser.error("--formula only goes with --surface custom")
    return get_surface(_choice(parser, "surface", args.surface, list(SURFACES)))


def _optimizers(parser, text: str) -> list[str]:
    names = [name.strip().casefold() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in OPTIMIZERS]
    if unknown:
        parser.error(f"--optimizers: unknown {', '.join(unknown)}; choose from: {', '.join(OPTIMIZERS)}")
    if not names:
        parser.error("--optimizers: choose at least one")
    return list(dict.fromkeys(names))


def _hyperparameters(parser, args, selected) -> dict[str, dict[str, float]]:
    """The hyperparameters given on the command line, by optimizer (the rest take their defaults)."""
    chosen = {}
    for optimizer, spec in OPTIMIZERS.items():
        for name in spec.hyperparams:
            option = hyperparameter_key(optimizer, name)
            value = getattr(args, option)
            if value is None:
                continue
            info = HYPERPARAMETERS[name]
            _in_range(parser, option, value, info.low, info.high)
            if optimizer not in selected:
                print(f"note: --{option} ignored: {optimizer} is not in --optimizers", file=sys.stderr)
            chosen.setdefault(optimizer, {})[name] = value
    return chosen


def _schedule(parser, args, steps: int):
    kind = _choice(parser, "schedule", args.schedule, list(SCHEDULES))
    if not 0 < args.schedule_gamma <= 1:
        parser.error(f"--schedule_gamma must be in (0, 1], got {args.schedule_gamma:g}")
    _in_range(parser, "schedule_every", args.schedule_every, 1, lab.MAX_STEPS)
    _in_range(parser, "schedule_warmup", args.schedule_warmup, 1, lab.MAX_STEPS)
    return lab.schedule(kind, steps, args.schedule_gamma, args.schedule_every, args.schedule_warmup)


def _format(parser, args) -> str:
    if args.format:
        return _choice(parser, "format", args.format, FORMATS)
    suffix = Path(args.out).suffix.lstrip(".").casefold()
    if suffix not in FORMATS:
        parser.error(
            f"--out {args.out!r}: give --format html|gif|png, or end the file name in .html/.gif/.png"
        )
    return suffix


def check_out(parser, out: str) -> Path:
    """The file `--out` names, checked before any work: not a folder, in a folder that exists, writable."""
    path = Path(out)
    if path.is_dir():
        parser.error(f"--out {out!r} is a folder, not a file")
    folder = path.parent
    if not folder.is_dir():
        parser.error(f"--out {out!r}: the folder {str(folder)!r} does not exist")
    if not os.access(path if path.exists() else folder, os.W_OK):
        parser.error(f"--out {out!r} cannot be written: permission denied")
    return path


def export_command(parser, args) -> int:
    surface = _surface(parser, args)
    selected = _optimizers(parser, args.optimizers)
    steps = args.steps if args.steps is not None else surface.default_steps
    _in_range(parser, "steps", steps, lab.MIN_STEPS, lab.MAX_STEPS)
    (x0, x1), (y0, y1) = surface.bounds
    start_x = args.start_x if args.start_x is not None else surface.default_start[0]
    start_y = args.start_y if args.start_y is not None else surface.default_start[1]
    _in_range(parser, "start_x", start_x, x0, x1)
    _in_range(parser, "start_y", start_y, y0, y1)
    _in_range(parser, "noise", args.noise, *lab.NOISE_RANGE)
    _in_range(parser, "seed", args.seed, 0, lab.MAX_SEED)
    hyperparams = _hyperparameters(parser, args, selected)
    schedule = _schedule(parser, args, steps)
    panels = _choice(parser, "layout", args.layout, lab.LAYOUTS) == lab.LAYOUTS[1]
    if args.equal_scale and not lab.equal_scale_fits(surface):
        parser.error(
            f"--equal_scale: this window is {lab.window_ratio(surface):.1f} times longer one way than the "
            f"other (at most {lab.EQUAL_SCALE_MAX_RATIO:g})"
        )
    speed = _choice(parser, "speed", args.speed, list(lab.SPEEDS))
    kind = _format(parser, args)
    _in_range(parser, "frames", args.frames, 2, steps + 1)
    _in_range(parser, "step", args.step, 0, steps)
    _in_range(parser, "width", args.width, 100, 4096)
    _in_range(parser, "height", args.height, 100, 4096)
    _in_range(parser, "scale", args.scale, 0.5, 4)
    path = check_out(parser, args.out)

    config = RaceConfig.create(
        surface, selected, (start_x, start_y), steps, hyperparams, args.noise, args.seed, schedule
    )
    wanted = RaceExport(
        config,
        kind,
        panels=panels,
        speed=speed,
        presenter=args.presenter,
        equal_scale=args.equal_scale,
        frames=args.frames,
        step=args.step,
        width=args.width,
        height=args.height,
        scale=args.scale,
    )
    chart = wanted.chart_data()
    try:
        data = wanted.render(chart)
    except ValueError as problem:
        parser.error(str(problem))
    except export.ExportError as problem:
        print(f"optviz export: {problem}", file=sys.stderr)
        return 1
    detail = wanted.describe()
    try:
        path.write_bytes(data)
    except OSError as problem:
        parser.error(f"--out {args.out!r} cannot be written: {problem.strerror or problem}")
    print(f"wrote {path} ({len(data) / 1e6:.2f} MB, {kind.upper()}, {detail})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return export_command(parser.export_parser, args)
