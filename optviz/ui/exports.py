"""The lab's downloads: the race as an offline HTML page, a GIF and a PNG, for slides.

HTML needs no browser: the button makes it when clicked, on Streamlit's download thread.
GIF and PNG are drawn by the server's shared renders (optviz.lab.export.jobs), made once per view
for everyone: "Make GIF" asks for this view's file, which joins the render already asked for by
anyone else with the same view, or is handed out at once if it is made already. While it waits or
draws, a fragment says where it stands ("2 ahead of you", then a progress bar), looking again every
`POLL_S`; once the file is there the page reruns and the button downloads it. A render that failed
says why and offers to try again. The page never waits for a render itself.

What a class costs the server, measured (python -m bench.load): a page run ~60 ms of its CPU, a
look at a render ~5 ms. So the section is a fragment of its own (a click reruns it, not the page),
and only a page that waits looks again, each `POLL_S`.
"""

from __future__ import annotations

import streamlit as st

from optviz.lab import export
from optviz.lab.config import RaceConfig
from optviz.lab.export.jobs import DONE, FAILED, QUEUED, RENDERS, Job
from optviz.lab.export.view import RaceExport
from optviz.text import literal

POLL_S = 1.5  # how often a waiting page looks at its render again
QUICK_S = 1.0  # a click waits this long for its file before showing where it stands (a PNG is ready)
# kind -> (what it is called, its icon, the file's MIME type, what it is for)
PICTURES = {
    "gif": (
        "GIF",
        ":material/gif:",
        "image/gif",
        "The race in 100 frames for PowerPoint, Keynote or Google Slides.",
    ),
    "png": ("PNG", ":material/image:", "image/png", "The last step as a 1280 x 720 picture."),
}


@st.fragment
def downloads(config: RaceConfig, panels: bool, speed: int, presenter: bool) -> None:
    """The download buttons for the race `config` as the page shows it, and how far its pictures are."""
    name = "race-custom" if config.surface.name.startswith("f:") else f"race-{config.surface.name}"
    drawable = export.browser_available()
    html, *buttons, note = st.columns([1, 1, 1, 2], vertical_alignment="center")
    html.download_button(
        ":material/download: HTML animation",
        RaceExport(config, "html", panels, speed, presenter).make,  # called on click, not every rerun
        file_name=f"{name}.html",
        mime="text/html",
        on_click="ignore",
        key="download_html",
        help="One file that plays offline (plotly.js inside): for any browser or an HTML slide deck.",
    )
    missing = "GIF and PNG need Chromium on the server (apt-get install chromium)."
    note.caption("Offline copies for slides, made once for the whole class." if drawable else missing)
    waiting = []
    for column, kind in zip(buttons, PICTURES, strict=True):
        wanted = RaceExport(config, kind, panels, speed, presenter)
        job = _job(kind, wanted)
        _button(column, kind, wanted, job, f"{name}.{kind}", drawable)
        refused = st.session_state.get(f"export_{kind}_refused")
        reason = refused[1] if refused and refused[0] == wanted.key else None
        if job is not None and job.state == FAILED:
            reason = job.error
        elif job is not None and job.state != DONE:
            waiting.append(kind)
        if reason:
            st.error(
                f"The {PICTURES[kind][0]} could not be made: {literal(reason, limit=None)}",
                icon=":material/error:",
            )
    if waiting:
        _progress(waiting)


def _job(kind: str, wanted: RaceExport) -> Job | None:
    """This session's job for `wanted` (the last it asked for), or a finished one anyone asked for;
    None if there is neither."""
    asked = st.session_state.get(f"export_{kind}")
    if asked is not None and asked.key == wanted.key:
        return asked
    shared = RENDERS.job(wanted.key)
    return shared if shared is not None and shared.state == DONE else None


def _ask(kind: str, wanted: RaceExport) -> None:
    """Button callback: ask the shared renders for `wanted` (refused when too many wait: say so),
    and give it `QUICK_S` to finish, so that a file made already or quickly (a PNG) is there in the
    rerun this click starts. Waiting here holds no lock and uses no CPU: other sessions go on."""
    st.session_state.pop(f"export_{kind}_refused", None)
    try:
        job = st.session_state[f"export_{kind}"] = RENDERS.request(wanted.key, wanted.make_apart)
    except export.ExportError as problem:
        st.session_state[f"export_{kind}_refused"] = (wanted.key, str(problem))
        return
    job.finished.wait(QUICK_S)


def _button(column, kind: str, wanted: RaceExport, job: Job | None, file_name: str, drawable: bool) -> None:
    label, icon, mime, purpose = PICTURES[kind]
    if job is not None and job.state == DONE:
        column.download_button(
            f":material/download: Download {label}",
            # The bytes, not a function making them: Streamlit keeps a file made on click unreferenced,
            # and under a class's page runs it is deleted before the browser fetches it (measured:
            # 15 of 50 downloads answered 404). These stay while the page shows the button; sessions
            # with the same view share one stored copy.
            job.result,
            file_name=file_name,
            mime=mime,
            on_click="ignore",
            key=f"download_{kind}",
            help=purpose,
        )
        return
    failed = job is not None and job.state == FAILED
    column.button(
        f"{icon} {'Try the ' + label + ' again' if failed else 'Make ' + label}",
        key=f"make_{kind}",
        on_click=_ask,
        args=(kind, wanted),
        disabled=not drawable or (job is not None and not failed),
        help=purpose,
    )


@st.fragment(run_every=POLL_S)
def _progress(kinds: list[str]) -> None:
    """Where this session's waiting pictures stand; a full rerun once one is finished (its button
    becomes a download)."""
    for kind in kinds:
        job = st.session_state.get(f"export_{kind}")
        if job is None or job.state in (DONE, FAILED):
            st.rerun()
        label = PICTURES[kind][0]
        if job.state == QUEUED:
            ahead = RENDERS.ahead(job)
            where = f"{ahead} ahead of you" if ahead else "next in line"
            st.progress(0.0, text=f"{label}: waiting for a free renderer, {where}")
        else:
            st.progress(job.progress, text=f"Making the {label}: {job.progress:.0%}")
