"""Reading settings from link or command-line text: never raises, always says what it ignored."""

import math

import pytest

from optviz.params import (
    read_choice,
    read_choices,
    read_flag,
    read_number,
    read_stop,
    read_text,
    to_text,
)


@pytest.mark.parametrize(
    "text, value, note",
    [
        ("0.5", 0.5, None),
        (" 2 ", 2.0, None),
        ("abc", 1.0, "is not a number"),
        ("", 1.0, "is not a number"),
        ("nan", 1.0, "not a finite number"),
        ("inf", 1.0, "not a finite number"),
        ("-3", 0.0, "is below 0"),
        ("1e300", 10.0, "is above 10"),
    ],
)
def test_read_number(text, value, note):
    reading = read_number("x", text, 1.0, 0.0, 10.0)
    assert reading.value == value
    assert (reading.note is None) if note is None else (note in reading.note and reading.note.startswith("x"))


def test_read_number_for_counts():
    assert read_number("steps", "10000000000", 200, 10, 2000, integer=True) == (
        2000,
        'steps: "10000000000" is above 2000; using 2000',
    )
    reading = read_number("steps", "12.6", 200, 10, 2000, integer=True)
    assert reading.value == 13 and isinstance(reading.value, int) and "whole number" in reading.note


def test_read_stop_goes_to_the_nearest_stop():
    stops = [0.1, 0.2, 0.5, 1.0]
    assert read_stop("g", "0.5", 0.2, stops).value == 0.5
    reading = read_stop("g", "0.45", 0.2, stops)
    assert reading.value == 0.5 and "not one of the slider's stops" in reading.note
    assert read_stop("speed", "warp", "normal", ["slow", "normal", "fast"]).value == "normal"
    assert read_stop("g", "nan", 0.2, stops).value == 0.2


def test_read_choice_and_choices():
    assert read_choice("surface", "Beale", "rosenbrock", ["rosenbrock", "beale"]).value == "beale"
    bad = read_choice("surface", "nope", "rosenbrock", ["rosenbrock", "beale"])
    assert bad.value == "rosenbrock" and '"nope" is not one of rosenbrock, beale' in bad.note
    chosen = read_choices("optimizers", "adam, gd,adamw,,adam", ["gd"], ["gd", "adam", "momentum"])
    assert chosen.value == ["adam", "gd"] and '"adamw"' in chosen.note


def test_read_flag_and_text():
    assert read_flag("p", "TRUE", False).value is True and read_flag("p", "off", True).value is False
    assert read_flag("p", "maybe", False) == (False, 'p: "maybe" is not true or false; using false')
    assert read_text("f", "x**2", "y", 200).value == "x**2"
    long = read_text("f", "x" * 10_000, "y", 200)
    assert long.value == "y" and "10000 characters" in long.note


def test_to_text_round_trips_through_the_readers():
    for value in (0.1, 1e-12, 3.0, 2**31 - 1):
        assert read_number("v", to_text(value), 0.0, 0.0, math.inf).value == value
    assert to_text(["gd", "adam"]) == "gd,adam" and to_text(True) == "true"
