"""`python -m optviz COMMAND ...`: `export` (optviz/lab/cli.py), `lecture` (optviz/lecture/cli.py) or
`serve` (optviz/serve/cli.py).

Each command's module is imported only when it is run (`serve` needs none of the lab's code), and
gets the whole argument list, so `python -m optviz export ...` parses exactly as it always has.
"""

import importlib
import sys

COMMANDS = {
    "export": ("optviz.lab.cli", "write the lab's race as a standalone HTML page, an animated GIF or a PNG"),
    "lecture": ("optviz.lecture.cli", "write a lecture deck as one standalone HTML file, for a room offline"),
    "serve": ("optviz.serve.cli", "serve the app to a class: N workers behind one nginx front"),
}
USAGE = "usage: python -m optviz {export,lecture,serve} ... (python -m optviz COMMAND --help for its options)"


def main(argv: list[str]) -> int:
    if argv and argv[0] in COMMANDS:
        module = importlib.import_module(COMMANDS[argv[0]][0])
        return module.main(argv if argv[0] == "export" else argv[1:])
    if argv and argv[0] in ("-h", "--help"):
        listing = "".join(f"\n  {name:8}{text}" for name, (_, text) in COMMANDS.items())
        print(f"{USAGE}\n\noptviz from the command line.\n\ncommands:{listing}")
        return 0
    given = f"unknown command {argv[0]!r}" if argv else "give a command"
    print(f"{USAGE}\npython -m optviz: error: {given}; choose one of: {', '.join(COMMANDS)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
