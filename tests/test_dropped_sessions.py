"""A disconnected session that Streamlit's server drops is shut down: expired, pushed out by newer ones,
or at the timer's call; a session its browser takes back is not. On a real Streamlit runtime (the
pinned version's internals are what `optviz.ui.dropped_sessions` reaches into)."""

import asyncio
import gc
import threading
import weakref

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime import Runtime, RuntimeConfig
from streamlit.runtime.app_session import AppSessionState
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.runtime.memory_session_storage import MemorySessionStorage
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

from optviz.ui.dropped_sessions import ShutDownWhenDropped, shut_down_dropped_sessions

TTL_S = 0.3


class Browser:
    """A websocket's end of a session: it takes what the server sends and keeps nothing."""

    def write_forward_msg(self, msg) -> None:
        pass


def _serve(tmp_path, scenario, maxsize: int = 128):
    """Run `scenario(server, drop_expired)` on a started Streamlit runtime whose disconnected sessions
    live TTL_S seconds in a store of `maxsize`."""
    page = tmp_path / "page.py"
    # The session's state holding itself: a cycle, as the lab's component presenters make.
    page.write_text(
        "import streamlit as st\n"
        "from streamlit.runtime.scriptrunner import get_script_run_ctx\n"
        "class Held: pass\n"
        "st.session_state.held = Held()\n"
        "st.session_state.cycle = get_script_run_ctx().session_state\n"
        "st.session_state.ran = True\n"
    )

    async def main():
        server = Runtime(
            RuntimeConfig(
                script_path=str(page),
                media_file_storage=MemoryMediaFileStorage("/media"),
                uploaded_file_manager=MemoryUploadedFileManager("/upload"),
                session_storage=MemorySessionStorage(maxsize=maxsize, ttl_seconds=TTL_S),
            )
        )
        try:
            await server.start()
            drop_expired = await asyncio.get_running_loop().run_in_executor(None, shut_down_dropped_sessions)
            assert drop_expired is not None
            await scenario(server, drop_expired)
        finally:
            server.stop()
            await server.stopped
            Runtime._instance = None

    # On a thread of its own, as Streamlit's server runs: the test's thread may have an event loop
    # running already (the browser tests' Playwright leaves one).
    failures = []
    thread = threading.Thread(target=lambda: _run_catching(main, failures))
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the scenario did not end within 60 s"
    if failures:
        raise failures[0]


def _run_catching(main, failures: list) -> None:
    try:
        asyncio.run(main())
    except BaseException as failure:  # raised again on the test's thread
        failures.append(failure)


async def _runs_done(sessions) -> None:
    """Until each session's first run of the page is over."""
    for _ in range(200):
        if all(
            "ran" in session._session_state and session._state == AppSessionState.APP_NOT_RUNNING
            for session in sessions
        ):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the page's runs did not end")


def _shut_down(session) -> bool:
    return session._state == AppSessionState.SHUTDOWN_REQUESTED


def _connect(server: Runtime, count: int) -> dict:
    """`count` new sessions, by id."""
    ids = [server.connect_session(client=Browser(), user_info={}) for _ in range(count)]
    return {session_id: server.get_app_session(session_id) for session_id in ids}


def test_expired_sessions_are_shut_down_at_the_timers_call(tmp_path):
    async def scenario(server, drop_expired):
        sessions = _connect(server, 3)
        for session_id in sessions:
            server.disconnect_session(session_id)
        assert not any(_shut_down(s) for s in sessions.values())  # kept for a reconnect
        await asyncio.sleep(TTL_S + 0.1)
        assert not any(_shut_down(s) for s in sessions.values())  # Streamlit alone: still there
        drop_expired()  # from the timer's thread: it runs on the event loop
        await asyncio.sleep(0.05)
        assert all(_shut_down(s) for s in sessions.values())
        assert server._session_mgr._session_storage.list() == []

    _serve(tmp_path, scenario)


def test_what_dropped_sessions_held_is_freed_at_the_next_call(tmp_path):
    """A session's objects form reference cycles: the timer's call after the one that shut them down
    collects them."""

    async def scenario(server, drop_expired):
        sessions = _connect(server, 3)
        for session_id in sessions:
            server.handle_backmsg(session_id, BackMsg(rerun_script=ClientState()))
        await _runs_done(sessions.values())
        gone = [weakref.ref(session._session_state["held"]) for session in sessions.values()]
        for session_id in sessions:
            server.disconnect_session(session_id)
        del sessions
        await asyncio.sleep(TTL_S + 0.1)
        gc.disable()  # only the timer's collection counts
        try:
            drop_expired()  # shuts them down
            await asyncio.sleep(0.05)
            drop_expired()  # collects them
            await asyncio.sleep(0.05)
            # All but the one Streamlit's event loop last sent messages to (its flush loop's variable
            # keeps it until the loop sends again).
            assert sum(held() is None for held in gone) >= len(gone) - 1
        finally:
            gc.enable()

    _serve(tmp_path, scenario)


def test_the_oldest_session_pushed_out_of_a_full_store_is_shut_down(tmp_path):
    async def scenario(server, drop_expired):
        sessions = _connect(server, 3)
        first, *rest = sessions
        for session_id in sessions:
            server.disconnect_session(session_id)  # the third pushes the first out of a store of 2
        assert _shut_down(sessions[first])
        assert not any(_shut_down(sessions[s]) for s in rest)

    _serve(tmp_path, scenario, maxsize=2)


def test_a_session_its_browser_takes_back_lives_on(tmp_path):
    async def scenario(server, drop_expired):
        sessions = _connect(server, 1)
        (session_id,) = sessions
        server.disconnect_session(session_id)
        again = server.connect_session(client=Browser(), user_info={}, existing_session_id=session_id)
        assert again == session_id
        await asyncio.sleep(TTL_S + 0.1)
        drop_expired()
        await asyncio.sleep(0.05)
        assert not _shut_down(sessions[session_id])
        assert server.is_active_session(session_id)

    _serve(tmp_path, scenario)


def test_without_a_server_nothing_is_changed():
    """AppTest and `python script.py` run pages without Streamlit's server."""
    assert shut_down_dropped_sessions() is None


@pytest.mark.parametrize("expired", [True, False])
def test_the_store_drops_by_its_clock(expired):
    """The cache alone: what it drops is shut down, what is taken out (`del`) is not."""
    now = [0.0]

    class Session:
        down = False

        def shutdown(self):
            self.down = True

    class Info:
        def __init__(self):
            self.session = Session()

    cache = ShutDownWhenDropped(maxsize=4, ttl=10, timer=lambda: now[0])
    kept, taken = Info(), Info()
    cache["kept"], cache["taken"] = kept, taken
    del cache["taken"]
    now[0] = 11.0 if expired else 9.0
    cache.expire()
    assert kept.session.down is expired
    assert taken.session.down is False
