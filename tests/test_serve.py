"""`python -m optviz serve` without a browser: the nginx configuration (checked by `nginx -t`), the
Content-Security-Policy, the compressed static files, bad arguments and failures (one line, no
traceback), the command dispatcher, and the README's serving section against `--help`."""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from optviz.__main__ import main as optviz_main
from optviz.lab import cli as export_cli
from optviz.serve import cli, csp, nginx, static, supervisor

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
TEST_COMMAND = re.compile(r"^apt-get update .* && python -m pytest$", re.M)


def _config(tmp_path, ports=(9101, 9102), brotli_module=None, upstreams=None) -> str:
    return nginx.render(
        upstreams=upstreams or [f"127.0.0.1:{p}" for p in ports],
        host="127.0.0.1",
        port=9100,
        run_dir=tmp_path,
        static_dir=tmp_path / "static-cache",
        csp=csp.policy(static.streamlit_static_dir() / "index.html"),
        brotli_module=brotli_module,
    )


def test_the_config_routes_by_cookie_to_every_worker_with_websockets(tmp_path):
    text = _config(tmp_path, ports=(9101, 9102, 9103))
    for port in (9101, 9102, 9103):
        assert f"server 127.0.0.1:{port} max_fails=1 fail_timeout=" in text
    assert "hash $optviz_route consistent;" in text
    assert "map $cookie_optviz_worker $optviz_route" in text and "default $request_id;" in text
    assert '"~^[0-9a-f]{32}$" $cookie_optviz_worker;' in text  # any other cookie: a new id
    assert 'add_header Set-Cookie "optviz_worker=$optviz_route;' in text
    assert "proxy_set_header Upgrade $http_upgrade;" in text and "proxy_read_timeout 1d;" in text
    assert "proxy_next_upstream error timeout;" in text
    locations = text.count("location ")
    assert locations == 2 and text.count("add_header Content-Security-Policy") == locations
    assert f"pid {tmp_path / 'nginx.pid'};" in text and "include" not in text  # nothing of /etc/nginx
    assert "gzip_static on;" in text and "brotli_static" not in text.replace("# no brotli_static", "")


def test_a_front_for_machines_lists_them_with_the_same_affinity(tmp_path):
    text = _config(tmp_path, upstreams=["10.0.0.2:8501", "lab-b.example:8501"])
    assert "server 10.0.0.2:8501 max_fails=1" in text and "server lab-b.example:8501 max_fails=1" in text
    assert "127.0.0.1:" not in text.split("upstream optviz_workers")[1].split("}")[0]
    assert "hash $optviz_route consistent;" in text  # the cookie the machines' own fronts hash too


def test_nginx_accepts_the_config(tmp_path):
    found = nginx.find_nginx()
    conf = tmp_path / "nginx.conf"
    conf.write_text(_config(tmp_path, brotli_module=found.brotli_module))
    (tmp_path / "static-cache").mkdir()
    checked = subprocess.run(
        [str(found.binary), "-t", "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_the_policy_allows_only_the_app_itself():
    text = csp.policy(static.streamlit_static_dir() / "index.html")
    directives = dict(d.split(" ", 1) for d in text.split("; "))
    assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
    sources = {s for value in directives.values() for s in value.split()}
    allowed = {"'self'", "'none'", "'unsafe-inline'", "'wasm-unsafe-eval'", "data:", "blob:"}
    assert {s for s in sources if not s.startswith("'sha256-")} <= allowed
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "unsafe-eval'" not in text.replace("wasm-unsafe-eval", "")


def test_inline_scripts_are_allowed_by_their_hash():
    body = "\n  window.prerenderReady = false\n"
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    html = f'<script>{body}</script><script type="module" src="./x.js"></script>'
    assert csp.inline_script_hashes(html) == [f"'sha256-{digest}'"]


def test_static_files_are_copied_and_compressed_once(tmp_path):
    source = tmp_path / "static"
    (source / "static" / "js").mkdir(parents=True)
    script = b"function f(){return 1}\n" * 500
    (source / "static" / "js" / "app.abc123.js").write_bytes(script)
    (source / "static" / "js" / "tiny.js").write_bytes(b"1")
    (source / "font.woff2").write_bytes(bytes(range(256)) * 8)
    target = static.prepare(source, tmp_path / "cache" / "v1", processes=1)
    js = target / "static" / "js" / "app.abc123.js"
    assert js.read_bytes() == script and gzip.decompress(Path(f"{js}.gz").read_bytes()) == script
    if static.brotli_available():
        import brotli

        assert brotli.decompress(Path(f"{js}.br").read_bytes()) == script
    assert not (target / "static" / "js" / "tiny.js.gz").exists()  # no smaller when compressed
    assert not (target / "font.woff2.gz").exists()  # already compressed: copied only
    assert [p.name for p in target.parent.iterdir()] == ["v1"]  # no staging folder left
    js.unlink()
    assert static.prepare(source, target) == target and not js.exists()  # prepared once


@pytest.mark.parametrize(
    "args, problem",
    [
        (["--workers", "0"], "'0': give a whole number of workers, 1..32"),
        (["--workers", "33"], "1..32"),
        (["--workers", "two"], "1..32"),
        (["--workers", "1.5"], "1..32"),
        (["--port", "70000"], "give a port number, 1..65535"),
        (["--port", "-1"], "1..65535"),
        (["--speed", "fast"], "unrecognized arguments: --speed fast"),
        (["--hosts", "lab-a"], "'lab-a': give each machine as host:port, separated by commas"),
        (["--hosts", "lab-a:8501,"], "give each machine as host:port"),
        (["--hosts", "lab-a:99999"], "give each machine as host:port"),
        (["--hosts", "a b:8501"], "give each machine as host:port"),
        (["--hosts", "a:8501,a:8501"], "a machine is listed twice"),
        (["--hosts", "a:8501", "--workers", "2"], "not allowed with argument --hosts"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_2(capsys, args, problem):
    with pytest.raises(SystemExit) as stopped:
        cli.main(args)
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and problem in err and len(err.strip().splitlines()) == 1, err


def test_missing_nginx_names_the_install_command(monkeypatch, capsys):
    monkeypatch.setattr(nginx.shutil, "which", lambda *a, **k: None)
    assert cli.main(["--workers", "1"]) == 1
    err = capsys.readouterr().err
    assert err == f"python -m optviz serve: error: nginx is not installed: {nginx.INSTALL}\n"


def test_a_taken_port_is_refused_before_anything_starts(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["--port", str(port), "--host", "127.0.0.1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"python -m optviz serve: error: cannot listen on 127.0.0.1:{port}: ")
    assert err.count("\n") == 1


def test_a_worker_that_cannot_start_gives_its_last_log_line(monkeypatch, capsys):
    failing = [sys.executable, "-c", "print('Port 1234 is already in use'); raise SystemExit(1)"]
    monkeypatch.setattr(supervisor, "worker_command", lambda port: failing)
    front = supervisor.Front(1, "127.0.0.1", supervisor.free_port())
    with pytest.raises(supervisor.ServeError) as failed:
        front.run(nginx.find_nginx(), static.prepared_dir())
    assert str(failed.value) == "worker 1 could not start: Port 1234 is already in use"
    assert not front.run_dir.exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the caller's handlers are back


HEALTH_ONLY = """
import http.server, sys
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
"""


def test_a_hung_worker_is_killed_and_restarted(monkeypatch, capsys):
    """A worker whose process lives but stops answering (here: stopped with SIGSTOP) is killed after
    HUNG_S and started again on its port."""
    monkeypatch.setattr(
        supervisor, "worker_command", lambda port: [sys.executable, "-c", HEALTH_ONLY, str(port)]
    )
    monkeypatch.setattr(supervisor, "HUNG_S", 1.0)
    monkeypatch.setattr(supervisor, "HEALTH_EVERY_S", 0.5)
    said = []
    say = supervisor.say
    monkeypatch.setattr(supervisor, "say", lambda text: (said.append(text), say(text)))
    front = supervisor.Front(1, "127.0.0.1", supervisor.free_port())
    pids = []

    def hang_then_watch() -> None:
        deadline = time.monotonic() + 60
        worker = front.workers[0]
        while not any(text.startswith("serving") for text in said):
            time.sleep(0.1)
        pids.append(worker.proc.pid)
        os.kill(pids[0], signal.SIGSTOP)
        while not (worker.proc.pid != pids[0] and worker.healthy) and time.monotonic() < deadline:
            time.sleep(0.1)
        pids.append(worker.proc.pid)
        front.request_stop()

    watcher = threading.Thread(target=hang_then_watch)
    watcher.start()
    assert front.run(nginx.find_nginx(), static.prepared_dir()) == 0
    watcher.join()
    out = capsys.readouterr().out
    assert pids[1] != pids[0], out
    assert f"worker 1 (pid {pids[0]}) has not answered for " in out and "s; restarting it" in out
    assert f"worker 1 (pid {pids[0]}) exited with code -9; restarting" in out


def test_the_supervisor_does_not_import_jax():
    """The serve command's own process imports none of the lab (JAX: over a second, ~100 MB), while
    `optviz`'s public names still resolve where they are used."""
    code = (
        "import sys, optviz.__main__, optviz.serve.cli; assert 'jax' not in sys.modules, 'jax imported'; "
        "import optviz; assert all(getattr(optviz, name) is not None for name in optviz.__all__); "
        "assert 'jax' in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_dispatcher_keeps_export_as_it_was(capsys):
    with pytest.raises(SystemExit):
        optviz_main(["export", "--help"])
    assert capsys.readouterr().out == export_cli.build_parser().export_parser.format_help()
    assert optviz_main(["--help"]) == 0
    assert re.search(r"export .*\n.*lecture .*\n.*serve ", capsys.readouterr().out)
    assert optviz_main(["launch"]) == 2
    assert "unknown command 'launch'; choose one of: export, lecture, serve" in capsys.readouterr().err


def _serving_section() -> str:
    match = re.search(r"^### Serving a class\n(.*?)(?=^#{1,3} )", README, re.S | re.M)
    assert match, "the README has a 'Serving a class' section"
    return match.group(1)


def test_the_readme_serving_section_matches_the_command():
    section = _serving_section()
    commands = re.findall(r"^python -m optviz serve.*$", section, re.M)
    assert commands
    help_text = cli.build_parser().format_help()
    for option in {o for command in commands for o in re.findall(r"--[a-z-]+", command)}:
        assert option in help_text, option
    for option in re.findall(r"--[a-z-]+", help_text):
        assert option in section or option == "--help", f"{option} is not described in the README"
    assert nginx.INSTALL.split("install -y ")[1] in README


def test_the_dockerfile_installs_what_the_readme_installs():
    """The image's steps are the README's commands: Debian's packages of the test command (the browser
    and the front), the app's requirements, the static files prepared; it serves on 8501."""
    steps = (ROOT / "Dockerfile").read_text()
    packages = re.search(r"apt-get install -y -qq ([^&]+?) &&", TEST_COMMAND.search(README).group(0)).group(1)
    assert f"apt-get install -y -qq {packages}" in steps
    assert "python -m pip install -r requirements.txt" in steps and "requirements.txt" in README
    assert "RUN python -m optviz serve --prepare" in steps
    assert 'CMD ["python", "-m", "optviz", "serve", "--port", "8501"]' in steps
    assert "docker build -t optviz . && docker run --rm -p 8501:8501 optviz" in _serving_section()


def test_the_readme_test_command_installs_the_front_and_ci_runs_it_verbatim():
    command = TEST_COMMAND.search(README).group(0)
    assert "nginx libnginx-mod-http-brotli-static" in command
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()
