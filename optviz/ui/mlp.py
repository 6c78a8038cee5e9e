"""The MLP & backpropagation page: a computation graph, then a 784-hidden-10 network trained live on
MNIST digits with the lab's optimizers, what it learned, and the training loop's numbers.

Data flows one way: widgets -> a hashable run configuration -> library calls (cached) -> figure builders.
Only the open tab is computed and sent. Train hands the runs to the process's background trainer
(optviz.mlp.training_jobs), which trains one compiled epoch at a time and publishes each; the
training tab looks again every POLL_S while this session's runs train, so the curves grow, and a
tab switched or a control moved meanwhile does not stop them. Finished runs are kept per
configuration for every session; a session sees another's runs only once finished, and keeps the
epochs of the runs its Stop ended.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import streamlit as st

from optviz import data, mlp
from optviz.data import TRAIN_SIZE
from optviz.mlp.figures import (
    CURVES_CAPTION,
    confusion_figure,
    curves_figure,
    digits_figure,
    weights_figure,
)
from optviz.mlp.training_jobs import DONE, FAILED, RUNNING, TRAINER, Job
from optviz.optimizers import OPTIMIZERS
from optviz.text import literal
from optviz.ui import mlp_digit, mlp_landscape
from optviz.ui.code_block import code_block
from optviz.ui.mlp_graph import computation_graph
from optviz.ui.share_box import share_box
from optviz.ui.url_state import PageState
from optviz.ui.widgets import FRAME_PARAMETERS, chart, hyperparameter_sliders, page_setup

DEFAULT_OPTIMIZERS = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
VIEWS = [
    "① Computation graph",
    "② The MLP",
    "③ Training",
    "④ What it learned",
    "⑤ The training loop",
    "⑥ Draw a digit",
    "⑦ Loss landscape",
]
# Link parameters of widgets made only in some views or for some selections.
LINK_PARAMETERS = (
    r"mlp_\w+",
    r"graph_\w+",
    *FRAME_PARAMETERS,
    *mlp_digit.LINK_PARAMETERS,
    *mlp_landscape.LINK_PARAMETERS,
)
HIDDEN_SIZES = [8, 16, 32, 64, 128, 256, 512]
BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 2000, 4000, TRAIN_SIZE]
MAX_EPOCHS = 20
POLL_S = 0.5  # how often a page whose runs train looks at them again
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


def _stopped_runs() -> dict[Run, mlp.History]:
    """This session's runs that its Stop interrupted: their finished epochs."""
    return st.session_state.setdefault("mlp_stopped", {})


def _session() -> str:
    """This session, as the owner of the training runs it asks for."""
    return st.session_state.setdefault("mlp_session", uuid.uuid4().hex)


def _job(run: Run) -> Job | None:
    """`run`'s training job as this session may see it: finished (for everyone), or asked for by
    this session; None otherwise (another session's run in progress is its own)."""
    job = TRAINER.job(run)
    if job is None or job.state == DONE or _session() in job.owners:
        return job
    return None


def _histories(runs: list[Run]) -> dict[str, mlp.History]:
    """What there is to show of each run: finished, training for this session, or stopped by it."""
    histories = {}
    for run in runs:
        job = _job(run)
        history = job.history if job is not None and job.state != FAILED else None
        history = history or _stopped_runs().get(run)
        if history is not None:
            histories[run.optimizer] = history
    return histories


def _training_now(runs: list[Run]) -> bool:
    """Whether any of `runs` is training (or waiting for the trainer) for this session."""
    return any(job is not None and job.active for job in map(_job, runs))


def _trained(runs: list[Run]) -> dict[str, mlp.History]:
    """What the views after tab ③ show: the runs' histories once none of them trains for this
    session (a landscape or a digit's answer half-way through training would soon be stale)."""
    return {} if _training_now(runs) else _histories(runs)


def _ask_to_train(runs: list[Run]) -> Callable[[str], None]:
    """What a view that needs trained networks shows without them: `why`, and Train right there (a
    slide shows the view alone, without tab ③); while this session's runs train, their progress,
    and the page runs again when they are done."""

    def ask(why: str) -> None:
        if _training_now(runs):
            _until_trained(runs)
            return
        st.info(why)
        if st.button("Train", type="primary", key="mlp_train_here", icon=":material/play_arrow:"):
            _train(runs)
            st.rerun()

    return ask


@st.fragment(run_every=POLL_S)
def _until_trained(runs: list[Run]) -> None:
    if not _training_now(runs):
        st.rerun()
    jobs = {run: _job(run) for run in runs}
    _progress_bar(runs, jobs, _histories(runs))


# --- the page ----------------------------------------------------------------------------------


def render() -> None:
    state = PageState("mlp", known=LINK_PARAMETERS)
    with st.sidebar:
        runs = _controls(state)
    page_setup(state)
    share = st.sidebar.container()
    adam = next((run for run in runs if run.optimizer == "adam"), runs[0])
    views = dict(
        zip(
            VIEWS,
            (
                lambda: computation_graph(state),
                lambda: _the_network(runs[0]),
                lambda: _training(runs),
                lambda: _what_it_learned(runs[0], _trained(runs), state, _ask_to_train(runs)),
                lambda: _training_loop(adam),
                lambda: mlp_digit.digit_view(runs, _trained(runs), state, _ask_to_train(runs)),
                lambda: mlp_landscape.landscape_view(runs, _trained(runs), state, _ask_to_train(runs)),
            ),
            strict=True,
        )
    )
    if st.context.is_embedded:  # a slide shows the linked view alone
        state.show_notes()
        views[state.choice(VIEWS, key="mlp_view")]()
    else:
        st.markdown("### MLP & backpropagation")
        state.show_notes()
        # Only the open tab computes and is sent. Training goes on in the background (TRAINER), so
        # switching tabs or moving a control does not stop it.
        for tab, view in zip(state.tabs(VIEWS, key="mlp_view"), views.values(), strict=True):
            if tab.open:
                with tab:
                    view()
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
    # No italics on the first view: Streamlit's italic face is a 139 kB font of its own.
    st.caption("Gradient descent on mini-batches **is** SGD: the noise comes from the batches.")
    if not chosen:
        st.warning("No optimizer chosen: training Adam.")
        chosen = ["adam"]
    runs = []
    for name in chosen:
        # Lazy: a closed expander's sliders are not drawn (opening one reruns the page).
        with st.expander(
            f":material/tune: {OPTIMIZERS[name].label}", key=f"mlp_tune_{name}", on_change="rerun"
        ) as box:
            values = hyperparameter_sliders(name, mlp.resolve(name, {}), state, prefix="mlp", shown=box.open)
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


def _training(runs: list[Run]) -> None:
    """Train and Stop, then the runs' progress, curves and results: looked at again every `POLL_S`
    while any of them trains."""
    left, right, _ = st.columns([2, 2, 5], vertical_alignment="center")  # Train whole in presenter mode
    if left.button("Train", type="primary", key="mlp_train", icon=":material/play_arrow:"):
        _train(runs)
    if right.button("Stop", key="mlp_stop", icon=":material/stop:"):
        _stop(runs)
    if _training_now(runs):
        _live_progress(runs)
    else:
        _progress(runs)


def _train(runs: list[Run]) -> None:
    """Ask the trainer for every run not finished, to train side by side (each from the start: a
    stopped run's epochs are not resumed, so that a run is the same whether or not it was stopped)."""
    for run in runs:
        _stopped_runs().pop(run, None)
    trains = [lambda run=run: mlp.train_epochs(epochs=run.epochs, **run.kwargs()) for run in runs]
    TRAINER.request(_session(), zip(runs, trains, strict=True))


def _stop(runs: list[Run]) -> None:
    """This session no longer waits for its unfinished runs; it keeps the epochs they finished."""
    for run in runs:
        job = _job(run)
        if job is not None and job.active:
            TRAINER.release(job, _session())
            if job.history is not None:
                _stopped_runs()[run] = job.history


@st.fragment(run_every=POLL_S)
def _live_progress(runs: list[Run]) -> None:
    """`_progress` while runs train; once none does, the page reruns (which stops the timer)."""
    _progress(runs)
    if not _training_now(runs):
        st.rerun()


def _progress(runs: list[Run]) -> None:
    """Where each run stands (waiting, training, stopped, failed), the curves and the results."""
    epochs, batches = runs[0].epochs, mlp.batches_per_epoch(TRAIN_SIZE, runs[0].batch_size)
    jobs = {run: _job(run) for run in runs}
    active = [run for run, job in jobs.items() if job is not None and job.active]
    histories = _histories(runs)
    for run, job in jobs.items():
        if job is not None and job.state == FAILED:
            st.error(f"{OPTIMIZERS[run.optimizer].label} could not be trained: {literal(job.error)}")
    if active:
        _progress_bar(runs, jobs, histories)
    elif not histories:
        st.info(
            "Press **Train** to train the chosen optimizers from the same initial weights "
            f"({len(runs)} × {epochs} epoch(s)). Tab ④ shows the untrained network meanwhile."
        )
        return
    elif any(job is None or job.state != DONE for job in jobs.values()):
        st.warning(
            "Stopped or not all trained: showing the finished epochs. **Train** trains the unfinished "
            "ones again, from the start."
        )
    if histories:
        chart(st, _curves_figure(runs, histories, batches, epochs), key="mlp_curves")
        st.caption(CURVES_CAPTION)
        _results_table(histories, epochs)


def _progress_bar(runs: list[Run], jobs: dict[Run, Job | None], histories: dict[str, mlp.History]) -> None:
    """Training's progress: the epochs done of all, and who trains or how many wait ahead."""
    epochs = runs[0].epochs
    active = [run for run, job in jobs.items() if job is not None and job.active]
    done = sum(h.epochs for h in histories.values())
    training = [run for run in active if jobs[run].state == RUNNING]
    if not training:
        ahead = TRAINER.ahead(jobs[active[0]])
        text = f"Waiting for the trainer: {ahead} other run(s) ahead of yours"
    else:  # side by side: the epochs every one of them has finished
        finished = min(0 if jobs[run].history is None else jobs[run].history.epochs for run in training)
        label = OPTIMIZERS[training[0].optimizer].label
        who = f"{len(training)} optimizers side by side" if len(training) > 1 else label
        text = f"{who}: {finished} of {epochs} epochs done"
    st.progress(done / (len(runs) * epochs), text=text)


def _curves_figure(runs: list[Run], histories: dict[str, mlp.History], batches: int, epochs: int):
    """The curves, built again only when a run has another epoch to show: the page looks every
    POLL_S, and building the figure costs the server several times more than sending it (bench/mlp.py)."""
    drawn = tuple((run, histories[run.optimizer].epochs) for run in runs if run.optimizer in histories)
    cached = st.session_state.get("mlp_curves_figure")
    if cached is None or cached[0] != drawn:
        cached = st.session_state["mlp_curves_figure"] = (drawn, curves_figure(histories, batches, epochs))
    return cached[1]


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


def _what_it_learned(
    run: Run, histories: dict[str, mlp.History], state: PageState, ask_to_train: Callable[[str], None]
) -> None:
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
        ask_to_train(
            "Not trained yet: below are the network's random initial weights. Train it to see what it learns."
        )
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
    code_block(st.container(), PYTORCH_LOOP, key="mlp_loop_pytorch")
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
        code_block(st.container(), inspect.getsource(mlp.model._train_step), key="mlp_loop_jax")
    st.markdown(
        f"<span style='color:{OPTIMIZERS[run.optimizer].colour}'>●</span> {label}'s update rule:",
        unsafe_allow_html=True,
    )
    st.latex(OPTIMIZERS[run.optimizer].latex)
