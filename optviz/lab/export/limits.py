"""How much the picture exports may take of a server: renders at once, cached files, time.

A class asks for the same GIF in the same minute. Renders draw in one shared headless Chromium and
composite frames on the server's own cores, so the number drawn at once is capped (the others wait
their turn, see `export.jobs`), and so are the finished files kept for the next student and the time
any one render may take. Each can be set in the environment before the server starts; a value that
is not a number in range is ignored with a warning (the default applies), never an error.

- OPTVIZ_EXPORT_WORKERS: renders drawn at once (default: the machine's cores). Each one drawing adds
  roughly a browser tab (~50-100 MB) and its frames (width x height bytes each, for a GIF).
- OPTVIZ_EXPORT_CACHE_MB: finished files kept in memory, least recently asked for dropped first
  (default 128 MB: some hundred GIFs of 960 x 540).
- OPTVIZ_EXPORT_TIMEOUT_S: the most one render may take once started, before it fails and can be
  asked for again (default 60 s).
- OPTVIZ_EXPORT_QUEUE: renders that may wait for their turn; more are refused for now with a message
  to try again (default 200).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    workers: int  # renders drawn at once (and browser tabs kept open)
    cache_bytes: int  # finished files kept
    timeout_s: float  # the most one render may take once started
    queue: int  # renders that may wait


def _setting(name: str, default: float, low: float, high: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # also NaN
        log.warning("optviz: %s=%r is not a number from %g to %g; using %g", name, text, low, high, default)
        return default
    return value


def from_environment() -> Limits:
    """The limits the environment sets (see the module's docstring), defaults elsewhere."""
    return Limits(
        workers=int(_setting("OPTVIZ_EXPORT_WORKERS", os.cpu_count() or 1, 1, 64)),
        cache_bytes=int(_setting("OPTVIZ_EXPORT_CACHE_MB", 128, 0, 64_000) * 1e6),
        timeout_s=_setting("OPTVIZ_EXPORT_TIMEOUT_S", 60, 1, 3600),
        queue=int(_setting("OPTVIZ_EXPORT_QUEUE", 200, 1, 100_000)),
    )


LIMITS = from_environment()  # read once, when the exports are first imported
