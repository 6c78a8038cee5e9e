"""`python -m optviz lecture --out week2.html [--deck my.toml]`: a deck as one standalone HTML file.

Each scene's page is run headless as a slide shows it (optviz/ui/scene_snapshot.py, imported only when
the command runs: the pages import Streamlit) and the file is written by optviz/lecture/offline.py.
A deck that cannot be used is refused as the lecture page refuses it, naming the scene (exit code 2,
argparse's convention, like every bad argument); a scene whose page fails exits 1; success prints
one line with the file's size and the time it took.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from optviz.lab.cli import check_out
from optviz.lecture import deck as decks
from optviz.lecture import offline

USAGE_EXAMPLE = "python -m optviz lecture --out week2.html"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m optviz lecture",
        description="Write a lecture deck as one standalone HTML file: every scene's view, its charts and "
        "animations, captions and formulas, stepped with the arrow keys; it needs no server and no network.",
        epilog=f"example: {USAGE_EXAMPLE}",
    )
    parser.add_argument("--out", required=True, help="the HTML file to write")
    parser.add_argument(
        "--deck",
        help="a deck file (TOML, see optviz/lecture/deck.py); default: the week-2 lecture "
        f"({decks.DEFAULT_DECK.name})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    path = check_out(parser, args.out)
    # Only errors are logged, not AppTest's notes that the pages run without a server (Streamlit sets its
    # loggers' levels again as each page runs, so they are silenced here, for the whole command).
    logging.disable(logging.WARNING)
    try:
        return _write(parser, args, path)
    finally:
        logging.disable(logging.NOTSET)  # as it was (the command may run inside another program)


def _write(parser, args, path) -> int:
    from optviz.ui.lecture import KNOWN  # the pages' link parameters
    from optviz.ui.scene_snapshot import SceneError, snapshot

    try:
        deck = decks.load(args.deck or decks.DEFAULT_DECK, KNOWN)
    except decks.DeckError as problem:
        parser.error(f"--deck {args.deck!r}: {problem}")
    started = time.perf_counter()
    try:
        views = [
            offline.SceneView(scene.title, scene.caption, scene.notes, snapshot(scene, number))
            for number, scene in enumerate(deck.scenes, 1)
        ]
    except SceneError as problem:
        print(f"optviz lecture: {problem}", file=sys.stderr)
        return 1
    data = offline.to_html(deck.title, views)
    try:
        path.write_bytes(data)
    except OSError as problem:
        parser.error(f"--out {args.out!r} cannot be written: {problem.strerror or problem}")
    seconds = time.perf_counter() - started
    print(f"wrote {path} ({len(data) / 1e6:.1f} MB, {len(views)} scenes, {seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
