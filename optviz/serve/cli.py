"""`python -m optviz serve [--workers N | --hosts A,B] [--port P] [--host H] [--prepare]`: serve a class.

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


def _hosts(text: str) -> tuple[str, ...]:
    """ "a:8501,b:8501" -> ("a:8501", "b:8501"): machines, each with its port."""
    hosts = tuple(part.strip() for part in text.split(","))
    for address in hosts:
        name, _, port = address.rpartition(":")
        valid_port = port.isdigit() and 1 <= int(port) <= 65535
        if not name or not valid_port or any(c.isspace() or c in "/;{}'\"" for c in name):
            raise argparse.ArgumentTypeError(
                f"{address!r}: give each machine as host:port, separated by commas (a:8501,b:8501)"
            )
    if len(set(hosts)) < len(hosts):
        raise argparse.ArgumentTypeError(f"{text!r}: a machine is listed twice")
    return hosts


def _cores() -> int:
    """The cores this process may run on (the default worker count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


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
    cores = _cores()
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=_workers,
        metavar="N",
        help=f"Streamlit processes, 1..{MAX_WORKERS} (default: the number of cores, {cores})",
    )
    where.add_argument(
        "--hosts",
        type=_hosts,
        default=(),
        metavar="A,B",
        help="no workers here: be the front for these machines (host:port each, comma-separated), "
        "each running this command; a browser stays on one machine and one worker there",
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
        workers = args.workers or min(_cores(), MAX_WORKERS)
        return Front(workers, args.host, args.port, hosts=args.hosts).run(binary, folder)
    except (ServeError, nginx.NginxMissing, OSError) as problem:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C before the front runs (e.g. while preparing the files)
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
