"""Clarabel through its own API against Clarabel through cvxpy, closed forms and the packing."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from pepstep import FunctionClass, Problem, Schedule, constant
from pepstep.clarabel_direct import _smat, svec_map
from pepstep.pep import build_pep
from pepstep.solve import Status, solve_pep
from tests.conftest import RTOL_CLOSED_FORM, assert_rel

#: The two interfaces solve the same SDP with the same settings; both pass pepstep's re-check
#: at RTOL_GAP = 1e-6, so their values agree to about that (measured worst: 4.5e-7).
RTOL_INTERFACES = 2e-6

CASES = [
    (FunctionClass("convex"), "fgap", "dist"),
    (FunctionClass("convex"), "gradnorm", "dist"),
    (FunctionClass("convex"), "dist", "dist"),
    (FunctionClass("convex"), "gradnorm", "fgap"),
    (FunctionClass("strongly-convex", 1.0, 0.1), "fgap", "dist"),
    (FunctionClass("strongly-convex", 1.0, 0.1), "dist", "dist"),
    (FunctionClass("nonconvex"), "mingradnorm", "fgap"),
]


def test_svec_is_the_trace_inner_product():
    """<svec(A), svec(B)> = tr(A B) for symmetric A, B: the packing Clarabel's PSD cone uses."""
    rng = np.random.default_rng(1)
    d = 7
    A, B = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    A, B = A + A.T, B + B.T
    T = svec_map(d)
    a, b = T @ A.ravel(), T @ B.ravel()
    assert abs(a @ b - np.trace(A @ B)) <= 1e-12 * abs(np.trace(A @ B))
    np.testing.assert_allclose(_smat(a, d), A, rtol=0, atol=1e-14)


@pytest.mark.parametrize("fc, measure, init", CASES, ids=[f"{c.kind}-{m}-{i}" for c, m, i in CASES])
@pytest.mark.parametrize("seed", [0, 1])
def test_direct_equals_cvxpy(fc, measure, init, seed):
    """Random steps in [0.5, 2]: the same value through both interfaces, both re-checked optimal."""
    steps = np.round(np.random.default_rng(seed).uniform(0.5, 2.0, 6), 3)
    data = build_pep(Problem(Schedule(steps), fc, measure, init))
    direct, via_cvxpy = solve_pep(data), solve_pep(data, interface="cvxpy")
    assert direct["status"] is Status.OPTIMAL and via_cvxpy["status"] is Status.OPTIMAL
    assert_rel(direct["value"], via_cvxpy["value"], RTOL_INTERFACES, f"{steps}")
    # the primal comes back too: the Gram matrix's objective equals the dual value
    assert direct["residuals"]["gap"] <= 1e-6


@pytest.mark.parametrize("N", [1, 5, 20])
def test_direct_closed_form(N):
    """Constant h = 1: (L R^2) / (4N + 2) (Drori & Teboulle 2014), without cvxpy."""
    out = solve_pep(build_pep(Problem(constant(1.0, N))))
    assert out["status"] is Status.OPTIMAL
    assert_rel(out["value"], 1.0 / (4 * N + 2), RTOL_CLOSED_FORM, f"N={N}")


def test_direct_unbounded_nonconvex():
    """Nonconvex, a step above 2: f can decrease without bound (the dual is infeasible)."""
    out = solve_pep(build_pep(Problem(constant(2.5, 3), FunctionClass("nonconvex"), "mingradnorm", "fgap")))
    assert out["status"] is Status.UNBOUNDED
    assert math.isnan(out["value"])


def test_small_solve_imports_no_cvxpy():
    """The default path of a small worst case never imports cvxpy (1-2 s of a 0.3 s run)."""
    code = (
        "import sys; from pepstep import Problem, constant, worst_case; "
        "wc = worst_case(Problem(constant(1.0, 10))); "
        "print(round(wc.value * 42, 6), 'cvxpy' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["1.0", "False"]
