"""The Streamlit app starts cleanly and shows what the core provides."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

import optviz

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_app_starts_and_lists_every_surface_and_optimizer():
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    shown = "\n".join(element.value for element in at.latex)  # each value is wrapped in $$ ... $$
    assert all(surface.formula in shown for surface in optviz.SURFACES.values())
    assert all(spec.latex in shown for spec in optviz.OPTIMIZERS.values())
