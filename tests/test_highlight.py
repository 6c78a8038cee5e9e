"""optviz.highlight: Python cut into coloured pieces that join back to the source exactly."""

import inspect
from itertools import pairwise

import pytest

from optviz import mlp
from optviz.highlight import KINDS, python_spans
from optviz.mlp import autodiff
from optviz.ui.mlp import PYTORCH_LOOP


def _shown_sources():
    """Every piece of code the pages show."""
    for expression in autodiff.EXPRESSIONS.values():
        yield autodiff.pytorch_code(expression, autodiff.evaluate(expression))
        yield expression.jax_source() + "\nsquare_grad(2.0)  # (4)"
    yield PYTORCH_LOOP
    yield inspect.getsource(mlp.model._train_step)


@pytest.mark.parametrize("source", list(_shown_sources()))
def test_the_pieces_join_back_to_every_source_the_pages_show(source):
    spans = python_spans(source)
    assert "".join(text for _, text in spans) == source
    assert {kind for kind, _ in spans} <= set(KINDS)
    assert len({kind for kind, _ in spans}) >= 3  # coloured, not one plain piece
    assert all(a[0] != b[0] for a, b in pairwise(spans))  # neighbours of one kind are merged


def test_each_kind_is_what_the_tokenizer_says():
    source = 'def f(x):\n    return x + 2.5  # note\nclass C: s = "<b>hi</b>"\n'
    spans = python_spans(source)
    assert ("keyword", "def") in spans and ("definition", "f") in spans and ("definition", "C") in spans
    assert ("number", "2.5") in spans and ("comment", "# note") in spans
    assert ("string", '"<b>hi</b>"') in spans  # markup in a string is a string's text
    assert ("", "(x):\n    ") in spans  # spaces and brackets as plain text


@pytest.mark.parametrize("source", ['def f(:\n  "unfinished', "if x:\n  a\n b\n", "x = '''open", ""])
def test_source_the_tokenizer_cannot_read_is_shown_whole_and_plain(source):
    assert python_spans(source) == ([("", source)] if source else [])
