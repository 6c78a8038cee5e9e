"""Reading settings from text (URL query parameters, command-line options) safely.

Each reader takes the text a person or a link gave and returns `Reading(value, note)`: the value to
use, and, when the text could not be used as given, one sentence saying what was ignored or changed.
A reader never raises: unknown names fall back to the default, numbers are clamped to their range,
counts are capped, and NaN or text that is not a number gives the default. A note quotes the text
it was given with `optviz.text.quote` (clipped, in quotes): a plain sentence, which the page escapes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

from optviz.text import quote


class Reading(NamedTuple):
    value: Any
    note: str | None = None  # why the text was not used as given, or None


def read_number(
    name: str, text: str, default: float, low: float, high: float, *, integer: bool = False
) -> Reading:
    """A finite number in [low, high] (clamped), or the default for anything that is not a number."""
    try:
        value = float(text.strip())
    except (ValueError, AttributeError):
        return Reading(default, f"{name}: {quote(text)} is not a number; using {default:g}")
    if not math.isfinite(value):
        return Reading(default, f"{name}: {quote(text)} is not a finite number; using {default:g}")
    if integer and value != round(value):
        value = round(value)
        note = f"{name}: {quote(text)} is not a whole number; using {value}"
    else:
        note = None
    if value < low or value > high:
        clamped = min(max(value, low), high)
        side = "below" if value < low else "above"
        note = f"{name}: {quote(text)} is {side} {clamped:g}; using {clamped:g}"
        return Reading(int(clamped) if integer else clamped, note)
    return Reading(int(value) if integer else value, note)


def read_stop(name: str, text: str, default, stops: Sequence) -> Reading:
    """One of a slider's stops: numeric text goes to the nearest stop, other text must match one."""
    by_text = {_text(stop): stop for stop in stops}
    if text in by_text:
        return Reading(by_text[text])
    numeric = [stop for stop in stops if isinstance(stop, (int, float))]
    try:
        wanted = float(text)
    except ValueError:
        wanted = math.nan
    if numeric and math.isfinite(wanted):
        nearest = min(numeric, key=lambda stop: abs(stop - wanted))
        note = f"{name}: {quote(text)} is not one of the slider's stops; using {_text(nearest)}"
        return Reading(nearest, note)
    return Reading(default, f"{name}: {quote(text)} is not one of {_options(stops)}; using {_text(default)}")


def read_choice(name: str, text: str, default, options: Sequence) -> Reading:
    """One of `options`, matched by its text (case-insensitively), or the default."""
    by_text = {_text(option).casefold(): option for option in options}
    if text.strip().casefold() in by_text:
        return Reading(by_text[text.strip().casefold()])
    note = f"{name}: {quote(text)} is not one of {_options(options)}; using {_text(default)}"
    return Reading(default, note)


def read_choices(name: str, text: str, default: Sequence, options: Sequence) -> Reading:
    """A comma-separated selection from `options`, in the given order; unknown items are dropped."""
    by_text = {_text(option).casefold(): option for option in options}
    items = [item.strip() for item in text.split(",") if item.strip()]
    chosen = list(dict.fromkeys(by_text[item.casefold()] for item in items if item.casefold() in by_text))
    unknown = [item for item in items if item.casefold() not in by_text]
    note = f"{name}: unknown {', '.join(quote(u) for u in unknown)} dropped" if unknown else None
    return Reading(chosen, note)


def read_flag(name: str, text: str, default: bool) -> Reading:
    """true/false, 1/0, yes/no, on/off (any case)."""
    word = text.strip().casefold()
    if word in ("true", "1", "yes", "on"):
        return Reading(True)
    if word in ("false", "0", "no", "off"):
        return Reading(False)
    return Reading(default, f"{name}: {quote(text)} is not true or false; using {str(default).lower()}")


def read_text(name: str, text: str, default: str, max_length: int) -> Reading:
    """Text up to `max_length` characters (longer text is refused whole, not cut: a cut formula or
    sentence would mean something else)."""
    if len(text) > max_length:
        return Reading(
            default, f"{name} is {len(text)} characters long (at most {max_length}); using the default"
        )
    return Reading(text)


def hyperparameter_key(optimizer: str, name: str, prefix: str = "hp") -> str:
    """The link name (and command-line option) of one optimizer's hyperparameter, e.g. hp_adam_lr;
    each page has its own prefix, so the lab's Adam learning rate is not the MLP's."""
    return f"{prefix}_{optimizer}_{name}"


def to_text(value) -> str:
    """The text a value is written as in a URL or on a command line (the inverse of the readers)."""
    return _text(value)


def _text(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    return str(value)


def _options(options: Sequence, limit: int = 8) -> str:
    shown = ", ".join(_text(o) for o in list(options)[:limit])
    return shown + (", ..." if len(options) > limit else "")
