"""The JS of optviz's browser components as the browser gets it (optviz/ui/components.py).

A Streamlit component's inline code goes with every update of its data: the race chart's, 41 KB with
its kit, with each change of the race, and the server hashes and frames it each time. So a component's
code is served once, as a file the browser keeps (`GET /optviz/code/<name>.js?v=<its hash>`,
optviz/serve/code_route.py), and what goes with each update is a loader of a few hundred bytes that
imports it (`loader`). Streamlit itself serves a component's files only from an installed package
that declares an asset directory; optviz runs from its folder.

The served code goes without its comment lines (`without_comment_lines`): written for the people who
read the files, they are a fifth of it.

A component's data goes as JSON bytes made by orjson (`data_bytes`), which the loader parses: given a
dict, Streamlit encodes it with Python's json twice (once more, sorted, for the element's identity,
which a keyed component does not use) and looks at each of its values for a dataframe, about ten
times the work for the race chart's data. `read_data` reads it back from the element.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson

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
    update to `js`'s default export, with its data parsed (`data_bytes`), returning what that returns
    (its clean-up, if any). The URL is made absolute from the page's: Streamlit runs inline code from
    a blob: URL, against which a path does not resolve. Streamlit draws a component's HTML before its
    code has come; once the code has taken an update, the element the component is drawn in gets
    `data-optviz-live` (what the browser tests wait for before they touch it)."""
    _SERVED[name] = js
    digest = hashlib.sha256(js.encode()).hexdigest()[:16]
    url = json.dumps(f"{CODE_ROUTE}/{name}.js?v={digest}")
    return (
        f"const code = import(new URL({url}, location.href).href);\n"
        "const text = new TextDecoder();\n"
        "export default async function (component) {\n"
        "  const bytes = component.data;\n"
        "  const data = bytes instanceof Uint8Array ? JSON.parse(text.decode(bytes)) : null;\n"
        "  const cleanup = (await code).default({ ...component, data });\n"
        '  component.parentElement.dataset.optvizLive = "";\n'
        "  return cleanup;\n"
        "}\n"
    )


def served(name: str) -> str | None:
    """The JS kept for component `name` (`loader`); None for a name no component has."""
    return _SERVED.get(name)


def data_bytes(data: Any) -> bytes:
    """A component's data as the bytes its loader parses: JSON, as json.dumps would write it except
    that NaN and infinities become null (which JSON.parse accepts) and NumPy scalars and arrays are
    numbers and lists."""
    return orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def read_data(element) -> Any:
    """The data of a component's element (a `BidiComponent` proto) as Python values: JSON bytes
    (`data_bytes`) or, from a component that is not optviz's, JSON text; None without data."""
    kind = element.WhichOneof("data")
    if kind == "bytes":
        return orjson.loads(element.bytes)
    return json.loads(element.json) if kind == "json" else None
