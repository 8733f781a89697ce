"""The dual PEP handed to Clarabel through its own API, without cvxpy.

Clarabel solves ``min q'x`` subject to ``A x + s = b``, ``s`` in a product of cones, and
returns the conic dual ``z``. pepstep's dual PEP (:func:`pepstep.solve.dual_model`) maps to
it directly: ``x = (lambda, tau, nu)``; the function-value identity (and ``sum nu = 1``)
is a zero cone; ``lambda, tau, nu >= 0`` a nonnegative cone; the slack ``S`` a PSD cone in
Clarabel's scaled upper triangle (column-major, off-diagonals times sqrt(2), so that
``<svec(S), svec(G)> = tr(S G)``). The conic dual of the PSD block is the worst-case Gram
matrix and that of the identity is minus the function values: the primal PEP comes back
with the dual, and pepstep's own re-check (:func:`pepstep.solve.recheck`) judges both.

This path skips cvxpy's import (1-2 s) and its canonicalization, which dominate small
solves. Clarabel wants its matrices in compressed-column form; they are built here from
coordinate triplets with numpy alone (:func:`csc`), from pepstep's sparse data or from the
dense data of a small PEP (``build_pep(..., dense=True)``), so that a small worst case does not
import scipy.sparse. (Clarabel's Python module itself takes LAPACK from scipy.linalg for its
PSD cone: that import, 0.45 s here, is the price of this route in a fresh process, which
:func:`pepstep.compute.choose_method` counts.)
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["STATUS", "csc", "solve_dual", "svec_map", "svec_rows"]

#: Clarabel's statuses, as the cvxpy status strings :data:`pepstep.solve.CVXPY_STATUS` maps
#: (the same table cvxpy's own Clarabel interface uses), for the *dual* model.
STATUS = {
    "Solved": "optimal",
    "AlmostSolved": "optimal_inaccurate",
    "PrimalInfeasible": "infeasible",
    "AlmostPrimalInfeasible": "infeasible_inaccurate",
    "DualInfeasible": "unbounded",
    "AlmostDualInfeasible": "unbounded_inaccurate",
    "MaxIterations": "user_limit",
    "MaxTime": "user_limit",
    "NumericalError": "solver_error",
    "InsufficientProgress": "solver_error",
}


def svec_map(dim: int):
    """The matrix ``T`` with ``T vec(M) = svec((M + M^T) / 2)`` (``vec`` row-major).

    ``svec`` is Clarabel's packing: entry ``(i, j)``, ``i <= j``, at ``j (j + 1) / 2 + i``,
    off-diagonals scaled by ``sqrt(2)``.

    Examples
    --------
    >>> M = np.array([[1.0, 2.0], [4.0, 5.0]])
    >>> np.round(svec_map(2) @ M.ravel(), 6).tolist()   # (1, 3 sqrt 2, 5)
    [1.0, 4.242641, 5.0]
    """
    j, i = np.divmod(np.arange(dim * dim), dim)  # iterate the packed order column by column
    keep = i <= j
    i, j = i[keep], j[keep]
    t = j * (j + 1) // 2 + i
    diag = i == j
    half = math.sqrt(2.0) / 2.0
    rows = np.concatenate([t[diag], t[~diag], t[~diag]])
    cols = np.concatenate([i[diag] * dim + i[diag], i[~diag] * dim + j[~diag], j[~diag] * dim + i[~diag]])
    vals = np.concatenate(
        [np.ones(int(diag.sum())), np.full(int((~diag).sum()), half), np.full(int((~diag).sum()), half)]
    )
    import scipy.sparse as sp

    return sp.csr_matrix((vals, (rows, cols)), shape=(dim * (dim + 1) // 2, dim * dim))


def _svec_index(dim: int):
    """Row and column of every packed entry, in packed order, and its weight (1 or sqrt 2)."""
    i, j = np.triu_indices(dim)
    t = j * (j + 1) // 2 + i
    order = np.argsort(t)
    i, j = i[order], j[order]
    return i, j, np.where(i == j, 1.0, math.sqrt(2.0))


def svec_rows(M: np.ndarray, dim: int) -> np.ndarray:
    """``svec`` of every row of a dense ``(k, dim * dim)`` array of symmetric ``vec``s, as ``(k, t)``.

    Examples
    --------
    >>> np.round(svec_rows(np.array([[1.0, 3.0, 3.0, 5.0]]), 2), 6).tolist()   # (1, 3 sqrt 2, 5)
    [[1.0, 4.242641, 5.0]]
    """
    i, j, w = _svec_index(dim)
    M = np.asarray(M, dtype=float).reshape(-1, dim, dim)
    return 0.5 * (M[:, i, j] + M[:, j, i]) * w


class _CSC:
    """The compressed-column arrays Clarabel reads (``data``, ``indices``, ``indptr``, ``shape``),
    without scipy.sparse."""

    format = "csc"
    has_canonical_format = True
    has_sorted_indices = True

    def __init__(self, data, indices, indptr, shape):
        self.data, self.indices, self.indptr, self.shape = data, indices, indptr, shape
        self.nnz = int(data.size)


def csc(rows, cols, vals, shape) -> _CSC:
    """A compressed-column matrix from coordinate triplets (duplicates summed, zeros dropped).

    Examples
    --------
    >>> A = csc([1, 0, 1], [0, 1, 0], [2.0, 3.0, 4.0], (2, 2))
    >>> A.indptr.tolist(), A.indices.tolist(), A.data.tolist()
    ([0, 1, 2], [1, 0], [6.0, 3.0])
    """
    rows = np.asarray(rows, dtype=np.int64).ravel()
    cols = np.asarray(cols, dtype=np.int64).ravel()
    vals = np.asarray(vals, dtype=float).ravel()
    nrows, ncols = shape
    key = cols * nrows + rows
    order = np.argsort(key, kind="stable")  # not np.unique: it imports numpy.ma (0.04 s)
    key, vals = key[order], vals[order]
    first = np.concatenate([[True], key[1:] != key[:-1]]) if key.size else np.zeros(0, dtype=bool)
    uniq = key[first]
    summed = np.add.reduceat(vals, np.flatnonzero(first)) if key.size else np.zeros(0)
    keep = summed != 0.0
    uniq, summed = uniq[keep], summed[keep]
    ucols, urows = np.divmod(uniq, nrows)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(ucols, minlength=ncols))]).astype(np.int64)
    return _CSC(summed, urows.astype(np.int64), indptr, (int(nrows), int(ncols)))


def _triplets(M):
    """``(rows, cols, vals)`` of a dense array or a scipy.sparse matrix."""
    if hasattr(M, "tocoo"):
        C = M.tocoo()
        return C.row, C.col, C.data
    M = np.asarray(M, dtype=float)
    r, c = np.nonzero(M)
    return r, c, M[r, c]


def _svec_columns(data, k: int):
    """The slack's coefficients in svec form, one column per variable ``(lambda, tau, nu)``
    (``(t, n)``), and the constant term: from dense rows without scipy, else through :func:`svec_map`."""
    d = data.dim
    blocks = [data.interp_G, data.init_G] + ([-data.min_G] if k else [])
    if isinstance(data.interp_G, np.ndarray):
        rows = np.vstack([np.asarray(b, dtype=float).reshape(-1, d * d) for b in blocks])
        return svec_rows(rows, d).T, -svec_rows(np.asarray(data.obj_G, dtype=float), d).ravel()
    import scipy.sparse as sp

    T = svec_map(d)
    S_cols = T @ sp.vstack(blocks, format="csr").T
    return S_cols, -(T @ np.asarray(data.obj_G.todense()).ravel())


def _smat(z: np.ndarray, dim: int) -> np.ndarray:
    """The symmetric matrix whose ``svec`` is ``z``."""
    i, j, w = _svec_index(dim)
    M = np.zeros((dim, dim))
    M[i, j] = z / w
    M[j, i] = z / w
    return M


def solve_dual(data, options: dict, objective_scale: float = 1.0) -> tuple[str, dict]:
    """Solve the dual PEP of ``data`` by Clarabel; return a cvxpy-style status and the parts.

    The parts (``lam``, ``tau``, ``nu`` of the scaled model, ``gram``, ``F``) are present
    when Clarabel returned a point (solved or almost solved); ``detail`` names Clarabel's
    own status and iteration count.
    """
    import clarabel

    d, m = data.dim, data.pairs.shape[0]
    sc = objective_scale
    k = 0 if data.min_G is None else data.min_G.shape[0]
    n = m + 1 + k
    nt = d * (d + 1) // 2
    nf = data.num_f
    S_cols, S_const = _svec_columns(data, k)
    # Rows: the function-value identity (nf), sum nu = 1 / s (1 if k), lambda, tau, nu >= 0 (n),
    # the slack S (nt); A x + s = b with s in zero, zero, nonnegative and PSD cones.
    parts = []
    r, c, v = _triplets(data.interp_F)  # (m, nf): column j of F^T is row j of interp_F
    parts.append((c, r, v))
    init_F = np.asarray(data.init_F, dtype=float)
    nz = np.nonzero(init_F)[0]
    parts.append((nz, np.full(nz.size, m), init_F[nz]))
    b = [np.asarray(data.obj_F, dtype=float) / sc]
    cones = [clarabel.ZeroConeT(nf)]
    row = nf
    if k:
        parts.append((np.full(k, row), np.arange(m + 1, n), np.ones(k)))
        b.append(np.array([1.0 / sc]))
        cones.append(clarabel.ZeroConeT(1))
        row += 1
    parts.append((row + np.arange(n), np.arange(n), -np.ones(n)))
    b.append(np.zeros(n))
    cones.append(clarabel.NonnegativeConeT(n))
    row += n
    r, c, v = _triplets(S_cols)
    parts.append((row + r, c, -v))
    b.append(S_const / sc)
    cones.append(clarabel.PSDTriangleConeT(d))
    A = csc(*(np.concatenate([p[i] for p in parts]) for i in range(3)), (row + nt, n))
    q = np.zeros(n)
    q[m] = 1.0
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    for key, value in options.items():
        if not hasattr(settings, key):
            from .errors import InputError

            raise InputError(f"Unknown Clarabel setting {key!r}.")
        setattr(settings, key, value)
    P = _CSC(np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(n + 1, dtype=np.int64), (n, n))
    try:
        solver = clarabel.DefaultSolver(P, q, A, np.concatenate(b), cones, settings)
    except (AttributeError, TypeError):
        # a Clarabel that wants scipy.sparse matrices themselves (the arrays are the same)
        import scipy.sparse as sp

        A, P = (sp.csc_matrix((M.data, M.indices, M.indptr), shape=M.shape) for M in (A, P))
        solver = clarabel.DefaultSolver(P, q, A, np.concatenate(b), cones, settings)
    sol = solver.solve()
    name = str(sol.status).split(".")[-1]
    status = STATUS.get(name, name)
    detail = f"Clarabel {name} after {sol.iterations} iterations"
    parts = {}
    if status in ("optimal", "optimal_inaccurate"):
        x, z = np.asarray(sol.x, dtype=float), np.asarray(sol.z, dtype=float)
        parts = {
            "lam": x[:m],
            "tau": float(x[m]),
            "nu": x[m + 1 :] if k else None,
            "gram": _smat(z[z.size - nt :], d),
            "F": -z[: data.num_f],
        }
    return status, {"detail": detail, **parts}
