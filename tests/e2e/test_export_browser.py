"""The exported HTML in a real browser: it plays by itself with the network blocked.

Here, beside the other browser tests, because it shares their Playwright session (a second sync
Playwright in the same process fails while theirs is open).
"""

from optviz.lab import export, race
from optviz.lab.config import RaceConfig
from optviz.lab.figures import race_figure
from surfaces import get_surface

SIX = ["gd", "sgd", "momentum", "adagrad", "rmsprop", "adam"]


def test_html_plays_by_itself_in_chromium_with_no_network(browser, tmp_path):
    surface = get_surface("beale")
    grid = race.surface_grid(surface)
    trajectories = race.race(RaceConfig.create("beale", SIX, surface.default_start, 300))
    html_file = tmp_path / "race.html"
    html_file.write_bytes(
        export.to_html(race_figure(surface, grid, race.colouring(surface, grid), trajectories))
    )

    blocked = []

    def only_local(route):
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context = browser.new_context(viewport={"width": 1280, "height": 720}, offline=True)
    try:
        context.route("**/*", only_local)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # A Content-Security-Policy that blocked part of plotly.js would say so here ("Refused to ...").
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.goto(html_file.as_uri())
        page.wait_for_function(
            "() => { const gd = document.querySelector('.js-plotly-plot'); return gd && gd._fullLayout; }"
        )
        read = """() => { const gd = document.querySelector('.js-plotly-plot');
            return {active: gd.layout.sliders[0].active, head: gd._fullData.at(-1).x.slice(),
                    images: gd._fullLayout.images.length}; }"""
        first = page.evaluate(read)
        page.wait_for_timeout(1500)
        later = page.evaluate(read)
    finally:
        context.close()
    assert not errors, errors
    assert not blocked, f"the page asked the network for {blocked}"
    assert later["active"] > first["active"], f"the slider did not advance: {first} -> {later}"
    assert later["head"] != first["head"], "the head markers did not move"
    assert later["images"] >= 1, "the surface picture (which frames cannot erase) is missing"
