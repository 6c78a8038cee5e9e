"""A fast first chart: JAX's persistent compilation cache, and a warm-up that fills it.

The lab's first race compiles one XLA program (every optimizer's `lax.scan` for the default surface
and step bucket), which takes far longer than running it; so does the first formula a student types
(the programs that every formula then shares). `enable_compilation_cache()` points JAX at
a folder that keeps compiled programs across server starts, so from the second start on the first
student's race loads its program from disk instead (what remains is JAX tracing the function, a
fraction of the compile). `warm_up()` runs what the lab's first page view computes (the default race
and the surface's grid) and the same for the example formula, which compiles and stores them;
`python -m optviz.warmup` does that at install or deploy time, so even the very first start is warm.

Why not warm up at server start: `streamlit run app.py` executes app.py only when a browser connects
(until then the server has imported nothing of ours), so there is no earlier moment inside the app to
warm up in; the first student's own run is the first chance. The persistent cache is what moves the
compile out of that run.

The folder: $OPTVIZ_JAX_CACHE_DIR if set ("off" turns the cache off), else $XDG_CACHE_HOME/optviz/jax
(~/.cache/optviz/jax). A folder that cannot be created or written never breaks the app: it logs one
line and JAX compiles as it would without a cache.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

import jax

CACHE_ENV = "OPTVIZ_JAX_CACHE_DIR"
OFF = "off"

log = logging.getLogger(__name__)
_enabled: list[Path | None] = []  # the folder chosen by the first call (a list: set once per process)


def cache_dir() -> Path | None:
    """The folder for compiled programs, or None if $OPTVIZ_JAX_CACHE_DIR is "off"."""
    chosen = os.environ.get(CACHE_ENV, "").strip()
    if chosen.lower() == OFF:
        return None
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base) / "optviz" / "jax"


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError as problem:
        log.warning("optviz: no JAX compilation cache (%s): compiling as usual", problem)
        return False


def enable_compilation_cache(folder: Path | None = None) -> Path | None:
    """Keep compiled XLA programs in `folder` (default: `cache_dir()`) across processes.

    Call before the first compile; only the first call in a process acts (JAX reads the setting
    when it first compiles). Returns the folder in use, or None without a cache.
    """
    if _enabled:
        return _enabled[0]
    folder = folder or cache_dir()
    if folder is not None and not _writable(folder):
        folder = None
    if folder is not None:
        jax.config.update("jax_compilation_cache_dir", str(folder))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)  # the lab's are all small
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    _enabled.append(folder)
    return folder


def warm_up() -> float:
    """Compute what the lab's first page view computes: the default surface's grid and its race of
    every optimizer over its default steps (one compiled program); then the same for the lab's
    example formula, which compiles the programs every typed formula shares (the interpreter's grid,
    its search for minima, its race). Returns the seconds it took."""
    from optviz import OPTIMIZERS
    from optviz.lab.config import EXAMPLE_FORMULA, RaceConfig
    from optviz.lab.race import race, surface_grid
    from surfaces import SURFACES, from_formula

    start = time.perf_counter()
    default = next(iter(SURFACES.values()))  # the lab's default: the first of its list
    for surface in (default, from_formula(EXAMPLE_FORMULA)):
        surface_grid(surface)
        race(RaceConfig.create(surface, list(OPTIMIZERS)))
    return time.perf_counter() - start


def main() -> None:
    folder = enable_compilation_cache()
    seconds = warm_up()
    where = f"into {folder}" if folder else "(no cache folder: nothing kept)"
    shared = "the programs every formula shares"
    print(f"optviz: compiled the lab's default race and {shared} in {seconds:.1f} s {where}")


if __name__ == "__main__":
    main()
