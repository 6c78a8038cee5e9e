"""The README's Python examples run as written (users copy them)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2
    namespace = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["t"].xy.shape == (201, 2)
    assert set(namespace["runs"]) == {"gd", "momentum", "adam"}
    assert namespace["sweep"]["gd"].loss.shape == (60,)
    assert (namespace["sweep"]["gd"].diverged_at >= 0).any(), "the sweep reaches the divergence edge"
    assert namespace["analysis"].stability(namespace["warming"]).first_unstable_step() == 100
    assert namespace["fan"].paths.shape == (50, 101, 2)
    assert abs(namespace["start"].loss - 2.303) < 0.01 and len(namespace["found"].rows()) == 16
    assert namespace["run"].update_ratio.shape[1] == 4 and namespace["check"].rel_error.max() < 1e-6
    assert namespace["export"].gif_steps(namespace["data"], 20)[:3] == [0, 16, 32]
    assert (
        namespace["page"].startswith(b"<!DOCTYPE html>")
        or namespace["page"][:15].lower() == b"<!doctype html>"
    )
