"""Assembly of the PEP data, checked against the inequalities evaluated directly (no solver)."""

from __future__ import annotations

import numpy as np
import pytest

from pepstep import FunctionClass, InputError, Problem, Schedule
from pepstep.pep import STAR, all_pairs, build_pep, consecutive_pairs, value_scale

#: Floating-point agreement of two evaluations of the same polynomial in random data.
ATOL_ASSEMBLY = 1e-10


def _direct(problem, P, F):
    """Evaluate every interpolation inequality f_j - f_i + ... directly from vectors."""
    steps = np.array(problem.schedule.steps)
    fc = problem.function_class
    n = steps.size
    has_min = fc.has_minimizer
    d = P.shape[1]
    # Gram basis vectors are the columns of P: (x0 - x*, g_0..g_N) or (g_0..g_N).
    g = [P[:, k + (1 if has_min else 0)] for k in range(n + 1)]
    x = [P[:, 0] if has_min else np.zeros(P.shape[0])]
    for k in range(n):
        x.append(x[-1] - steps[k] * g[k])
    pt = {k: (x[k], g[k], F[k]) for k in range(n + 1)}
    if has_min:
        pt[STAR] = (np.zeros(P.shape[0]), np.zeros(P.shape[0]), 0.0)
    kappa = fc.kappa
    out = []
    for i, j in all_pairs(n, has_min):
        xi, gi, fi = pt[i]
        xj, gj, fj = pt[j]
        v, dg = xi - xj, gi - gj
        quad = dg @ dg + kappa * v @ v - 2 * kappa * dg @ v
        out.append(fj - fi + gj @ v + quad / (2 * (1 - kappa)))
    assert d == P.shape[1]
    return np.array(out)


@pytest.mark.parametrize(
    "fclass",
    [FunctionClass("convex"), FunctionClass("strongly-convex", 1.0, 0.3), FunctionClass("nonconvex")],
)
def test_rows_equal_the_inequalities(fclass):
    rng = np.random.default_rng(7)
    steps = tuple(rng.uniform(0.2, 3.0, size=5))
    init = "dist" if fclass.has_minimizer else "fgap"
    measure = "fgap" if fclass.has_minimizer else "gradnorm"
    problem = Problem(Schedule(steps), fclass, measure, init)
    data = build_pep(problem)
    P = rng.standard_normal((data.dim + 2, data.dim))
    F = rng.standard_normal(data.num_f)
    G = P.T @ P
    assembled = data.interp_G @ G.ravel() + data.interp_F @ F
    np.testing.assert_allclose(assembled, _direct(problem, P, F), atol=ATOL_ASSEMBLY)


def test_pair_counts_and_keys():
    assert all_pairs(127).shape == (129 * 128, 2)  # (N+2)(N+1) with the minimizer
    assert all_pairs(5, has_minimizer=False).shape == (6 * 5, 2)
    assert consecutive_pairs(4).shape == (2 * 4 + 2 * 5, 2)


def test_measure_and_init_rows():
    data = build_pep(Problem(Schedule((1.0, 2.0)), measure="dist"))
    # |x_2 - x*|^2 with x_2 = x_0 - g_0 - 2 g_1: coefficient matrix of [x0, g0, g1, g2].
    c = np.array([1.0, -1.0, -2.0, 0.0])
    np.testing.assert_allclose(data.obj_G.toarray().reshape(4, 4), np.outer(c, c))
    assert data.init_G.toarray().reshape(4, 4)[0, 0] == 1.0


@pytest.mark.parametrize(
    ("measure", "init", "expected"),
    [
        ("fgap", "dist", 2.0 * 9.0),
        ("gradnorm", "dist", 4.0 * 9.0),
        ("dist", "dist", 9.0),
        ("fgap", "fgap", 3.0),
        ("gradnorm", "fgap", 6.0),
    ],
)
def test_value_scale_is_homogeneity(measure, init, expected):
    fc = FunctionClass("strongly-convex", 2.0, 0.5)
    assert value_scale(Problem(Schedule((1.0,)), fc, measure, init, R=3.0)) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "concave"}, "Unknown function class 'concave'"),
        ({"L": 0.0}, "The 'L' parameter must be > 0. Got L=0.0."),
        ({"L": -1.0}, "The 'L' parameter must be > 0. Got L=-1.0."),
        ({"L": float("nan")}, "The 'L' parameter must be finite. Got L=nan."),
        (
            {"kind": "strongly-convex", "mu": 1.0},
            r"The 'mu' parameter must be in \(0, L\). Got mu=1.0 with L=1.0.",
        ),
        ({"kind": "strongly-convex", "mu": -0.1}, r"The 'mu' parameter must be in \(0, L\). Got mu=-0.1"),
        ({"kind": "convex", "mu": -0.1}, r"The 'mu' parameter must be in \[0, L\). Got mu=-0.1"),
        ({"kind": "convex", "mu": 0.1}, "takes mu=0. Got mu=0.1"),
    ],
)
def test_function_class_validation(kwargs, message):
    with pytest.raises(InputError, match=message):
        FunctionClass(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"measure": "loss"}, "Unknown measure 'loss'"),
        ({"init": "box"}, "Unknown initial condition 'box'"),
        ({"R": 0.0}, "The 'R' parameter must be finite and > 0. Got R=0.0."),
        (
            {"function_class": FunctionClass("nonconvex"), "measure": "fgap", "init": "fgap"},
            "unbounded for class 'nonconvex'",
        ),
        (
            {"function_class": FunctionClass("nonconvex"), "measure": "gradnorm"},
            "class 'nonconvex' takes init 'fgap'",
        ),
        ({"measure": "dist", "init": "fgap"}, "unbounded under init 'fgap'"),
    ],
)
def test_problem_validation(kwargs, message):
    with pytest.raises(InputError, match=message):
        Problem(Schedule((1.0,)), **kwargs)
