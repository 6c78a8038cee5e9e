"""The built-in surfaces: classic optimization test functions, each with its teaching metadata.

Minima are the literature values (Jamil & Yang 2013, "A literature survey of benchmark functions for
global optimisation problems"; Surjanovic & Bingham's Virtual Library of Simulation Experiments),
refined to 7 digits with Newton's method in float64. Local minima of Rastrigin are listed only for
the ring nearest the origin (there are infinitely many).
"""

from __future__ import annotations

import jax.numpy as jnp

from surfaces.surface import Minimum, Surface

TWO_PI = 2.0 * jnp.pi


def _xy(points):
    """Split an array of shape (..., 2) into its x and y components."""
    return points[..., 0], points[..., 1]


def _safe_norm(r2):
    """sqrt(r2) with gradient 0 (not NaN) at r2 = 0, via the double-`where` trick from the JAX FAQ."""
    positive = r2 > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, r2, 1.0)), 0.0)


def rosenbrock(points):
    x, y = _xy(points)
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


ROSENBROCK = Surface(
    name="rosenbrock",
    title="Rosenbrock",
    fn=rosenbrock,
    formula=r"f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2",
    description="A long, narrow, curved valley: finding it is easy, following it to (1, 1) is hard.",
    lesson=(
        "Every method reaches the valley floor quickly, then crawls: plain GD needs thousands of steps "
        "along the curved floor, while momentum builds up speed along it and Adam rescales each "
        "coordinate."
    ),
    bounds=((-2.0, 2.0), (-1.0, 3.0)),
    starts={"valley wall": (-1.5, 2.0), "origin": (0.0, 0.0), "valley floor": (-1.0, 1.0)},
    minima=(Minimum((1.0, 1.0), 0.0),),
    log_scale=True,
    default_steps=500,
)


def saddle(points):
    x, y = _xy(points)
    return x**2 - y**2


SADDLE = Surface(
    name="saddle",
    title="Saddle",
    fn=saddle,
    formula=r"f(x, y) = x^2 - y^2",
    description="A saddle point at the origin: downhill in y, uphill in x, and no minimum at all.",
    lesson=(
        "From the ridge, GD slows to a crawl near the saddle because the gradient vanishes there; the "
        "adaptive methods divide by the small gradient and escape downhill much sooner."
    ),
    bounds=((-2.0, 2.0), (-2.0, 2.0)),
    starts={"on the ridge": (-1.8, 0.001), "off the ridge": (-1.8, 0.3)},
    saddle_points=((0.0, 0.0),),
    default_steps=120,
)


def beale(points):
    x, y = _xy(points)
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


BEALE = Surface(
    name="beale",
    title="Beale",
    fn=beale,
    formula=(
        r"\begin{aligned} f(x, y) = {} & (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 \\"
        r" & + (2.625 - x + xy^3)^2 \end{aligned}"
    ),
    description="Flat plateaus and steep walls: step sizes that suit one region fail in the other.",
    lesson=(
        "Between the flat plateau and the steep walls, a step size that is safe on the walls is tiny on "
        "the plateau: momentum builds up speed across it and ends far lower than GD."
    ),
    bounds=((-4.5, 4.5), (-4.5, 4.5)),
    starts={"plateau": (1.0, 1.4), "lower left": (-1.0, -1.0), "beyond the saddle": (-2.0, 1.5)},
    minima=(Minimum((3.0, 0.5), 0.0),),
    saddle_points=((0.0, 1.0),),
    log_scale=True,
    default_steps=300,
)


def himmelblau(points):
    x, y = _xy(points)
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


HIMMELBLAU = Surface(
    name="himmelblau",
    title="Himmelblau",
    fn=himmelblau,
    formula=r"f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
    description="Four equally deep minima: where you start (and how you move) decides where you end.",
    lesson=(
        "Four minima of equal depth: the same start sends different optimizers to different minima. Move "
        "the start (click the plot) and watch the basins change."
    ),
    bounds=((-5.0, 5.0), (-5.0, 5.0)),
    starts={"near the peak": (-0.5, -0.5), "centre top": (0.0, 4.5), "left edge": (-4.5, 0.0)},
    minima=(
        Minimum((3.0, 2.0), 0.0),
        Minimum((-2.8051181, 3.1313125), 0.0),
        Minimum((-3.7793103, -3.2831860), 0.0),
        Minimum((3.5844283, -1.8481265), 0.0),
    ),
    log_scale=True,
)


def quadratic(points):
    x, y = _xy(points)
    return 0.5 * (x**2 + 20 * y**2)


QUADRATIC = Surface(
    name="quadratic",
    title="Ill-conditioned bowl",
    fn=quadratic,
    formula=r"f(x, y) = \tfrac{1}{2}\,(x^2 + 20\,y^2)",
    description="A long, narrow bowl (condition number 20): GD zig-zags across, momentum rolls along.",
    lesson=(
        "The classic case for momentum: the bowl is 20 times steeper across than along, so GD zig-zags "
        "across the narrow axis. Momentum with beta tuned to the bowl (0.4) damps the zig-zag and reaches"
        " 1e-6 three times sooner; set beta to 0.9 and watch too much momentum overshoot and spiral."
    ),
    bounds=((-5.0, 5.0), (-2.0, 2.0)),
    starts={"far end": (-4.5, 1.0), "side wall": (-1.0, 1.2)},
    minima=(Minimum((0.0, 0.0), 0.0),),
    log_scale=True,
    default_steps=150,
)


def rastrigin(points):
    x, y = _xy(points)
    return 20 + x**2 - 10 * jnp.cos(TWO_PI * x) + y**2 - 10 * jnp.cos(TWO_PI * y)


RASTRIGIN = Surface(
    name="rastrigin",
    title="Rastrigin",
    fn=rastrigin,
    formula=r"f(x, y) = 20 + \sum_{u \in \{x, y\}} \left(u^2 - 10 \cos 2\pi u\right)",
    description="An egg crate of local minima on a bowl: small steps get stuck in the nearest dimple.",
    lesson=(
        "A bowl covered in dimples: small steps settle in the nearest local minimum, and even noise "
        "rarely jumps the walls. Only a large step (or luck) reaches the centre."
    ),
    bounds=((-5.12, 5.12), (-5.12, 5.12)),
    starts={"outer ring": (-4.2, 3.7), "close in": (1.4, -1.3)},
    minima=(
        Minimum((0.0, 0.0), 0.0),
        Minimum((0.9949586, 0.0), 0.9949591, "local"),
        Minimum((-0.9949586, 0.0), 0.9949591, "local"),
        Minimum((0.0, 0.9949586), 0.9949591, "local"),
        Minimum((0.0, -0.9949586), 0.9949591, "local"),
    ),
)


def ackley(points):
    x, y = _xy(points)
    radius = _safe_norm(0.5 * (x**2 + y**2))
    return (
        -20 * jnp.exp(-0.2 * radius) - jnp.exp(0.5 * (jnp.cos(TWO_PI * x) + jnp.cos(TWO_PI * y))) + jnp.e + 20
    )


ACKLEY = Surface(
    name="ackley",
    title="Ackley",
    fn=ackley,
    formula=(
        r"f(x, y) = -20\,e^{-0.2\sqrt{(x^2 + y^2)/2}}"
        r" - e^{(\cos 2\pi x + \cos 2\pi y)/2} + e + 20"
    ),
    description="A nearly flat, bumpy plain around one deep funnel at the origin.",
    lesson=(
        "The gradient on the outer plain is tiny and points into the nearest bump; only near the centre "
        "does the funnel take over. Watch which methods find it."
    ),
    bounds=((-4.0, 4.0), (-4.0, 4.0)),
    starts={"on the plain": (-3.2, 2.6), "funnel rim": (1.1, -0.9)},
    minima=(Minimum((0.0, 0.0), 0.0),),
)


def six_hump_camel(points):
    x, y = _xy(points)
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2


SIX_HUMP_CAMEL = Surface(
    name="six_hump_camel",
    title="Six-hump camel",
    fn=six_hump_camel,
    formula=r"f(x, y) = \left(4 - 2.1x^2 + \tfrac{x^4}{3}\right)x^2 + xy + (4y^2 - 4)\,y^2",
    description="Six minima, two of them global: a map of basins that each optimizer paints its own way.",
    lesson=(
        "Two global minima and four local ones: from the left shoulder GD, Adagrad and RMSProp stop on a "
        "local minimum, while the momentum methods and Adam carry on to a global one."
    ),
    bounds=((-2.5, 2.5), (-1.5, 1.5)),
    starts={"left shoulder": (-2.2, -1.2), "centre": (0.6, 0.1)},
    minima=(
        Minimum((0.0898420, -0.7126564), -1.0316285),
        Minimum((-0.0898420, 0.7126564), -1.0316285),
        Minimum((1.7036067, -0.7960836), -0.2154638, "local"),
        Minimum((-1.7036067, 0.7960836), -0.2154638, "local"),
        Minimum((1.6071048, 0.5686515), 2.1042503, "local"),
        Minimum((-1.6071048, -0.5686515), 2.1042503, "local"),
    ),
)


def monkey_saddle(points):
    x, y = _xy(points)
    return x**3 - 3 * x * y**2


MONKEY_SADDLE = Surface(
    name="monkey_saddle",
    title="Monkey saddle",
    fn=monkey_saddle,
    formula=r"f(x, y) = x^3 - 3xy^2",
    description="A flat saddle with three valleys (one for a monkey's tail): its gradient vanishes at 0.",
    lesson=(
        "A flat, degenerate saddle: the gradient and its curvature both vanish at the origin, so GD is "
        "slowest of all here; escaping needs speed or adaptive steps."
    ),
    bounds=((-2.0, 2.0), (-2.0, 2.0)),
    starts={"up a ridge": (1.6, 0.05), "between valleys": (1.2, 1.0)},
    saddle_points=((0.0, 0.0),),
    default_steps=150,
)


def goldstein_price(points):
    x, y = _xy(points)
    a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
    b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    return a * b


GOLDSTEIN_PRICE = Surface(
    name="goldstein_price",
    title="Goldstein-Price",
    fn=goldstein_price,
    formula=(
        r"\begin{aligned} f(x, y) &= A \cdot B, \quad \text{where} \\"
        r" A &= 1 + (x + y + 1)^2 (19 - 14x + 3x^2 - 14y + 6xy + 3y^2) \\"
        r" B &= 30 + (2x - 3y)^2 (18 - 32x + 12x^2 + 48y - 36xy + 27y^2) \end{aligned}"
    ),
    description="Values span six orders of magnitude: a single fixed step size cannot suit them all.",
    lesson=(
        "Values range from 3 to a million: one learning rate cannot fit both the cliffs and the valley "
        "floor. From the upper right, GD stops in the local minimum at 840; momentum carries on to the "
        "global one."
    ),
    bounds=((-2.0, 2.0), (-2.0, 2.0)),
    starts={"upper right": (1.2, 1.5), "left": (-1.5, 0.5)},
    minima=(
        Minimum((0.0, -1.0), 3.0),
        Minimum((-0.6, -0.4), 30.0, "local"),
        Minimum((1.8, 0.2), 84.0, "local"),
        Minimum((1.2, 0.8), 840.0, "local"),
    ),
    log_scale=True,
)


def booth(points):
    x, y = _xy(points)
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


BOOTH = Surface(
    name="booth",
    title="Booth",
    fn=booth,
    formula=r"f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2",
    description="A tilted bowl with one minimum at (1, 3): every method should get there.",
    lesson=(
        "A plain tilted bowl with one minimum: a sanity check where every method should converge, and the"
        " differences are only in speed and path shape."
    ),
    bounds=((-10.0, 10.0), (-10.0, 10.0)),
    starts={"lower left": (-8.0, -7.0), "upper right": (8.0, 9.0)},
    minima=(Minimum((1.0, 3.0), 0.0),),
    log_scale=True,
    default_steps=150,
)


def styblinski_tang(points):
    x, y = _xy(points)
    return 0.5 * (x**4 - 16 * x**2 + 5 * x + y**4 - 16 * y**2 + 5 * y)


STYBLINSKI_TANG = Surface(
    name="styblinski_tang",
    title="Styblinski-Tang",
    fn=styblinski_tang,
    formula=r"f(x, y) = \tfrac{1}{2} \sum_{u \in \{x, y\}} \left(u^4 - 16u^2 + 5u\right)",
    description="Four basins of different depths: the deepest is at (-2.90, -2.90).",
    lesson=(
        "Four basins of different depth: the deepest is at the lower left, but most starts lead "
        "elsewhere. Compare the final loss in the table, not just whether a run stopped."
    ),
    bounds=((-5.0, 5.0), (-5.0, 5.0)),
    starts={"near the top": (0.4, 0.6), "upper right": (4.5, 4.0)},
    minima=(
        Minimum((-2.9035340, -2.9035340), -78.3323314),
        Minimum((2.7468028, 2.7468028), -50.0588933, "local"),
        Minimum((-2.9035340, 2.7468028), -64.1956124, "local"),
        Minimum((2.7468028, -2.9035340), -64.1956124, "local"),
    ),
)


SURFACES: dict[str, Surface] = {
    surface.name: surface
    for surface in (
        ROSENBROCK,
        SADDLE,
        BEALE,
        HIMMELBLAU,
        QUADRATIC,
        RASTRIGIN,
        ACKLEY,
        SIX_HUMP_CAMEL,
        MONKEY_SADDLE,
        GOLDSTEIN_PRICE,
        BOOTH,
        STYBLINSKI_TANG,
    )
}
