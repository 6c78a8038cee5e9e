"""Convolutions-page benchmark: server time of a control change, the step-by-step chart's data size,
the lax convolution against the explicit loop, and the backward pass (conv2d_backward) warm.

Run from the repository root:  python -m bench.conv
Budgets (issue 6): a control change re-renders in <= 200 ms warm (library call + the chart's data,
serialized as Streamlit does it); the step-by-step chart's data for a 28 x 28 digit and a 3 x 3
kernel (676 positions) stays under 1 MB.
"""

import json

import numpy as np

from bench._timing import median_seconds
from optviz import conv
from optviz.conv import backward_figures
from optviz.conv import figures as conv_figures
from optviz.data import load

DIGITS = load().test_images[:20] / 255.0
KERNELS = [conv.kernel_preset(name) for name in conv.KERNEL_PRESETS]
REPEAT = 11  # control changes timed


def control_change(i: int) -> str:
    """What a rerun does after a control moves (a new digit or kernel): convolve, pack the
    step-by-step chart's data and serialize it (the browser works the windows out itself)."""
    x, w = DIGITS[i % len(DIGITS)][None], KERNELS[i % len(KERNELS)][None, None]
    g = conv.geometry(x.shape[1:], w.shape[2:])
    output = conv.conv2d(x, w)[0]
    data = conv_figures.step_data(
        conv.pad_input(x, g.pads)[0], g.pads, w[0, 0], output, stride=1, dilation=1, frame_ms=150
    )
    return json.dumps(data)


def main():
    control_change(0)  # compile once
    ms = 1e3 * median_seconds(control_change, REPEAT)
    size = len(control_change(1)) / 1e6
    print("28 x 28 digit, 3 x 3 kernel, 676 window positions:")
    print(f"  control change to data handed to Streamlit    {ms:6.1f} ms (budget 200 ms, median of {REPEAT})")
    print(f"  step-by-step chart's data                     {size:6.2f} MB (budget 1 MB)")

    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(3, 28, 28)), rng.normal(size=(8, 3, 3, 3))
    conv.conv2d(x, w, padding=1)  # compile once
    lax_ms = 1e3 * median_seconds(lambda _: conv.conv2d(x, w, padding=1), 51)
    loop_ms = 1e3 * median_seconds(lambda _: conv.conv_loop(x, w, padding=1), 5)
    print("3 x 28 x 28 input, 8 filters of 3 x 3 x 3, padding 1:")
    print(
        f"  lax.conv_general_dilated {lax_ms:7.2f} ms   explicit loop {loop_ms:7.1f} ms"
        f"   ratio {loop_ms / lax_ms:5.0f}x"
    )

    x, w = DIGITS[0][None], KERNELS[0][None, None]
    dy = np.ones((1, 26, 26))
    conv.conv2d_backward(x, w, dy)  # compile once
    backward_ms = 1e3 * median_seconds(
        lambda i: conv.conv2d_backward(DIGITS[i % len(DIGITS)][None], w, dy), 51
    )
    steps_ms = 1e3 * median_seconds(lambda _: list(conv.backward_steps(x, w, dy)), 5)
    chart = backward_figures.step_data(
        x[0], ((0, 0), (0, 0)), w[0, 0], dy[0], stride=1, dilation=1, frame_ms=150
    )
    print("backward pass, 28 x 28 digit, 3 x 3 kernel, dL/dY 26 x 26 (no budget in issue 20):")
    print(
        f"  conv2d_backward warm {backward_ms:7.2f} ms   backward_steps (676 loop steps) {steps_ms:5.1f} ms"
    )
    print(
        f"  backward chart's data {len(json.dumps(chart)) / 1e3:5.1f} kB (the browser works every step out)"
    )


if __name__ == "__main__":
    main()
