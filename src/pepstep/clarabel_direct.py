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
solves. Clarabel wants its matrices in compressed-column form; the few lines here that
build them from pepstep's sparse data keep ``scipy.sparse`` as the only sparse library.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

__all__ = ["STATUS", "solve_dual", "svec_map"]

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


def svec_map(dim: int) -> sp.csr_matrix:
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
    return sp.csr_matrix((vals, (rows, cols)), shape=(dim * (dim + 1) // 2, dim * dim))


def _smat(z: np.ndarray, dim: int) -> np.ndarray:
    """The symmetric matrix whose ``svec`` is ``z``."""
    M = np.zeros((dim, dim))
    j, i = np.triu_indices(dim)[1], np.triu_indices(dim)[0]
    t = j * (j + 1) // 2 + i
    vals = np.where(i == j, z[t], z[t] / math.sqrt(2.0))
    M[i, j] = vals
    M[j, i] = vals
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
    T = svec_map(d)
    nt = T.shape[0]
    # the slack's coefficients, one column per variable, in svec form
    cols = [data.interp_G.T, data.init_G.T]
    if k:
        cols.append(-data.min_G.T)
    S_cols = T @ sp.hstack(cols, format="csr")
    S_const = -(T @ np.asarray(data.obj_G.todense()).ravel()) / sc
    F_cols = [data.interp_F.T, sp.csr_matrix(np.asarray(data.init_F, dtype=float).reshape(-1, 1))]
    if k:
        F_cols.append(sp.csr_matrix((data.num_f, k)))
    blocks = [sp.hstack(F_cols, format="csr")]
    b = [np.asarray(data.obj_F, dtype=float) / sc]
    cones = [clarabel.ZeroConeT(data.num_f)]
    if k:
        blocks.append(
            sp.csr_matrix((np.ones(k), (np.zeros(k, dtype=int), np.arange(m + 1, n))), shape=(1, n))
        )
        b.append(np.array([1.0 / sc]))
        cones.append(clarabel.ZeroConeT(1))
    blocks.append(-sp.eye(n, format="csr"))
    b.append(np.zeros(n))
    cones.append(clarabel.NonnegativeConeT(n))
    blocks.append(-S_cols)
    b.append(S_const)
    cones.append(clarabel.PSDTriangleConeT(d))
    A = sp.vstack(blocks, format="csc")
    A.sort_indices()
    q = np.zeros(n)
    q[m] = 1.0
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    for key, value in options.items():
        if not hasattr(settings, key):
            from .errors import InputError

            raise InputError(f"Unknown Clarabel setting {key!r}.")
        setattr(settings, key, value)
    P = sp.csc_matrix((n, n))
    sol = clarabel.DefaultSolver(P, q, A, np.concatenate(b), cones, settings).solve()
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
