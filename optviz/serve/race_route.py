"""The server's one HTTP route of its own: `GET /optviz/race?token=...&x=...&y=...`, the race from a
dragged start (optviz/lab/race_requests.py says why it bypasses a page run).

Answers JSON: 200 with the race's paths (`race_data.race_paths`), 400 when x or y is not a finite
number (with the reason), 404 for a token this process does not know (the chart then asks through
the page), 422 when the race itself fails (a formula that cannot be evaluated there). Never cached:
every answer is for one position. app.py mounts `ROUTES` beside Streamlit's own.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

RACE_ROUTE = "/optviz/race"
NO_STORE = {"Cache-Control": "no-store"}


def race_at(request: Request) -> JSONResponse:
    """The handler (sync: Starlette runs it in its thread pool, off the event loop)."""
    from optviz.lab.race_requests import REQUESTS  # JAX: imported at the first drag, not at start

    query = request.query_params
    try:
        x, y = float(query["x"]), float(query["y"])
        answer = REQUESTS.answer(query.get("token", ""), x, y)
    except (KeyError, ValueError) as problem:
        return JSONResponse({"error": f"x and y must be finite numbers ({problem})"}, 400, NO_STORE)
    except Exception as problem:  # the race itself: the chart keeps its picture and says why
        return JSONResponse({"error": f"{type(problem).__name__}: {problem}"}, 422, NO_STORE)
    if answer is None:
        return JSONResponse({"error": "unknown settings"}, 404, NO_STORE)
    return JSONResponse(answer, headers=NO_STORE)


ROUTES = [Route(RACE_ROUTE, race_at, methods=["GET"])]
