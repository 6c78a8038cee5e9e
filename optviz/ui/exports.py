"""The lab's downloads: the race as an offline HTML page, a GIF and a PNG, for slides.

HTML needs no browser: the button makes it when clicked, on Streamlit's download thread.
GIF and PNG are drawn by the server's shared renders (optviz.lab.export.jobs), made once per view
for everyone: "Make GIF" asks for this view's file, which joins the render already asked for by
anyone else with the same view, or is handed out at once if it is made already. While it waits or
draws, the section says where it stands ("2 ahead of you", then a progress bar), looking again every
`POLL_S`; once the file is there its button downloads it. A render that failed says why and offers
to try again. The page never waits for a render itself.

What a class costs the server, measured (python -m bench.load): a page run ~50-60 ms of its CPU, a
rerun of this section ~5 ms. So the section is a fragment (a click reruns it, not the page), and
only while this session waits for a picture does it look again, as a fragment with a timer
(`_live`). That timer stops when the section reruns without it: when the file is downloaded (the
download button reruns the section), or with the page's next run. A session that has its file but
neither downloads it nor touches the page has the page rerun at a moment of its own between
`SETTLE_S` and twice that: a class whose shared GIF has just been made does not rerun all its pages
at once, which would hold up everyone's charts.
"""

from __future__ import annotations

import random
import time

import streamlit as st

from optviz.lab import export
from optviz.lab.config import RaceConfig, RaceView
from optviz.lab.export.jobs import DONE, FAILED, QUEUED, RENDERS, Job
from optviz.lab.export.view import RaceExport
from optviz.text import literal

POLL_S = 2.0  # how often a waiting page looks at its render again
QUICK_S = 1.0  # a click waits this long for its file before showing where it stands (a PNG is ready)
SETTLE_S = 30.0  # an idle page whose pictures are there reruns after 1-2 times this (see above)
SECTION = "export_downloads"  # the section's fragment key (a download reruns it)
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


@st.fragment(key=SECTION)
def downloads(config: RaceConfig, view: RaceView, presenter: bool) -> None:
    """The download buttons for the race `config` as the page shows it, and how far its pictures are."""
    views = {
        kind: RaceExport(config, kind, view.panels, view.speed, presenter, view.equal_scale)
        for kind in ("html", *PICTURES)
    }
    st.session_state.pop("export_settle_at", None)
    (_live if any(_waits(job) for job in _jobs(views).values()) else _section)(views)


@st.fragment(run_every=POLL_S)
def _live(views: dict[str, RaceExport]) -> None:
    """`_section`, looked at again every POLL_S; once no picture is left to wait for and none is
    downloaded, a page run (which stops the timer) at this session's moment (see the module)."""
    _section(views)
    if any(_waits(job) for job in _jobs(views).values()):
        st.session_state.pop("export_settle_at", None)
        return
    settle_at = st.session_state.setdefault(
        "export_settle_at", time.monotonic() + random.uniform(0, SETTLE_S)
    )
    if time.monotonic() >= settle_at:
        st.rerun()


def _section(views: dict[str, RaceExport]) -> None:
    """The buttons, a failed picture's reason and a waiting picture's place or progress."""
    surface = views["html"].config.surface.name
    name = "race-custom" if surface.startswith("f:") else f"race-{surface}"
    drawable = export.browser_available()
    html, *buttons, note = st.columns([1, 1, 1, 2], vertical_alignment="center")
    html.download_button(
        ":material/download: HTML animation",
        views["html"].make,  # called on click, not on every rerun
        file_name=f"{name}.html",
        mime="text/html",
        on_click="ignore",
        key="download_html",
        help="One file that plays offline (the live chart inside): for any browser or an HTML slide deck.",
    )
    missing = "GIF and PNG need Chromium on the server (apt-get install chromium)."
    note.caption("Offline copies for slides, made once for the whole class." if drawable else missing)
    jobs = _jobs(views)
    for column, (kind, job) in zip(buttons, jobs.items(), strict=True):
        _button(column, kind, views[kind], job, f"{name}.{kind}", drawable)
    for kind, job in jobs.items():
        label = PICTURES[kind][0]
        refused = st.session_state.get(f"export_{kind}_refused")
        reason = job.error if job is not None and job.state == FAILED else None
        if refused and refused[0] == views[kind].key:
            reason = refused[1]
        if reason:
            st.error(f"The {label} could not be made: {literal(reason, limit=None)}", icon=":material/error:")
        elif job is not None and job.state == QUEUED:
            ahead = RENDERS.ahead(job)
            where = f"{ahead} ahead of you" if ahead else "next in line"
            st.progress(0.0, text=f"{label}: waiting for a free renderer, {where}")
        elif _waits(job):
            st.progress(job.progress, text=f"Making the {label}: {job.progress:.0%}")


def _jobs(views: dict[str, RaceExport]) -> dict[str, Job | None]:
    """Each picture's job for this view: the one this session asked for, or a finished one anyone
    asked for; None if there is neither."""
    jobs = {}
    for kind in PICTURES:
        key, asked = views[kind].key, st.session_state.get(f"export_{kind}")
        if asked is not None and asked.key == key:
            jobs[kind] = asked
        else:
            shared = RENDERS.job(key)
            jobs[kind] = shared if shared is not None and shared.state == DONE else None
    return jobs


def _waits(job: Job | None) -> bool:
    return job is not None and job.state not in (DONE, FAILED)


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


def _downloaded() -> None:
    """Download callback: rerun the section (not the page), which stops its timer if it had one."""
    st.rerun(SECTION)


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
            on_click=_downloaded,
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
        disabled=not drawable or _waits(job),
        help=purpose,
    )
