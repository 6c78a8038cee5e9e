"""The JS of optviz's browser components as the browser gets it (optviz/ui/components.py).

A Streamlit component's inline code goes with every update of its data: the race chart's, 41 KB with
its kit, with each change of the race, and the server hashes and frames it each time. So a component's
code is served once, as a file the browser keeps (`GET /optviz/code/<name>.js?v=<its hash>`,
optviz/serve/code_route.py), and what goes with each update is a loader of a few hundred bytes that
imports it (`loader`). Streamlit itself serves a component's files only from an installed package
that declares an asset directory; optviz runs from its folder.

The served code goes without its comment lines (`without_comment_lines`): written for the people who
read the files, they are a fifth of it.
"""

from __future__ import annotations

import hashlib
import json

CODE_ROUTE = "/optviz/code"

_SERVED: dict[str, str] = {}  # component name -> its JS, as the code route serves it


def without_comment_lines(js: str) -> str:
    """`js` without its whole-line comments, blank lines and indentation (a comment after code on
    the same line stays). Safe for optviz's code, which has no template literal or string spanning
    lines: a line inside one would lose its indentation."""
    lines = (line.strip() for line in js.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//"))


def loader(name: str, js: str) -> str:
    """Keep `js`, the ES module of component `name`, for the code route, and return the module that
    Streamlit sends in its place: it imports `js` from the route once per page (a URL named by its
    content hash, so a browser may keep it for good and a new version is a new URL) and hands each
    update to `js`'s default export, returning what that returns (its clean-up, if any). The URL
    is made absolute from the page's: Streamlit runs inline code from a blob: URL, against which a
    path does not resolve."""
    _SERVED[name] = js
    digest = hashlib.sha256(js.encode()).hexdigest()[:16]
    url = json.dumps(f"{CODE_ROUTE}/{name}.js?v={digest}")
    return (
        f"const code = import(new URL({url}, location.href).href);\n"
        "export default async function (component) {\n"
        "  return (await code).default(component);\n"
        "}\n"
    )


def served(name: str) -> str | None:
    """The JS kept for component `name` (`loader`); None for a name no component has."""
    return _SERVED.get(name)
