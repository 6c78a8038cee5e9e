"""The disconnected sessions that Streamlit's server drops are shut down (see `optviz.serving`).

Streamlit keeps a session whose websocket closed for `server.disconnectedSessionTTL` seconds, in
case its browser reconnects, in a TTL cache of 128 (`streamlit.runtime.memory_session_storage`).
When the cache drops one, expired or pushed out by newer ones, nothing calls its `shutdown()`, which
frees its media files and uploads; and the cache drops an expired entry only at its next write (or
`expire()`, or `len`). So after the last student of a class has left, up to 128 sessions stay in
each worker with their state and their last messages. This module makes dropping shut a session
down and lets a timer drop the expired ones. It reaches into private names of the pinned Streamlit
(the runtime's session manager, its storage with that storage's cache and lock, and the event loop),
and steps aside, with a log line, where they are not there. The timer's call after sessions were
shut down makes a full garbage collection, which frees what they held.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable

from streamlit import runtime
from streamlit.runtime.caching.ttl_cache import TTLCache
from streamlit.runtime.memory_session_storage import MemorySessionStorage

log = logging.getLogger(__name__)


class ShutDownWhenDropped(TTLCache):
    """Streamlit's cache of disconnected sessions (session id -> SessionInfo, see
    `streamlit.runtime.memory_session_storage`) that shuts down each session it drops: an expired one
    (`expire`, which its writes and `len` call too) or the least recently used one when full. A
    session taken back out by its reconnecting browser (`del`) is not dropped: it lives on.
    `shut_down` counts the sessions shut down since the owner last reset it."""

    shut_down = 0

    def expire(self, at_time: float | None = None) -> list:
        dropped = super().expire(at_time)
        for _, info in dropped:
            self._shut(info)
        return dropped

    def _evict_lru(self, reason):
        info = super()._evict_lru(reason)
        self._shut(info)
        return info

    def _shut(self, info) -> None:
        info.session.shutdown()
        self.shut_down += 1


def shut_down_dropped_sessions() -> Callable[[], None] | None:
    """Make the running Streamlit server shut down the disconnected sessions its storage drops
    (`ShutDownWhenDropped`). Returns a function that drops the expired ones now, callable from any
    thread (the storage is the event loop's); None without a server (AppTest, bare mode) or with a
    Streamlit whose session storage is not the one this knows."""
    try:
        server = runtime.get_instance()
        manager = server._session_mgr
        storage, lock = manager._session_storage, manager._storage_lock
        loop = server._get_async_objs().eventloop
        kept = storage._cache
    except (RuntimeError, AttributeError) as problem:
        log.info("optviz: disconnected sessions left to Streamlit (%s)", problem)
        return None
    if not isinstance(storage, MemorySessionStorage) or not isinstance(kept, TTLCache):
        return None
    if not isinstance(kept, ShutDownWhenDropped):
        with lock:
            cache = ShutDownWhenDropped(maxsize=kept.maxsize, ttl=kept.ttl)
            cache.update(kept)
            storage._cache = cache

    def drop_expired() -> None:
        with lock:
            cache = storage._cache
            collect, cache.shut_down = cache.shut_down > 0, 0
            cache.expire()
        if collect:
            # The sessions shut down before this call: a session's objects refer to each other, so
            # only a full collection frees them, and page runs make none (`runner.postScriptGC =
            # false`, see optviz/serving.py). Not those shut down just now: their threads and the
            # event loop's callbacks still hold them for a moment.
            gc.collect()

    return lambda: loop.call_soon_threadsafe(drop_expired)
