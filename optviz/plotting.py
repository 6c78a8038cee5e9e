"""The shared Plotly kit that the lessons' figures use: an animated figure whose frames stay plain
data, Play/Pause buttons, and the presenter style for the back of a lecture hall.

No Streamlit here, and nothing about any one lesson.
"""

from __future__ import annotations

import plotly.graph_objects as go

PRESENTER_TEXT = "#000000"  # every text of a chart in presenter mode (21:1 on white)


class AnimatedFigure(go.Figure):
    """A go.Figure whose animation (frames and the step slider) is kept as plain data.

    plotly.py builds and validates an object for every trace of every frame and every slider step,
    so its cost grows with frames x traces and for a long race outweighs the rest of the figure.
    These are a few numbers each, written by code that knows their shape, so they skip that:
    `to_dict()`, which Streamlit, `write_html` and `to_json` all serialize from, adds them to the
    data and layout.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._plain_frames: list[dict] = []
        self._plain_slider: dict | None = None

    def set_animation(self, frames: list[dict], slider: dict) -> None:
        self._plain_frames, self._plain_slider = frames, slider

    def to_dict(self):
        figure = super().to_dict()
        figure["frames"] = self._plain_frames
        if self._plain_slider is not None:
            figure["layout"]["sliders"] = [self._plain_slider]
        return figure


def play_pause(frame_ms: int, **placement) -> dict:
    """Play (from the current frame, `frame_ms` per frame) and Pause buttons, below the plot's left
    corner; `placement` overrides where (y, pad) and adds any other menu setting (font)."""
    animate = {"frame": {"duration": frame_ms, "redraw": False}, "transition": {"duration": 0}}
    return {
        "type": "buttons",
        "direction": "left",
        "x": 0.0,
        "y": -0.05,
        "xanchor": "left",
        "yanchor": "top",
        "pad": {"t": 20, "r": 8},
        "showactive": False,
        **placement,
        "buttons": [
            {"label": "▶ Play", "method": "animate", "args": [None, {**animate, "fromcurrent": True}]},
            {
                "label": "❚❚ Pause",
                "method": "animate",
                "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}],
            },
        ],
    }


def presenter_style(fig: go.Figure) -> go.Figure:
    """The same figure for the back of a lecture hall: larger text, lines about twice as thick,
    markers half as large again, darker contour lines. Changes `fig` in place and returns it; a
    figure already in this style is returned as it is."""
    if fig.layout.meta == "presenter":
        return fig
    fig.layout.meta = "presenter"
    # Streamlit's chart theme writes axis text in a grey of 3.7:1 on white; black text here.
    fig.update_layout(font={"size": 20, "color": PRESENTER_TEXT}, legend={"font": {"size": 18}})
    text = {"tickfont": {"color": PRESENTER_TEXT}, "title": {"font": {"color": PRESENTER_TEXT}}}
    fig.update_xaxes(**text)
    fig.update_yaxes(**text)
    fig.update_scenes(xaxis=text, yaxis=text, zaxis=text)
    for trace in fig.data:
        if trace.type == "contour":
            trace.update(line={"color": "rgba(0,0,0,0.6)", "width": 1})
        if trace.type in ("scatter", "scatter3d"):
            if "lines" in (trace.mode or ""):
                trace.line.width = 2 * (trace.line.width or 2)
            size = trace.marker.size if trace.marker is not None else None
            if isinstance(size, (int, float)):
                trace.marker.size = 1.5 * size
        if getattr(trace, "colorbar", None) is not None:
            trace.colorbar.update(text)
    for annotation in fig.layout.annotations:  # subplot titles
        annotation.font = {"size": 20, "color": PRESENTER_TEXT}
    return fig
