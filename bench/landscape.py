"""Loss-landscape benchmark: a 41 x 41 slice of the trained MLP's loss on 2,000 digits.

Run from the repository root:  python -m bench.landscape
Budget (issue 20): a 41 x 41 slice on the 2,000 test digits <= 3 s on this 2-core machine, for the
128-unit network trained with Adam for one epoch. Printed warm (the compiled slice reused: the page
after its first slice, e.g. another seed or the training digits) and cold (compilation included:
the first slice of a resolution). The baseline, in the same process, is the naive way: the network's
loss at every grid point as its own call (the jitted loss, warm), scaled from a timed sample of
points; the slice computes the first layer's three products once for the whole grid instead. Times
are medians of repeated runs: the machine is shared and noisy.
"""

import jax
import jax.numpy as jnp
import numpy as np

from bench._timing import median_seconds
from optviz.mlp import landscape
from optviz.mlp import model as mlp

RESOLUTION, HIDDEN, BUDGET_S = 41, 128, 3.0
SAMPLE = 41  # grid points the per-point baseline is timed on


def main():
    devices = jax.device_count()
    print(f"MLP 784-{HIDDEN}-10, {devices} CPU device(s), float32: a {RESOLUTION} x {RESOLUTION} slice")
    history = mlp.train("adam", hidden=HIDDEN, epochs=1)
    params = history.params
    x, labels = landscape.slice_digits("test")
    axis = landscape.grid(1.0, RESOLUTION)

    def one_slice(seed):
        d1, d2 = landscape.directions(params, seed)
        return landscape.loss_slice(params, d1, d2, axis, axis, x, labels)

    def cold(seed):
        jax.clear_caches()  # every repeat compiles again
        return one_slice(seed)

    cold_s = median_seconds(cold, 3)
    warm_s = median_seconds(one_slice, 5, warm_up=True)
    loss = jax.jit(mlp.loss_fn)
    d1, d2 = landscape.directions(params, 0)
    points = [
        mlp.Params(*(jnp.asarray(p + a * u + b * v) for p, u, v in zip(params, d1, d2, strict=True)))
        for a, b in np.random.default_rng(0).uniform(-1, 1, (SAMPLE, 2))
    ]
    loss(points[0], x, labels).block_until_ready()  # compiled outside the timing
    per_point = median_seconds(lambda i: [loss(p, x, labels).block_until_ready() for p in points], 3) / SAMPLE
    naive = per_point * RESOLUTION**2
    print(
        f"  baseline: the loss at each point as its own call {naive:6.2f} s  ({1e3 * per_point:.1f} ms each)"
    )
    print(
        f"  slice, warm (one compiled call, median)          {warm_s:6.2f} s  (budget {BUDGET_S:.0f} s: "
        f"{warm_s / BUDGET_S:.2f} of it; {naive / warm_s:.1f}x the baseline's speed)"
    )
    print(
        f"  slice, cold (compilation included, median)       {cold_s:6.2f} s  (budget {BUDGET_S:.0f} s: "
        f"{cold_s / BUDGET_S:.2f} of it)"
    )
    view = landscape.slice_with_paths({"adam": history}, "adam", resolution=RESOLUTION)
    share = view.in_plane["adam"][0]
    print(f"  the random plane holds {share:.2%} of the way from the start to the trained weights")


if __name__ == "__main__":
    main()
