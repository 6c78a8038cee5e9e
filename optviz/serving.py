"""Process settings for serving the app to a class.

Streamlit runs every session's script on a thread of its own, and glibc's malloc gives threads
arenas of their own (up to 8 per core), each keeping the memory its thread freed. After a classroom
of 30 sessions the server held 16% more than after one session, though nothing stayed with the
sessions (a second wave of 30 did not add to it); with one arena shared by all, 5% (8% with two;
python -m bench.load, 30 sessions x 20 s). The Python code of every thread runs under one GIL
anyway, so sharing the arena costs no measurable time (180 ms of server CPU per page run either way).
`limit_malloc_arenas()` sets that limit from inside the process (MALLOC_ARENA_MAX=2 would do it from
outside, but `streamlit run app.py` is the command people type).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

M_ARENA_MAX = -8  # glibc's <malloc.h>
ARENAS = 1

log = logging.getLogger(__name__)


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Ask glibc's malloc to share at most `arenas` arenas among all threads from now on.

    Returns whether it took; elsewhere (macOS, musl, Windows) it does nothing and returns False."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    took = mallopt(M_ARENA_MAX, arenas) == 1
    if not took:
        log.info("optviz: malloc arenas left as they are (mallopt refused)")
    return took
