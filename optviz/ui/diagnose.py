"""The Diagnose training page: CS231n's "babysitting the learning process" on the digits, one
symptom per tab, each made by breaking the network on purpose.

Data flows one way: widgets -> hashable settings -> `optviz.diagnose` (cached for every session) ->
its figures. Only the open tab computes. Every training here is short (seconds); the search, the
longest, runs in the process's background trainer like the MLP page's runs, so it can be stopped
and a stopped search keeps its finished trials.
"""

from __future__ import annotations

import uuid

import numpy as np
import streamlit as st

from optviz import diagnose
from optviz.data import TRAIN_SIZE
from optviz.diagnose import figures
from optviz.diagnose.gradcheck import CHECK_NETWORK, DTYPES, STEP_SWEEP, verdict
from optviz.diagnose.hyperparameter_search import (
    EPOCHS_RANGE,
    LR_RANGE,
    METHODS,
    TRIALS_RANGE,
    WEIGHT_DECAY_RANGE,
)
from optviz.diagnose.network import INITS, LAYERS_RANGE
from optviz.diagnose.training import recommended_lr, steps_per_epoch
from optviz.mlp.model import ACTIVATIONS, MLP_OPTIMIZERS, epoch_cap
from optviz.mlp.training_jobs import DONE, FAILED, TRAINER
from optviz.optimizers import OPTIMIZERS
from optviz.text import literal
from optviz.ui.share_box import share_box
from optviz.ui.url_state import PageState
from optviz.ui.widgets import FRAME_PARAMETERS, chart, page_setup

VIEWS = [
    "① Initialization",
    "② Update:weight ratio",
    "③ Loss curves",
    "④ Train/val gap",
    "⑤ Gradient check",
    "⑥ Hyperparameter search",
    "⑦ Step in",
]
LINK_PARAMETERS = (r"diag_\w+", *FRAME_PARAMETERS)
WIDTHS = [32, 64, 128, 256, 512]
LEARNING_RATES = [float(f"{m * 10.0**k:.6g}") for k in range(-6, 2) for m in (1, 2, 5)]
BATCH_SIZES = [8, 16, 32, 64, 128, 256, 512]
TRAIN_SIZES = [20, 50, 100, 200, 500, 1000, 2000, 4000, TRAIN_SIZE]
WEIGHT_DECAYS = [0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
DECADES = [float(10.0**k) for k in range(-8, 2)]
FOUR_LRS = {"too low": 2e-5, "good": 1e-3, "high": 2e-2, "too high": 0.3}  # Adam's, CS231n's four shapes
GAP_STEPS = 600  # the train/val tab trains about this many steps, whatever the training-set size
POLL_S = 0.5


def render() -> None:
    state = PageState("diagnose", known=LINK_PARAMETERS)
    with st.sidebar:
        settings = _controls(state)
    page_setup(state)
    share = st.sidebar.container()
    views = dict(
        zip(
            VIEWS,
            (
                lambda: _initialization(settings, state),
                lambda: _update_ratio(settings),
                lambda: _loss_curves(settings, state),
                lambda: _gap(settings, state),
                lambda: _gradient_check(state),
                lambda: _search(state),
                lambda: _step_in(settings, state),
            ),
            strict=True,
        )
    )
    if st.context.is_embedded:
        state.show_notes()
        views[state.choice(VIEWS, key="diag_view")]()
    else:
        st.markdown("### Diagnose training")
        state.show_notes()
        for tab, view in zip(state.tabs(VIEWS, key="diag_view"), views.values(), strict=True):
            if tab.open:
                with tab:
                    view()
    share_box(share, state.publish())


def _controls(state: PageState) -> dict:
    """The sidebar: the network and how it trains (every tab but the gradient check and the search)."""
    st.markdown("**Network**")
    layers = state.slider(st, "Hidden layers", *LAYERS_RANGE, default=2, key="diag_layers")
    width = state.select_slider(st, "Units per layer", WIDTHS, default=128, key="diag_width")
    activation = state.radio(
        st,
        "Activation",
        list(ACTIVATIONS),
        horizontal=True,
        key="diag_activation",
        format_func=str.capitalize,
    )
    init = state.selectbox(
        st, "Initialization", list(INITS), default="pytorch", key="diag_init", format_func=INITS.get
    )
    st.markdown("**Training**")
    optimizer = state.selectbox(
        st,
        "Optimizer",
        list(MLP_OPTIMIZERS),
        default="adam",
        key="diag_optimizer",
        format_func=lambda name: OPTIMIZERS[name].label,
    )
    lr = state.select_slider(
        st,
        "Learning rate η",
        _stops(recommended_lr(optimizer)),
        default=recommended_lr(optimizer),
        key=f"diag_lr_{optimizer}",
        format_func=lambda v: f"{v:g}",
    )
    batch_size = state.select_slider(st, "Mini-batch size", BATCH_SIZES, default=64, key="diag_batch")
    epochs = state.slider(st, "Epochs", 1, 10, default=3, key="diag_epochs")
    cap = epoch_cap(batch_size, TRAIN_SIZE)  # the MLP page's bound on steps, so no run locks a session
    if epochs > cap:
        st.caption(
            f"At a mini-batch of {batch_size} an epoch is {TRAIN_SIZE // batch_size:,} steps: {cap} epochs."
        )
        epochs = cap
    seed = state.number_input(st, "Seed", 0, 2**31 - 1, default=0, step=1, key="diag_seed")
    return {
        "layers": int(layers),
        "width": int(width),
        "activation": activation,
        "init": init,
        "optimizer": optimizer,
        "lr": float(lr),
        "batch_size": int(batch_size),
        "epochs": int(epochs),
        "seed": int(seed),
    }


def _stops(value: float) -> list[float]:
    """The learning rates a slider offers (1, 2, 5 per decade), with `value` among them."""
    return sorted({*LEARNING_RATES, float(value)})


# --- cached library calls (shared by every session) -------------------------------------------------


@st.cache_data(max_entries=32, show_spinner="Training…")
def _train(**settings) -> diagnose.Run:
    return diagnose.train(**settings).without_checkpoint()  # kept to draw, not to go on from


@st.cache_data(max_entries=64, show_spinner=False)
def _init_stats(init: str, activation: str, layers: int, width: int, seed: int) -> diagnose.Snapshot:
    return diagnose.init_stats(init, activation, layers, seed=seed, width=width)


@st.cache_data(max_entries=16, show_spinner="Training four networks side by side…")
def _four_rates(settings: tuple, batch_size: int):
    return diagnose.train_together(
        list(FOUR_LRS.values()), [0.0] * 4, **dict(settings), optimizer="adam", batch_size=batch_size
    )


@st.cache_data(max_entries=64, show_spinner=False)
def _grad_check(seed: int, h: float, dtype: str, activation: str) -> diagnose.GradCheck:
    return diagnose.grad_check(seed, h, dtype, CHECK_NETWORK._replace(activation=activation))


@st.cache_data(max_entries=16, show_spinner="Sweeping h…")
def _sweep(seed: int, activation: str) -> dict:
    return diagnose.step_sweep(seed, CHECK_NETWORK._replace(activation=activation))


@st.cache_data(max_entries=16, show_spinner="Training from the pause…")
def _branch(at_epoch: int, change: tuple, **settings):
    epochs = settings.pop("epochs")
    return tuple(
        run.without_checkpoint() for run in diagnose.branch(at_epoch, epochs, dict(change), **settings)
    )


# --- ① initialization -------------------------------------------------------------------------------


def _initialization(settings: dict, state: PageState) -> None:
    net = {k: settings[k] for k in ("layers", "width", "activation", "init")}
    left, right = st.columns([1, 2], vertical_alignment="center")
    after = state.slider(
        left, "Look after epoch (0: at initialization)", 0, settings["epochs"], default=0, key="diag_after"
    )
    if after == 0:
        snap = _init_stats(net["init"], net["activation"], net["layers"], net["width"], settings["seed"])
    else:
        run = _train(**{**settings, "epochs": int(after), "histograms": True})
        snap = run.snapshots[-1]
    with right:
        _sanity_sentence(snap.loss, after)
    chart(st, figures.histograms_figure(snap, net["activation"]), key="diag_histograms")
    st.caption(
        "Top: each hidden layer's outputs on 500 training digits; bottom: the gradient ∂L/∂h reaching it "
        "in backpropagation. Bins are shared by all layers, so a shrinking or collapsing layer shows."
    )
    left, right = st.columns([3, 2])
    with left:
        chart(st, figures.std_figure(snap), key="diag_std")
    with right:
        rows = [
            {
                "layer": i + 1,
                "std of h": s.act_std,
                "std of ∂L/∂h": s.grad_std,
                "dead ReLUs": s.dead,
                "saturated": s.saturated,
            }
            for i, s in enumerate(snap.layers)
        ]
        st.dataframe(
            rows,
            hide_index=True,
            column_config={
                "std of h": st.column_config.NumberColumn(format="%.2e"),
                "std of ∂L/∂h": st.column_config.NumberColumn(format="%.2e"),
                "dead ReLUs": st.column_config.NumberColumn(format="percent"),
                "saturated": st.column_config.NumberColumn(format="percent"),
            },
        )
        st.caption(
            "Dead: units never positive on the batch (they pass no gradient, so they never recover). "
            "Saturated: tanh/sigmoid outputs within 1 % of their bounds, where the slope is nearly 0."
        )


def _sanity_sentence(loss: float, after: int) -> None:
    """The initial-loss sanity check: ln 10 for ten classes guessed uniformly."""
    if after:
        st.markdown(
            f"Loss after epoch {after}: **{loss:.3f}** (at initialization it should be ln 10 = 2.303)."
        )
        return
    text = f"Initial loss **{loss:.3f}**, against ln 10 = **2.303** (ten digits guessed uniformly)."
    if abs(loss - np.log(10)) < 0.25:
        st.success(text + " Sane: the network starts unsure, as it should.", icon=":material/check_circle:")
    else:
        st.warning(
            text + " A start this far off means confident wrong answers: weights too large (or a bug in "
            "the loss). Training must first undo them.",
            icon=":material/warning:",
        )


# --- ② update:weight ratio --------------------------------------------------------------------------


def _update_ratio(settings: dict) -> None:
    run = _train(**settings)
    per_epoch = steps_per_epoch(TRAIN_SIZE, settings["batch_size"])
    st.markdown(
        f"**{OPTIMIZERS[settings['optimizer']].label}, η = {settings['lr']:g}**: how far each step moves "
        "each weight matrix, against the matrix's size. CS231n's rule of thumb: about **1e-3**. Change the "
        "optimizer and learning rate in the sidebar."
    )
    chart(st, figures.update_ratio_figure(run, per_epoch), key="diag_ratio")
    median = run.median_update_ratio
    stopped = run.updates_stopped_at if run.diverged_at is None else None
    if np.all(np.isnan(median)):
        st.warning("Every weight matrix is still all zeros: there is no ratio to take (zero initialization).")
    elif stopped is not None:
        st.warning(
            f"From step {stopped} on, no weight matrix moved: a layer's units all stopped passing "
            "gradient back (dead ReLUs, usually from a learning rate too high). Lower the learning rate."
        )
    elif np.nanmax(median) < 1e-4:
        st.info(f"Median ratio {np.nanmax(median):.1e} at most: the learning rate is probably too low.")
    elif np.nanmin(median) > 1e-2:
        st.warning(f"Median ratio {np.nanmin(median):.1e} at least: the learning rate is probably too high.")
    else:
        st.success("The median ratios are within the band around 1e-3.", icon=":material/check_circle:")
    _diverged_note(run)


def _diverged_note(run: diagnose.Run) -> None:
    if run.diverged_at is not None:
        st.error(
            f"Diverged at step {run.diverged_at}: an update was not finite, so the weights froze there. "
            "Lower the learning rate.",
            icon=":material/error:",
        )


# --- ③ loss curves ----------------------------------------------------------------------------------


def _loss_curves(settings: dict, state: PageState) -> None:
    st.markdown(
        "The same network trained with **Adam at four learning rates**, from the same weights on the "
        "same batches (one vmapped call): CS231n's picture of what each learning rate does to the loss."
    )
    left, right = st.columns([3, 1])
    batch = state.select_slider(
        left, "Mini-batch size (smaller: wigglier)", BATCH_SIZES, default=64, key="diag_curve_batch"
    )
    log = state.toggle(right, "Log loss axis", key="diag_log")
    net = tuple((k, settings[k]) for k in ("layers", "width", "activation", "init", "epochs", "seed"))
    together = _four_rates(net, int(batch))
    labels = [f"{name} (η = {lr:g})" for name, lr in FOUR_LRS.items()]
    per_epoch = steps_per_epoch(TRAIN_SIZE, int(batch))
    chart(
        st,
        figures.loss_curves_figure(together.batch_loss, together.diverged_at, labels, per_epoch, log=log),
        key="diag_curves",
    )
    st.caption(
        "Too low: a slow, almost linear decline. Good: fast, then steady. High: fast at first, then stuck "
        "at a worse loss (the steps are too big to settle). Too high: the loss jumps up and stays at or "
        "above ln 10. The wiggle is the mini-batch noise: each batch is a different sample."
    )


# --- ④ train/val gap ---------------------------------------------------------------------------------


def _overfit_twenty() -> None:
    st.session_state["diag_train_size"] = 20
    st.session_state["diag_decay"] = 0.0


def _gap(settings: dict, state: PageState) -> None:
    left, middle, right = st.columns([2, 2, 1], vertical_alignment="bottom")
    size = state.select_slider(
        left, "Training-set size", TRAIN_SIZES, default=TRAIN_SIZE, key="diag_train_size"
    )
    decay = state.select_slider(
        middle,
        "L2 weight decay λ",
        WEIGHT_DECAYS,
        default=0.0,
        key="diag_decay",
        format_func=lambda v: f"{v:g}",
    )
    right.button(
        "Overfit 20 examples",
        on_click=_overfit_twenty,
        key="diag_overfit",
        help="The sanity check: a network must drive the loss on 20 examples to ~0.",
    )
    batch = min(settings["batch_size"], int(size))
    epochs = int(min(300, max(settings["epochs"], GAP_STEPS // steps_per_epoch(int(size), batch))))
    run = _train(**{**settings, "train_size": int(size), "weight_decay": float(decay), "epochs": epochs})
    chart(st, figures.gap_figure(run), key="diag_gap")
    gap = run.train_accuracy[-1] - run.val_accuracy[-1]
    st.markdown(
        f"After {epochs} epochs on **{size:,}** digits: train accuracy **{run.train_accuracy[-1]:.1%}**, "
        f"validation **{run.val_accuracy[-1]:.1%}**: a gap of **{gap:.1%}**. "
        + (
            "That is overfitting: more data or more weight decay closes it."
            if gap > 0.05
            else "A small gap: the network generalizes (or underfits: compare the train accuracy with 100 %)."
        )
    )
    if size == 20:
        passed = run.train_loss[-1] < 0.05
        text = f"Sanity check on 20 examples: final training loss {run.train_loss[-1]:.4f}."
        if passed:
            st.success(text + " It can overfit: the model and the loss work.", icon=":material/check_circle:")
        else:
            st.warning(text + " It should reach ~0 with λ = 0: raise the learning rate or look for a bug.")
    _diverged_note(run)


# --- ⑤ gradient check -------------------------------------------------------------------------------


def _gradient_check(state: PageState) -> None:
    st.markdown(
        "Backpropagation's gradient (`jax.grad`) against the centered difference "
        "(L(θ + h) − L(θ − h)) / 2h on 24 sampled parameters of a 784-32-32-10 network, by relative error "
        "|a − n| / max(|a|, |n|)."
    )
    left, middle, right = st.columns(3)
    activation = state.radio(
        left,
        "Activation",
        list(ACTIVATIONS),
        default="tanh",
        key="diag_check_activation",
        horizontal=True,
        format_func=str.capitalize,
    )
    dtype = state.radio(
        middle, "Precision", list(DTYPES), default="float64", key="diag_dtype", horizontal=True
    )
    h = state.select_slider(
        right,
        "Step h",
        [float(v) for v in STEP_SWEEP],
        default=1e-5,
        key="diag_h",
        format_func=lambda v: f"{v:.0e}",
    )
    check = _grad_check(0, float(h), dtype, activation)
    worst = float(check.rel_error.max())
    kinks = int(check.kinks.sum())
    st.markdown(
        f"Largest relative error **{worst:.1e}**: {verdict(worst)}."
        + (f" But {kinks} of the {len(check.kinks)} parameters straddled a ReLU kink at this h (ringed): "
           "there the difference is not the derivative. A smaller h avoids it." if kinks else "")
    )  # fmt: skip
    left, right = st.columns(2)
    with left:
        chart(st, figures.grad_check_figure(check), key="diag_check")
    with right:
        chart(st, figures.sweep_figure(_sweep(0, activation), float(h)), key="diag_sweep")
    st.caption(
        "CS231n: above 1e-2 the gradient is probably wrong; 1e-4 is fine only with kinks; a smooth network "
        "in float64 should reach 1e-7. Right: as h shrinks the truncation error falls as h², until "
        "round-off (ε/h) takes over: a V, with its bottom near 1e-5 in float64 and 1e-2 in float32. "
        + (
            "With ReLU, a large h can straddle a unit's kink at 0 (ringed): then the difference is not the "
            "derivative at θ."
            if activation == "relu"
            else "Try ReLU to see its kinks."
        )
    )


# --- ⑥ hyperparameter search ------------------------------------------------------------------------


def _session() -> str:
    return st.session_state.setdefault("diag_session", uuid.uuid4().hex)


RANGE_KEYS = (("diag_lr_low", "diag_lr_high"), ("diag_wd_low", "diag_wd_high"))


def _zoom(ranges) -> None:
    """Coarse to fine: the range sliders set to the decades nearest the zoomed ranges."""
    for keys, bounds in zip(RANGE_KEYS, ranges, strict=True):
        for key, value in zip(keys, bounds, strict=True):
            st.session_state[key] = min(DECADES, key=lambda d, v=value: abs(np.log10(d) - np.log10(v)))


def _range(state: PageState, columns, name: str, keys: tuple[str, str], default: tuple[float, float]):
    """A log range as two sliders of decades, lowest and highest. (A range slider cannot start from a
    link: Streamlit reads a slider as a range only from a `value=`, which the link state never passes.)"""
    return tuple(
        state.select_slider(
            column, f"{name}: {end}", DECADES, default=value, key=key, format_func=lambda v: f"{v:g}"
        )
        for column, end, key, value in zip(columns, ("lowest", "highest"), keys, default, strict=True)
    )


def _search(state: PageState) -> None:
    st.markdown(
        "Short trainings of a 784-128-10 network with **Adam**, 16 at a time in one vmapped compiled call, "
        "over the learning rate × L2 weight decay, both on a log scale."
    )
    cols = st.columns(3, vertical_alignment="bottom")
    method = state.segmented_control(cols[0], "Search", list(METHODS), default="random", key="diag_method")
    n = state.slider(cols[1], "Trials", *TRIALS_RANGE, default=32, key="diag_trials")
    epochs = state.slider(cols[2], "Epochs each", *EPOCHS_RANGE, default=2, key="diag_search_epochs")
    cols = st.columns(4)
    lr_range = _range(state, cols[:2], "Learning rate", RANGE_KEYS[0], LR_RANGE)
    wd_range = _range(state, cols[2:], "Weight decay", RANGE_KEYS[1], WEIGHT_DECAY_RANGE)
    method = method or "random"
    if lr_range[0] >= lr_range[1] or wd_range[0] >= wd_range[1]:
        st.warning("Each range needs its lowest end below its highest: move a slider.")
        return
    key = ("search", method, int(n), int(epochs), tuple(lr_range), tuple(wd_range))
    go, stop, _ = st.columns([1, 1, 4])
    if go.button("Run search", type="primary", key="diag_run", icon=":material/play_arrow:"):
        st.session_state.pop("diag_stopped", None)
        TRAINER.request(
            _session(),
            [
                (
                    key,
                    lambda: diagnose.search_chunks(
                        method,
                        int(n),
                        int(epochs),
                        0,
                        lr_range=tuple(lr_range),
                        weight_decay_range=tuple(wd_range),
                    ),
                )
            ],
        )
    job = TRAINER.job(key)
    if stop.button("Stop", key="diag_stop", icon=":material/stop:") and job is not None and job.active:
        TRAINER.release(job, _session())
        st.session_state["diag_stopped"] = (key, job.history)
    if job is not None and job.active and _session() in job.owners:
        _search_progress(key)
    else:
        _search_results(key)


@st.fragment(run_every=POLL_S)
def _search_progress(key) -> None:
    job = TRAINER.job(key)
    if job is None or not job.active:
        st.rerun()
    done = 0 if job.history is None else job.history.done
    st.progress(done / key[2], text=f"{done} of {key[2]} trials done")
    if job.history is not None:
        _show_search(job.history)


def _search_results(key) -> None:
    job = TRAINER.job(key)
    stopped = st.session_state.get("diag_stopped")
    if job is not None and job.state == FAILED:
        st.error(f"The search failed: {literal(job.error)}")
    if job is not None and job.state == DONE:
        _show_search(job.history)
    elif stopped is not None and stopped[0] == key and stopped[1] is not None:
        st.warning(f"Stopped: showing the {stopped[1].done} of {key[2]} trials that finished.")
        _show_search(stopped[1])
    else:
        st.info("Press **Run search**: each trial trains for the chosen epochs on the 8,000 digits.")


def _show_search(result: diagnose.Search) -> None:
    best = result.best()
    chart(st, figures.search_figure(result), key=f"diag_search_{result.done}")
    diverged = int(result.diverged.sum())
    st.markdown(
        f"Best of {result.done}: **{result.val_accuracy[best]:.1%}** validation accuracy at "
        f"η = {result.lr[best]:.2e}, λ = {result.weight_decay[best]:.2e}."
        + (f" {diverged} trial(s) diverged (✕)." if diverged else "")
    )
    border = result.on_border()
    if border:
        st.warning(
            f"The best {' and '.join(border)} lies on the border of its range: the optimum may be outside. "
            "Widen or move the range.",
            icon=":material/warning:",
        )
    st.button(
        "Zoom in: a decade either side of the best (coarse to fine)",
        key="diag_zoom",
        on_click=_zoom,
        args=(diagnose.zoom(result),),
    )
    st.caption(
        "Right: accuracy against the learning rate alone. A grid of k × k trials tries only k learning "
        "rates; random search tries as many as it has trials, so it finds the important parameter's "
        "good region more often (Bergstra & Bengio, 2012)."
    )


# --- ⑦ step in while training -------------------------------------------------------------------------


def _step_in(settings: dict, state: PageState) -> None:
    cols = st.columns(4)
    most = max(2, min(10, epoch_cap(settings["batch_size"], TRAIN_SIZE)))
    epochs = state.slider(cols[0], "Epochs in all", 2, most, default=min(5, most), key="diag_branch_epochs")
    at = state.slider(cols[1], "Pause after epoch", 1, epochs - 1, default=2, key="diag_pause")
    optimizer = state.selectbox(
        cols[2],
        "Then continue with",
        list(MLP_OPTIMIZERS),
        default=settings["optimizer"],
        key="diag_branch_optimizer",
        format_func=lambda n: OPTIMIZERS[n].label,
    )
    tenth = float(f"{settings['lr'] / 10:.6g}")
    lr = state.select_slider(
        cols[3],
        "at learning rate",
        _stops(tenth),
        default=tenth,
        key="diag_branch_lr",
        format_func=lambda v: f"{v:g}",
    )
    base_settings = {**settings, "epochs": epochs}
    change = (("optimizer", optimizer), ("lr", float(lr)))
    base, branch = _branch(int(at), change, **base_settings)
    labels = (
        f"went on: {OPTIMIZERS[settings['optimizer']].label}, η = {settings['lr']:g}",
        f"branch: {OPTIMIZERS[optimizer].label}, η = {lr:g}",
    )
    per_epoch = steps_per_epoch(TRAIN_SIZE, settings["batch_size"])
    chart(st, figures.branch_figure(base, branch, labels, per_epoch), key="diag_branch")
    st.markdown(
        f"Both continue from the same weights after epoch {at} and see the same batches: the difference "
        f"is only the change. Final validation accuracy: went on **{base.val_accuracy[-1]:.1%}**, branch "
        f"**{branch.val_accuracy[-1]:.1%}**."
        + (
            " Switching optimizer starts its state (momentum, averages) afresh."
            if optimizer != settings["optimizer"]
            else " Same optimizer: its state (momentum, averages) carries over."
        )
    )
    _diverged_note(branch)
