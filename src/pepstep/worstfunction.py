"""Worst-case functions one can look at and run: points, gradients, values and an interpolant.

A :class:`~pepstep.solve.WorstCase` holds the worst-case Gram matrix ``G = P^T P`` of the
basis ``P = [x_0 - x*, g_0, ..., g_N]`` (``[g_0, ..., g_N]`` for the nonconvex class) and the
values ``f_k - f*``. :func:`worst_function` turns it into explicit vectors in the smallest
dimension found, and into a function of the class defined everywhere, so that gradient descent
run on it (:func:`run_gradient_descent`) retraces the worst case.

**Rank reduction** (as PESTO and PEPit do). The SDP's optimal face can hold Gram matrices of
every rank up to ``N + 2``; an interior-point solver returns one near its centre. The PEP is
solved again with its value held, ``measure >= value (1 - 1e-7)``, minimizing ``trace(G)``
(``reduce="trace"``), or a few reweighted traces ``trace((G_k + delta I)^{-1} G)``, the
log-det heuristic (``reduce="logdet"``). The dimension is the number of eigenvalues of the
result above ``1e-8`` times the largest; a last solve over ``G = V S V^T`` (``V`` those
eigenvectors, ``S >= 0`` of that order) gives a Gram matrix of exactly that rank that
satisfies the constraints to the solver's accuracy, with no truncation error.

**Interpolant.** ``f`` is in ``F_{mu,L}`` iff ``f - (mu/2)|x|^2`` is in ``F_{0,L-mu}``; this
also holds for the nonconvex (``mu = -L``) class, where ``f + (L/2)|x|^2`` is convex and
``2L``-smooth. So the data are shifted, ``g~_i = g_i - mu x_i``,
``f~_i = f_i - (mu/2)|x_i|^2``, ``L~ = L - mu``, and interpolated in ``F_{0,L~}`` through the
conjugate: ``f~`` is ``L~``-smooth convex iff its conjugate is ``(1/L~)``-strongly convex, and

.. math::

    h(y) = \\max_i \\Big[\\langle g_i, x_i\\rangle - f_i + \\langle x_i, y - g_i\\rangle
        + \\frac{\\|y - g_i\\|^2}{2\\tilde L}\\Big]

is ``(1/L~)``-strongly convex with ``h(g_i) = <g_i, x_i> - f_i`` and ``x_i`` a subgradient at
``g_i`` exactly when the interpolation inequalities hold, so ``f~ = h^*`` interpolates. Its
value ``f~(x) = max_y <x, y> - h(y)`` is, by minimax over the simplex of piece weights,

.. math::

    \\tilde f(x) = \\min_{\\lambda \\in \\Delta} \\frac{\\tilde L}{2}
        \\Big\\|x - \\sum_i \\lambda_i \\big(x_i - \\tfrac{g_i}{\\tilde L}\\big)\\Big\\|^2
        + \\sum_i \\lambda_i \\Big(f_i - \\frac{\\|g_i\\|^2}{2\\tilde L}\\Big),

a small convex QP (``N + 2`` weights), and its gradient is the maximizer
``y = L~ (x - sum_i lambda_i (x_i - g_i / L~))``. The same ``f~`` is the convex envelope of
``min_i f_i + <g_i, x - x_i> + (L~/2)|x - x_i|^2`` (the upper quadratics all have Hessian
``L~ I``, so a convex combination of them is minimized with one common displacement).

The QP is solved in coordinates about the data point nearest to ``x``: a vertex whose
Frank-Wolfe gap is below ``QP_GAP`` (the function at a data point) is returned at once,
any other point by Clarabel, then a Newton step on the support it finds. A value in double
precision carries about 1e-16 of its size, and an L-smooth function's gradient the square
root of that, so the data are made to satisfy every inequality to rounding first: the
rank-reduced ``(P, F)`` by Gauss-Newton on the active rows, then the values by longest paths.

References
----------
A. B. Taylor, J. M. Hendrickx and F. Glineur, "Smooth strongly convex interpolation and exact
worst-case performance of first-order methods", Math. Program. 161, 2017: Theorem 4
(interpolation in ``F_{mu,L}``) and its constructive proof, which shifts by ``mu/2 |x|^2`` to
``F_{0,L-mu}`` and interpolates there through the ``(1/L)``-strongly convex conjugate; used here
as written above, and for the nonconvex class with ``mu = -L``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from .classes import InitialCondition
from .errors import InputError, SolverError
from .pep import Problem, build_pep, value_scale
from .solve import WorstCase, get_backend, run_model

__all__ = [
    "WorstFunction",
    "GradientDescentRun",
    "worst_function",
    "run_gradient_descent",
    "REDUCTIONS",
    "RTOL_VALUE_HELD",
    "RTOL_RANK",
]

#: How :func:`worst_function` lowers the rank: ``none`` factors the solver's Gram matrix,
#: ``trace`` minimizes its trace with the value held, ``logdet`` reweights the trace a few times.
REDUCTIONS = ("none", "trace", "logdet")
#: The value held by the rank-reducing solves: ``measure >= value (1 - RTOL_VALUE_HELD)``.
RTOL_VALUE_HELD = 1e-7
#: Eigenvalues of the reduced Gram matrix above this times the largest count as dimensions.
RTOL_RANK = 1e-8
#: Reweighted-trace iterations of ``reduce="logdet"`` and its regularization (relative).
LOGDET_ITERATIONS = 3
LOGDET_DELTA = 1e-3
#: Optimality gap (relative to the value) to which the interpolant's QP is solved. Values in
#: double precision are known to about 1e-15 of their size, so an L-smooth function's
#: gradient to about the square root of that; a data point whose vertex is optimal to this
#: gap returns its own value and gradient.
QP_GAP = 1e-12
#: Clarabel tolerances tried by the fixed-rank solve (the most accurate answer is kept: a
#: tolerance too tight for a degenerate problem ends "infeasible", measured at 1e-12).
_FIXED_RANK_TOLERANCES = (1e-12, 1e-11, 1e-10, 1e-9)
#: Ranks the fixed-rank solve tries from the trace solve's (each up to four tolerances).
FIXED_RANK_TRIES = 3
#: Times the fixed-rank solve is repeated in the span of its own answer's leading eigenvectors
#: when that answer has fewer eigenvalues above ``RTOL_RANK`` than dimensions.
REFINE_RANK = 3
#: Largest constraint violation (normalized) a fixed-rank answer may have to be used.
_FIXED_RANK_ACCEPT = 1e-8
#: Clarabel settings of the last, fixed-rank solve and of the interpolant's QP: tighter than the
#: PEP's, the problems being of order a few.
_TIGHT = {
    "tol_gap_abs": 1e-12,
    "tol_gap_rel": 1e-12,
    "tol_feas": 1e-12,
    "reduced_tol_gap_abs": 1e-9,
    "reduced_tol_gap_rel": 1e-9,
    "reduced_tol_feas": 1e-9,
    "max_iter": 400,
}


@dataclass(frozen=True)
class WorstFunction:
    """A worst-case function of gradient descent: its data on the iterates and an interpolant.

    Attributes
    ----------
    dimension : int
        Dimension of the points (the rank of the reduced Gram matrix).
    L, mu : float
        The class constants (``mu = 0`` for ``convex`` and ``nonconvex``).
    function_class : str
        ``convex``, ``strongly-convex`` or ``nonconvex``.
    steps : tuple of float
        The normalized schedule ``h_0..h_{N-1}``.
    points : list of list of float
        ``x_0..x_N`` in user units (``x* = 0`` for classes with a minimizer, else ``x_0 = 0``).
    x_star : list of float or None
        The minimizer (``None`` for the nonconvex class).
    gradients : list of list of float
        ``grad f(x_0)..grad f(x_N)``.
    values : list of float
        ``f(x_0)..f(x_N)``.
    f_star : float or None
        ``f(x*)`` (0), ``None`` for the nonconvex class (whose PEP measures ``f(x_0) - f(x_N)``).
    measure, init : str
        The problem's measure and initial condition; ``R`` its size.
    value : float
        The measure attained by these data, in user units (at least the PEP value times
        ``1 - RTOL_VALUE_HELD``, up to solver accuracy).
    pep_value : float
        The worst case this function was drawn from (``WorstCase.value``).
    reduce : str
        The rank reduction used (:data:`REDUCTIONS`).
    max_violation : float
        Largest interpolation inequality violation of the data, normalized units.
    schedule : str
        The schedule's name (``silver:7``).

    Examples
    --------
    >>> from pepstep import Problem, constant, worst_case
    >>> wf = worst_function(worst_case(Problem(constant(1.0, 2))))
    >>> wf.dimension, round(wf.value, 6)
    (1, 0.1)
    >>> value, grad = wf(wf.points[0])
    >>> bool(abs(value - wf.values[0]) < 1e-12), bool(abs(grad[0] - wf.gradients[0][0]) < 1e-9)
    (True, True)
    """

    dimension: int
    L: float
    mu: float
    function_class: str
    steps: tuple
    points: list
    x_star: list | None
    gradients: list
    values: list
    f_star: float | None
    measure: str
    init: str
    R: float
    value: float
    pep_value: float
    reduce: str = "trace"
    max_violation: float = 0.0
    schedule: str = "custom"
    _interp: _Interpolant = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._interp is None:
            object.__setattr__(self, "_interp", _Interpolant.from_user(self))

    @property
    def num_steps(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return (
            f"WorstFunction({self.function_class} {self.measure} from {self.init}, N={self.num_steps}, "
            f"dimension={self.dimension}, value={self.value:.7g})"
        )

    def summary(self) -> str:
        """Every scalar field on its own line (the long form of ``repr``)."""
        return "\n".join(
            [
                f"worst function  {self.function_class} {self.measure} from {self.init}, {self.schedule}",
                f"dimension       {self.dimension}",
                f"value           {self.value:.12g} (worst case {self.pep_value:.12g})",
                f"L, mu, R        {self.L:g}, {self.mu:g}, {self.R:g}",
                f"N               {self.num_steps}",
                f"reduce          {self.reduce}",
                f"max violation   {self.max_violation:.3g} (normalized)",
            ]
        )

    def __call__(self, x) -> tuple[float, np.ndarray]:
        """``(f(x), grad f(x))`` of the interpolant at any ``x`` (user units)."""
        return self.evaluate(x)

    def evaluate(self, x) -> tuple[float, np.ndarray]:
        """``(f(x), grad f(x))`` of the interpolant at ``x`` (a vector of ``dimension`` entries)."""
        x = np.asarray(x, dtype=float).reshape(-1)
        if x.size != self.dimension or not np.all(np.isfinite(x)):
            raise InputError(
                f"The point must be {self.dimension} finite numbers. Got shape {x.shape} ({x[:4].tolist()}...)."
            )
        return self._interp.evaluate(x)

    def to_json(self, provenance: dict | None = None) -> str:
        """The data as one JSON object (keys: the attributes, plus ``class`` and ``num_steps``;
        ``provenance`` as given, e.g. :func:`pepstep.reproduce.provenance`)."""
        doc = {
            "dimension": self.dimension,
            "class": self.function_class,
            "L": self.L,
            "mu": self.mu,
            "schedule": self.schedule,
            "steps": list(self.steps),
            "num_steps": self.num_steps,
            "measure": self.measure,
            "init": self.init,
            "R": self.R,
            "value": self.value,
            "pep_value": self.pep_value,
            "reduce": self.reduce,
            "max_violation": self.max_violation,
            "points": self.points,
            "x_star": self.x_star,
            "gradients": self.gradients,
            "values": self.values,
            "f_star": self.f_star,
            "construction": "conjugate of a max of (1/(L - mu))-strongly convex quadratics, shifted "
            "by mu/2 |x|^2 (Taylor, Hendrickx & Glineur 2017, Theorem 4)",
        }
        if provenance is not None:
            doc["provenance"] = provenance
        return json.dumps(doc, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> WorstFunction:
        """Read back :meth:`to_json`'s output (the interpolant is rebuilt from the data)."""
        try:
            d = json.loads(text)
            return cls(
                dimension=int(d["dimension"]),
                L=float(d["L"]),
                mu=float(d["mu"]),
                function_class=str(d["class"]),
                steps=tuple(float(h) for h in d["steps"]),
                points=d["points"],
                x_star=d["x_star"],
                gradients=d["gradients"],
                values=d["values"],
                f_star=d["f_star"],
                measure=str(d["measure"]),
                init=str(d["init"]),
                R=float(d["R"]),
                value=float(d["value"]),
                pep_value=float(d["pep_value"]),
                reduce=str(d.get("reduce", "trace")),
                max_violation=float(d.get("max_violation", 0.0)),
                schedule=str(d.get("schedule", "custom")),
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"Not a worst-function JSON object: {exc}.") from None

    # units ---------------------------------------------------------------------------
    @property
    def x_unit(self) -> float:
        """The length that normalized coordinates are measured in: R, or sqrt(Delta / L)."""
        return _scales(self.L, self.R, self.init)[0]

    @property
    def f_unit(self) -> float:
        """The unit of function values: L R^2, or Delta."""
        return _scales(self.L, self.R, self.init)[1]


@dataclass(frozen=True)
class GradientDescentRun:
    """Gradient descent run on a :class:`WorstFunction`'s interpolant from its ``x_0``.

    Attributes
    ----------
    points, gradients : ndarray, shape (N + 1, dimension)
        The iterates and the interpolant's gradients there (user units).
    values : ndarray, shape (N + 1,)
        ``f(x_k)``.
    measure_value : float
        The problem's measure on this run (``f(x_N) - f*``, ``|g_N|^2``, ``|x_N - x*|^2`` or
        ``min_k |g_k|^2``).
    """

    points: np.ndarray
    gradients: np.ndarray
    values: np.ndarray
    measure_value: float

    def __repr__(self) -> str:
        return f"GradientDescentRun(N={len(self.values) - 1}, measure_value={self.measure_value:.7g})"


def run_gradient_descent(wf: WorstFunction) -> GradientDescentRun:
    """Run ``x_{k+1} = x_k - (h_k / L) grad f(x_k)`` on ``wf``'s interpolant from ``wf.points[0]``.

    Closes the loop: the measure of the run equals ``wf.value`` when the interpolant is right.

    Examples
    --------
    >>> from pepstep import Problem, constant, worst_case
    >>> wf = worst_function(worst_case(Problem(constant(1.0, 2))))
    >>> abs(run_gradient_descent(wf).measure_value - wf.value) < 1e-8
    True
    """
    x = np.asarray(wf.points[0], dtype=float)
    pts, grads, vals = [], [], []
    for k in range(wf.num_steps + 1):
        v, g = wf.evaluate(x)
        pts.append(x)
        grads.append(g)
        vals.append(v)
        if k < wf.num_steps:
            x = x - (wf.steps[k] / wf.L) * g
    pts, grads, vals = np.array(pts), np.array(grads), np.array(vals)
    x_star = None if wf.x_star is None else np.asarray(wf.x_star, float)
    return GradientDescentRun(pts, grads, vals, _measure(wf.measure, pts, grads, vals, x_star, wf.f_star))


def _measure(measure: str, pts, grads, vals, x_star, f_star) -> float:
    if measure == "fgap":
        return float(vals[-1] - f_star)
    if measure == "gradnorm":
        return float(grads[-1] @ grads[-1])
    if measure == "dist":
        d = pts[-1] - x_star
        return float(d @ d)
    return float(np.min(np.einsum("ij,ij->i", grads, grads)))


def _scales(L: float, R: float, init: str) -> tuple[float, float, float]:
    """``(x, f, g)`` units: a normalized point ``x`` (L = 1, R = 1) is ``x_unit * x`` in user units."""
    sx = R if init == InitialCondition.DIST.value else math.sqrt(R / L)
    return sx, L * sx * sx, L * sx


# ------------------------------------------------------------------------ rank reduction


def worst_function(wc: WorstCase, *, reduce: str = "trace", solver: str = "clarabel") -> WorstFunction:
    """The worst case's points, gradients and values in the smallest dimension found, with an
    interpolating function of the class.

    Parameters
    ----------
    wc : WorstCase
        An ``optimal`` worst case (any method: the rank-reducing solve uses all pairs).
    reduce : str
        ``trace`` (default): minimize ``trace(G)`` with the value held at ``value (1 - 1e-7)``;
        ``logdet``: then a few reweighted traces; ``none``: factor ``wc.gram`` as it is.
    solver : str
        The backend of the rank-reducing SDPs.

    Returns
    -------
    WorstFunction

    Raises
    ------
    InputError
        ``wc`` is not optimal, or ``reduce`` unknown.
    SolverError
        A rank-reducing solve failed.

    References
    ----------
    Taylor, Hendrickx & Glineur, Math. Program. 161 (2017), Theorem 4 (interpolation) and its
    constructive proof; the trace heuristic for low-rank worst cases as in PESTO and PEPit.
    """
    if reduce not in REDUCTIONS:
        raise InputError(f"The 'reduce' must be one of {', '.join(REDUCTIONS)}. Got reduce={reduce!r}.")
    if not isinstance(wc, WorstCase):
        raise InputError(f"worst_function takes a WorstCase. Got {type(wc).__name__}.")
    if not wc.ok:
        raise InputError(
            f"The worst case must be optimal to draw its function. Got status {wc.status.value!r}."
        )
    problem = wc.problem
    data = build_pep(problem)
    value = float(wc.normalized_value)
    G = 0.5 * (wc.gram + wc.gram.T)
    F = np.asarray(wc.function_values, float)
    if G.shape != (data.dim, data.dim):
        raise InputError(
            f"The worst case's Gram matrix has shape {G.shape}; expected {(data.dim, data.dim)}."
        )
    used = reduce
    if reduce != "none":
        try:
            G, F = _reduced_gram(data, value, reduce, solver)
        except SolverError:
            # an optimal face with no interior (Grimmer's t = 3 pattern five times: Clarabel fails
            # on the value-held problem): the solver's own Gram matrix, cut to its rank below
            used = "none"
    P = _factor(G)
    P, F, exact = _fewest_directions(data, value, P, F)
    if not exact and reduce != "none":
        # no cut of the truncated answer is exact: a solve inside its leading eigenvectors first
        try:
            P, F = _fixed_rank(data, value, G, P.shape[0], solver)
        except SolverError:
            pass
        else:
            P, F, _ = _fewest_directions(data, value, P, F)
    return _assemble(problem, P, F, value, wc.value, used)


def _fewest_directions(data, value: float, P: np.ndarray, F: np.ndarray):
    """``(P, F, exact)``: the fewest leading directions of ``P`` that, polished, satisfy every
    row to ``_DROP_ACCEPT`` and keep the value to ``_DROP_VALUE`` (``exact`` True), else ``P``
    polished in all its directions (``exact`` False).

    A trace-minimizing solve leaves small eigenvalues where the optimal face is flat (silver
    N = 7: two extra coordinates of 5e-8; N = 15: seven, one of 1.6e-6), which a fixed-rank
    solve cannot remove when its subspace is off by their square root; Gauss-Newton from the
    cut factor, on the rows tight before the cut, lands on an exact worst case of that dimension
    when one is near. Trying one direction first also keeps the Gauss-Newton systems small
    (silver N = 31: 83 s in least squares over all 33 directions, against one).
    """
    _, sing, Vt = np.linalg.svd(P, full_matrices=False)
    active = _active_rows(data, P, F)  # tight before the cut: the cut moves rows by far more
    for r in range(1, P.shape[0] + 1):
        Pt, Ft = _polish_data(data, value, sing[:r, None] * Vt[:r], F, active=active)
        G = Pt.T @ Pt
        if _violation(data, value, G, Ft) <= _DROP_ACCEPT and _measure_rows(data, G, Ft) >= value * (
            1.0 - _DROP_VALUE
        ):
            return Pt, Ft, True
    return Pt, Ft, False


def _active_rows(data, P: np.ndarray, F: np.ndarray) -> np.ndarray:
    """Which of the interpolation rows and the initial condition are within ``_ACTIVE`` of tight."""
    G = (P.T @ P).reshape(-1)
    c = np.concatenate(
        [data.interp_G @ G + data.interp_F @ F, [float((data.init_G @ G)[0] + data.init_F @ F) - 1]]
    )
    return c > -_ACTIVE


def _measure_rows(data, G: np.ndarray, F: np.ndarray) -> float:
    """The normalized measure of ``(G, F)``."""
    g = G.reshape(-1)
    m = float((data.obj_G @ g)[0] + data.obj_F @ F)
    if data.min_G is not None:
        m += float(np.min(data.min_G @ g))
    return m


def _factor(G: np.ndarray) -> np.ndarray:
    """``P`` (rank x n) with ``P^T P = G`` truncated to eigenvalues above ``RTOL_RANK`` of the largest."""
    w, V = np.linalg.eigh(0.5 * (G + G.T))
    top = max(float(w[-1]), 0.0)
    keep = w > RTOL_RANK * top if top > 0 else np.zeros_like(w, bool)
    if not keep.any():
        keep[-1] = True
    w, V = w[keep][::-1], V[:, keep][:, ::-1]
    return (V * np.sqrt(np.maximum(w, 0.0))).T


def _primal(data, value: float):
    """cvxpy variables and constraints of the normalized primal PEP with its value held."""
    import cvxpy as cp  # lazily: only the solve layer needs cvxpy at import time

    d = data.dim
    G = cp.Variable((d, d), PSD=True)
    return G, _constraints(data, value, G)


def _constraints(data, value: float, G):
    import cvxpy as cp

    F = cp.Variable(data.num_f)
    g = cp.vec(G, order="C")
    cons = []
    if data.interp_G.shape[0]:
        cons.append(data.interp_G @ g + data.interp_F @ F <= 0)
    cons.append(data.init_G @ g + data.init_F @ F <= 1)
    measure = data.obj_G @ g + data.obj_F @ F
    if data.min_G is not None:
        t = cp.Variable()
        cons.append(t <= data.min_G @ g)
        measure = measure + t
    # held relative to the value, so that the solver's absolute tolerance means a relative one
    cons.append(measure / value >= 1.0 - RTOL_VALUE_HELD)
    return F, cons


def _solve(problem, solver: str, options: dict | None, what: str) -> None:
    backend = get_backend(solver)
    backend.ensure_available()
    status, detail = run_model(problem, backend, options)
    if status not in ("optimal", "optimal_inaccurate"):
        for extra in backend.retry_options:
            status, detail = run_model(problem, backend, {**(options or {}), **extra})
            if status in ("optimal", "optimal_inaccurate"):
                break
    if status not in ("optimal", "optimal_inaccurate"):
        raise SolverError(
            f"The {what} solve ({solver}) ended with status {status!r}{': ' + detail if detail else ''}."
        )


def _reduced_gram(data, value: float, reduce: str, solver: str):
    import cvxpy as cp

    G, (F, cons) = _primal(data, value)
    weight = cp.Parameter((data.dim, data.dim), symmetric=True, value=np.eye(data.dim))
    prob = cp.Problem(cp.Minimize(cp.trace(weight @ G)), cons)
    _solve(prob, solver, None, "trace-minimizing")
    Gv, Fv = np.asarray(G.value, float), np.asarray(F.value, float)
    if reduce == "logdet":
        for _ in range(LOGDET_ITERATIONS):
            Gs = 0.5 * (Gv + Gv.T)
            delta = LOGDET_DELTA * max(float(np.linalg.eigvalsh(Gs)[-1]), 1e-12)
            W = np.linalg.inv(Gs + delta * np.eye(data.dim))
            weight.value = 0.5 * (W + W.T)
            _solve(prob, solver, None, "reweighted-trace")
            Gv, Fv = np.asarray(G.value, float), np.asarray(F.value, float)
    return Gv, Fv


def _fixed_rank(data, value: float, G: np.ndarray, rank: int, solver: str):
    """``P`` (rank x n) and ``F`` from a last solve inside the span of ``G``'s leading eigenvectors.

    Minimizes ``trace(S)`` over ``G = V S V^T`` (``V`` the ``rank`` leading eigenvectors): a
    Gram matrix of that rank exactly, meeting the constraints to the solver's accuracy with no
    truncation error. When the subspace is too far from an optimal one for the value held (the
    eigenvectors of a trace-minimizing solve are accurate to about the square root of its small
    eigenvalues; silver N = 7: rank 1 fails, rank 2 holds), the next eigenvector is added.
    """
    found = None
    for r in range(rank, min(rank + FIXED_RANK_TRIES, data.dim + 1)):
        V = _leading(G, r)
        found = _fixed_rank_solve(data, value, V, solver)
        if found is not None:
            break
    if found is None:
        raise SolverError(f"The fixed-rank solve ({solver}) of the worst function failed in every dimension.")
    # the answer's eigenvectors are more accurate than the first solve's: try a lower rank again
    for _ in range(REFINE_RANK):
        S, _F = found
        ws = np.linalg.eigvalsh(S)
        lower = int(np.sum(ws > RTOL_RANK * max(ws[-1], 0.0)))
        if lower >= V.shape[1] or lower < 1:
            break
        Gs = V @ S @ V.T
        trial = _fixed_rank_solve(data, value, _leading(Gs, lower), solver)
        if trial is None:
            break
        V, found = _leading(Gs, lower), trial
    S, F = found
    ws, U = np.linalg.eigh(S)
    P = ((V @ U) * np.sqrt(np.maximum(ws, 0.0))).T[::-1]
    return P, F


def _leading(G: np.ndarray, r: int) -> np.ndarray:
    """The ``r`` leading eigenvectors of ``G`` as columns."""
    return np.linalg.eigh(0.5 * (G + G.T))[1][:, ::-1][:, :r]


def _fixed_rank_solve(data, value: float, V: np.ndarray, solver: str):
    """``(S, F)`` minimizing ``trace(S)`` with ``G = V S V^T`` feasible, or ``None``."""
    import cvxpy as cp

    r = V.shape[1]
    S = cp.Variable((r, r), PSD=True)
    G = V @ S @ V.T
    F, cons = _constraints(data, value, G)
    prob = cp.Problem(cp.Minimize(cp.trace(S)), cons)
    backend = get_backend(solver)
    best = None
    for tol in _FIXED_RANK_TOLERANCES if solver == "clarabel" else (None,):
        opts = (
            None
            if tol is None
            else {"tol_gap_abs": tol, "tol_gap_rel": tol, "tol_feas": tol, "max_iter": 400}
        )
        status, _ = run_model(prob, backend, opts)
        if status not in ("optimal", "optimal_inaccurate") or S.value is None:
            continue
        Sv = np.asarray(S.value, float)
        Sv = 0.5 * (Sv + Sv.T)
        Fv = np.asarray(F.value, float)
        viol = _violation(data, value, V @ Sv @ V.T, Fv)
        if viol <= _FIXED_RANK_ACCEPT and (best is None or viol < best[0]):
            best = (viol, Sv, Fv)
    return None if best is None else best[1:]


#: Largest violation (normalized) and relative loss of value after dropping directions.
_DROP_ACCEPT = 1e-13
_DROP_VALUE = 3 * RTOL_VALUE_HELD
#: Rows within this of 0 (normalized) count as active for :func:`_polish_active`.
_ACTIVE = 1e-7


def _polish_data(data, value: float, P: np.ndarray, F: np.ndarray, active=None):
    """:func:`_polish_active` free, then, if that loses more than ``2 RTOL_VALUE_HELD`` of the
    value, with the measure held (when tight rows pin the measure, holding it too leaves the
    system inconsistent; when they do not, a free step can slide down the optimal face)."""
    P1, F1 = _polish_active(data, P, F, None, active=active)
    G1 = P1.T @ P1
    if _measure_rows(data, G1, F1) >= value * (1.0 - 2.0 * RTOL_VALUE_HELD):
        return P1, F1
    P2, F2 = _polish_active(data, P, F, value * (1.0 - RTOL_VALUE_HELD), active=active)
    if _violation(data, value, P2.T @ P2, F2) <= max(_violation(data, value, G1, F1), _DROP_ACCEPT):
        return P2, F2
    return P1, F1


def _polish_active(data, P: np.ndarray, F: np.ndarray, target, iterations: int = 20, active=None):
    """Gauss-Newton on the active rows: ``(P, F)`` moved (minimum-norm steps) until every
    interpolation row, and the initial condition, within ``_ACTIVE`` of tight is tight to
    rounding, with the measure held at ``target`` unless it is None (for ``mingradnorm``, each
    ``|g_k|^2`` within ``_ACTIVE`` of the least).

    A solver meets a tight row to about 1e-11 (a degenerate trace solve, silver N = 15, to
    3e-8); where rows are tight both ways (the function affine or quadratic along some points)
    their sum can then be positive, which no choice of values repairs, and the interpolant's
    gradient at a point moves by the square root of such a violation. The exact worst case
    satisfies the active rows with equality, so the system is consistent and Gauss-Newton
    converges to a nearby solution of it. Kept only if it lowers the largest violation.
    """
    d = data.dim
    F = np.asarray(F, float).reshape(-1)
    # the interpolation rows (<= 0), the initial condition (<= 1), then the measure (= target)
    mats = [data.interp_G.toarray(), data.init_G.toarray()]
    vecs = [data.interp_F.toarray(), data.init_F[None, :]]
    offs = [np.zeros(data.interp_G.shape[0]), [1.0]]
    G0 = (P.T @ P).reshape(-1)
    if target is None:
        pass
    elif data.min_G is None:
        mats.append(data.obj_G.toarray())
        vecs.append(data.obj_F[None, :])
        offs.append([target])
    else:
        grads = data.min_G @ G0
        near = grads <= grads.min() + _ACTIVE
        mats.append(data.min_G.toarray()[near])
        vecs.append(np.zeros((int(near.sum()), data.num_f)))
        offs.append(np.full(int(near.sum()), target))
    A = np.concatenate(mats).reshape(-1, d, d)
    A = 0.5 * (A + A.transpose(0, 2, 1))
    B = np.vstack(vecs)
    offset = np.concatenate([np.asarray(o, float) for o in offs])
    m = data.interp_G.shape[0] + 1  # rows that are inequalities

    def rows(P, F):
        return np.einsum("mab,ra,rb->m", A, P, P) + B @ F - offset

    c0 = rows(P, F)
    if active is None:
        active = c0[:m] > -_ACTIVE
    active = np.concatenate([active, np.ones(A.shape[0] - m, bool)])
    best = (float(np.max(c0[:m])), P, F)
    for _ in range(iterations):
        c = rows(P, F)[active]
        if np.max(np.abs(c)) < 1e-15:
            break
        JP = 2.0 * np.einsum("mab,rb->mra", A[active], P).reshape(c.size, -1)
        J = np.hstack([JP, B[active]])
        step = np.linalg.lstsq(J, -c, rcond=1e-12)[0]
        P = P + step[: P.size].reshape(P.shape)
        F = F + step[P.size :]
        worst = float(np.max(rows(P, F)[:m]))
        if worst < best[0]:
            best = (worst, P, F)
    return best[1], best[2]


def _violation(data, value: float, G: np.ndarray, F: np.ndarray) -> float:
    """Largest violation of the interpolation rows, the initial condition and the held value."""
    g = G.reshape(-1)
    rows = [float(np.max(data.interp_G @ g + data.interp_F @ F))] if data.interp_G.shape[0] else []
    rows.append(float((data.init_G @ g)[0] + data.init_F @ F - 1.0))
    return max(rows)


# ------------------------------------------------------------------------ assembly


def _assemble(
    problem: Problem, P: np.ndarray, F, value: float, pep_value: float, reduce: str
) -> WorstFunction:
    fc = problem.function_class
    steps = np.asarray(problem.schedule.steps, float)
    n = steps.size
    has_min = fc.has_minimizer
    off = 1 if has_min else 0
    # each coordinate's sign (free: G = P^T P) chosen so that x_0 - x* (nonconvex: the largest
    # entry) is positive along it, so that pictures start on the right
    lead = P[:, 0] if has_min else P[np.arange(P.shape[0]), np.argmax(np.abs(P), axis=1)]
    P = P * np.where(lead < 0, -1.0, 1.0)[:, None]
    grads = P[:, off:].T  # (N+1, r), normalized
    x0 = P[:, 0] if has_min else np.zeros(P.shape[0])
    xs = [x0]
    for k in range(n):
        xs.append(xs[-1] - steps[k] * grads[k])
    xs = np.array(xs)
    F = np.asarray(F, float).reshape(-1)
    sx, sf, sg = _scales(fc.L, problem.R, problem.init.value)
    x_star = np.zeros(P.shape[0]) if has_min else None
    kappa = fc.kappa
    interp = _Interpolant.build(xs, grads, F, x_star, kappa)
    F = _repair_values(interp, has_min)
    interp = _Interpolant.build(xs, grads, F, x_star, kappa)
    viol = interp.max_violation()
    m = _measure(problem.measure.value, xs, grads, F, x_star, 0.0 if has_min else None)
    return WorstFunction(
        dimension=int(P.shape[0]),
        L=fc.L,
        mu=fc.mu,
        function_class=fc.kind,
        steps=tuple(float(h) for h in steps),
        points=(xs * sx).tolist(),
        x_star=None if x_star is None else (x_star * sx).tolist(),
        gradients=(grads * sg).tolist(),
        values=(F * sf).tolist(),
        f_star=0.0 if has_min else None,
        measure=problem.measure.value,
        init=problem.init.value,
        R=problem.R,
        value=float(m * value_scale(problem)),
        pep_value=float(pep_value),
        reduce=reduce,
        max_violation=viol,
        schedule=problem.schedule.name,
        _interp=interp.scaled(sx, sf),
    )


def _repair_values(interp: _Interpolant, has_min: bool) -> np.ndarray:
    """The values raised to satisfy every ``f_i >= f_j + t_ij`` exactly (Bellman-Ford, longest paths).

    The solver meets the inequalities to about 1e-11; the interpolant's gradient at a data point
    moves by the square root of a violation (the QP is strongly convex in ``A lambda``), so the
    values are raised until none is left in floating point. Differences of values are all that
    the inequalities see: ``f*`` is shifted back to 0. A cycle of inequalities whose terms add up
    above 0 (points and gradients themselves inconsistent) leaves its violation.
    """
    t = interp.pair_terms()
    F = interp.fs.copy()
    for _ in range(4 * F.size):
        raised = np.maximum(F, np.max(F[None, :] + t, axis=1))
        if np.array_equal(raised, F):
            break
        F = raised
    if has_min:
        F = F[1:] - F[0]
    return F


# ------------------------------------------------------------------------ the interpolant


@dataclass(frozen=True)
class _Interpolant:
    """``f(x) = min_{lambda in simplex} (Lt/2)|x - A lambda|^2 + b . lambda + (kappa/2)|x - c|^2``.

    ``A``, ``b`` are those of the module notes for the data shifted by ``kappa/2 |x - c|^2``,
    ``c`` the data point nearest to ``x`` (any ``c`` gives the same function; the nearest keeps
    ``x - a_j`` free of cancellation when the points lie far from the origin, e.g. 1e3 away
    under the ``fgap`` initial condition, where ``A`` built once about 0 lost 1e-10 in the
    optimality test of a vertex). Normalized (L = 1, R = 1) data; ``sx``, ``sf`` convert to
    user units: ``f_user(x) = sf f(x / sx) + shift``, ``grad f_user(x) = (sf / sx) grad f(x / sx)``.
    """

    xs: np.ndarray  # (m, r) all points (x* first if any)
    gs: np.ndarray
    fs: np.ndarray
    kappa: float
    sx: float = 1.0
    sf: float = 1.0
    shift: float = 0.0

    @property
    def Lt(self) -> float:
        return 1.0 - self.kappa

    @classmethod
    def build(cls, xs, grads, F, x_star, kappa: float) -> _Interpolant:
        if x_star is not None:
            xs = np.vstack([x_star[None, :], xs])
            grads = np.vstack([np.zeros_like(x_star)[None, :], grads])
            F = np.concatenate([[0.0], F])
        return cls(np.asarray(xs, float), np.asarray(grads, float), np.asarray(F, float), kappa)

    def pieces(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``A`` (r x m) and ``b`` of the convex part ``f - (kappa/2)|x - c|^2`` in coordinates ``x - c``."""
        Lt, k = self.Lt, self.kappa
        dx = self.xs - c
        gt = self.gs - k * dx
        ft = self.fs - 0.5 * k * np.einsum("ij,ij->i", dx, dx)
        return (dx - gt / Lt).T, ft - np.einsum("ij,ij->i", gt, gt) / (2.0 * Lt)

    @classmethod
    def from_user(cls, wf: WorstFunction) -> _Interpolant:
        sx, sf, sg = _scales(wf.L, wf.R, wf.init)
        xs = np.asarray(wf.points, float) / sx
        grads = np.asarray(wf.gradients, float) / sg
        F = (np.asarray(wf.values, float) - (wf.f_star or 0.0)) / sf
        x_star = None if wf.x_star is None else np.asarray(wf.x_star, float) / sx
        kappa = -1.0 if wf.function_class == "nonconvex" else wf.mu / wf.L
        return cls.build(
            xs.reshape(len(wf.values), -1), grads.reshape(len(wf.values), -1), F, x_star, kappa
        ).scaled(sx, sf, wf.f_star or 0.0)

    def scaled(self, sx: float, sf: float, shift: float = 0.0) -> _Interpolant:
        return _Interpolant(self.xs, self.gs, self.fs, self.kappa, sx, sf, shift)

    def pair_terms(self) -> np.ndarray:
        """``t[i, j]`` with the inequality ``f_i >= f_j + t[i, j]`` (all but the values)."""
        X, Gr, k = self.xs, self.gs, self.kappa
        dx = X[:, None, :] - X[None, :, :]  # x_i - x_j
        dg = Gr[:, None, :] - Gr[None, :, :]
        lin = np.einsum("jd,ijd->ij", Gr, dx)
        quad = (np.sum(dg * dg, -1) + k * np.sum(dx * dx, -1) - 2 * k * np.sum(dg * dx, -1)) / (2 * (1 - k))
        t = lin + quad
        np.fill_diagonal(t, -np.inf)
        return t

    def max_violation(self) -> float:
        """Largest violation of ``f_i >= f_j + <g_j, x_i - x_j> + ...`` over ordered pairs (normalized)."""
        F = self.fs
        viol = F[None, :] + self.pair_terms() - F[:, None]
        return float(max(np.max(viol), 0.0)) if viol.size > 1 else 0.0

    def evaluate(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        u = x / self.sx
        v, g = self._normalized(u)
        return float(self.sf * v + self.shift), (self.sf / self.sx) * g

    def _normalized(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        c = self.xs[int(np.argmin(np.sum((self.xs - u) ** 2, axis=1)))]
        A, b = self.pieces(c)
        w = u - c
        lam = _simplex_qp(A, b, self.Lt, w)
        z = A @ lam
        vt = 0.5 * self.Lt * float((w - z) @ (w - z)) + float(b @ lam)
        gt = self.Lt * (w - z)
        return vt + 0.5 * self.kappa * float(w @ w), gt + self.kappa * w


def _qp_objective(A, b, Lt, u, lam) -> float:
    r = u - A @ lam
    return 0.5 * Lt * float(r @ r) + float(b @ lam)


def _simplex_qp(A: np.ndarray, b: np.ndarray, Lt: float, u: np.ndarray) -> np.ndarray:
    """``argmin_{lambda in simplex} (Lt/2)|u - A lambda|^2 + b . lambda`` (Clarabel, then a
    Newton polish on the support it finds)."""
    import clarabel
    import scipy.sparse as sp

    r, m = A.shape
    # a vertex optimal to QP_GAP (the interpolant at a data point) needs no solve: its
    # Frank-Wolfe gap bounds its distance to the optimal value
    vert = np.array([_qp_objective(A, b, Lt, u, e) for e in np.eye(m)])
    j = int(np.argmin(vert))
    grad = -Lt * A.T @ (u - A[:, j]) + b
    if grad[j] - grad.min() <= QP_GAP * (1.0 + abs(vert[j])):
        lam = np.zeros(m)
        lam[j] = 1.0
        return lam
    # variables (z, lambda): min (Lt/2)|u - z|^2 + b.lambda, z = A lambda, 1.lambda = 1, lambda >= 0
    P = sp.block_diag([Lt * sp.eye(r), sp.csc_matrix((m, m))], format="csc")
    q = np.concatenate([-Lt * u, b])
    Aeq = sp.hstack([sp.eye(r), -sp.csc_matrix(A)])
    ones = sp.hstack([sp.csc_matrix((1, r)), sp.csc_matrix(np.ones((1, m)))])
    nonneg = sp.hstack([sp.csc_matrix((m, r)), -sp.eye(m)])
    Acon = sp.vstack([Aeq, ones, nonneg], format="csc")
    rhs = np.concatenate([np.zeros(r), [1.0], np.zeros(m)])
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    for key, val in _TIGHT.items():
        setattr(settings, key, val)
    sol = clarabel.DefaultSolver(
        sp.triu(P, format="csc"),
        q,
        Acon,
        rhs,
        [clarabel.ZeroConeT(r + 1), clarabel.NonnegativeConeT(m)],
        settings,
    ).solve()
    lam = np.maximum(np.asarray(sol.x[r:], float), 0.0)
    if not np.isfinite(lam).all() or lam.sum() <= 0:
        lam = np.zeros(m)
        lam[j] = 1.0
        return lam
    lam /= lam.sum()
    return _polish(A, b, Lt, u, lam)


def _polish(A, b, Lt, u, lam) -> np.ndarray:
    """Solve the KKT system on the support of ``lam``; keep the result if feasible and no worse."""
    S = np.flatnonzero(lam > 1e-9)
    k = S.size
    H = Lt * A[:, S].T @ A[:, S]
    K = np.block([[H, np.ones((k, 1))], [np.ones((1, k)), np.zeros((1, 1))]])
    rhs = np.concatenate([Lt * A[:, S].T @ u - b[S], [1.0]])
    sol = np.linalg.lstsq(K, rhs, rcond=1e-13)[0]
    mu = sol[:k]
    if np.all(mu >= -1e-15) and abs(mu.sum() - 1.0) < 1e-12:
        cand = np.zeros_like(lam)
        cand[S] = np.maximum(mu, 0.0)
        cand /= cand.sum()
        if _qp_objective(A, b, Lt, u, cand) <= _qp_objective(A, b, Lt, u, lam) + 1e-15:
            return cand
    return lam
