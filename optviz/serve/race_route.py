"""The server's one HTTP route of its own: `GET /optviz/race?token=...&x=...&y=...[&hp_adam_lr=...]`,
the race from a dragged start, with the settings the sliders the chart watches set (named as in a
link: hp_adam_lr, steps, noise); optviz/lab/race_requests.py says why it bypasses a page run.

Answers JSON: 200 with the race's paths (`race_data.race_paths`), 400 when x, y or a setting is not
a finite number or is none of the race's (with the reason), 404 for a token this process
does not know (the chart then asks through the page), 422 when the race itself fails (a formula that
cannot be evaluated there). Never cached: every answer is for one position and values. app.py mounts
`ROUTES` beside Streamlit's own.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

RACE_ROUTE = "/optviz/race"
NO_STORE = {"Cache-Control": "no-store"}
# Sent as they are: Streamlit's middleware gzips (level 9) any response without a Content-Encoding,
# which cost ~2.7 ms of the server's CPU per answer here to save 9 of its 32 KB (packed float32 paths
# in base64 hardly compress). The chart asks for one at every slider step and drag move.
UNCOMPRESSED = {"Content-Encoding": "identity"}
# The query parameters that say where to race from (seq: the chart's count of its requests, for the
# benchmark); every other one is a setting, as in a link.
POSITION = frozenset({"token", "x", "y", "seq"})


def race_at(request: Request) -> JSONResponse:
    """The handler (sync: Starlette runs it in its thread pool, off the event loop)."""
    from optviz.lab.race_requests import REQUESTS  # JAX: imported at the first drag, not at start

    query = request.query_params
    try:
        x, y = float(query["x"]), float(query["y"])
        tuned = {key: float(value) for key, value in query.items() if key not in POSITION}
        answer = REQUESTS.answer(query.get("token", ""), x, y, tuned)
    except (KeyError, ValueError) as problem:
        message = f"x, y and settings must be finite numbers, and the race's ({problem})"
        return JSONResponse({"error": message}, 400, NO_STORE)
    except Exception as problem:  # the race itself: the chart keeps its picture and says why
        return JSONResponse({"error": f"{type(problem).__name__}: {problem}"}, 422, NO_STORE)
    if answer is None:
        return JSONResponse({"error": "unknown settings"}, 404, NO_STORE)
    return JSONResponse(answer, headers={**NO_STORE, **UNCOMPRESSED})


ROUTES = [Route(RACE_ROUTE, race_at, methods=["GET"])]
