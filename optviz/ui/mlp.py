"""The MLP & backpropagation page: a computation graph, then a 784-hidden-10 network trained live on
MNIST digits with the lab's optimizers, what it learned, and the training loop's numbers.

Data flows one way: widgets -> a hashable run configuration -> library calls (cached) -> figure builders.
Training runs one compiled epoch at a time so the progress bar and curves update after each epoch;
finished runs are kept per configuration for every session, stopped runs for this session.
"""

from __future__ import annotations

import inspect
from typing import NamedTuple

import numpy as np
import streamlit as st

from optviz import data, mlp
from optviz.data import TRAIN_SIZE
from optviz.mlp.figures import (
    confusion_figure,
    curves_figure,
    digits_figure,
    weights_figure,
)
from optviz.optimizers import OPTIMIZERS
from optviz.ui.mlp_graph import computation_graph
from optviz.ui.share_box import share_box
from optviz.ui.url_state import PageState
from optviz.ui.widgets import chart, hyperparameter_sliders, page_setup

DEFAULT_OPTIMIZERS = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
VIEWS = ["① Computation graph", "② The MLP", "③ Training", "④ What it learned", "⑤ The training loop"]
# Link parameters of widgets made only in some views or for some selections.
LINK_PARAMETERS = (r"mlp_\w+", r"graph_\w+", "presenter")
HIDDEN_SIZES = [8, 16, 32, 64, 128, 256, 512]
BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 2000, 4000, TRAIN_SIZE]
MAX_EPOCHS = 20
# Finished runs kept for all sessions. Each holds its weights, (784 + 1) x hidden + (hidden + 1) x 10
# float32s, and a loss per mini-batch step; the oldest go first.
MAX_FINISHED_RUNS = 64
PYTORCH_LOOP = """\
for x, y in loader:        # a mini-batch
    optimizer.zero_grad()  # clear old grads
    z = model(x)           # forward
    loss = loss_fn(z, y)   # cross-entropy
    loss.backward()        # dL/dθ
    optimizer.step()       # θ ← θ + Δθ"""


class Run(NamedTuple):
    """Everything that determines a training run: hashable, so it keys the caches."""

    optimizer: str
    hyperparams: tuple[tuple[str, float], ...]
    hidden: int
    activation: str
    batch_size: int
    epochs: int
    seed: int

    def kwargs(self) -> dict:
        return {
            "optimizer": self.optimizer,
            "hidden": self.hidden,
            "activation": self.activation,
            "batch_size": self.batch_size,
            "seed": self.seed,
            **dict(self.hyperparams),
        }


# --- cached library calls ------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _finished_runs() -> dict[Run, mlp.History]:
    """Completed runs, for every session: revisiting the page or another control never retrains."""
    return {}


@st.cache_resource(show_spinner=False)
def _test_digits() -> tuple[np.ndarray, np.ndarray]:
    digits = data.load()
    return digits.test_images, digits.test_labels


@st.cache_data(max_entries=64, show_spinner=False)
def _step_numbers(run: Run) -> mlp.StepNumbers:
    return mlp.step_numbers(**run.kwargs())


@st.cache_data(max_entries=64, show_spinner=False)
def _probabilities(params: mlp.Params, activation: str) -> np.ndarray:
    images, _ = _test_digits()
    x = images.reshape(len(images), -1).astype(np.float32) / 255.0
    return np.asarray(mlp.predict(params, x, activation))


def _remember(run: Run, history: mlp.History) -> None:
    finished = _finished_runs()
    finished[run] = history
    while len(finished) > MAX_FINISHED_RUNS:
        finished.pop(next(iter(finished)))  # the oldest


def _stopped_runs() -> dict[Run, mlp.History]:
    """This session's runs that a Stop (or any other click) interrupted: their finished epochs."""
    return st.session_state.setdefault("mlp_stopped", {})


# --- the page ----------------------------------------------------------------------------------


def render() -> None:
    state = PageState("mlp", known=LINK_PARAMETERS)
    st.markdown("### MLP & backpropagation")
    with st.sidebar:
        runs = _controls(state)
    page_setup(state)
    share = st.sidebar.container()
    state.show_notes()
    # Switching tabs must not rerun the page: that would interrupt a training run.
    graph, network, training, learned, loop = state.tabs(VIEWS, key="mlp_view", rerun=False)
    with graph:
        computation_graph(state)
    with network:
        _the_network(runs[0])
    with training:
        histories = _training(runs)
    with learned:
        _what_it_learned(runs[0], histories, state)
    with loop:
        _training_loop(next((run for run in runs if run.optimizer == "adam"), runs[0]))
    share_box(share, state.publish())


def _controls(state: PageState) -> list[Run]:
    """The sidebar. Returns one Run per chosen optimizer (at least one: Adam if none is chosen)."""
    st.markdown("**Network**")
    hidden = state.select_slider(st, "Hidden units", HIDDEN_SIZES, default=128, key="mlp_hidden")
    activation = state.radio(
        st,
        "Activation σ",
        list(mlp.ACTIVATIONS),
        horizontal=True,
        key="mlp_activation",
        format_func=str.capitalize,
    )
    st.markdown("**Training**")
    batch_size = state.select_slider(
        st,
        "Mini-batch size B",
        BATCH_SIZES,
        default=64,
        key="mlp_batch",
        format_func=lambda b: f"{b} (full batch)" if b == TRAIN_SIZE else str(b),
    )
    epochs = state.slider(st, "Epochs", 1, MAX_EPOCHS, default=5, key="mlp_epochs")
    cap = mlp.epoch_cap(batch_size, TRAIN_SIZE)
    if epochs > cap:
        st.caption(
            f"At B = {batch_size} an epoch is {TRAIN_SIZE // batch_size:,} steps: capped at {cap} epoch(s)."
        )
        epochs = cap
    seed = state.number_input(
        st, "Seed (initial weights, shuffling)", 0, 2**31 - 1, default=0, step=1, key="mlp_seed"
    )
    chosen = state.multiselect(
        st,
        "Optimizers",
        list(mlp.MLP_OPTIMIZERS),
        default=DEFAULT_OPTIMIZERS,
        key="mlp_optimizers",
        format_func=lambda name: OPTIMIZERS[name].label,
    )
    st.caption("Gradient descent on mini-batches *is* SGD: the noise comes from the batches.")
    if not chosen:
        st.warning("No optimizer chosen: training Adam.")
        chosen = ["adam"]
    runs = []
    for name in chosen:
        with st.expander(f":material/tune: {OPTIMIZERS[name].label}"):
            values = hyperparameter_sliders(name, mlp.resolve(name, {}), state, prefix="mlp")
        hyperparams = tuple(sorted((k, float(v)) for k, v in values.items()))
        runs.append(Run(name, hyperparams, int(hidden), activation, int(batch_size), int(epochs), int(seed)))
    return runs


def _the_network(run: Run) -> None:
    params = mlp.init_params(run.hidden, run.seed)
    count = mlp.parameter_count(params)
    st.markdown(
        "Stack linear layers with a nonlinearity between them: a **multilayer perceptron**. Each 28×28 "
        "digit is flattened into 784 numbers; the hidden layer has "
        f"**{run.hidden}** units; the output has one score (logit) per digit 0–9, turned into "
        "probabilities by the softmax. Training minimizes the cross-entropy: the negative "
        "log-probability of the right digit."
    )
    st.latex(
        r"h = \sigma(x W_1 + b_1),\quad z = h W_2 + b_2,\quad p = \mathrm{softmax}(z),\quad "
        r"L = -\frac{1}{B}\sum_{i=1}^{B} \log p_{i,\,y_i}"
    )
    st.latex(
        rf"x \in \mathbb{{R}}^{{784}},\ W_1 \in \mathbb{{R}}^{{784 \times {run.hidden}}},\ "
        rf"W_2 \in \mathbb{{R}}^{{{run.hidden} \times 10}}:\quad"
        rf"784 \cdot {run.hidden} + {run.hidden} + {run.hidden} \cdot 10 + 10 = {_latex_int(count)}"
        r"\text{ parameters}"
    )
    st.latex(r"\sigma:\ " + mlp.ACTIVATION_LATEX[run.activation])
    st.markdown(
        "**Mini-batch SGD.** The gradient of the full training loss averages over all "
        f"{TRAIN_SIZE:,} images (*full-batch* gradient descent: one step per epoch, exact but slow). A "
        f"*mini-batch* of B random images gives a noisy estimate that costs B/{TRAIN_SIZE} as much, so an "
        f"epoch takes {TRAIN_SIZE}/B steps. Set the mini-batch size in the sidebar and compare the noise "
        "in the loss curves and the progress per epoch."
    )
    st.latex(
        r"\theta_t = \theta_{t-1} - \eta\, \frac{1}{B}"
        r"\sum_{i \in \text{batch}_t} \nabla_\theta \ell_i(\theta_{t-1})"
        rf"\qquad B = {run.batch_size}:\ {_latex_int(mlp.batches_per_epoch(TRAIN_SIZE, run.batch_size))}"
        r"\text{ steps per epoch}"
    )
    if TRAIN_SIZE % run.batch_size:
        st.caption(
            f"{TRAIN_SIZE:,} is not a multiple of {run.batch_size}: the last mini-batch of each epoch "
            f"holds the remaining {TRAIN_SIZE % run.batch_size} images (padded, so one compiled loop "
            "serves every batch)."
        )


def _latex_int(n: int) -> str:
    """101,770 in LaTeX: braces keep the comma from adding space."""
    return f"{n:,}".replace(",", "{,}")


def _training(runs: list[Run]) -> dict[str, mlp.History]:
    finished, stopped = _finished_runs(), _stopped_runs()
    buttons, status = st.columns([1, 3], vertical_alignment="center")
    with buttons:
        left, right = st.columns(2)
        train = left.button("Train", type="primary", key="mlp_train", icon=":material/play_arrow:")
        # Any click makes Streamlit rerun the script, which interrupts a running loop; this run then
        # shows the epochs finished so far (kept in session_state).
        right.button("Stop", key="mlp_stop", icon=":material/stop:")
    progress = status.empty()
    curves = st.empty()
    epochs, batches = runs[0].epochs, mlp.batches_per_epoch(TRAIN_SIZE, runs[0].batch_size)
    if train:
        _train_live(runs, progress, curves, batches)
        st.rerun()  # draw the finished runs once, with everything below them
    histories = {}
    for run in runs:
        history = finished.get(run) or stopped.get(run)
        if history is not None:
            histories[run.optimizer] = history
    if not histories:
        progress.info(
            "Press **Train** to train the chosen optimizers from the same initial weights "
            f"({len(runs)} × {epochs} epoch(s)). Tab ④ shows the untrained network meanwhile."
        )
        return {}
    if any(run not in finished for run in runs):
        progress.warning(
            "Stopped or not all trained: showing the finished epochs. **Train** reruns the unfinished ones."
        )
    chart(curves, curves_figure(histories, batches, epochs), key="mlp_curves")
    _results_table(histories, epochs)
    return histories


def _train_live(runs: list[Run], progress, curves, batches: int) -> None:
    """Train every run not yet finished, one epoch per compiled call, redrawing after each epoch."""
    finished, stopped = _finished_runs(), _stopped_runs()
    todo = [run for run in runs if run not in finished]
    histories = {run.optimizer: finished[run] for run in runs if run in finished}
    total, done = len(todo) * runs[0].epochs, 0
    for run in todo:
        label = OPTIMIZERS[run.optimizer].label
        for history in mlp.train_epochs(epochs=run.epochs, **run.kwargs()):
            done += 1
            stopped[run] = histories[run.optimizer] = history
            progress.progress(done / total, text=f"{label}: epoch {history.epochs} of {run.epochs}")
            chart(curves, curves_figure(histories, batches, run.epochs))
        _remember(run, history)
        stopped.pop(run, None)


def _results_table(histories: dict[str, mlp.History], epochs: int) -> None:
    rows = []
    for name, h in histories.items():
        rows.append(
            {
                "optimizer": OPTIMIZERS[name].label,
                "epochs": f"{h.epochs} of {epochs}",
                "train loss": h.train_loss[-1],
                "test loss": h.test_loss[-1],
                "test accuracy": h.test_accuracy[-1],
                "note": f"diverged at step {h.diverged_at}: learning rate too large" if h.diverged_at else "",
            }
        )
    st.dataframe(
        rows,
        hide_index=True,
        column_config={
            "train loss": st.column_config.NumberColumn(format="%.4f"),
            "test loss": st.column_config.NumberColumn(format="%.4f"),
            "test accuracy": st.column_config.NumberColumn(format="percent"),
        },
    )
    st.caption(
        "Thin lines: the loss of every mini-batch (noisy when B is small). Solid: the training loss "
        "averaged over each epoch's mini-batches. Dotted: the 2,000 test images after each epoch."
    )


def _what_it_learned(run: Run, histories: dict[str, mlp.History], state: PageState) -> None:
    if histories:
        best = max(histories, key=lambda name: histories[name].test_accuracy[-1])
        name = state.selectbox(
            st,
            "Network trained by",
            list(histories),
            default=best,
            key="mlp_inspect",
            format_func=lambda n: (
                f"{OPTIMIZERS[n].label} ({histories[n].test_accuracy[-1]:.1%} test accuracy)"
            ),
        )
        params = histories[name].params
    else:
        st.info("Not trained yet: this is the network's random initial weights. Press **Train** in tab ③.")
        params = mlp.Params(*(np.asarray(p) for p in mlp.init_params(run.hidden, run.seed)))
    images, labels = _test_digits()
    probabilities = _probabilities(params, run.activation)
    predicted = probabilities.argmax(axis=1)
    st.caption(f"{np.mean(predicted == labels):.1%} of the 2,000 test digits classified correctly.")
    weights, confusion = st.columns([3, 2])
    weights.markdown("**First-layer weights** of 24 hidden units, each as a 28×28 image")
    chart(weights, weights_figure(params.w1), config={"displayModeBar": False})
    weights.caption("Red pixels push the unit's input x·W₁[:, j] up, blue ones down.")
    confusion.markdown("**Confusion matrix** (2,000 test digits)")
    chart(
        confusion, confusion_figure(mlp.confusion_matrix(labels, predicted)), config={"displayModeBar": False}
    )
    mistakes = state.toggle(st, "Show only misclassified digits", key="mlp_mistakes")
    shown = np.flatnonzero(predicted != labels)[:24] if mistakes else np.arange(24)
    if not len(shown):
        st.success("No test digit is misclassified.")
        return
    chart(
        st,
        digits_figure(images[shown], labels[shown], probabilities[shown]),
        config={"displayModeBar": False},
    )
    st.caption(
        "Above each digit: the predicted class and its probability; red frames: mistakes (≠ the true digit)."
    )


def _training_loop(run: Run) -> None:
    numbers = _step_numbers(run)
    label = OPTIMIZERS[run.optimizer].label
    st.markdown(
        f"One iteration of the training loop on the first mini-batch (B = {run.batch_size}), from the "
        f"initial weights, with {label}: each phase of the lecture's PyTorch loop and the numbers it "
        "produced here."
    )
    st.code(PYTORCH_LOOP, language="python")
    s = numbers.shapes

    def shape(name):
        return "×".join(str(n) for n in s[name])

    layers = ", ".join(f"{n}: {numbers.grad_norms[n]:.3g}" for n in ("w1", "b1", "w2", "b2"))
    steps = ", ".join(f"{n}: {numbers.update_norms[n]:.3g}" for n in ("w1", "b1", "w2", "b2"))
    st.markdown(
        "| phase | what happened |\n|---|---|\n"
        f"| mini-batch | x: {shape('x')} pixels, y: {s['x'][0]} labels |\n"
        "| zero_grad | nothing to do in JAX: `jax.grad` returns fresh gradients every call |\n"
        f"| forward | h = σ(xW₁ + b₁): {shape('h')}; z = hW₂ + b₂: {shape('z')} |\n"
        f"| loss | L = {numbers.loss:.4f} (ln 10 = 2.3026: a uniform guess) |\n"
        f"| backward | gradient norms ‖∂L/∂θ‖ — {layers} |\n"
        f"| step | update norms ‖Δθ‖ — {steps}; L on the same batch after: {numbers.loss_after:.4f} |"
    )
    with st.expander("The same loop in this app's JAX code (one step of the compiled epoch)"):
        st.code(inspect.getsource(mlp.model._train_step), language="python")
    st.markdown(
        f"<span style='color:{OPTIMIZERS[run.optimizer].colour}'>●</span> {label}'s update rule:",
        unsafe_allow_html=True,
    )
    st.latex(OPTIMIZERS[run.optimizer].latex)
