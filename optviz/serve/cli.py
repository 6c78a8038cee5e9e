"""`python -m optviz serve [--workers N] [--port P] [--host H] [--prepare]`: serve a class.

Bad arguments get a one-line message and exit code 2 (argparse's convention, as for `export`); a
front that cannot start (nginx missing, a port taken, a worker failing) gets one line and exit 1.
"""

from __future__ import annotations

import argparse
import os
import sys

from optviz.serve import nginx, static
from optviz.serve.supervisor import Front, ServeError, check_public_port

PROG = "python -m optviz serve"
MAX_WORKERS = 32
DEFAULT_PORT = 8501
DEFAULT_HOST = "0.0.0.0"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 1 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of workers, 1..{MAX_WORKERS}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: give a port number, 1..65535")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Serve the app to a class: N Streamlit workers on loopback ports behind one nginx "
        "front on one public port, with sticky sessions, websockets, a Content-Security-Policy and "
        "pre-compressed static files; a worker that dies is restarted and its students' pages "
        "reconnect to a live one. Ctrl-C stops everything it started. Needs nginx: "
        f"{nginx.INSTALL}.",
        epilog=f"Example: {PROG} --workers 2 --port 8501",
    )
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    parser.add_argument(
        "--workers",
        type=_workers,
        default=min(cores, MAX_WORKERS),
        metavar="N",
        help=f"Streamlit processes, 1..{MAX_WORKERS} (default: the number of cores, {cores})",
    )
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, metavar="P", help=f"public port (default: {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        metavar="H",
        help=f"address to listen on (default: {DEFAULT_HOST}, every interface; 127.0.0.1: this machine only)",
    )
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="only compress Streamlit's static files into the cache and exit (an install step; "
        "otherwise the first serve does it, once per Streamlit version)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.prepare:
            say_prepared = static.prepared_dir().is_dir()
            folder = static.prepare()
            print(f"{PROG}: static files {'already ' if say_prepared else ''}prepared in {folder}")
            return 0
        binary = nginx.find_nginx()
        check_public_port(args.host, args.port)
        if not static.prepared_dir().is_dir():
            print(f"{PROG}: compressing Streamlit's static files, once (about a minute)...", flush=True)
        folder = static.prepare()
        return Front(args.workers, args.host, args.port).run(binary, folder)
    except (ServeError, nginx.NginxMissing, OSError) as problem:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C before the front runs (e.g. while preparing the files)
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
