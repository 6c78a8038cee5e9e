"""Every control in the URL: a copied link reproduces the view, and default values stay out of it.

A page makes its widgets through a `PageState`. Each widget declares its options or range once, in
its own call; from that the state knows how to read the widget's query parameter safely
(`optviz.params`). The first time a widget appears in a session, it starts from the link's value
(validated: unknown names fall back, numbers are clamped, with a note naming what was ignored),
else from its default; after the page has run, `publish()` writes every value that differs from its
default back to the URL. Widgets are never given a `value=` here: their state lives in
st.session_state, which is what lets a link set them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from optviz.params import (
    Reading,
    read_choice,
    read_choices,
    read_flag,
    read_number,
    read_stop,
    read_text,
    to_text,
)
from optviz.text import literal, quote

RESERVED = ("embed", "embed_options")  # Streamlit's own parameters: left as they are


class PageState:
    """The URL state of one page for one run of its script."""

    def __init__(self, page: str, known: Sequence[str] = ()):
        """`known`: regular expressions for the parameter names of widgets this page may create
        later or only in some views (a link may carry them); anything else in a link is reported."""
        self.page = page
        self._known = [re.compile(pattern) for pattern in known]
        self._restored: set[str] = st.session_state.setdefault(f"_url_restored_{page}", set())
        self._notes: list[str] = st.session_state.setdefault(f"_url_notes_{page}", [])
        self._defaults: dict[str, object] = {}
        self._values: dict[str, object] = {}
        self._slot = None  # where the notes go (see show_notes)
        self._bound: set[str] = set()  # parameters Streamlit keeps in the URL itself (bind=...)
        self._link = {key: st.query_params.get_all(key) for key in st.query_params}
        if f"_url_checked_{page}" not in st.session_state:  # once per session: names nobody knows
            st.session_state[f"_url_checked_{page}"] = True
            for key, values in self._link.items():
                if len(values) > 1:
                    last = quote(values[-1])
                    self._notes.append(f"{quote(key)} was given {len(values)} times; using the last, {last}")
                if key not in RESERVED and not any(p.fullmatch(key) for p in self._known):
                    self._notes.append(f"unknown setting {quote(key)} ignored")

    # --- the mechanism ---------------------------------------------------------------------------------

    def start(self, key: str, default, read: Callable[[str], Reading]):
        """Set widget `key`'s starting value: the link's (first appearance in this session) or the
        default (if it has none yet). Returns nothing; the widget reads st.session_state."""
        self._defaults[key] = default
        if key not in self._restored:
            self._restored.add(key)
            if key in self._link:
                reading = read(self._link[key][-1])
                if reading.note:
                    self._notes.append(reading.note)
                st.session_state[key] = reading.value
                return
        if key not in st.session_state:
            st.session_state[key] = default

    def record(self, key: str, value, default=None) -> None:
        """A value to publish (for controls that are not a single widget)."""
        self._values[key] = value
        if default is not None:
            self._defaults[key] = default

    def linked(self, key: str) -> str | None:
        """The link's raw text for `key` on this session's first look at it, else None (for controls
        a page reads itself, like an editable grid)."""
        if key in self._restored:
            return None
        self._restored.add(key)
        values = self._link.get(key)
        return values[-1] if values else None

    def note(self, text: str) -> None:
        """Add a plain sentence to the notice (quote a link's text in it with `optviz.text.quote`)."""
        self._notes.append(text)

    def show_notes(self) -> None:
        """Reserve the place where what a link asked for that could not be used is shown (filled in
        by `publish` or `show_notes_now`, once every widget of this run has read its link value)."""
        self._slot = st.container()

    def show_notes_now(self) -> None:
        """The notice: each note is a plain sentence quoting a link's text, so all of it is shown
        literally (a value like `[Log in again](http://evil.example)` must not become a link)."""
        if not self._notes or self._slot is None:
            return
        notes = " · ".join(literal(note, limit=None) for note in self._notes)
        self._slot.warning(
            f"**Some settings in this link were not used:** {notes}.",
            icon=":material/link_off:",
        )
        self._slot.button("Dismiss", key=f"_url_dismiss_{self.page}", on_click=self._notes.clear)

    def refresh(self) -> None:
        """Take every recorded value again from the session, where each control keeps its own: a
        fragment rerun that did not draw the control that changed then publishes its new value."""
        for key in self._values:
            if key in st.session_state:
                self._values[key] = st.session_state[key]

    def publish(self, *, notes: bool = True) -> str:
        """Write every recorded value that differs from its default to the URL (short links), show
        the link's notes, and return the full link to this view. notes=False: the URL and the link
        only (a fragment's rerun; the page's run shows the notes with `show_notes_now`)."""
        if notes:
            self.show_notes_now()
        query = {
            key: to_text(value)
            for key, value in self._values.items()
            if not _same(value, self._defaults.get(key))
        }
        # Parameters bound to a widget (tabs that must not rerun) are Streamlit's to write.
        # The URL as it is now: a fragment's rerun may have changed it since this page run began.
        current = {k: st.query_params.get_all(k)[-1] for k in st.query_params}
        current = {k: v for k, v in current.items() if k not in RESERVED and k not in self._bound}
        for key in current.keys() - query.keys() - self._bound:
            del st.query_params[key]
        for key, text in query.items():
            if key not in self._bound and current.get(key) != text:
                st.query_params[key] = text
        page = urlsplit(st.context.url or "")
        return urlunsplit((page.scheme, page.netloc, page.path, urlencode(query), ""))

    # --- widgets ---------------------------------------------------------------------------------------

    def _made(self, key: str, value):
        self._values[key] = value
        return value

    @staticmethod
    def _clamp(key: str, low, high) -> None:
        """Keep a number inside a range that may have changed since it was set (e.g. a slider whose
        maximum depends on another control)."""
        st.session_state[key] = min(max(st.session_state[key], low), high)

    def _start_choice(self, key: str, default, options, read) -> None:
        """Start a widget whose options may change between runs (e.g. the selected optimizers): a
        value that is no longer an option goes back to the default."""
        self.start(key, default, read)
        if st.session_state[key] not in options:
            st.session_state[key] = default

    def selectbox(self, where, label, options, *, key, default=None, **kwargs):
        default = options[0] if default is None else default
        self._start_choice(key, default, options, lambda text: read_choice(key, text, default, options))
        return self._made(key, where.selectbox(label, options, key=key, **kwargs))

    def radio(self, where, label, options, *, key, default=None, **kwargs):
        default = options[0] if default is None else default
        self._start_choice(key, default, options, lambda text: read_choice(key, text, default, options))
        return self._made(key, where.radio(label, options, key=key, **kwargs))

    def segmented_control(self, where, label, options, *, key, default, **kwargs):
        self._start_choice(key, default, options, lambda text: read_choice(key, text, default, options))
        return self._made(key, where.segmented_control(label, options, key=key, **kwargs))

    def multiselect(self, where, label, options, *, key, default, **kwargs):
        self.start(key, list(default), lambda text: read_choices(key, text, list(default), options))
        return self._made(key, where.multiselect(label, options, key=key, **kwargs))

    def select_slider(self, where, label, options, *, key, default, **kwargs):
        options = list(options)
        self.start(key, default, lambda text: read_stop(key, text, default, options))
        return self._made(key, where.select_slider(label, options, key=key, **kwargs))

    def slider(self, where, label, low, high, *, key, default, step=None, **kwargs):
        integer = isinstance(low, int) and isinstance(high, int) and (step is None or isinstance(step, int))
        self.start(
            key,
            default,
            lambda text: _on_step(read_number(key, text, default, low, high, integer=integer), low, step),
        )
        self._clamp(key, low, high)
        if low >= high:  # Streamlit refuses a slider with one value (e.g. "pause after epoch" of 2)
            where.caption(f"{label}: **{low}**")
            return self._made(key, low)
        return self._made(key, where.slider(label, low, high, step=step, key=key, **kwargs))

    def number_input(self, where, label, low=None, high=None, *, key, default, step=None, **kwargs):
        integer = isinstance(default, int) and (step is None or isinstance(step, int))
        lo = -1e12 if low is None else low
        hi = 1e12 if high is None else high
        self.start(key, default, lambda text: read_number(key, text, default, lo, hi, integer=integer))
        self._clamp(key, lo, hi)
        return self._made(
            key, where.number_input(label, min_value=low, max_value=high, step=step, key=key, **kwargs)
        )

    def flag(self, key: str, default: bool = False) -> bool:
        """A true/false setting that only a link sets, with no widget (e.g. `autoplay=true`)."""
        self.start(key, default, lambda text: read_flag(key, text, default))
        return self._made(key, bool(st.session_state[key]))

    def toggle(self, where, label, *, key, default=False, **kwargs):
        self.start(key, default, lambda text: read_flag(key, text, default))
        return self._made(key, where.toggle(label, key=key, **kwargs))

    def text_input(self, where, label, *, key, default, max_length=1000, **kwargs):
        self.start(key, default, lambda text: read_text(key, text, default, max_length))
        return self._made(key, where.text_input(label, key=key, **kwargs))

    def choice(self, labels, *, key) -> str:
        """The one of `labels` that the link (or the session) chose, with no widget: an embedded
        view shows the linked tab's content alone."""
        labels = list(labels)
        self.start(key, labels[0], lambda text: read_choice(key, text, labels[0], labels))
        return self._made(key, st.session_state[key])

    def tabs(self, labels, *, key, rerun: bool = True):
        """Tabs whose open tab is in the link. rerun=False: switching tabs does not rerun the page
        (so it does not interrupt a running loop); Streamlit then keeps the link up to date itself."""
        labels = list(labels)
        self.start(key, labels[0], lambda text: read_choice(key, text, labels[0], labels))
        if rerun:
            tabs = st.tabs(labels, key=key, on_change="rerun")
        else:
            self._bound.add(key)
            tabs = st.tabs(labels, key=key, on_change="ignore", bind="query-params")
        self._values[key] = st.session_state[key]
        return tabs


def _on_step(reading: Reading, low, step) -> Reading:
    """A slider value moved onto the slider's grid (low + k * step)."""
    if step is None or reading.value is None:
        return reading
    snapped = low + round((reading.value - low) / step) * step
    snapped = type(reading.value)(round(snapped, 12))
    if snapped == reading.value:
        return reading
    return Reading(
        snapped, reading.note or f"{reading.value} is not on the slider's steps of {step}; using {snapped}"
    )


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return abs(float(a) - float(b)) <= 1e-12 * max(1.0, abs(float(b)))
        except (TypeError, ValueError):
            return False
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return list(a) == list(b)
    return a == b
