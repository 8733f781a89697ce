"""Assemble the performance-estimation SDP of gradient descent as sparse data.

The PEP (Drori & Teboulle 2014; Taylor, Hendrickx & Glineur 2017) of
``x_{k+1} = x_k - (h_k / L) g_k`` maximizes a measure over a Gram matrix ``G >= 0`` and
function values ``F`` subject to one linear inequality per ordered pair of points
(interpolation), an initial condition, and, for ``mingradnorm``, an epigraph variable.

**Normalization.** The SDP is always assembled with ``L = 1`` and ``R = 1`` (or
``Delta = 1``); only ``kappa = mu / L`` enters. The value in user units follows by
homogeneity (:func:`value_scale`).

**Basis.** The Gram basis is ``(x_0 - x*, g_0, ..., g_N)`` for classes with a minimizer
and ``(g_0, ..., g_N)`` for nonconvex functions (which have no ``x*``; the anchor is
``x_0``, and only differences of iterates enter). Iterates are
``x_k - x* = (x_0 - x*) - sum_{l<k} h_l g_l / L``. A pair's ``x_i - x_j`` has ``|i - j|``
nonzeros, so a convex PEP has O(N^3) nonzeros in all. (A basis of iterates would make
every row O(1) but writes gradients as differences of nearly equal vectors and costs
about five digits of accuracy; measured, so not used.)

Each inequality is written ``f_j - f_i + tr(A_ij G) <= 0`` and stored as one row of
a sparse matrix over ``vec(G)`` (row-major) and one over ``F``; ``pairs[m] = (i, j)``
names row ``m`` (``-1`` is the minimizer ``*``), so the solver's dual vector maps back to
``lambda_ij`` by name.

**Dense data for small PEPs.** ``build_pep(..., dense=True)`` stores the same rows as numpy
arrays and imports nothing else. A small worst case (``pepstep rate`` at N = 10) is
import-bound: importing scipy.sparse takes about 0.45 s here (a whole process 0.67 s against
numpy's 0.2 s). With dense data the Schur route needs no scipy at all, and Clarabel only the
scipy.linalg it takes LAPACK from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .classes import FunctionClass, InitialCondition, Measure
from .errors import InputError
from .schedules import Schedule

if TYPE_CHECKING:  # scipy.sparse is imported where sparse data is built, not here
    import scipy.sparse as sp

__all__ = [
    "STAR",
    "PEPData",
    "Problem",
    "build_pep",
    "all_pairs",
    "consecutive_pairs",
    "horizon_pairs",
    "pair_key",
    "value_scale",
]

#: Index of the minimizer ``x*`` in pair arrays.
STAR = -1


def pair_key(i: int, j: int) -> tuple:
    """The public key of the pair ``(i, j)``: ``"*"`` for the minimizer, else the iterate index."""
    return ("*" if i == STAR else int(i), "*" if j == STAR else int(j))


@dataclass(frozen=True)
class Problem:
    """A worst-case question: schedule, function class, measure and initial condition.

    Attributes
    ----------
    schedule : Schedule
        The normalized steps.
    function_class : FunctionClass
        The class of functions and its constants ``L``, ``mu``.
    measure : Measure
        The quantity whose worst case is computed.
    init : InitialCondition
        ``dist`` (``|x_0 - x*| <= R``) or ``fgap`` (``f(x_0) - f* <= R``, the size being Delta).
    R : float
        Size of the initial condition: the radius R, or Delta for ``fgap``.

    Examples
    --------
    >>> from pepstep import FunctionClass, constant
    >>> p = Problem(constant(1.0, 5), FunctionClass("convex", L=2.0), "gradnorm", "dist", R=3.0)
    >>> p.num_steps, p.measure.value, p.R
    (5, 'gradnorm', 3.0)
    >>> Problem(constant(1.0, 5), FunctionClass("nonconvex"), "mingradnorm", "fgap").init.value
    'fgap'
    """

    schedule: Schedule
    function_class: FunctionClass = FunctionClass()
    measure: Measure = Measure.FGAP
    init: InitialCondition = InitialCondition.DIST
    R: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.schedule, Schedule):
            raise InputError(f"The schedule must be a Schedule. Got {type(self.schedule).__name__}.")
        if not isinstance(self.function_class, FunctionClass):
            raise InputError(
                f"The function class must be a FunctionClass. Got {type(self.function_class).__name__}."
            )
        measure = Measure.parse(self.measure)
        init = InitialCondition.parse(self.init)
        object.__setattr__(self, "measure", measure)
        object.__setattr__(self, "init", init)
        try:
            R = float(self.R)
        except (TypeError, ValueError):
            raise InputError(f"The 'R' parameter must be a number. Got R={self.R!r}.") from None
        if not np.isfinite(R) or R <= 0:
            raise InputError(f"The 'R' parameter must be finite and > 0. Got R={R!r}.")
        object.__setattr__(self, "R", R)
        _check_combination(self.function_class, measure, init)
        scale = value_scale(self)
        if not (np.isfinite(scale) and scale >= np.finfo(float).tiny):
            L = self.function_class.L
            raise InputError(
                f"The worst case in user units would not be representable: its scale factor "
                f"(L and R to the powers of measure {measure.value!r}) is {scale!r} in floating point. "
                f"Got L={L!r} and R={R!r}; rescale the problem."
            )

    @property
    def num_steps(self) -> int:
        return self.schedule.num_steps


def _check_combination(fc: FunctionClass, measure: Measure, init: InitialCondition) -> None:
    if not fc.has_minimizer:
        if measure in (Measure.FGAP, Measure.DIST):
            raise InputError(
                f"The measure {measure.value!r} is unbounded for class 'nonconvex'; "
                "use gradnorm or mingradnorm."
            )
        if init is InitialCondition.DIST:
            raise InputError(
                "The initial condition 'dist' needs a minimizer; class 'nonconvex' takes init 'fgap'."
            )
    elif fc.kind == "convex" and init is InitialCondition.FGAP and measure is Measure.DIST:
        raise InputError(
            "The measure 'dist' is unbounded under init 'fgap' for class 'convex' "
            "(a flat function can be arbitrarily far from its minimizer)."
        )


def value_scale(problem: Problem) -> float:
    """Factor turning the normalized value (L = 1, R = 1) into user units.

    Under ``dist`` init: ``fgap`` scales as ``L R^2``, ``gradnorm``/``mingradnorm`` as
    ``L^2 R^2``, ``dist`` as ``R^2``. Under ``fgap`` init (size Delta): ``Delta``,
    ``L Delta`` and ``Delta / L``.
    """
    L, R = problem.function_class.L, problem.R
    grad = problem.measure in (Measure.GRADNORM, Measure.MINGRADNORM)
    if problem.init is InitialCondition.DIST:
        return L * R * R if problem.measure is Measure.FGAP else (L * L * R * R if grad else R * R)
    if problem.measure is Measure.FGAP:
        return R
    return L * R if grad else R / L


def all_pairs(num_steps: int, has_minimizer: bool = True) -> np.ndarray:
    """Every ordered pair of distinct points: (N+2)(N+1) with ``*``, (N+1)N without."""
    pts = _points(num_steps, has_minimizer)
    i, j = np.meshgrid(pts, pts, indexing="ij")
    mask = i != j
    return np.stack([i[mask], j[mask]], axis=1)


def consecutive_pairs(num_steps: int, has_minimizer: bool = True) -> np.ndarray:
    """The sparse support ``(k, k+1)``, ``(k+1, k)``, ``(*, k)``, ``(k, *)``."""
    k = np.arange(num_steps)
    rows = [np.stack([k, k + 1], 1), np.stack([k + 1, k], 1)]
    if has_minimizer:
        pts = np.arange(num_steps + 1)
        star = np.full_like(pts, STAR)
        rows += [np.stack([star, pts], 1), np.stack([pts, star], 1)]
    return np.concatenate(rows)


def _nearest_at_least(h: np.ndarray, forward: bool) -> np.ndarray:
    """For each k, the nearest index after (``forward``) or before k whose step is >= h_k;
    ``len(h)`` (after) or -1 (before) if there is none. A monotonic stack: O(N)."""
    n = h.size
    out = np.full(n, n if forward else -1, dtype=np.int64)
    stack: list[int] = []
    order = range(n) if forward else range(n - 1, -1, -1)
    for k in order:
        while stack and h[k] >= h[stack[-1]]:
            out[stack.pop()] = k
        stack.append(k)
    return out


def horizon_pairs(steps, has_minimizer: bool = True, widen: int = 0) -> np.ndarray:
    """The consecutive support plus each iterate's *step horizon*.

    From iterate ``x_k`` the pairs ``(k, j)`` reach forward to the iterate where a step at
    least as long as ``h_k`` is next taken (or ``x_N``), and back to the last such step:
    ``j`` in ``[p, k - 1]`` and ``[k + 1, q]`` with ``p`` the last index before ``k`` and
    ``q`` the first after it with ``h >= h_k`` (``p = 0``, ``q = N`` if none). Constant
    steps get the consecutive pairs only; the silver schedule's long steps see their whole
    dyadic block, which is where its sparse certificates put their multipliers (measured:
    an l1-reweighted optimal dual of silver N = 31 uses 122 of 1056 pairs, 121 of them in
    this set, and the set alone has the full PEP's value at N = 31, 63 and 127). About
    ``N log2 N`` pairs for silver.

    ``widen`` extends both reaches by that many more iterates (``[p - widen, k - 1]`` and
    ``[k + 1, q + widen]``, clipped to ``[0, N]``); Grimmer's t = 31 pattern needs 2
    (:func:`pepstep.cyclic.pattern_pairs`, support ``"wide"``).
    """
    if not isinstance(widen, (int, np.integer)) or widen < 0:
        raise InputError(f"The 'widen' must be an integer >= 0. Got widen={widen!r}.")
    h = np.asarray(steps, dtype=float)
    n = h.size
    k = np.arange(n)
    nxt = np.minimum(_nearest_at_least(h, True) + widen, n)  # forward reach: k+1 .. nxt
    prv = np.maximum(_nearest_at_least(h, False) - widen, 0)  # backward reach: prv .. k-1

    def ranges(first, count):  # pairs (k, first_k), ..., (k, first_k + count_k - 1) for all k
        offsets = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        return np.stack([np.repeat(k, count), np.repeat(first, count) + offsets], 1)

    rows = np.concatenate([consecutive_pairs(n, has_minimizer), ranges(k + 1, nxt - k), ranges(prv, k - prv)])
    # unique rows, sorted, through sorted scalar keys (np.unique imports numpy.ma on its first
    # call, 0.04 s of a small run; with axis=0 it is several times slower besides)
    keys = np.sort((rows[:, 0] + 1) * (n + 2) + (rows[:, 1] + 1))
    keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    return np.stack(np.divmod(keys, n + 2), axis=1) - 1


def _points(num_steps: int, has_minimizer: bool) -> np.ndarray:
    pts = np.arange(num_steps + 1)
    return np.concatenate([[STAR], pts]) if has_minimizer else pts


@dataclass(frozen=True)
class PEPData:
    """The PEP as sparse data (normalized: L = 1, R = 1).

    Primal: maximize ``obj_G . vec(G) + obj_F . F (+ t)`` subject to
    ``interp_G vec(G) + interp_F F <= 0`` (row m is the pair ``pairs[m]``),
    ``init_G . vec(G) + init_F . F <= 1``, ``t <= min_G[k] . vec(G)`` (``mingradnorm`` only),
    ``G >= 0``. ``vec`` is row-major; all coefficient matrices are symmetric. They are
    CSR matrices, or dense arrays with the same rows from ``build_pep(..., dense=True)``.

    Attributes
    ----------
    dim : int
        Size of the Gram matrix.
    num_f : int
        Number of function-value variables (``f_0..f_N``; ``f* = 0``).
    pairs : ndarray, shape (M, 2)
        The interpolation pairs, ``-1`` for ``*``.
    kappa : float
        ``mu / L`` (``-1`` for nonconvex).
    """

    dim: int
    num_f: int
    pairs: np.ndarray
    interp_G: sp.csr_matrix | np.ndarray
    interp_F: sp.csr_matrix | np.ndarray
    init_G: sp.csr_matrix | np.ndarray
    init_F: np.ndarray
    obj_G: sp.csr_matrix | np.ndarray
    obj_F: np.ndarray
    min_G: sp.csr_matrix | np.ndarray | None
    kappa: float


def _rowwise_outer(A, B, dim: int, weight: float, sym: bool):
    """COO entries of ``weight * a_m b_m^T`` (or its symmetric part) for every row m of A, B."""
    A, B = A.tocsr(), B.tocsr()
    m = A.shape[0]
    na, nb = np.diff(A.indptr), np.diff(B.indptr)
    a_rows = np.repeat(np.arange(m), na)
    rep = nb[a_rows]
    rows = np.repeat(a_rows, rep)
    ia, va = np.repeat(A.indices, rep), np.repeat(A.data, rep)
    group_start = np.repeat(np.cumsum(rep) - rep, rep)
    pos = B.indptr[rows] + (np.arange(rows.size) - group_start)
    ib, vb = B.indices[pos], B.data[pos]
    vals = va * vb * weight
    if sym:
        return (
            np.concatenate([rows, rows]),
            np.concatenate([ia * dim + ib, ib * dim + ia]),
            np.concatenate([vals, vals]) * 0.5,
        )
    return rows, ia * dim + ib, vals


def _coo(parts, shape):
    import scipy.sparse as sp

    rows = np.concatenate([p[0].ravel() for p in parts])
    cols = np.concatenate([p[1].ravel() for p in parts])
    vals = np.concatenate([p[2].ravel() for p in parts])
    keep = vals != 0.0
    mat = sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=shape)
    mat.sum_duplicates()
    mat.eliminate_zeros()
    return mat


def _coordinates_dense(steps: np.ndarray, has_minimizer: bool):
    """Coordinates of every point's x and g (rows ``[*,] 0..N``) as dense arrays.

    Returns ``X, Gr, dim, off`` with ``off`` the row of iterate 0.
    """
    n = steps.size
    # x_k - anchor = [x_0 - x*] - sum_{l<k} h_l g_l (L = 1): lower-triangular step table.
    tri = np.tril(np.ones((n + 1, n)), -1) * -steps[None, :]  # row k: -h_l for l < k
    if has_minimizer:
        dim, off = n + 2, 1
        X = np.zeros((n + 2, dim))
        X[1:, 0] = 1.0
        X[1:, 1 : n + 1] = tri
        Gr = np.zeros((n + 2, dim))
        Gr[np.arange(1, n + 2), np.arange(1, n + 2)] = 1.0
    else:
        dim, off = n + 1, 0
        X = np.zeros((n + 1, dim))
        X[:, :n] = tri
        Gr = np.eye(n + 1, dim)
    X[X == 0.0] = 0.0  # no negative zeros
    return X, Gr, dim, off


def _coordinates(steps: np.ndarray, has_minimizer: bool):
    """:func:`_coordinates_dense` as sparse matrices."""
    import scipy.sparse as sp

    X, Gr, dim, off = _coordinates_dense(steps, has_minimizer)
    X, Gr = sp.csr_matrix(X), sp.csr_matrix(Gr)
    X.eliminate_zeros()
    return X, Gr, dim, off


def _matrix(rows, cols, vals, shape, dense: bool):
    """The matrix of the given entries (no two at one place): dense, or CSR."""
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    vals = np.asarray(vals, dtype=float)
    if dense:
        out = np.zeros(shape)
        out[rows, cols] = vals
        return out
    import scipy.sparse as sp

    return sp.csr_matrix((vals, (rows, cols)), shape=shape)


def _dense_rows(u: np.ndarray, v: np.ndarray, dg: np.ndarray, c: float, kappa: float) -> np.ndarray:
    """``vec(A_m)`` (row-major) of every pair, one row each, from dense coordinate rows."""
    outer = lambda a, b: np.einsum("ma,mb->mab", a, b)  # noqa: E731
    uv = outer(u, v)
    A = 0.5 * (uv + uv.transpose(0, 2, 1)) + c * outer(dg, dg)
    if kappa != 0.0:
        dv = outer(dg, v)
        A += c * kappa * outer(v, v) - c * kappa * (dv + dv.transpose(0, 2, 1))
    return A.reshape(A.shape[0], A.shape[1] * A.shape[2])


def build_pep(problem: Problem, pairs: np.ndarray | None = None, *, dense: bool = False) -> PEPData:
    """Assemble the normalized PEP of ``problem`` on the given interpolation pairs.

    Parameters
    ----------
    problem : Problem
        The question.
    pairs : array of shape (M, 2), optional
        Interpolation pairs ``(i, j)`` with ``-1`` for ``*``; all ordered pairs by default.
        A subset gives an upper bound on the worst case (a relaxation).
    dense : bool
        Store every coefficient matrix as a dense numpy array (same rows, same values)
        instead of scipy.sparse: for small PEPs, whose run would otherwise be dominated by
        importing scipy.sparse. Memory is ``M (N + 2)^2`` numbers.

    Returns
    -------
    PEPData

    Examples
    --------
    >>> from pepstep.schedules import constant
    >>> data = build_pep(Problem(constant(1.0, 2)))
    >>> data.dim, data.pairs.shape, data.interp_G.shape
    (4, (12, 2), (12, 16))
    """
    fc = problem.function_class
    steps = np.asarray(problem.schedule.steps, dtype=float)
    n = steps.size
    has_min = fc.has_minimizer
    if pairs is None:
        pairs = all_pairs(n, has_min)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    lo = STAR if has_min else 0
    if pairs.size and (pairs.min() < lo or pairs.max() > n or np.any(pairs[:, 0] == pairs[:, 1])):
        raise InputError(
            f"Interpolation pairs must be distinct points in [{lo}, {n}]. Got {pairs.tolist()[:5]}..."
        )
    kappa = fc.kappa
    c = 1.0 / (2.0 * (1.0 - kappa))
    m = pairs.shape[0]
    rows_i, rows_j = pairs[:, 0], pairs[:, 1]
    if dense:
        X, Gr, dim, off = _coordinates_dense(steps, has_min)
        rows_i, rows_j = rows_i + off, rows_j + off
        interp_G = _dense_rows(Gr[rows_j], X[rows_i] - X[rows_j], Gr[rows_i] - Gr[rows_j], c, kappa)
    else:
        X, Gr, dim, off = _coordinates(steps, has_min)
        rows_i, rows_j = rows_i + off, rows_j + off
        u = Gr[rows_j]
        v = (X[rows_i] - X[rows_j]).tocsr()
        dg = (Gr[rows_i] - Gr[rows_j]).tocsr()
        parts = [_rowwise_outer(u, v, dim, 1.0, sym=True), _rowwise_outer(dg, dg, dim, c, sym=False)]
        if kappa != 0.0:
            parts.append(_rowwise_outer(v, v, dim, c * kappa, sym=False))
            parts.append(_rowwise_outer(dg, v, dim, -2.0 * c * kappa, sym=True))
        interp_G = _coo(parts, (m, dim * dim))
    num_f = n + 1
    f_rows = np.concatenate([np.arange(m), np.arange(m)])
    f_cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    f_vals = np.concatenate([np.ones(m), -np.ones(m)])
    keep = f_cols != STAR
    interp_F = _matrix(f_rows[keep], f_cols[keep], f_vals[keep], (m, num_f), dense)

    init_G = _matrix([], [], [], (1, dim * dim), dense)
    init_F = np.zeros(num_f)
    if problem.init is InitialCondition.DIST:
        init_G = _matrix([0], [0], [1.0], (1, dim * dim), dense)
    elif has_min:
        init_F[0] = 1.0
    else:
        init_F[0], init_F[n] = 1.0, -1.0

    obj_G = _matrix([], [], [], (1, dim * dim), dense)
    obj_F = np.zeros(num_f)
    min_G = None
    last = dim - 1
    if problem.measure is Measure.FGAP:
        obj_F[n] = 1.0
    elif problem.measure is Measure.GRADNORM:
        obj_G = _matrix([0], [last * dim + last], [1.0], (1, dim * dim), dense)
    elif problem.measure is Measure.DIST:
        xn = X[off + n]
        xn = xn if dense else xn.toarray().ravel()
        outer = np.outer(xn, xn).ravel()
        nz = np.nonzero(outer)[0]
        obj_G = _matrix(np.zeros(nz.size, dtype=np.int64), nz, outer[nz], (1, dim * dim), dense)
    else:
        # g_k is a unit vector of the basis: each row of min_G is one diagonal entry
        gcols = np.arange(off, off + n + 1)
        min_G = _matrix(np.arange(n + 1), gcols * dim + gcols, np.ones(n + 1), (n + 1, dim * dim), dense)
    return PEPData(dim, num_f, pairs, interp_G, interp_F, init_G, init_F, obj_G, obj_F, min_G, kappa)
