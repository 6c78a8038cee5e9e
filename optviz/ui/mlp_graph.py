"""The MLP page's first tab: backpropagation on a computation graph small enough to follow by hand
(y = x², a neuron, a squared loss), evaluated and differentiated by optviz.mlp.autodiff."""

from __future__ import annotations

import streamlit as st

from optviz.mlp import autodiff
from optviz.mlp.graph_data import graph_data
from optviz.ui.code_block import code_block
from optviz.ui.graph_view import graph_view
from optviz.ui.url_state import PageState


def computation_graph(state: PageState) -> None:
    """Tab ①: an expression's graph, forward values and, after backward(), each node's gradient; the
    output against x with its tangent; the chain rule written out; the same in PyTorch and in JAX.
    In a slide (embedded) the lecturer says what the intro says: the view starts at its controls."""
    if not st.context.is_embedded:
        _introduction()
    name = state.radio(
        st,
        "Expression",
        list(autodiff.EXPRESSIONS),
        key="graph_expression",
        horizontal=True,
        format_func=lambda n: autodiff.EXPRESSIONS[n].title,
    )
    expression = autodiff.EXPRESSIONS[name]
    slider, toggle, formula = st.columns([2, 1, 3], vertical_alignment="center")
    x = state.slider(slider, "x", -3.0, 3.0, default=2.0, step=0.1, key="graph_x")
    backward = state.toggle(toggle, "backward()", default=True, key="graph_backward")
    leaves = {**expression.defaults, "x": float(x)}
    evaluation = autodiff.evaluate(expression, leaves)
    output = expression.output
    fixed = ", ".join(f"{k} = {v:g}" for k, v in leaves.items() if k != "x")
    formula.latex(rf"{output.symbol} = {expression.formula()}" + (rf"\qquad ({fixed})" if fixed else ""))

    graph_view(
        st.container(),
        graph_data(expression, evaluation, leaves, backward=backward),
        key="graph_view",
        presenter=bool(st.session_state.get("presenter")),
    )
    if backward:
        st.markdown("**The chain rule, from the output back to the inputs**")
        chain = [evaluation.chain[node.name] for node in reversed(expression.nodes) if node is not output]
        st.latex(
            r"\begin{aligned}" + r" \\ ".join(c.replace(" = ", " &= ", 1) for c in chain) + r"\end{aligned}"
        )

    torch_col, jax_col = st.columns(2)
    torch_col.markdown("**PyTorch (the lecture's code)**")
    code_block(torch_col, autodiff.pytorch_code(expression, evaluation), key="graph_pytorch")
    jax_col.markdown("**JAX, run live on this page**")
    args = ", ".join(autodiff.python_float(leaves[leaf]) for leaf in expression.leaves)
    grads = expression.jax_fn(*(leaves[leaf] for leaf in expression.leaves))
    shown = ", ".join(f"{float(g):.4g}" for g in grads)
    call = f"{expression.jax_fn.__name__}({args})  # ({shown})"
    code_block(jax_col, f"{expression.jax_source()}\n{call}", key="graph_jax")


def _introduction() -> None:
    st.markdown(
        "A network is a chain of small operations. **Forward**, each node computes its value from its "
        "inputs. **Backward** (`y.backward()` in PyTorch, `jax.grad` in JAX), each node receives "
        "∂output/∂node by the **chain rule**: the gradient arriving from the node it feeds, times its own "
        "local derivative (summed over every node it feeds)."
    )
