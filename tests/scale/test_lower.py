"""Lower bounds from explicit functions, the step-horizon working set, and the sandwich stop."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pepstep import FunctionClass, Problem, Schedule, constant, silver, worst_case
from pepstep.generation import RTOL_SANDWICH, worst_case_generated
from pepstep.lower import lower_bound
from pepstep.pep import consecutive_pairs, horizon_pairs
from tests.conftest import RHO, RTOL_CLOSED_FORM, assert_rel

#: The families are simulated in float64 and maximized by Brent's method to 1e-13 in the
#: parameter; at a kink the value is still exact to rounding.
RTOL_FAMILY = 1e-12
#: The bound is a function's value, the PEP's a solver's, accepted at a relative gap of 1e-6
#: (pepstep.solve.RTOL_GAP; measured up to 1.7e-7 here).
RTOL_SOLVER = 1e-6


@pytest.mark.parametrize("h", [0.5, 1.0, 1.5, 1.9])
@pytest.mark.parametrize("N", [1, 5, 10, 40])
def test_constant_steps_attain_the_closed_form(h, N):
    """(1/2) max(1/(2Nh+1), (1-h)^(2N)): Drori & Teboulle 2014; Rotaru, Glineur & Patrinos 2024."""
    lb = lower_bound(Problem(constant(h, N)))
    assert_rel(lb.value, 0.5 * max(1 / (2 * N * h + 1), (1 - h) ** (2 * N)), RTOL_FAMILY, f"h={h}, N={N}")


def test_constant_steps_at_the_kink_of_fifty_steps():
    """Near the step where the Huber and quadratic values cross (N = 50, h = 1.94859), the
    Huber-type ratio is jagged in delta: refining the best grid point alone left 3 of these
    300 steps 1.5e-4 below the closed form; refining the grid's 16 best peaks finds it."""
    for h in np.linspace(1.9485, 1.9487, 300):
        lb = lower_bound(Problem(constant(float(h), 50)))
        closed = 0.5 * max(1 / (100 * h + 1), (1 - h) ** 100)
        assert_rel(lb.value, closed, RTOL_FAMILY, f"h={h!r}")


@pytest.mark.parametrize("k", [1, 3, 5, 7, 10])
def test_silver_attains_its_rate(k):
    """Altschuler & Parrilo (2023): L R^2 / (4 rho^k - 2) at N = 2^k - 1, attained by Huber."""
    lb = lower_bound(Problem(silver(2**k - 1)))
    assert lb.family == "huber"
    assert_rel(lb.value, 1 / (4 * RHO**k - 2), RTOL_FAMILY, f"silver k={k}")


def test_strongly_convex_distance_closed_form():
    """|x_N - x*|^2 <= max(|1 - h mu|, |1 - h|)^(2N) (Taylor, Hendrickx & Glineur 2018), tight."""
    fc = FunctionClass("strongly-convex", 1.0, 0.1)
    for h in (0.5, 1.5, 1.95):
        lb = lower_bound(Problem(constant(h, 10), fc, "dist"))
        assert_rel(lb.value, max(abs(1 - 0.1 * h), abs(1 - h)) ** 20, RTOL_FAMILY, f"h={h}")


@pytest.mark.parametrize(
    ("fc", "measure", "init"),
    [
        (FunctionClass(), "fgap", "dist"),
        (FunctionClass(), "gradnorm", "dist"),
        (FunctionClass(), "gradnorm", "fgap"),
        (FunctionClass(), "mingradnorm", "dist"),
        (FunctionClass("strongly-convex", 1.0, 0.2), "dist", "dist"),
        (FunctionClass("strongly-convex", 1.0, 0.2), "fgap", "fgap"),
    ],
)
def test_never_above_the_pep(fc, measure, init):
    """A lower bound: at most the exact PEP value of random schedules (up to the solver's gap)."""
    rng = np.random.default_rng(11)
    for _ in range(4):
        steps = tuple(float(s) for s in rng.uniform(0.2, 3.5, size=5))
        problem = Problem(Schedule(steps), fc, measure, init)
        lb = lower_bound(problem)
        pep = worst_case(problem, method="full").normalized_value
        assert lb.value <= pep * (1 + RTOL_SOLVER), f"{steps}: bound {lb.value} above the PEP's {pep}"
        assert lb.value > 0


def test_nonconvex_has_no_bound():
    assert lower_bound(Problem(constant(1.0, 3), FunctionClass("nonconvex"), "gradnorm", "fgap")) is None


def test_horizon_pairs():
    """Constant steps: the consecutive pairs. Silver: each long step sees its dyadic block."""
    as_set = lambda a: set(map(tuple, a))  # noqa: E731
    assert as_set(horizon_pairs(constant(1.5, 20).steps)) == as_set(consecutive_pairs(20))
    pairs = as_set(horizon_pairs(silver(31).steps))
    assert len(pairs) == 220
    # the longest step, h_15 = 1 + rho^3, reaches every later iterate and back to x_0 ...
    assert {(15, j) for j in range(16, 32)} | {(15, j) for j in range(15)} <= pairs
    # ... a step of 1 + rho^1 between longer ones only its neighbours' block
    assert (3, 7) in pairs and (3, 8) not in pairs and (3, 0) in pairs
    without = as_set(horizon_pairs(silver(31).steps, has_minimizer=False))
    assert all(-1 not in p for p in without)


@pytest.mark.parametrize("N", [31, 63])
def test_sandwich_closes_silver_early(N):
    """The horizon set's dual bound meets the Huber bound in one round, on O(N log N) pairs."""
    res = worst_case_generated(Problem(silver(N)), "schur")
    k = int(math.log2(N + 1))
    assert res.info.closed_by == "lower bound" and res.info.exact and res.info.rounds == 1
    assert res.info.pairs_used <= 1.5 * (N + 1) * k  # 220 of 1056 at N = 31, 507 of 4160 at 63
    assert abs(res.info.round_values[-1] - res.info.lower_bound) <= RTOL_SANDWICH * res.info.lower_bound
    assert_rel(res.value, 1 / (4 * RHO**k - 2), RTOL_CLOSED_FORM, f"silver N={N}")


def test_without_sandwich_feasibility_decides():
    res = worst_case_generated(Problem(silver(15)), "clarabel", sandwich=False)
    assert res.info.closed_by == "feasibility" and res.info.max_violation <= res.info.tol
    assert math.isnan(res.info.lower_bound)


@pytest.mark.parametrize(
    "problem",
    [
        Problem(constant(1.5, 10)),
        Problem(constant(1.5, 5), FunctionClass("strongly-convex", 1.0, 0.1), "dist"),
        Problem(constant(1.0, 6), measure="gradnorm"),
    ],
    ids=["huber-fgap", "quadratic-strongly-convex-dist", "huber-gradnorm"],
)
def test_trajectory_gradients_recomputed(problem):
    """The gradients along gradient descent on the function ``lower_bound`` found (the Schur
    route's basis scaling), against the families' derivatives written out here."""
    from pepstep.lower import trajectory_gradients

    lb = lower_bound(problem)
    p = lb.parameter
    if lb.family == "huber":  # f = x^2 / 2 for |x| <= p, else p |x| - p^2 / 2 (mu = 0)
        deriv = lambda x: x if abs(x) <= p else math.copysign(p, x)  # noqa: E731
    else:  # f = c x^2 / 2
        deriv = lambda x: p * x  # noqa: E731
    x, expected = 1.0, []
    for h in (*problem.schedule.steps, 0.0):
        expected.append(abs(deriv(x)))
        x -= h * deriv(x)
    assert (lb.family == "quadratic") == (problem.function_class.mu > 0)  # both branches run
    np.testing.assert_allclose(trajectory_gradients(problem, lb), expected, rtol=RTOL_FAMILY, atol=0)
