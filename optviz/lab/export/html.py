"""The race as one standalone HTML page, for a room without a network or a server.

A link to the app needs both; this file needs neither: plotly.js is inlined (which makes up most of
its size) and nothing is fetched, which its Content-Security-Policy enforces (`CSP`). It starts
playing when opened, at the figure's own frame rate (the Play button's), once through to the last
step, and stops there with every path drawn; Play replays it, the slider scrubs. Writing it needs no
browser, unlike the images (`export.images`).
"""

from __future__ import annotations

import html

import plotly.io as pio

from optviz.lab.export.figure import animation_frames, as_dict
from optviz.lab.pictures import surfaces_as_pictures

# What the page may load: nothing from anywhere (default-src 'none'), except what it carries itself:
# its inlined plotly.js and the figure's data (inline scripts), the styles plotly.js adds, and the
# surface picture and fonts as data:/blob: URLs. So even a link or image that slipped into a figure
# (a title, a hover text) cannot fetch anything, nor can a form or a <base> send the reader elsewhere.
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; base-uri 'none'; form-action 'none'"
)


def _frame_duration_ms(figure: dict) -> int:
    """The Play button's frame duration (the page's animation speed)."""
    for menu in figure["layout"].get("updatemenus", []):
        for button in menu.get("buttons", []):
            args = button.get("args") or []
            if button.get("method") == "animate" and len(args) > 1 and args[0] is None:
                return int(args[1]["frame"]["duration"])
    return 66


def to_html(fig, *, title: str = "optviz race") -> bytes:
    """A standalone HTML page of the animated figure: plotly.js inlined, no network, no server.

    It plays once on opening, at the Play button's frame duration (the page's animation speed), and
    stops at the last step; the figure's own ▶ Play / ❚❚ Pause and step slider stay. UTF-8 bytes.
    """
    figure = surfaces_as_pictures(as_dict(fig))
    animation_frames(figure)
    play = {
        "frame": {"duration": _frame_duration_ms(figure), "redraw": False},
        "transition": {"duration": 0},
        "fromcurrent": True,
        "mode": "immediate",
    }
    page = pio.to_html(
        figure,
        include_plotlyjs=True,
        full_html=True,
        auto_play=True,
        animation_opts=play,
        config={"displaylogo": False, "responsive": True},
        validate=False,
        div_id="race",
    )
    head = (
        f'<head>\n<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        f'<title>{html.escape(title)}</title>\n<meta name="viewport" content="width=device-width">'
    )
    return page.replace("<head>", head, 1).encode("utf-8")
