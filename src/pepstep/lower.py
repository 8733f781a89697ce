"""Lower bounds on the worst case from explicit one-dimensional functions.

Any function of the class gives a lower bound on the PEP's value: run gradient
descent on it and read the measure. Two one-dimensional families, both in the class
``F_{mu,L}`` (normalized to ``L = 1``, minimizer ``x* = 0``, ``f* = 0``, ``x_0 = 1``),
give the bounds that the good schedules attain:

- quadratics ``q_c(x) = c x^2 / 2`` with curvature ``c`` in ``[mu, 1]``, where
  ``x_N = prod_k (1 - h_k c)``;
- Huber-type functions ``H_delta(x) = mu x^2 / 2 + (1 - mu) hub_delta(x)``, with
  ``hub_delta(x) = x^2 / 2`` for ``|x| <= delta`` and ``delta |x| - delta^2 / 2`` beyond,
  which are mu-strongly convex and 1-smooth for every ``delta > 0``.

Both families are closed under the scaling ``f -> c^2 f(./c)`` that leaves the ratio of
measure to initial condition unchanged, so ``x_0 = 1`` loses nothing. For ``mu = 0`` and
``f(x_N) - f*`` from ``|x_0 - x*| <= 1`` they give ``(1/2) prod_k (1 - h_k)^2`` (``c = 1``)
and ``1 / (2 (2 sum_k h_k + 1))`` (small ``delta``), the two bounds whose maximum is the
exact worst case of constant steps (Drori & Teboulle 2014; Rotaru, Glineur & Patrinos 2024)
and which the silver and optimized schedules attain.

The bound is the largest ratio over a grid of parameters, refined by zooming in on the
grid's ``_PEAKS`` best local maxima at once: ``_ZOOM_LEVELS`` finer grids of
``_ZOOM_POINTS`` points between each one's neighbours, each level one numpy evaluation
(no scipy import: a small worst case is import-bound).
It is a true lower bound whatever the refinement finds: every value it reports comes from
a function of the class.

:func:`pepstep.generation.worst_case_generated` uses it to stop early: a working set
whose dual bound meets the lower bound has the full PEP's value (the sandwich), even
when its primal answer is not feasible for the full PEP.

References
----------
Y. Drori and M. Teboulle, "Performance of first-order methods for smooth convex
minimization: a novel approach", Math. Program. 145, 2014 (the Huber function).
T. Rotaru, F. Glineur and P. Patrinos, "Exact worst-case convergence rates of gradient
descent: a complete analysis for all constant stepsizes over nonconvex and convex
functions", arXiv:2406.17506, 2024.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .classes import InitialCondition, Measure
from .pep import Problem

__all__ = ["LowerBound", "lower_bound", "trajectory_gradients"]

#: Grid sizes of the two families before refinement.
_GRID_HUBER = 400
_GRID_QUAD = 2000
#: The refinement: each level evaluates this many points between the best point's
#: neighbours and keeps the best one's neighbours, a bracket 16 times narrower each time;
#: 10 levels take the bracket from one grid cell to 1e-12 of it, and the value (a smooth
#: maximum) to rounding.
_ZOOM_POINTS = 33
_ZOOM_LEVELS = 10
#: Local maxima of the grid refined side by side (the best one alone missed the maximum by
#: 1.6e-4 on 50 constant steps of 1.9486; 16 found it).
_PEAKS = 16


@dataclass(frozen=True)
class LowerBound:
    """A worst-case lower bound attained by an explicit function.

    Attributes
    ----------
    value : float
        The normalized value (``L = 1``, unit initial condition) reached by the function.
    family : str
        ``"huber"`` or ``"quadratic"``.
    parameter : float
        ``delta`` of the Huber-type function or the curvature ``c`` of the quadratic.
    """

    value: float
    family: str
    parameter: float


def _measure(problem: Problem, xs: np.ndarray, grad, func) -> np.ndarray:
    """Ratio of the measure to the initial condition; ``xs`` has shape (N+1, P)."""
    m = problem.measure
    if m is Measure.FGAP:
        num = func(xs[-1])
    elif m is Measure.GRADNORM:
        num = grad(xs[-1]) ** 2
    elif m is Measure.DIST:
        num = xs[-1] ** 2
    else:  # MINGRADNORM
        num = np.min(grad(xs) ** 2, axis=0)
    den = 1.0 if problem.init is InitialCondition.DIST else func(xs[0])
    return num / den


def _huber_grad(x, mu: float, delta):
    """The derivative of ``mu x^2 / 2 + (1 - mu) huber_delta(x)``."""
    return mu * x + (1.0 - mu) * np.clip(x, -delta, delta)


def _iterates(steps: np.ndarray, grad, width: int) -> np.ndarray:
    """Gradient descent from ``x_0 = 1`` on ``width`` one-dimensional functions at once: (N+1, width)."""
    xs = np.empty((steps.size + 1, width))
    xs[0] = 1.0
    for k, h in enumerate(steps):
        xs[k + 1] = xs[k] - h * grad(xs[k])
    return xs


def _huber_ratio(problem: Problem, steps: np.ndarray, mu: float, delta: np.ndarray) -> np.ndarray:
    delta = np.atleast_1d(np.asarray(delta, dtype=float))

    def grad(x):
        return _huber_grad(x, mu, delta)

    def func(x):
        ax = np.abs(x)
        hub = np.where(ax <= delta, 0.5 * x * x, delta * ax - 0.5 * delta * delta)
        return 0.5 * mu * x * x + (1.0 - mu) * hub

    xs = _iterates(steps, grad, delta.size)
    with np.errstate(over="ignore", invalid="ignore"):
        r = _measure(problem, xs, grad, func)
    return np.where(np.isfinite(r), r, -np.inf)


def _quad_ratio(problem: Problem, steps: np.ndarray, c: np.ndarray) -> np.ndarray:
    c = np.atleast_1d(np.asarray(c, dtype=float))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        factors = 1.0 - np.outer(steps, c)
        xs = np.vstack([np.ones_like(c), np.cumprod(factors, axis=0)])
        r = _measure(problem, xs, lambda x: c * x, lambda x: 0.5 * c * x * x)
    return np.where(np.isfinite(r), r, -np.inf)


def _best(ratio, grid: np.ndarray, log: bool, peaks: int | None = None):
    """Largest ratio on the grid, refined by zooming in between the neighbours of the grid's
    ``peaks`` best local maxima at once (in ``log(parameter)`` when ``log``). Returns
    ``(parameter, value)``.

    Several peaks, not only the best grid point: on long oscillating schedules the ratio of
    the Huber-type functions is jagged in ``delta``, and its maximum can sit at a local peak
    of the grid that is not the grid's best (measured: 50 constant steps of 1.9486, the best
    grid point's peak is 1.6e-4 below the value 16 peaks find, which is the closed form).
    """
    peaks = _PEAKS if peaks is None else peaks
    vals = ratio(grid)
    m = grid.size
    before = np.concatenate([[-np.inf], vals[:-1]])
    after = np.concatenate([vals[1:], [-np.inf]])
    top = np.flatnonzero((vals >= before) & (vals >= after))  # the grid's local maxima
    top = top[np.argsort(-vals[top], kind="stable")][:peaks]
    best_p, best_v = float(grid[top[0]]), float(vals[top[0]])
    lo, hi = grid[np.maximum(top - 1, 0)], grid[np.minimum(top + 1, m - 1)]
    if log:
        lo, hi = np.log(lo), np.log(hi)
    to_p = np.exp if log else (lambda u: u)
    t = np.linspace(0.0, 1.0, _ZOOM_POINTS)
    rows = np.arange(top.size)
    for _ in range(_ZOOM_LEVELS):
        if not np.any(hi > lo):
            break
        u = lo[:, None] + (hi - lo)[:, None] * t[None, :]
        p = np.clip(to_p(u), grid[0], grid[-1])
        v = ratio(p.ravel()).reshape(p.shape)
        j = np.argmax(v, axis=1)
        r = int(np.argmax(v[rows, j]))
        if v[r, j[r]] > best_v:
            best_p, best_v = float(p[r, j[r]]), float(v[r, j[r]])
        lo, hi = u[rows, np.maximum(j - 1, 0)], u[rows, np.minimum(j + 1, _ZOOM_POINTS - 1)]
    return best_p, best_v


def lower_bound(problem: Problem) -> LowerBound | None:
    """The largest worst-case value of the quadratic and Huber-type families (normalized).

    Returns ``None`` for the nonconvex class (whose measures compare against a lower
    bound on ``f`` that these families do not reach).

    Examples
    --------
    >>> from pepstep import Problem, constant
    >>> lb = lower_bound(Problem(constant(1.0, 5)))
    >>> round(lb.value * 22, 9), lb.family           # 1 / (4 N h + 2), Drori & Teboulle
    (1.0, 'huber')
    """
    fc = problem.function_class
    if not fc.has_minimizer:
        return None
    steps = np.asarray(problem.schedule.steps, dtype=float)
    mu = fc.mu / fc.L
    # Huber: delta from far below the smallest iterate scale to beyond x_0 (all quadratic).
    lo = 1e-3 / (1.0 + float(steps.sum()))
    grid = np.geomspace(lo * 1e-3, 2.0, _GRID_HUBER)
    hp, hv = _best(lambda d: _huber_ratio(problem, steps, mu, d), grid, log=True)
    cgrid = np.linspace(mu, 1.0, _GRID_QUAD)
    qp, qv = _best(lambda c: _quad_ratio(problem, steps, c), cgrid, log=False)
    if hv >= qv:
        return LowerBound(hv, "huber", hp)
    return LowerBound(qv, "quadratic", qp)


def trajectory_gradients(problem: Problem, lb: LowerBound) -> np.ndarray:
    """``|grad f(x_k)|`` for ``k = 0..N`` along gradient descent on the function ``lb`` found
    (normalized: ``L = 1``, ``x_0 - x* = 1``).

    Examples
    --------
    >>> from pepstep import Problem, constant
    >>> p = Problem(constant(1.0, 2))
    >>> lb = lower_bound(p)
    >>> [round(float(g / lb.parameter), 9) for g in trajectory_gradients(p, lb)]   # the linear part
    [1.0, 1.0, 1.0]
    """
    steps = np.asarray(problem.schedule.steps, dtype=float)
    mu = problem.function_class.mu / problem.function_class.L
    p = lb.parameter
    grad = (lambda x: _huber_grad(x, mu, p)) if lb.family == "huber" else (lambda x: p * x)
    with np.errstate(over="ignore", invalid="ignore"):  # diverging steps: inf, then nan
        return np.abs(grad(_iterates(steps, grad, 1)[:, 0]))
