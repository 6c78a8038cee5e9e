"""Streamlit's frontend files, compressed once, for the front to serve with no work per request.

Streamlit serves its static files (about 26 MB: Plotly's chunk alone is 4.7 MB) uncompressed on
purpose: compressing on every request would cost the app's Python process CPU. nginx's
`gzip_static` (and `brotli_static`) instead sends a `.gz` (`.br`) file made beforehand next to the
original, so a student's first visit downloads about a third of the bytes and nobody's CPU is spent
per request. `prepare()` makes that copy of the folder once per Streamlit version (all of its files,
plus `.gz`, and `.br` when Python's `brotli` package is installed), at the highest compression
levels: it runs once, the files are then read for every visit. Files that are already compressed
(fonts, pictures) are copied as they are.

The folder: $OPTVIZ_STATIC_CACHE_DIR if set, else $XDG_CACHE_HOME/optviz/static (~/.cache/...),
with one subfolder per Streamlit version. A copy is made in a temporary sibling and renamed into
place when complete, so an interrupted preparation is redone and never served half-made.
"""

from __future__ import annotations

import gzip
import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

CACHE_ENV = "OPTVIZ_STATIC_CACHE_DIR"
COMPRESSIBLE = frozenset({".js", ".css", ".html", ".json", ".svg", ".map", ".txt", ".ttf", ".otf"})
GZIP_LEVEL = 9
BROTLI_QUALITY = 11


def brotli_available() -> bool:
    """Whether `.br` files can be made (Python's `brotli` package)."""
    return importlib.util.find_spec("brotli") is not None


def streamlit_static_dir() -> Path:
    """The folder Streamlit serves its frontend from (found without importing Streamlit)."""
    spec = importlib.util.find_spec("streamlit")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("Streamlit is not installed: python -m pip install -r requirements.txt")
    return Path(spec.origin).parent / "static"


def cache_root() -> Path:
    """Where prepared copies live: $OPTVIZ_STATIC_CACHE_DIR, else the user's cache folder."""
    chosen = os.environ.get(CACHE_ENV, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base) / "optviz" / "static"


def prepared_dir(root: Path | None = None) -> Path:
    """The prepared copy for the installed Streamlit (it may not exist yet)."""
    suffix = "-br" if brotli_available() else ""
    version = importlib.metadata.version("streamlit")
    return (root or cache_root()) / f"streamlit-{version}{suffix}"


def _compress(path: Path, brotli: bool) -> None:
    """Write `path.gz` (and `path.br`) beside `path`, each only if it is smaller than the file."""
    data = path.read_bytes()
    packed = {".gz": gzip.compress(data, GZIP_LEVEL, mtime=0)}
    if brotli:
        import brotli as brotli_module

        packed[".br"] = brotli_module.compress(data, quality=BROTLI_QUALITY)
    for suffix, body in packed.items():
        if len(body) < len(data):
            path.with_name(path.name + suffix).write_bytes(body)


def prepare(source: Path | None = None, target: Path | None = None, processes: int | None = None) -> Path:
    """Copy Streamlit's static folder (or `source`) to `target` (default: `prepared_dir()`) with every
    compressible file also compressed; return `target`. Does nothing if `target` already exists."""
    source = source or streamlit_static_dir()
    target = target or prepared_dir()
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        files = [p for p in staging.rglob("*") if p.is_file() and p.suffix in COMPRESSIBLE]
        files.sort(key=lambda p: p.stat().st_size, reverse=True)  # the largest first: even shares
        brotli = brotli_available()
        with ProcessPoolExecutor(processes or os.cpu_count() or 1) as pool:
            list(pool.map(_compress, files, [brotli] * len(files)))
        os.chmod(staging, 0o755)  # mkdtemp makes it private; nginx's processes read it
        try:
            staging.rename(target)
        except OSError:  # another command prepared it meanwhile: keep theirs
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
