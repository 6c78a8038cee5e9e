"""Lecture mode: a deck of scenes, each a live view of one of optviz's pages with a title and a short
caption (optviz.lecture.deck), and the week-2 lecture as the default deck (week2.toml)."""
