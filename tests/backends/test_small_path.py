"""The import-light path of small worst cases: dense PEP data, numpy-only CSC, the Schur route
without scipy, and what a command-line run loads.

Sources of truth: the sparse assembly (an independent construction of the same rows), direct
dense recomputations written here, and the closed form 1 / (4N + 2) (Drori & Teboulle 2014).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from pepstep import FunctionClass, Problem
from pepstep.clarabel_direct import csc, svec_map, svec_rows
from pepstep.generation import SPARSE_FACTORS_FROM, _Basis, _factor, _SchurSDP
from pepstep.pep import build_pep, horizon_pairs
from pepstep.schedules import Schedule, constant, silver
from pepstep.solve import Status, solve_full, solve_pep

#: Two assemblies of the same rows differ by rounding of the sums only.
ATOL_ASSEMBLY = 1e-14
#: The closed form, as the other backends' tests ask.
RTOL_CLOSED_FORM = 1e-6

CASES = [
    (FunctionClass("convex"), "fgap", "dist"),
    (FunctionClass("convex"), "gradnorm", "fgap"),
    (FunctionClass("strongly-convex", L=1.0, mu=0.1), "dist", "dist"),
    (FunctionClass("strongly-convex", L=1.0, mu=0.1), "fgap", "fgap"),
    (FunctionClass("nonconvex"), "mingradnorm", "fgap"),
    (FunctionClass("convex"), "mingradnorm", "dist"),
]


@pytest.mark.parametrize("fc, measure, init", CASES)
def test_dense_data_equals_sparse(fc, measure, init):
    steps = Schedule(np.round(np.random.default_rng(4).uniform(0.3, 1.9, 7), 4))
    problem = Problem(steps, fc, measure, init)
    sparse, dense = build_pep(problem), build_pep(problem, dense=True)
    assert isinstance(dense.interp_G, np.ndarray)
    for name in ("interp_G", "interp_F", "init_G", "obj_G", "min_G"):
        a, b = getattr(sparse, name), getattr(dense, name)
        if a is None:
            assert b is None, name
            continue
        assert b.shape == a.shape, name
        np.testing.assert_allclose(b, a.toarray(), rtol=0, atol=ATOL_ASSEMBLY, err_msg=name)
    np.testing.assert_array_equal(dense.pairs, sparse.pairs)


@pytest.mark.parametrize("fc, measure, init", CASES)
def test_dense_and_sparse_solves_agree(fc, measure, init):
    """Clarabel on either assembly: the same SDP, so the same value (solver tolerance 1e-9)."""
    problem = Problem(Schedule([1.2, 0.6, 1.5, 0.9]), fc, measure, init)
    a = solve_pep(build_pep(problem))
    b = solve_pep(build_pep(problem, dense=True))
    assert a["status"] is Status.OPTIMAL and b["status"] is Status.OPTIMAL
    assert abs(a["value"] - b["value"]) <= 1e-8 * max(1.0, abs(a["value"]))


def test_csc_sums_duplicates_and_drops_zeros():
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 7, 60)
    cols = rng.integers(0, 5, 60)
    vals = rng.standard_normal(60)
    vals[:5] = 0.0
    rows[50:], cols[50:] = rows[0], cols[0]  # the same place several times
    vals[50:] = 0.0  # ... and a zero sum there if the first value is also zero
    expected = np.zeros((7, 5))
    np.add.at(expected, (rows, cols), vals)
    A = csc(rows, cols, vals, (7, 5))
    got = np.zeros((7, 5))
    for j in range(5):
        sl = slice(A.indptr[j], A.indptr[j + 1])
        assert np.all(np.diff(A.indices[sl]) > 0)  # sorted, unique rows in each column
        got[A.indices[sl], j] = A.data[sl]
    np.testing.assert_array_equal(got, expected)
    assert np.count_nonzero(A.data == 0.0) == 0
    assert A.nnz == np.count_nonzero(expected)


def test_svec_rows_matches_the_sparse_map():
    d = 5
    M = np.random.default_rng(1).standard_normal((3, d * d))
    expected = (svec_map(d) @ M.T).T
    np.testing.assert_allclose(svec_rows(M, d), expected, rtol=0, atol=1e-15)


def _schur_direct(sdp: _SchurSDP, Pw: np.ndarray) -> np.ndarray:
    """``tr(A_k Pw A_l Pw)`` from each ``A_k`` built densely (O(K^2 d^3), small K only)."""
    A = [sdp.combine(np.eye(sdp.K)[k]) for k in range(sdp.K)]
    B = [Pw @ a @ Pw for a in A]
    return np.array([[np.sum(a * b) for b in B] for a in A])


@pytest.mark.parametrize("sparse_from", [SPARSE_FACTORS_FROM, 1])
def test_schur_matrix_both_ways(monkeypatch, sparse_from):
    """The numpy gathers and the scipy.sparse factors give the Schur matrix of the definition."""
    import pepstep.generation as gen

    monkeypatch.setattr(gen, "SPARSE_FACTORS_FROM", sparse_from)
    problem = Problem(silver(6))
    basis = _Basis(np.asarray(problem.schedule.steps, dtype=float), True)
    sdp = _SchurSDP(problem, horizon_pairs(problem.schedule.steps), basis, 1.0)
    X = np.random.default_rng(2).standard_normal((basis.d, basis.d))
    Pw = X @ X.T
    H = sdp.schur(basis.gram_products(Pw))
    expected = _schur_direct(sdp, Pw)
    np.testing.assert_allclose(H, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


@pytest.mark.parametrize("K", [40, SPARSE_FACTORS_FROM + 10])
def test_factor_solves_and_refuses_indefinite(K):
    """CVXOPT's LAPACK below SPARSE_FACTORS_FROM, scipy's above: both solve H u = r."""
    rng = np.random.default_rng(K)
    X = rng.standard_normal((K, K))
    H = X @ X.T + K * np.eye(K)
    r = rng.standard_normal((K, 3))
    u = _factor(H)(r)
    assert np.abs(H @ u - r).max() <= 1e-10 * np.abs(r).max()
    v = _factor(H)(r[:, 0])
    assert v.shape == (K,) and np.allclose(v, u[:, 0], rtol=0, atol=1e-12)
    H[0, 0] = -1.0
    with pytest.raises(ArithmeticError):
        _factor(H)


def test_dense_route_of_solve_full_has_the_closed_form():
    """N = 20 fits the dense assembly; Clarabel's value is 1 / (4N + 2)."""
    wc = solve_full(Problem(constant(1.0, 20)))
    assert wc.status is Status.OPTIMAL
    assert abs(wc.value * 82 - 1.0) <= RTOL_CLOSED_FORM


@pytest.mark.parametrize("n", [10, 25])
def test_command_line_run_imports_no_scipy_tqdm_or_cvxpy(n):
    """``pepstep rate --quiet`` of a small schedule loads numpy and CVXOPT only (scipy.linalg
    alone takes 0.45 s here), and still has the closed form."""
    code = (
        "import sys, io, contextlib, json\n"
        "from pepstep.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    rc = main(['rate', '--schedule', 'constant:1:{n}', '--json', '--quiet'])\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'tqdm', 'cvxpy'})\n"
        "print(json.dumps({'rc': rc, 'loaded': loaded, 'result': json.loads(out.getvalue())}))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    assert got["rc"] == 0 and got["loaded"] == []
    assert got["result"]["status"] == "optimal"
    assert abs(got["result"]["value"] * (4 * n + 2) - 1.0) <= RTOL_CLOSED_FORM


def test_scipy_matrices_when_clarabel_refuses_the_arrays(monkeypatch):
    """If Clarabel refuses the plain CSC arrays, the same arrays go in as scipy.sparse matrices."""
    import clarabel

    real = clarabel.DefaultSolver
    seen = []

    def picky(P, q, A, b, cones, settings):
        seen.append(type(A).__module__)
        if not type(A).__module__.startswith("scipy"):
            raise AttributeError("has_canonical_format")
        return real(P, q, A, b, cones, settings)

    monkeypatch.setattr(clarabel, "DefaultSolver", picky)
    out = solve_pep(build_pep(Problem(constant(1.0, 5)), dense=True))
    assert out["status"] is Status.OPTIMAL and abs(out["value"] * 22 - 1.0) <= RTOL_CLOSED_FORM
    assert seen[0] == "pepstep.clarabel_direct" and seen[-1].startswith("scipy")
