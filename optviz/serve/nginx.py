"""The nginx configuration of the front: one public port before N Streamlit workers on loopback,
or before several machines that each serve the app (`--hosts`: each of them such a front).

- **Websockets**: a Streamlit session is one websocket (`/_stcore/stream`), proxied with HTTP/1.1
  and the Upgrade/Connection headers, and kept open for a lecture (a day's read timeout).
- **Sticky sessions** with nginx's own modules (the open-source nginx has no `sticky`): a browser's
  first response sets the cookie `optviz_worker` to a random id (`$request_id`), and every later
  request, the websocket included, is routed by `hash $optviz_route consistent` on that id, so one
  browser stays with one worker. A cookie that is not such an id is ignored (a new id is drawn).
- **Passive health**: a worker that refuses a connection is skipped (`proxy_next_upstream`) and
  gets no requests for `FAIL_TIMEOUT` (`max_fails=1`): its students' reconnecting pages land on a
  live worker (the hash moves to the next one), and new sessions avoid it. The supervisor restarts
  it on the same port; from then on nginx sends its cookies back to it.
- **Static files** (`/static/`, Streamlit's content-hashed bundles) come from the prepared folder
  (optviz/serve/static.py) with `gzip_static` and `brotli_static`, cached a year as immutable; the
  workers never see them.
- **Content-Security-Policy** on every response (optviz/serve/csp.py), and the worker that answered
  in `X-Optviz-Worker` (its loopback address: which worker a student is on, for the lecturer and tests).

Across machines (`optviz serve --hosts a:8501,b:8501` on the machine the class connects to) the same
configuration lists the machines instead of local workers. The cookie keeps a browser on one machine
(this front's hash) and, on that machine, on one worker (its front hashes the same cookie): every
request after the first carries it, so a session's websocket and its media files reach the same
worker. A machine that refuses connections is skipped like a dead worker.

The configuration is self-contained (no include of /etc/nginx) and keeps its pid, logs and
temporary files in the command's private run folder.
"""

from __future__ import annotations

import getpass
import grp
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

INSTALL = "apt-get install -y nginx libnginx-mod-http-brotli-static"
COOKIE = "optviz_worker"
FAIL_TIMEOUT_S = 5
LONG_TIMEOUT = "1d"
MAX_UPLOAD = "200m"  # Streamlit's server.maxUploadSize default
BROTLI_MODULE = "ngx_http_brotli_static_module.so"
MIME_TYPES = {
    "text/html": "html",
    "text/css": "css",
    "application/javascript": "js mjs",
    "application/json": "json map",
    "image/svg+xml": "svg",
    "image/png": "png",
    "image/gif": "gif",
    "font/woff2": "woff2",
    "font/ttf": "ttf",
}


class NginxMissing(RuntimeError):
    """nginx is not installed (the message says how to install it)."""


@dataclass(frozen=True)
class Nginx:
    """An nginx binary and its dynamic Brotli module, if installed."""

    binary: Path
    brotli_module: Path | None


def find_nginx() -> Nginx:
    """The nginx on PATH (or in /usr/sbin, where Debian puts it) and its Brotli module."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise NginxMissing(f"nginx is not installed: {INSTALL}")
    built = subprocess.run([found, "-V"], capture_output=True, text=True, timeout=10).stderr
    match = re.search(r"--modules-path=(\S+)", built)
    module = Path(match.group(1)) / BROTLI_MODULE if match else None
    return Nginx(Path(found), module if module and module.is_file() else None)


def _listen(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _user_line() -> str:
    """Run nginx's worker processes as the user who started the command (nginx started by root
    would switch them to `nobody`, who cannot read the private run folder)."""
    if os.geteuid() != 0:
        return ""
    return f"user {getpass.getuser()} {grp.getgrgid(os.getegid()).gr_name};\n"


def render(
    *,
    upstreams: list[str],
    host: str,
    port: int,
    run_dir: Path,
    static_dir: Path,
    csp: str,
    brotli_module: Path | None,
) -> str:
    """The nginx.conf text for the front before `upstreams` ("host:port" each: the workers' loopback
    addresses, or the machines'; see the module docstring)."""
    servers = "".join(
        f"        server {address} max_fails=1 fail_timeout={FAIL_TIMEOUT_S}s;\n" for address in upstreams
    )
    types = "".join(f"        {mime} {ext};\n" for mime, ext in MIME_TYPES.items())
    cookie = f'"{COOKIE}=$optviz_route; Path=/; HttpOnly; SameSite=Lax"'
    headers = (
        f'add_header Content-Security-Policy "{csp}" always;\n'
        '            add_header X-Content-Type-Options "nosniff" always;\n'
    )
    load_brotli = f"load_module {brotli_module};\n" if brotli_module else ""
    brotli_static = "brotli_static on;" if brotli_module else "# no brotli_static: module not installed"
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = "".join(f"    {kind}_temp_path {run_dir / kind};\n" for kind in kinds)
    return f"""# optviz serve: generated for this run only (optviz/serve/nginx.py)
{load_brotli}{_user_line()}worker_processes 1;
pid {run_dir / "nginx.pid"};
error_log {run_dir / "error.log"} warn;

events {{
    worker_connections 4096;
}}

http {{
    types {{
{types}    }}
    default_type application/octet-stream;
    access_log off;
    server_tokens off;
{temp}    client_max_body_size {MAX_UPLOAD};

    map $http_upgrade $optviz_connection {{
        default upgrade;
        "" close;
    }}
    map $cookie_{COOKIE} $optviz_route {{
        "~^[0-9a-f]{{32}}$" $cookie_{COOKIE};
        default $request_id;
    }}

    upstream optviz_workers {{
        hash $optviz_route consistent;
{servers}    }}

    server {{
        listen {_listen(host, port)};
        server_name _;

        location /static/ {{
            root {static_dir};
            gzip_static on;
            gzip_vary on;
            {brotli_static}
            try_files $uri =404;
            {headers}            add_header Cache-Control "public, max-age=31536000, immutable" always;
        }}

        location / {{
            proxy_pass http://optviz_workers;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $optviz_connection;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_buffering off;
            proxy_connect_timeout 2s;
            proxy_read_timeout {LONG_TIMEOUT};
            proxy_send_timeout {LONG_TIMEOUT};
            proxy_next_upstream error timeout;
            {headers}            add_header Set-Cookie {cookie} always;
            add_header X-Optviz-Worker $upstream_addr always;
        }}
    }}
}}
"""
