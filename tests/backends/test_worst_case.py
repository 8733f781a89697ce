"""The exact worst case against closed forms, PEPit, homogeneity and universal lower bounds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepstep import FunctionClass, Problem, Schedule, SolverError, Status, constant, silver, worst_case
from pepstep.pep import all_pairs
from pepstep.solve import BACKENDS, dual_slack
from tests.conftest import RHO, RTOL_CLOSED_FORM, RTOL_PEPIT, assert_rel


@pytest.mark.parametrize("h", [0.5, 1.0, 1.5, 1.9])
@pytest.mark.parametrize("N", [1, 2, 5, 10])
def test_constant_steps_convex(h, N):
    """(L R^2 / 2) max(1/(2Nh+1), (1-h)^(2N)): Drori & Teboulle 2014; Rotaru, Glineur & Patrinos 2024."""
    expected = 0.5 * max(1.0 / (2 * N * h + 1), (1 - h) ** (2 * N))
    assert_rel(worst_case(Problem(constant(h, N))).value, expected, RTOL_CLOSED_FORM, f"h={h}, N={N}")


@pytest.mark.parametrize("mu", [0.1, 0.5])
@pytest.mark.parametrize("h", [0.5, 1.0, 1.5])
@pytest.mark.parametrize("N", [1, 3, 6])
def test_constant_steps_strongly_convex_distance(mu, h, N):
    """|x_N - x*|^2 <= max(|1 - h mu/L|, |1 - h|)^(2N) R^2 (tight; Taylor, Hendrickx & Glineur 2018)."""
    fc = FunctionClass("strongly-convex", 1.0, mu)
    expected = max(abs(1 - h * mu), abs(1 - h)) ** (2 * N)
    assert_rel(
        worst_case(Problem(constant(h, N), fc, "dist")).value,
        expected,
        RTOL_CLOSED_FORM,
        f"{mu=}, {h=}, {N=}",
    )


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_silver_schedule(k):
    """n = 2^k - 1 silver steps: L R^2 / (4 rho^k - 2) (Altschuler & Parrilo 2023, Theorem 1.1)."""
    expected = 1.0 / (4 * RHO**k - 2)
    assert_rel(
        worst_case(Problem(silver(2**k - 1))).value, expected, RTOL_CLOSED_FORM, f"silver n={2**k - 1}"
    )


def test_hard_problem_is_never_reported_as_optimal_when_wrong():
    """A worst case of 1e-6 strains the solver's tolerances: it is right to 1e-6 or it is flagged."""
    fc = FunctionClass("strongly-convex", 1.0, 0.5)
    expected = 0.5**20
    wc = worst_case(Problem(constant(1.0, 10), fc, "dist"), throw=False)
    if wc.status is Status.OPTIMAL:
        assert_rel(wc.value, expected, RTOL_CLOSED_FORM, "reported optimal")
    else:
        assert wc.status is Status.INACCURATE
        with pytest.raises(SolverError, match="no value is reported"):
            worst_case(Problem(constant(1.0, 10), fc, "dist"))


def test_homogeneity_in_L_and_R(pepit_oracle):
    """Doubling L and tripling R: fgap scales by L R^2 (pepstep), and PEPit, built with L=2, R=3, agrees."""
    steps = (1.2, 2.5, 0.8)
    base = worst_case(Problem(Schedule(steps))).value
    scaled = worst_case(Problem(Schedule(steps), FunctionClass("convex", L=2.0), R=3.0)).value
    assert_rel(scaled, 2.0 * 9.0 * base, 1e-12, "homogeneity")
    assert_rel(scaled, pepit_oracle([1.2, 2.5, 0.8], L=2.0, R=3.0), RTOL_PEPIT, "PEPit with L=2, R=3")
    fc = FunctionClass("strongly-convex", L=2.0, mu=0.2)
    grad = worst_case(Problem(Schedule(steps), fc, "gradnorm", R=3.0)).value
    assert_rel(
        grad,
        pepit_oracle(list(steps), "strongly-convex", 2.0, 0.2, "gradnorm", R=3.0),
        RTOL_PEPIT,
        "gradnorm",
    )


CASES = [
    ("convex", 0.0, "fgap", "dist"),
    ("convex", 0.0, "gradnorm", "dist"),
    ("convex", 0.0, "dist", "dist"),
    ("convex", 0.0, "mingradnorm", "dist"),
    ("convex", 0.0, "fgap", "fgap"),
    ("convex", 0.0, "gradnorm", "fgap"),
    ("strongly-convex", 0.1, "fgap", "dist"),
    ("strongly-convex", 0.1, "gradnorm", "dist"),
    ("strongly-convex", 0.1, "dist", "dist"),
    ("strongly-convex", 0.1, "mingradnorm", "dist"),
    ("strongly-convex", 0.1, "dist", "fgap"),
    ("nonconvex", 0.0, "gradnorm", "fgap"),
    ("nonconvex", 0.0, "mingradnorm", "fgap"),
]


@pytest.mark.pepit
@pytest.mark.parametrize(("kind", "mu", "measure", "init"), CASES)
def test_agrees_with_pepit(pepit_oracle, kind, mu, measure, init):
    """Three seeded random schedules with N <= 5 per class and measure, against PEPit."""
    rng = np.random.default_rng(CASES.index((kind, mu, measure, init)))
    hi = 1.9 if kind == "nonconvex" else 3.0
    for _ in range(3):
        n = int(rng.integers(1, 6))
        steps = [float(s) for s in np.round(rng.uniform(0.2, hi, size=n), 3)]
        wc = worst_case(Problem(Schedule(tuple(steps)), FunctionClass(kind, 1.0, mu), measure, init))
        assert_rel(
            wc.value,
            pepit_oracle(steps, kind, 1.0, mu, measure, init),
            RTOL_PEPIT,
            f"{kind} {measure} {init} {steps}",
        )


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.lists(st.floats(0.05, 6.0), min_size=1, max_size=6))
def test_universal_lower_bounds(steps):
    """Every schedule: w >= (1/2) prod (1-h_k)^2 (quadratic) and w >= 1/(2(2 sum h + 1)) (Huber)."""
    wc = worst_case(Problem(Schedule(tuple(steps))))
    quadratic = 0.5 * float(np.prod((1 - np.array(steps)) ** 2))
    huber = 1.0 / (2 * (2 * sum(steps) + 1))
    assert wc.value >= max(quadratic, huber) * (1 - RTOL_CLOSED_FORM)


def test_multipliers_are_keyed_by_pair_and_form_a_proof():
    """Rebuilding S from the keyed multipliers: S is PSD and the identity holds, so tau bounds the measure."""
    problem = Problem(constant(1.5, 4))
    wc = worst_case(problem)
    from pepstep.pep import build_pep

    data = build_pep(problem)
    keys = [(("*" if i < 0 else int(i)), ("*" if j < 0 else int(j))) for i, j in all_pairs(4)]
    assert list(wc.multipliers) == keys
    lam = np.array([wc.multipliers[k] for k in keys])
    assert lam.min() > -1e-9
    S = dual_slack(data, lam, wc.tau, None)
    assert np.linalg.eigvalsh(S)[0] > -1e-8
    identity = data.obj_F - data.interp_F.T @ lam - wc.tau * data.init_F
    assert np.abs(identity).max() < 1e-8
    # The Drori-Teboulle certificate for constant steps uses consecutive pairs and pairs with x*.
    assert wc.multipliers[(3, 4)] > 1e-3 and wc.multipliers[("*", 4)] > 1e-3


@pytest.mark.parametrize("solver", ["clarabel", "scs", "cvxopt"])
def test_backends_agree_on_a_closed_form(solver):
    if solver == "mosek":
        pytest.skip("needs a license")
    BACKENDS[solver].ensure_available()
    wc = worst_case(Problem(constant(1.0, 5)), solver)
    assert wc.solver == solver
    assert_rel(wc.value, 1.0 / 22.0, RTOL_CLOSED_FORM, solver)
