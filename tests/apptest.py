"""Reading what a page sent, for the tests that drive it through Streamlit's AppTest. The sessions
themselves come from fixtures in conftest.py (`lab_session`, `page_session`)."""

import base64
import json
import re

import numpy as np

from optviz.text import WORD_JOINER


def race_spec(at):
    """The race chart as the browser receives it (the first Plotly chart on the page)."""
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def paths(spec):
    return [t for t in spec["data"] if t.get("mode") == "lines"]


def values(array):
    """A trace array as sent to the browser: a list, or plotly's base64 typed array."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array)


def shown(markdown: str) -> str:
    """The text a reader sees of Markdown made by `optviz.text.literal` (escapes read, the invisible
    word joiners that break autolinks dropped)."""
    return re.sub(r"\\(.)", r"\1", markdown.replace(WORD_JOINER, ""))


def link_notes(at) -> str:
    """The warning a page shows about what its link asked for that it could not use ("" if none)."""
    return " ".join(shown(w.value) for w in at.warning if "this link" in w.value)
