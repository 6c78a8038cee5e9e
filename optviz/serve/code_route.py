"""`GET /optviz/code/<name>.js`: the code of optviz's component `name`, served once to a browser that
keeps it, instead of inline with each of the component's updates (optviz/component_code.py says why).

The URL a page asks for carries the code's content hash (`?v=`), so the answer may be cached for a
year as immutable; a changed component is a new URL. 404 for a name no component has. app.py mounts
`ROUTES` beside Streamlit's own; Streamlit's middleware compresses the answer.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from optviz.component_code import CODE_ROUTE, served

KEPT_FOR_GOOD = {"Cache-Control": "public, max-age=31536000, immutable"}


def code_of(request: Request) -> Response:
    """The handler: the component's JS as an ES module (a module script must have a JS MIME type)."""
    js = served(request.path_params["name"])
    if js is None:
        return PlainTextResponse("no such component", 404, {"Cache-Control": "no-store"})
    return Response(js, media_type="text/javascript", headers=KEPT_FOR_GOOD)


ROUTES = [Route(CODE_ROUTE + "/{name}.js", code_of, methods=["GET"])]
