"""Optimize a step-size schedule: minimize the exact worst case over the steps.

The worst case ``w(h)`` of gradient descent (the PEP value, normalized ``L = R = 1``) is the
optimal value of an SDP whose data depend on the steps ``h``. Its gradient comes from one
primal-dual solve (envelope theorem, Danskin): with the Lagrangian

.. math::

    \\mathcal{L}(G, F, \\lambda, \\tau; h) = C(h) \\cdot G + c \\cdot F
        - \\sum_{ij} \\lambda_{ij} \\big(f_j - f_i + \\operatorname{tr}(A_{ij}(h) G)\\big)
        - \\tau (\\text{init} - 1),

an optimal pair ``(G, F; lambda, tau)`` gives

.. math::

    \\frac{\\partial w}{\\partial h_k}
        = -\\sum_{ij} \\lambda_{ij} \\operatorname{tr}\\Big(\\frac{\\partial A_{ij}}{\\partial h_k} G\\Big)
          + \\operatorname{tr}\\Big(\\frac{\\partial C}{\\partial h_k} G\\Big),

where ``A_ij`` depends on ``h`` through ``x_i - x* = (x_0 - x*) - sum_{l<i} h_l g_l / L``.
``w`` is not differentiable where the worst-case function switches (there the formula gives
one subgradient); the optimizer copes with multistarts and a polishing stage.

The minimization (:func:`optimize`) starts with a composition search from scratch
(:func:`compose_search`): a dynamic program over lengths whose schedules are joins of two
shorter best schedules around one step fitted by a 1-D search on the exact worst case, with
the pieces drawn from a few criteria on the same class (f-gap and gradient norm from the
distance, gradient norm from the f-gap); for convex f(x_N) - f* it rediscovers the
composed (OBS-F) schedules of Grimmer, Shu & Wang without being given them. Its winner and
the ``kinds`` starts are then polished by a local method within bounds ``(H_MIN,
max_step)``: a trust region of linearized-dual SDP steps (:func:`_trust_region`, on the
working set of pairs of the last solve), or L-BFGS-B on ``log w`` with the gradient above
(``local_method="lbfgsb"``). The other starts: neutral (the template's steps, all 1.5 by
default), the composed schedule (:func:`composed_schedule`, closed form, for f(x_N) - f*
from ``|x_0 - x*| <= R``), the silver schedule, a concatenation of optimized shorter
schedules around one long step (without the composition search), and seeded random
perturbations. Every inner worst case is exact (constraint generation, :func:`exact_worst_case`);
the winner is evaluated again by the route the caller names (``pep_method``).

References
----------
S. Das Gupta, B. P. G. Van Parys and E. K. Ryu, "Branch-and-bound performance estimation
programming: a unified methodology for constructing optimal optimization methods",
Math. Program. 204, 2024 (locally optimal schedules, N <= 50).
J. M. Altschuler and P. A. Parrilo, "Acceleration by stepsize hedging II: Silver stepsize
schedule for smooth convex optimization", Math. Program., 2024.
J. M. Danskin, "The theory of max-min, with applications", SIAM J. Appl. Math. 14, 1966.
"""

from __future__ import annotations

import itertools
import json
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .classes import FunctionClass, InitialCondition, Measure
from .compute import worst_case
from .errors import InputError, SolverError
from .pep import STAR, Problem, _coordinates, value_scale
from .schedules import Schedule, constant, silver
from .solve import Status, WorstCase, problem_brief, solve_full

__all__ = [
    "StartResult",
    "ScheduleResult",
    "optimize",
    "optimize_schedule",
    "LOCAL_METHODS",
    "best_constant_step",
    "composed_schedule",
    "pattern_json",
    "plot_schedule",
    "worst_case_gradient",
    "H_MIN",
    "CompositionState",
    "Piece",
    "compose_search",
    "composition_families",
    "exact_worst_case",
    "read_checkpoint",
]

#: Smallest step the optimizer may take (steps must be > 0).
H_MIN = 1e-3
#: Relative tolerance of the bounded 1-D search for the best constant step.
XTOL_CONSTANT = 1e-7
#: ``log w`` reported for a point whose PEP solve failed (the line search then backs off).
FAILED_LOG_VALUE = 1e3
#: Relative size of the first restart perturbation, and the gain a restart must bring.
RESTART_SIGMA = 0.1
RESTART_GAIN = 1e-10
#: Trust region: accepted fraction of the predicted decrease, smallest radius, and the
#: smallest predicted relative decrease worth a step.
TR_ACCEPT = 0.1
TR_MIN_RADIUS = 1e-7
TR_MIN_DECREASE = 1e-11
#: Steps of a neutral start.
NEUTRAL_STEP = 1.5


def worst_case_gradient(wc: WorstCase) -> np.ndarray:
    """Gradient of the normalized worst case in the steps, from one primal-dual solution.

    For the pair ``m = (i, j)`` with ``u = g_j``, ``v = x_i - x_j``, ``d = g_i - g_j``
    (coordinates in the Gram basis) and ``c = 1 / (2 (1 - kappa))``,

    .. math::

        \\operatorname{tr}(A_{ij} G) = u^T G v + c\\, d^T G d + c \\kappa\\, v^T G v
            - 2 c \\kappa\\, d^T G v,

    and ``dv / dh_k = -e_{g_k} ([k < i] - [k < j])`` (``x*`` does not move), so

    .. math::

        \\frac{\\partial w}{\\partial h_k} = \\sum_{ij} \\lambda_{ij}\\,
            \\big(G (u + 2 c \\kappa (v - d))\\big)_{g_k} ([k < i] - [k < j])
            \\; - \\; 2 [\\text{dist}] (G x_N)_{g_k}.

    Parameters
    ----------
    wc : WorstCase
        A solved problem (its multipliers and Gram matrix are used).

    Returns
    -------
    ndarray, shape (N,)
        ``d w / d h_k`` of the normalized value (L = R = 1).

    References
    ----------
    J. M. Danskin, "The theory of max-min, with applications", SIAM J. Appl. Math. 14, 1966
    (the envelope theorem used here).

    Examples
    --------
    >>> from pepstep import Problem, constant, worst_case
    >>> g = worst_case_gradient(worst_case(Problem(constant(1.0, 1))))
    >>> round(float(g[0]), 4)    # w = 1/(2(2h+1)) near h = 1: dw/dh = -1/(2h+1)^2
    -0.1111
    """
    problem = wc.problem
    fc = problem.function_class
    has_min = fc.has_minimizer
    steps = np.asarray(problem.schedule.steps, dtype=float)
    n = steps.size
    X, Gr, dim, off = _coordinates(steps, has_min)
    X, Gr = X.toarray(), Gr.toarray()
    keys = list(wc.multipliers)
    lam = np.array([wc.multipliers[k] for k in keys])
    pairs = np.array([[STAR if a == "*" else a, STAR if b == "*" else b] for a, b in keys], dtype=np.int64)
    ri, rj = pairs[:, 0] + off, pairs[:, 1] + off
    u, v, dg = Gr[rj], X[ri] - X[rj], Gr[ri] - Gr[rj]
    kappa = fc.kappa
    c = 1.0 / (2.0 * (1.0 - kappa))
    G = 0.5 * (wc.gram + wc.gram.T)
    W = (u + 2.0 * c * kappa * (v - dg)) @ G  # (M, dim)
    gcol = np.arange(n) + (1 if has_min else 0)  # column of g_k in the basis
    k = np.arange(n)
    # [k < i] - [k < j], with x* (index -1) never moving.
    before = lambda idx: ((k[None, :] < idx[:, None]) & (idx[:, None] != STAR)).astype(float)  # noqa: E731
    s = before(pairs[:, 0]) - before(pairs[:, 1])
    grad = ((lam[:, None] * W[:, gcol]) * s).sum(axis=0)
    if problem.measure is Measure.DIST:
        grad -= 2.0 * (G @ X[off + n])[gcol]
    return grad


@dataclass(frozen=True)
class StartResult:
    """One start of the multistart optimization.

    Attributes
    ----------
    kind : str
        ``neutral`` (the template's steps: all 1.5 by default), ``composed``, ``silver``,
        ``concat:a+1+b`` (optimized shorter schedules around one long step), ``perturbed``
        (a seeded random perturbation of the neutral start) or ``warm`` (steps given by the
        caller).
    seed : int or None
        The seed of a ``perturbed`` start.
    initial_steps, steps : tuple of float
        Where the start began and where it ended.
    value : float
        The normalized worst case at ``steps`` (L = R = 1), as seen during the optimization.
    pep_solves : int
        PEP solves spent by this start.
    iterations : int
        Iterations of the local method (trust-region steps or L-BFGS-B iterations),
        restarts included.
    message : str
        The optimizer's stopping message (or the solver error that ended the start).

    Examples
    --------
    >>> r = optimize(2, starts=1, restarts=0, explore=False)
    >>> r.starts[0]  # doctest: +ELLIPSIS
    StartResult(neutral, value=0.0..., N=2, iterations=..., pep_solves=..., '...')
    """

    kind: str
    seed: int | None
    initial_steps: tuple
    steps: tuple
    value: float
    pep_solves: int
    iterations: int
    message: str

    def __repr__(self) -> str:
        kind = self.kind if self.seed is None else f"{self.kind} seed={self.seed}"
        return (
            f"StartResult({kind}, value={self.value:.10g}, N={len(self.steps)}, iterations={self.iterations}, "
            f"pep_solves={self.pep_solves}, {self.message[:60]!r})"
        )

    def summary(self) -> str:
        """The start on several lines: kind, value, cost, where it began and ended."""
        kind = self.kind if self.seed is None else f"{self.kind} (seed {self.seed})"
        return "\n".join(
            [
                f"start          {kind}",
                f"value          {self.value:.12g} (normalized, L = R = 1)",
                f"iterations     {self.iterations}, {self.pep_solves} PEP solves",
                f"stopped        {self.message}",
                f"initial steps  {', '.join(f'{h:.6g}' for h in self.initial_steps)}",
                f"final steps    {', '.join(f'{h:.6g}' for h in self.steps)}",
            ]
        )

    def to_json(self) -> dict:
        """The start as a JSON object (the ``starts`` entries of ``pepstep optimize --json``)."""
        return {
            "kind": self.kind,
            "seed": self.seed,
            "value": self.value,
            "pep_solves": self.pep_solves,
            "iterations": self.iterations,
            "message": self.message,
            "initial_steps": list(self.initial_steps),
            "steps": list(self.steps),
        }


@dataclass(frozen=True)
class ScheduleResult:
    """An optimized schedule and how it was found.

    Attributes
    ----------
    schedule : Schedule
        The best schedule found.
    value : float
        Its worst case in user units, re-evaluated with the full PEP (all pairs).
    normalized_value : float
        The same with ``L = R = 1``.
    status : Status
        Status of the final full-PEP evaluation.
    problem : Problem
        The problem with the optimized schedule.
    starts : tuple of StartResult
        Every start, in the order run.
    winning_start : int
        Index into ``starts`` of the winner.
    best_constant_step, best_constant_value : float
        The best constant schedule (1-D bounded search with the PEP) and its worst case
        (user units), for comparison.
    seconds : float
        Wall time of the whole optimization.
    pep_solves : int
        PEP solves in all (composition search, starts, anchors, final evaluation).
    final : WorstCase
        The final evaluation (solver, residuals, multipliers of the winner), by the route
        ``pep_method`` of :func:`optimize`.
    anchors : dict
        The schedules compared with, on the same problem: ``constant`` (the best constant
        step), ``silver``, and ``composed`` where defined; each ``{"steps", "value"
        (user units; inf when not finite), "status"}`` and a ``reason`` when not finite.
    stopped : str
        ``""`` when the search ran to its end, ``"time limit"`` or ``"interrupted"`` when it
        was stopped (the result is then the best found so far, evaluated exactly).
    composition : CompositionState or None
        The composition search's pieces (:func:`compose_search`), when it ran to N.

    Examples
    --------
    >>> r = optimize(2, starts=2, restarts=0, explore=False)
    >>> r  # doctest: +ELLIPSIS
    ScheduleResult(value=0.0..., optimal, N=2, convex fgap from dist, winner ... of ... starts, ...)
    >>> r.ok, r.num_steps, r.final.status
    (True, 2, <Status.OPTIMAL: 'optimal'>)
    >>> print(r.summary())  # doctest: +ELLIPSIS
    worst case     0.0... (optimal), convex fgap from dist
    ...
    """

    schedule: Schedule
    value: float
    normalized_value: float
    status: Status
    problem: Problem
    starts: tuple
    winning_start: int
    best_constant_step: float
    best_constant_value: float
    seconds: float
    pep_solves: int
    final: WorstCase = field(repr=False)
    anchors: dict = field(default_factory=dict, repr=False)
    stopped: str = ""
    composition: CompositionState | None = field(default=None, repr=False)

    @property
    def found_by(self) -> str:
        """How the winner was found: its start kind, and for ``compose`` the join that built it."""
        win = self.starts[self.winning_start]
        return win.kind if win.kind != "compose" else f"compose: {win.message}"

    @property
    def steps(self) -> tuple:
        """The optimized normalized steps (``schedule.steps``)."""
        return self.schedule.steps

    @property
    def ok(self) -> bool:
        """Whether the final full-PEP evaluation is ``optimal``."""
        return self.status is Status.OPTIMAL

    @property
    def num_steps(self) -> int:
        """N, the number of steps."""
        return self.schedule.num_steps

    @property
    def best_constant_status(self) -> str:
        """The solver status of the best constant step's value (its anchor's)."""
        return (self.anchors or {}).get("constant", {}).get("status", "optimal")

    def __repr__(self) -> str:
        win = self.starts[self.winning_start]
        return (
            f"ScheduleResult(value={self.value:.7g}, {self.status}, N={self.num_steps}, "
            f"{problem_brief(self.problem)}, winner {win.kind} of {len(self.starts)} starts, "
            f"best constant {self.best_constant_value:.7g} ({self.best_constant_status}) at "
            f"h={self.best_constant_step:.4g}, "
            f"{self.final.solver}, {self.seconds:.3g} s)"
        )

    def summary(self) -> str:
        """The optimization on several lines: value, steps, the best constant step, every start."""
        win = self.starts[self.winning_start]
        lines = [
            f"worst case     {self.value:.12g} ({self.status}), {problem_brief(self.problem)}",
            f"normalized     {self.normalized_value:.12g} (L = R = 1)",
            f"steps          {', '.join(f'{h:.6g}' for h in self.steps)}",
            f"best constant  h = {self.best_constant_step:.8g}, worst case {self.best_constant_value:.12g} "
            f"({self.best_constant_status})",
            f"winning start  {self.winning_start} ({win.kind})",
            f"cost           {self.pep_solves} PEP solves, {self.seconds:.3g} s, {self.final.solver} "
            f"{self.final.solver_version}",
            "starts",
        ]
        for k, st in enumerate(self.starts):
            kind = st.kind if st.seed is None else f"{st.kind} (seed {st.seed})"
            lines.append(f"  {k:>2d} {kind:<22s} {st.value:.12g}  {st.iterations} iterations, {st.message}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        """The result as a JSON object (the fields ``pepstep optimize --json`` starts from)."""
        fc = self.problem.function_class
        win = self.starts[self.winning_start]
        return {
            "steps": list(self.schedule.steps),
            "value": self.value,
            "normalized_value": self.normalized_value,
            "status": self.status.value,
            "num_steps": self.num_steps,
            "class": fc.kind,
            "L": fc.L,
            "mu": fc.mu,
            "measure": self.problem.measure.value,
            "init": self.problem.init.value,
            "R": self.problem.R,
            "starts": [s.to_json() for s in self.starts],
            "winning_start": {"index": self.winning_start, "kind": win.kind, "seed": win.seed},
            "best_constant": {
                "step": self.best_constant_step,
                "value": self.best_constant_value if self.best_constant_status == "optimal" else None,
                "status": self.best_constant_status,
            },
            "seconds": self.seconds,
            "pep_solves": self.pep_solves,
            "solver": self.final.solver,
            "solver_version": self.final.solver_version,
            "found_by": self.found_by,
            "stopped": self.stopped or None,
            "anchors": {
                k: {
                    "value": v["value"] if v["status"] == "optimal" and math.isfinite(v["value"]) else None,
                    "status": v["status"],
                    "reason": v.get("reason") or _status_reason(v["status"]),
                    "steps": list(v["steps"]),
                }
                for k, v in self.anchors.items()
            },
        }


def _status_reason(status: str) -> str | None:
    """What a solver status means (:attr:`Status.message`), for an anchor shown without a
    value and without a reason of its own (an inaccurate best constant step); None if optimal."""
    if status == Status.OPTIMAL.value:
        return None
    try:
        return Status(status).message
    except ValueError:
        return None


@dataclass(frozen=True)
class _Partial:
    steps: tuple
    pep_solves: int


class _Objective:
    """``log w(h)`` and its gradient, with a cache, a solve counter and a deadline.

    Every worst case is computed by ``route`` (``generate`` by default: constraint generation,
    exact, scalable); a solve past ``deadline`` (a ``time.perf_counter`` value) raises
    :class:`_Deadline` before it starts. ``best`` is the best point seen, ``start_best`` the
    best since :meth:`new_start`.
    """

    def __init__(self, template: Problem, solver: str, options: dict | None = None, route: str = "generate"):
        self.template = template
        self.solver = solver
        self.options = options
        self.route = route
        self.deadline = None
        self.solves = 0
        self.cache: dict = {}
        self.best = (math.inf, None)
        self.start_best = (math.inf, None)
        self.failures = 0
        self.slowest = 0.0
        self.slowest_model = 0.0  # seconds of the slowest trust-region model solve
        self.statuses: dict = {}  # cache key -> the solver status of its value

    def new_start(self) -> None:
        self.start_best = (math.inf, None)

    def check_time(self, ahead: float = 0.0) -> None:
        """Raise :class:`_Deadline` when the deadline is passed, or would be ``ahead``
        seconds from now."""
        if self.deadline is not None and time.perf_counter() + ahead > self.deadline:
            raise _Deadline

    def problem(self, h) -> Problem:
        t = self.template
        return Problem(Schedule(tuple(float(x) for x in h)), t.function_class, t.measure, t.init, 1.0)

    def _worst_case(self, h) -> WorstCase:
        self.check_time()
        t0 = time.perf_counter()
        problem = self.problem(h)
        # the deadline reaches inside the solve: constraint generation adds no round past it
        # (a polish at N = 50 overran a ten-minute limit by 11 s with one evaluation)
        wc = exact_worst_case(
            problem, self.solver, self.route, inner=self.route == "generate", deadline=self.deadline
        )
        self.slowest = max(self.slowest, time.perf_counter() - t0)
        self.solves += 1
        return wc

    def _record(self, w: float, h) -> None:
        key = tuple(map(float, h))
        if w < self.best[0]:
            self.best = (w, key)
        if w < self.start_best[0]:
            self.start_best = (w, key)

    def solve(self, h) -> WorstCase | None:
        """The worst case at ``h`` (None if the solve failed)."""
        wc = self._worst_case(h)
        if wc.status in (Status.OPTIMAL, Status.INACCURATE) and wc.normalized_value > 0:
            self._record(wc.normalized_value, h)
            return wc
        self.failures += 1
        return None

    @staticmethod
    def _key(h) -> tuple:
        return tuple(float(x) for x in np.round(np.asarray(h, dtype=float), 14))

    def status_at(self, h) -> str:
        """The solver status of the cached value at ``h`` (``failed`` when none)."""
        return self.statuses.get(self._key(h), "failed")

    def evaluate(self, h) -> tuple[float, np.ndarray]:
        key = self._key(h)
        if key in self.cache:
            return self.cache[key]
        wc = None
        for shift in (0.0, 1e-9, -1e-9):
            # A degenerate SDP at a kink of w can stall the solver; a shift of 1e-9 in the
            # steps (far below the optimizer's resolution) moves it off the kink.
            wc = self._worst_case(np.asarray(key) * (1.0 + shift))
            if wc.status in (Status.OPTIMAL, Status.INACCURATE) and wc.normalized_value > 0:
                break
        else:
            self.failures += 1
            out = (math.inf, np.zeros(len(key)))
            self.cache[key] = out
            return out
        w = wc.normalized_value
        out = (w, worst_case_gradient(wc))
        self.cache[key] = out
        self.statuses[key] = wc.status.value
        self._record(w, key)
        return out

    def log_fun(self, h) -> tuple[float, np.ndarray]:
        w, g = self.evaluate(h)
        if not math.isfinite(w):
            return FAILED_LOG_VALUE, g  # a failed solve reads as a very bad point; the line search backs off
        return math.log(w), g / w

    def value(self, h) -> float:
        return self.evaluate(h)[0]


def _validate(num_steps, starts, max_step, seed) -> None:
    if not isinstance(num_steps, int | np.integer) or isinstance(num_steps, bool) or num_steps < 1:
        raise InputError(f"The number of steps must be a positive integer. Got num_steps={num_steps!r}.")
    if not isinstance(starts, int | np.integer) or isinstance(starts, bool) or starts < 1:
        raise InputError(f"The number of starts must be a positive integer. Got starts={starts!r}.")
    if max_step is not None:
        try:
            ms = float(max_step)
        except (TypeError, ValueError):
            raise InputError(f"The 'max_step' must be a number. Got max_step={max_step!r}.") from None
        if not math.isfinite(ms) or ms <= H_MIN:
            raise InputError(f"The 'max_step' must be finite and > {H_MIN}. Got max_step={max_step!r}.")
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
        raise InputError(f"The 'seed' must be an integer. Got seed={seed!r}.")


def default_max_step(num_steps: int) -> float:
    """Upper bound on each step when none is given: ``max(4, 2 N)`` (optimal schedules for
    N <= 50 have their longest step below ``N``)."""
    return max(4.0, 2.0 * num_steps)


def best_constant_step(template: Problem, max_step: float, solver: str = "clarabel", counter=None):
    """The best constant step ``h`` in ``(H_MIN, min(max_step, 2))`` by a bounded 1-D search.

    Returns ``(h, normalized value)``. ``w(h)`` of a constant schedule is unimodal on
    ``(0, 2)`` for the convex class (``(1/2) max(1/(2Nh+1), (1-h)^(2N))``, Rotaru, Glineur
    & Patrinos 2024); steps ``>= 2`` diverge on quadratics. For classes with a minimizer the
    explicit lower bound is minimized over ``h`` first (:func:`lower_screen`, no SDP); when
    the exact worst case meets it at that step, that step is the answer (one solve).
    Otherwise a bounded Brent search on the exact worst case decides.
    """
    obj = counter or _Objective(template, solver)
    n = template.num_steps
    hi = min(float(max_step), 2.0)
    fc = template.function_class
    if fc.has_minimizer:
        # the explicit functions' bound, minimized over h without an SDP: where the exact
        # worst case meets it, no constant step does better (the worst case is never below
        # the bound). Convex f-gap: w(h) = max of the Huber and quadratic values (Rotaru,
        # Glineur & Patrinos 2024), so one exact evaluation decides.
        h, v = lower_screen(lambda h: _explicit_bound(obj.problem(np.full(n, h))), H_MIN, hi)
        w = obj.value(np.full(n, h))
        if w <= v * (1.0 + SCREEN_RTOL):
            return h, w
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(
        lambda h: obj.value(np.full(n, h)),
        bounds=(H_MIN, hi),
        method="bounded",
        options={"xatol": XTOL_CONSTANT},
    )
    h = float(res.x)
    return h, obj.value(np.full(n, h))


def _concat_start(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Two optimized shorter schedules around one long step ``2 + (sum(left) + sum(right)) / 2``.

    For the silver schedule this is exact: ``silver(2^k - 1)`` is two copies of
    ``silver(2^(k-1) - 1)`` around ``1 + rho^(k-1) = 2 + sum(silver(2^(k-1) - 1))``.
    """
    mid = 2.0 + 0.5 * (left.sum() + right.sum())
    return np.concatenate([left, [mid], right])


def _splits(num_steps: int) -> list:
    """Lengths ``(a, N - 1 - a)`` of the two halves of a ``concat`` start, most balanced first."""
    a = range(num_steps)
    return sorted(((i, num_steps - 1 - i) for i in a), key=lambda p: (abs(p[0] - p[1]), -p[0]))


def _join_s(a: float, b: float) -> tuple[float, float]:
    """``s``-join of two ``s``-composable schedules of sizes ``a = 1 + sum``, ``b = 1 + sum``.

    The middle step is ``1 + m`` with ``m^2 + (a + b) m = a b``; the result has size
    ``a + b + m``. Returns ``(size, middle step)``.
    """
    m = 0.5 * (math.sqrt((a + b) ** 2 + 4.0 * a * b) - (a + b))
    return a + b + m, 1.0 + m


def _join_f(a: float, f: float) -> tuple[float, float]:
    """``f``-join of an ``s``-composable schedule (size ``a = 1 + sum``, on the left) and an
    ``f``-composable one (size ``f = 1 + 2 sum``, on the right).

    The middle step is ``1 + m`` with ``2 m^2 + f m = a f``; the result has size
    ``2 a + 2 m + f``. Returns ``(size, middle step)``.
    """
    m = 0.25 * (math.sqrt(f * f + 8.0 * a * f) - f)
    return 2.0 * a + 2.0 * m + f, 1.0 + m


def composed_schedule(num_steps: int) -> tuple[tuple, float]:
    """The best composed schedule of ``num_steps`` steps for ``f(x_N) - f*`` from
    ``|x_0 - x*| <= R`` (convex class), and its predicted worst case ``L R^2 / (2 F)``.

    Grimmer, Shu & Wang (2024) compose schedules by joining two shorter ones around one
    long step. Two kinds are used here, by their size (their worst case is decided by the
    sum of their steps alone, the Huber bound being tight):

    - ``s``-composable schedules, size ``A = 1 + sum(h)``: the empty schedule (``A = 1``)
      and ``s_a ⋈ s_b`` (:func:`_join_s`); the silver schedules are the balanced joins;
    - ``f``-composable schedules, size ``F = 1 + 2 sum(h)``, worst case ``L R^2 / (2 F)``:
      the empty schedule (``F = 1``) and ``s_a ▹ f_b`` (:func:`_join_f`, the ``s`` part first).

    Every size grows with the sizes joined, so a dynamic program over the lengths
    (``O(N^2)`` closed-form joins, no SDP) gives the largest ``F`` for each ``N``; the
    schedule is rebuilt from the recorded splits, balanced splits winning ties.
    Examples of what it gives: ``N = 1`` ``(3/2)``, ``N = 3`` ``(sqrt 2, 1 + sqrt 2, 3/2)``
    (both minimax optimal), ``silver(2^k - 1)`` for the ``s`` part of size ``2^k - 1``.

    The join rules are stated here in the form this module uses (the middle step from the
    two sizes); they reproduce the silver schedule exactly, and every composed schedule's
    full-PEP worst case is checked against ``1 / (2 F)`` in ``tests/optimize``.

    Returns
    -------
    (steps, value)
        The steps and the predicted normalized worst case ``1 / (2 F)`` (L = R = 1).

    References
    ----------
    B. Grimmer, K. Shu and A. L. Wang, "Composing optimized stepsize schedules for gradient
    descent", arXiv:2410.16249, 2024. Z. Zhang and R. Jiang, "Accelerated gradient descent by
    concatenation of stepsize schedules", arXiv:2410.12395, 2024.

    Examples
    --------
    >>> steps, value = composed_schedule(3)
    >>> [round(h, 6) for h in steps], round(1 / value, 6)     # 1/w = 12 + 8 sqrt 2
    ([1.414214, 2.414214, 1.5], 23.313708)
    """
    n = int(num_steps)
    s_size, s_split = [1.0], [None]
    f_size, f_split = [1.0], [None]
    for k in range(1, n + 1):
        splits = sorted(range(k), key=lambda a, k=k: (abs(2 * a - (k - 1)), a))
        best_s = max(((_join_s(s_size[a], s_size[k - 1 - a]), a) for a in splits), key=lambda t: t[0][0])
        best_f = max(((_join_f(s_size[a], f_size[k - 1 - a]), a) for a in splits), key=lambda t: t[0][0])
        s_size.append(best_s[0][0])
        s_split.append((best_s[1], best_s[0][1]))
        f_size.append(best_f[0][0])
        f_split.append((best_f[1], best_f[0][1]))

    def s_steps(k: int) -> list:
        if k == 0:
            return []
        a, mid = s_split[k]
        return s_steps(a) + [mid] + s_steps(k - 1 - a)

    def f_steps(k: int) -> list:
        if k == 0:
            return []
        a, mid = f_split[k]
        return s_steps(a) + [mid] + f_steps(k - 1 - a)

    return tuple(f_steps(n)), 1.0 / (2.0 * f_size[n])


def _composable(template: Problem) -> bool:
    """Whether :func:`composed_schedule` answers this problem (convex, fgap, dist)."""
    return (
        template.function_class.kind == "convex"
        and template.measure is Measure.FGAP
        and template.init is InitialCondition.DIST
    )


#: Start kinds, in their default order (see :func:`optimize_schedule`).
START_KINDS = ("neutral", "warm", "composed", "silver", "concat", "perturbed", "compose")


def _start_points(
    num_steps,
    starts,
    seed,
    warm,
    max_step,
    optimize_shorter,
    function_class,
    composed=False,
    kinds=None,
    neutral=None,
):
    """``(kind, seed, steps)`` of each start, in order (``kinds``' order when given).

    ``neutral`` is the neutral start (all ``NEUTRAL_STEP`` by default); the perturbed
    starts perturb it.
    """
    n = num_steps
    neutral = np.full(n, NEUTRAL_STEP) if neutral is None else np.asarray(neutral, dtype=float)

    def want(kind: str) -> bool:
        return kinds is None or kind in kinds

    out = []
    if want("neutral"):
        out.append(("neutral", None, neutral.copy()))
    if warm is not None and want("warm"):
        out.append(("warm", None, np.asarray(warm, dtype=float)))
    if composed and n >= 2 and want("composed"):
        out.append(("composed", None, np.asarray(composed_schedule(n)[0])))
    if n >= 2 and want("silver"):
        out.append(("silver", None, np.asarray(silver(n).steps)))
    if n >= 2 and optimize_shorter is not None and function_class.kind == "convex" and want("concat"):
        room = starts - 1 if want("perturbed") else starts
        for a, b in _splits(n):
            if len(out) >= room:
                break
            left = np.asarray(optimize_shorter(a)) if a else np.zeros(0)
            right = np.asarray(optimize_shorter(b)) if b else np.zeros(0)
            out.append((f"concat:{a}+1+{b}", None, _concat_start(left, right)))
    k = 0
    while len(out) < starts and want("perturbed"):
        s = seed + k
        rng = np.random.default_rng(s)
        out.append(("perturbed", s, neutral * np.exp(rng.normal(0.0, 0.5, n))))
        k += 1
    if kinds is not None:
        out.sort(key=lambda p: list(kinds).index(p[0].split(":")[0]))
    out = out[:starts]
    return [(kind, s, np.clip(h, H_MIN, max_step)) for kind, s, h in out]


def _step_model(wc: WorstCase, h: np.ndarray, radius: float, lo: np.ndarray, hi: np.ndarray, solver: str):
    """Solve the linearized dual around ``(h, lambda0)`` within ``|dh|_inf <= radius``.

    The dual of the PEP, ``min tau`` s.t. ``S(h, lambda, tau) = tau B + sum lambda_m A_m(h) - C(h)
    >= 0`` and the function-value identity, is bilinear in ``(h, lambda)``. Its model

    .. math::

        \\min_{\tau, \\lambda \\ge 0, dh} \tau \\quad \text{s.t.} \\quad
        S(h, \\lambda, \tau) + \\sum_k dh_k \\Big(\\sum_m \\lambda^0_m \\partial_k A_m
        - \\partial_k C\\Big) \\succeq 0

    drops only the product ``(lambda - lambda0) dh`` (second order) and keeps every
    worst-case function at once, so it sees the kinks of ``w`` that a gradient does not.
    Returns ``(dh, model value)`` (normalized).
    """
    from .pep import build_pep
    from .solve import solve_linearized_step

    problem = wc.problem
    n = h.size
    keys = [tuple(STAR if x == "*" else x for x in k) for k in wc.multipliers]
    # the pairs of the solve (all of them for the full PEP, the working set of constraint
    # generation): the model is then an upper-bound model of the same size as the solve
    pairs = np.array(keys, dtype=np.int64).reshape(-1, 2)
    base = build_pep(problem, pairs)
    order = {k: m for m, k in enumerate(keys)}
    lam0 = np.array([wc.multipliers[k] for k in wc.multipliers])
    lam0 = lam0[[order[tuple(p)] for p in base.pairs.tolist()]]
    d = base.dim
    # Central differences of the (at most quadratic in h) data are exact derivatives.
    eps = 1e-3
    D = np.zeros((d * d, n))
    for k in range(n):
        e = np.zeros(n)
        e[k] = eps
        plus = build_pep(_with_steps(problem, h + e), pairs)
        minus = build_pep(_with_steps(problem, np.maximum(h - e, H_MIN / 2)), pairs)
        step = (h + e)[k] - np.maximum(h - e, H_MIN / 2)[k]
        dA = (plus.interp_G - minus.interp_G).T @ lam0 / step
        dC = np.asarray((plus.obj_G - minus.obj_G).todense()).ravel() / step
        D[:, k] = dA - dC
    return solve_linearized_step(base, D, h, radius, lo, hi, solver, objective_scale=wc.normalized_value)


def _with_steps(problem: Problem, h) -> Problem:
    return Problem(
        Schedule(tuple(float(x) for x in h)), problem.function_class, problem.measure, problem.init, 1.0
    )


def _trust_region(obj: _Objective, h0: np.ndarray, bounds, max_iter: int, radius: float = 0.5):
    """Sequential linearized-dual steps (:func:`_step_model`) with a trust region.

    A step is accepted when the exact worst case falls by at least ``TR_ACCEPT`` of the
    model's predicted decrease; the radius doubles after a good step at the boundary and is
    quartered after a rejected one. Stops below ``TR_MIN_RADIUS`` or at ``max_iter``.
    """
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    h = np.clip(np.asarray(h0, dtype=float), lo, hi)
    wc = obj.solve(h)
    it = 0
    msg = "radius below tolerance"
    while it < max_iter and radius > TR_MIN_RADIUS and wc is not None:
        it += 1
        w = wc.normalized_value
        obj.check_time(obj.slowest_model)  # a model solve cannot be stopped once started
        t0 = time.perf_counter()
        dh, model = _step_model(wc, h, radius, lo, hi, obj.solver)
        obj.slowest_model = max(obj.slowest_model, time.perf_counter() - t0)
        obj.solves += 1
        if dh is None:
            radius *= 0.25
            continue
        predicted = w - model
        if predicted <= TR_MIN_DECREASE * w:
            msg = "no predicted decrease"
            break
        h_new = np.clip(h + dh, lo, hi)
        wc_new = obj.solve(h_new)
        if wc_new is not None and w - wc_new.normalized_value >= TR_ACCEPT * predicted:
            if np.max(np.abs(dh)) >= 0.9 * radius and w - wc_new.normalized_value >= 0.75 * predicted:
                radius *= 2.0
            h, wc = h_new, wc_new
        else:
            radius *= 0.25
    else:
        if it >= max_iter:
            msg = "iteration limit"
    return h, it, msg


def _lbfgsb(obj: _Objective, h0: np.ndarray, bounds, max_iter: int, radius: float = 0.0):
    # ``radius`` (the trust region's) is unused: L-BFGS-B has its own line search.
    from scipy.optimize import minimize

    res = minimize(
        obj.log_fun,
        h0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-12, "maxcor": 20},
    )
    return np.asarray(res.x), int(res.nit), str(res.message)


def _run_start(
    obj: _Objective,
    h0: np.ndarray,
    bounds,
    max_iter: int,
    rng=None,
    restarts: int = 0,
    local_method: str = "trust-region",
    radius: float = 0.5,
):
    """One start: a local method from ``h0``, then ``restarts`` seeded perturbed restarts.

    ``w`` is nonsmooth where the worst-case function switches and local methods stop at
    such kinks or in local minima. A restart multiplies the best steps by
    ``exp(sigma z)``, ``z ~ N(0, 1)``, and keeps the result if it is better; ``sigma``
    halves after each unsuccessful restart.
    """
    local = _trust_region if local_method == "trust-region" else _lbfgsb
    h, nit, msg = local(obj, h0, bounds, max_iter, radius)
    w = obj.value(h)
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    sigma = RESTART_SIGMA
    for _ in range(restarts):
        trial = np.clip(h * np.exp(sigma * rng.normal(size=h.size)), lo, hi)
        h2, nit2, msg2 = local(obj, trial, bounds, max_iter, radius)
        nit += nit2
        w2 = obj.value(h2)
        if w2 < w * (1.0 - RESTART_GAIN):
            h, w, msg = h2, w2, msg2
        else:
            sigma *= 0.5
    return h, nit, msg


def _log_progress(num_steps: int):
    """A ``progress`` callback that logs each finished start (``progress=True``)."""
    import logging

    log = logging.getLogger("pepstep.optimize")

    def report(text: str) -> None:
        log.info("optimize N=%d: %s", num_steps, text)

    return report


#: The local methods of :func:`optimize` (``local_method``).
LOCAL_METHODS = ("trust-region", "lbfgsb")


def _as_template(problem) -> Problem:
    """The problem template of :func:`optimize`: a Problem, a Schedule, or a number of steps."""
    if isinstance(problem, Problem):
        return problem
    if isinstance(problem, Schedule):
        return Problem(problem)
    if isinstance(problem, int | np.integer) and not isinstance(problem, bool):
        _validate(problem, 1, None, 0)
        return Problem(constant(NEUTRAL_STEP, int(problem)))
    raise InputError(
        f"The problem must be a Problem, a Schedule or a number of steps. Got {type(problem).__name__}."
    )


def optimize(
    problem,
    *,
    starts: int = 4,
    seed: int = 0,
    max_step: float | None = None,
    solver: str = "clarabel",
    warm_start=None,
    max_iter: int = 200,
    restarts: int = 2,
    local_method: str = "trust-region",
    radius: float = 0.5,
    kinds=None,
    known: dict | None = None,
    recursive: bool = True,
    progress=None,
    explore: bool = True,
    pep_method: str = "generate",
    time_limit: float | None = None,
    executor=None,
    checkpoint=None,
) -> ScheduleResult:
    """Minimize the exact worst case of gradient descent over the step-size schedule.

    Solves ``min_{h in [H_MIN, max_step]^N} w(h)``, ``w`` the PEP value of ``problem`` with
    the steps ``h``, in three stages:

    1. the anchors: the best constant step (a bounded 1-D search), silver, and the composed
       schedule where defined (convex f(x_N) - f* from ``|x_0 - x*| <= R``), evaluated on the
       same problem (``ScheduleResult.anchors``);
    2. the composition search (``explore``, :func:`compose_search`): a dynamic program over
       joins of shorter schedules, from scratch (no known schedule), whose result is the
       ``compose`` start;
    3. a local method from each start (the ``compose`` one first, then ``kinds``): a trust
       region of linearized-dual SDP steps, or L-BFGS-B on ``log w`` with envelope-theorem
       gradients (:func:`worst_case_gradient`).

    Every inner worst case is exact and computed by the scalable route (constraint
    generation, :func:`exact_worst_case`; one full-PEP solve first up to ``INNER_FULL_UNTIL`` steps); the
    best constant step is a candidate too; the winner is evaluated again by ``pep_method``.

    Parameters
    ----------
    problem : Problem, Schedule or int
        The template: its function class, measure, initial condition and ``R`` define the
        worst case minimized, its steps are the ``neutral`` start and its length is N. A
        number of steps N stands for ``Problem(constant(1.5, N))`` (convex, f(x_N) - f*
        from ``|x_0 - x*| <= 1``); a Schedule for ``Problem(schedule)``.
    starts : int
        Number of starts (>= 1). In order: ``neutral`` (the template's steps), a caller's
        ``warm_start``, ``composed`` (convex class, measure fgap, init dist, N >= 2: the
        composed schedule of :func:`composed_schedule`, closed form), ``silver``, ``concat``
        (convex class, N >= 3: optimized shorter schedules, found recursively, around one
        long step), then seeded perturbations of the neutral start (seeds ``seed, seed + 1,
        ...``).
    seed : int
        Base seed of the perturbed starts and restarts.
    max_step : float, optional
        Upper bound on every step; default ``max(4, 2N)``.
    solver : str
        PEP backend.
    warm_start : sequence of float, optional
        Extra start given by the caller.
    max_iter : int
        Iteration limit of each local run.
    restarts : int
        Seeded perturbed restarts after each start (see :func:`_run_start`).
    local_method : {"trust-region", "lbfgsb"}
        ``trust-region`` (default: sequential linearized-dual SDP steps, see
        :func:`_trust_region`) or ``lbfgsb`` (L-BFGS-B on ``log w``).
    radius : float
        Initial trust-region radius (max-norm, in step units). A good start needs a small
        one: each rejected model step costs a linearized SDP solve.
    kinds : sequence of str, optional
        Use only these kinds of start (from ``neutral``, ``warm``, ``composed``, ``silver``,
        ``concat``, ``perturbed``), in this order; at most ``starts`` of them. ``compose``
        stands for the composition search's start alone (no other start); ``composed`` and
        ``silver`` are known schedules, left out when not listed.
    known : dict, optional
        Schedules already optimized, by length (``{m: steps}``), for the ``concat`` starts;
        read and extended in place (pass the same dict to a sequence of calls).
    recursive : bool
        Allow the ``concat`` start (it optimizes the two shorter halves first).
    progress : callable, optional
        Called with one line of text after the anchors, after each length of the composition
        search and after each start (what is done, the best normalized value, the elapsed
        time). Nothing here prints (the CLI shows it on its progress line); ``True`` logs
        the same at INFO level on the ``pepstep.optimize`` logger.
    explore : bool
        Run the composition search first (default).
    pep_method : {"generate", "auto", "full"}
        How the winner's worst case is computed (:func:`exact_worst_case`); ``generate``
        (default) is exact at every N (checked against closed forms to about 1e-8), while the
        full PEP with Clarabel can sit about 2e-5 above the value at N = 25.
    time_limit : float, optional
        Seconds: past ``time_limit`` minus a reserve for the final evaluation, the search
        stops and the best schedule found so far is evaluated and returned
        (``ScheduleResult.stopped``); a ``KeyboardInterrupt`` does the same.
    executor : concurrent.futures.Executor, optional
        Runs the composition search's joins (a local process pool, a Dask executor); the
        result does not depend on it.
    checkpoint : path, optional
        JSON file of the composition search, rewritten after each length; resumes.

    Returns
    -------
    ScheduleResult
        ``value`` is in the template's units (``L``, ``R``); ``final`` is the evaluation of
        the winner by ``pep_method``.

    Raises
    ------
    InputError
        A bad argument (the message names it and its value).
    SolverError
        Every start failed.

    References
    ----------
    S. Das Gupta, B. P. G. Van Parys and E. K. Ryu, Math. Program. 204, 2024 (locally
    optimal schedules for N <= 50, reproduced here within 1e-5 for N <= 10).

    Examples
    --------
    >>> from pepstep import Problem, constant
    >>> r = optimize(Problem(constant(1.5, 1)), starts=1)
    >>> round(r.steps[0], 4), round(r.value, 6)          # h = 3/2, w = 1/8
    (1.5, 0.125)
    >>> r  # doctest: +ELLIPSIS
    ScheduleResult(value=0.125, optimal, N=1, convex fgap from dist, winner ... starts, ...)
    >>> round(optimize(Problem(constant(1.5, 1), R=2.0), starts=1).value, 6)   # L R^2 / 8
    0.5
    """
    return _optimize(
        _as_template(problem),
        starts=starts,
        seed=seed,
        max_step=max_step,
        solver=solver,
        warm_start=warm_start,
        max_iter=max_iter,
        restarts=restarts,
        local_method=local_method,
        radius=radius,
        kinds=kinds,
        known=known,
        recursive=recursive,
        progress=progress,
        explore=explore,
        pep_method=pep_method,
        time_limit=time_limit,
        executor=executor,
        checkpoint=checkpoint,
    )


def optimize_schedule(
    num_steps: int,
    *,
    function_class: FunctionClass = FunctionClass(),  # noqa: B008 - frozen, immutable default
    measure: Measure | str = "fgap",
    init: InitialCondition | str | None = None,
    R: float | None = None,
    local_method: str | None = None,
    method: str | None = None,
    L_R: float | None = None,
    **options,
) -> ScheduleResult:
    """Deprecated name of :func:`optimize`, with the problem given by its parts.

    ``optimize_schedule(N, function_class=fc, measure=m, init=i, R=r, ...)`` is
    ``optimize(Problem(constant(1.5, N), fc, m, i, r), ...)``: the same computation and
    result. ``init`` defaults to ``dist`` (``fgap`` for the nonconvex class). The old
    spellings ``method`` (for ``local_method``) and ``L_R`` (for ``R``) are accepted
    here only. Every other keyword is :func:`optimize`'s.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     r = optimize_schedule(1, starts=1)
    >>> round(r.value, 6)
    0.125
    """
    warnings.warn(
        "optimize_schedule is deprecated: call pepstep.optimize(Problem(...)) (local_method=, R=).",
        DeprecationWarning,
        stacklevel=2,
    )
    local_method = _one_of("local_method", local_method, "method", method, "trust-region")
    R = _one_of("R", R, "L_R", L_R, 1.0)
    _validate(num_steps, 1, None, 0)
    if init is None:
        init = "dist" if function_class.has_minimizer else "fgap"
    template = Problem(constant(NEUTRAL_STEP, int(num_steps)), function_class, measure, init, R)
    return optimize(template, local_method=local_method, **options)


def _one_of(name: str, value, old: str, old_value, default):
    """``value``, or the old spelling's ``old_value``; both given and different is an error."""
    if value is not None and old_value is not None and value != old_value:
        raise InputError(
            f"Give '{name}' or its old name '{old}', not both. Got {name}={value!r}, {old}={old_value!r}."
        )
    if value is not None:
        return value
    return default if old_value is None else old_value


def _optimize(
    template: Problem,
    *,
    starts: int,
    seed: int,
    max_step: float | None,
    solver: str,
    warm_start,
    max_iter: int,
    restarts: int,
    local_method: str,
    radius: float,
    kinds,
    known: dict | None,
    recursive: bool,
    progress,
    explore: bool = True,
    pep_method: str = "generate",
    time_limit: float | None = None,
    executor=None,
    checkpoint=None,
    partial: bool = False,
):
    """:func:`optimize` for a validated template; ``partial`` (the ``concat`` halves) returns
    only the winning steps and the PEP solves spent (a :class:`_Partial`)."""
    start_time = time.perf_counter()
    num_steps = template.num_steps
    _validate(num_steps, starts, max_step, seed)
    if not isinstance(restarts, int | np.integer) or isinstance(restarts, bool) or restarts < 0:
        raise InputError(f"The number of restarts must be an integer >= 0. Got restarts={restarts!r}.")
    if local_method not in LOCAL_METHODS:
        raise InputError(
            f"The 'local_method' must be one of {', '.join(LOCAL_METHODS)}. Got local_method={local_method!r}."
        )
    if kinds is not None:
        kinds = tuple(kinds)
        bad = [k for k in kinds if k not in START_KINDS]
        if bad or not kinds:
            raise InputError(f"The start kinds must be among {', '.join(START_KINDS)}. Got kinds={kinds!r}.")
    if not (isinstance(radius, int | float) and math.isfinite(radius) and radius > 0):
        raise InputError(f"The trust-region radius must be a positive number. Got radius={radius!r}.")
    if pep_method not in PEP_METHODS:
        raise InputError(
            f"The 'pep_method' must be one of {', '.join(PEP_METHODS)}. Got pep_method={pep_method!r}."
        )
    if time_limit is not None:
        try:
            ok = math.isfinite(float(time_limit)) and float(time_limit) > 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InputError(
                f"The 'time_limit' must be a positive number of seconds. Got time_limit={time_limit!r}."
            )
    starts, seed = int(starts), int(seed)
    function_class = template.function_class
    hi = default_max_step(num_steps) if max_step is None else float(max_step)
    obj = _Objective(template, solver)
    bounds = [(H_MIN, hi)] * num_steps
    say = _log_progress(num_steps) if progress is True else (progress if callable(progress) else None)
    stopped = ""

    def elapsed() -> str:
        return f"{time.perf_counter() - start_time:.0f} s"

    # the anchors first (their cost is known before the search): best constant step, silver,
    # composed, each by the inner route
    deadline = None if time_limit is None else start_time + float(time_limit)
    obj.deadline = None if deadline is None else deadline - _prior_reserve(num_steps, time_limit)
    anchors = {} if partial else _anchors(template, hi, solver, obj)
    if say and anchors:
        best_anchor = min(a["value"] for a in anchors.values())
        say(f"anchors done, best {best_anchor:.10g}, {elapsed()}")
    obj.deadline = None if deadline is None else deadline - _final_reserve(obj, num_steps, time_limit)

    cache = {} if known is None else known

    def optimize_shorter(m: int):
        # The halves of a ``concat`` start: the best schedule of length m, found the same
        # way (recursively; every length is optimized once per call tree).
        if m not in cache:
            if m == 1:
                cache[m] = (NEUTRAL_STEP,)
            else:
                sub = _optimize(
                    _with_steps(template, np.full(m, NEUTRAL_STEP)),
                    starts=starts,
                    seed=seed,
                    max_step=max_step,
                    solver=solver,
                    warm_start=None,
                    max_iter=max_iter,
                    restarts=restarts,
                    local_method=local_method,
                    radius=radius,
                    kinds=kinds,
                    known=cache,
                    recursive=recursive,
                    progress=None,
                    explore=False,
                    partial=True,
                )
                obj.solves += sub.pep_solves
        return cache[m]

    composition = None
    points = []
    try:
        if explore and not partial:
            composition = compose_search(
                template,
                executor=executor,
                solver=solver,
                max_step=max_step,
                deadline=obj.deadline,
                checkpoint=checkpoint,
                progress=say,
            )
        points = _start_points(
            num_steps,
            starts,
            seed,
            warm_start,
            hi,
            optimize_shorter if recursive and not explore else None,
            function_class,
            composed=_composable(template),
            kinds=kinds,
            neutral=np.asarray(template.schedule.steps),
        )
    except (_Deadline, KeyboardInterrupt) as exc:
        stopped = "time limit" if isinstance(exc, _Deadline) else "interrupted"
    if composition is not None and composition.length >= num_steps:
        piece = composition.pieces[composition.families[0]][num_steps]
        points = [("compose", None, np.asarray(piece.steps)), *points][:starts]
    if not points and not stopped:
        raise InputError(f"No start of the kinds {kinds!r} applies to N={num_steps}.")
    results = []
    for kind, s, h0 in points:
        if stopped:
            break
        before = obj.solves
        obj.new_start()
        try:
            first = obj._worst_case(h0)
            if first.status not in (Status.OPTIMAL, Status.INACCURATE) or not first.normalized_value > 0:
                # nothing to descend from (silver's steps above 2 on the nonconvex class, say)
                msg = (
                    f"skipped: the worst case at this start is {first.status.value} ({first.status.message})"
                )
                results.append(
                    StartResult(kind, s, tuple(map(float, h0)), tuple(map(float, h0)), math.inf, 1, 0, msg)
                )
                continue
            rng = np.random.default_rng([seed, len(results)])
            h, nit, msg = _run_start(obj, h0, bounds, max_iter, rng, restarts, local_method, radius)
            w = obj.value(h)
        except SolverError as exc:
            h, nit, msg, w = h0, 0, str(exc), math.inf
        except (_Deadline, KeyboardInterrupt) as exc:
            stopped = "time limit" if isinstance(exc, _Deadline) else "interrupted"
            w, best_h = obj.start_best
            h, nit, msg = (h0 if best_h is None else np.asarray(best_h)), 0, f"stopped: {stopped}"
        if kind == "compose" and composition is not None:
            msg = f"{composition.pieces[composition.families[0]][num_steps].how}; polished: {msg}"
        results.append(
            StartResult(
                kind, s, tuple(map(float, h0)), tuple(map(float, h)), w, obj.solves - before, nit, msg
            )
        )
        if say:
            best = min(r.value for r in results)
            say(f"{len(results)} of {len(points)} starts done, best {best:.10g}, {elapsed()}")
    # the best constant step is a candidate too (found from scratch, like every start)
    allowed = {"constant"} | {k for k in ("silver", "composed") if kinds is None or k in kinds}
    for name, a in anchors.items():
        if name in allowed and math.isfinite(a["value"]):
            results.append(
                StartResult(name, None, tuple(a["steps"]), tuple(a["steps"]), a["value"], 0, 0, "anchor")
            )
    if not results:
        raise SolverError(f"Every start failed or was stopped for N={num_steps} ({stopped or 'no start'}).")
    win = int(np.argmin([r.value for r in results]))
    if not math.isfinite(results[win].value):
        raise SolverError(f"Every start failed for N={num_steps}: {results[win].message}")
    cache[num_steps] = results[win].steps
    if partial:  # a recursive call: only the steps and the cost are needed
        return _Partial(results[win].steps, obj.solves)
    best = Schedule(results[win].steps, name=f"optimized:{num_steps}")
    const = anchors.get("constant")
    const_h, const_w = (
        (const["steps"][0], const["value"])
        if const
        else best_constant_step(template, hi, solver, counter=obj)
    )
    problem = Problem(best, function_class, template.measure, template.init, template.R)
    # under a time limit the final evaluation stops with it too (no value is then shown)
    final = exact_worst_case(problem, solver, pep_method, deadline=deadline)
    obj.solves += 1
    scale = value_scale(template)
    return ScheduleResult(
        schedule=best,
        value=float(final.value),
        normalized_value=float(final.normalized_value),
        status=final.status,
        problem=problem,
        starts=tuple(results),
        winning_start=win,
        best_constant_step=const_h,
        best_constant_value=const_w * scale,
        seconds=time.perf_counter() - start_time,
        pep_solves=obj.solves + (composition.evals if composition else 0),
        final=final,
        anchors={k: {**v, "value": v["value"] * scale} for k, v in anchors.items()},
        stopped=stopped,
        composition=composition,
    )


#: How the final value is computed (``pep_method``): the routes of :func:`pepstep.compute.worst_case`.
PEP_METHODS = ("generate", "auto", "full")
#: Worst-case evaluations the anchors' best-constant search may take (bounded 1-D search).
CONSTANT_EVALS = 40


#: Seconds per step kept for the final evaluation before anything was measured (one exact
#: evaluation at N = 127 takes about 5 s here, 20 s on two busy cores).
RESERVE_PER_STEP = 0.2


def _prior_reserve(num_steps: int, time_limit: float) -> float:
    """Seconds kept for the final evaluation before any was measured: ``RESERVE_PER_STEP * N``,
    at most half the limit (``--num-steps 40 --time-limit 5`` kept 8 s and stopped at once,
    at the first schedule evaluated; one evaluation there takes about 0.3 s)."""
    return min(RESERVE_PER_STEP * num_steps, 0.5 * float(time_limit))


def _final_reserve(obj: _Objective, num_steps: int, time_limit: float) -> float:
    """Seconds kept for the final exact evaluation under a time limit: three times the
    slowest evaluation seen, and at least :func:`_prior_reserve` (and one second)."""
    return max(1.0, 3.0 * obj.slowest, _prior_reserve(num_steps, time_limit))


def _anchors(template: Problem, hi: float, solver: str, obj: _Objective) -> dict:
    """The schedules every result is compared with, on the template's problem (normalized
    values, by the inner route): the best constant step, silver, and for convex f(x_N) - f*
    from ``|x_0 - x*| <= R`` the composed schedule (:func:`composed_schedule`). A schedule
    whose worst case is not finite (silver on the nonconvex class) is kept with its reason."""
    n = template.num_steps
    out = {}
    named = [("silver", silver(n).steps)] if n >= 2 else []
    if _composable(template) and n >= 2:
        named.append(("composed", composed_schedule(n)[0]))
    undefined = {
        "silver": "the silver schedule is defined for N >= 2 here",
        "composed": "the composed schedule is defined for convex f(x_N) - f* from |x_0 - x*| <= R, N >= 2",
    }
    for name, reason in undefined.items():
        out[name] = {"steps": [], "value": math.inf, "status": "not defined", "reason": reason}
    for name, steps in named:
        try:
            wc = obj._worst_case(np.asarray(steps))
        except _Deadline:
            out[name] = {
                "steps": list(steps),
                "value": math.inf,
                "status": "not evaluated",
                "reason": "time limit",
            }
            continue
        w = wc.normalized_value
        if wc.status in (Status.OPTIMAL, Status.INACCURATE) and math.isfinite(w) and w > 0:
            obj._record(w, steps)
            out[name] = {"steps": list(steps), "value": w, "status": wc.status.value}
        else:
            out[name] = {
                "steps": list(steps),
                "value": math.inf,
                "status": wc.status.value,
                "reason": wc.status.message,
            }
    # the constant search last: under a time limit the named schedules are evaluated first
    try:
        h, w = best_constant_step(template, hi, solver, counter=obj)
    except _Deadline:  # the time limit: the best constant step evaluated so far
        seen = [(v[0], k[0]) for k, v in obj.cache.items() if len(set(k)) == 1 and math.isfinite(v[0])]
        if not seen:
            deadline, obj.deadline = obj.deadline, None  # one schedule is always evaluated
            seen = [(obj.value(np.ones(n)), 1.0)]
            obj.deadline = deadline
        w, h = min(seen)
    # the solver status of the value at that step (an inner evaluation may keep an
    # inaccurate one, :func:`exact_worst_case`)
    status = obj.status_at(np.full(n, h)) if math.isfinite(w) else "failed"
    out["constant"] = {"steps": [h] * n, "value": w, "status": status}
    return out


def plot_schedule(result: ScheduleResult, path, reference: tuple | None = None) -> None:
    """Bar chart of the optimized steps (:func:`pepstep.plots.plot_steps`), written to ``path``.

    ``reference``, a pair ``(label, value)`` such as ``("BnB-PEP", 0.00154)``, is quoted in
    the title beside the optimized value (same units).
    """
    from .plots import plot_steps
    from .solve import problem_brief

    title = f"optimized schedule, N = {result.num_steps}, worst case {result.value:.6g}"
    if reference is not None:
        label, value = reference
        title += f" vs {label} {value:.6g} ({100.0 * (result.value / value - 1.0):+.2f}%)"
    shown = [
        f"{name} {a['value']:.5g}"
        for name, a in result.anchors.items()
        if a["status"] == "optimal" and math.isfinite(a["value"])
    ]
    caption = (
        f"Normalized steps h_k (the step is h_k / L) of the schedule pepstep optimize found for "
        f"{problem_brief(result.problem)} ({result.found_by.split(';')[0]}); its exact worst case is the "
        f"value in the title, beside those of the anchors on the same problem."
    )
    if shown:
        title += "\n" + ", ".join(shown)
    plot_steps(result.steps, path, title, caption)


def pattern_json(result: ScheduleResult, source: str) -> dict:
    """The optimized schedule in the shape of ``problems/patterns/*.json`` (``source`` and
    ``steps``), with its value, the start that won, the wall time and the PEP solves."""
    win = result.starts[result.winning_start]
    fc = result.problem.function_class
    return {
        "source": source,
        "steps": list(result.steps),
        "value": result.value,
        "class": fc.kind,
        "measure": result.problem.measure.value,
        "init": result.problem.init.value,
        "start": win.kind,
        "start_seed": win.seed,
        "starts": [
            {"kind": s.kind, "seed": s.seed, "value": s.value, "pep_solves": s.pep_solves}
            for s in result.starts
        ],
        "seconds": round(result.seconds, 1),
        "pep_solves": result.pep_solves,
        "solver": result.final.solver,
        "solver_version": result.final.solver_version,
    }


def certify_schedule(result: ScheduleResult, solver: str = "clarabel"):
    """An exact rational certificate of the optimized schedule's worst case.

    Calls :func:`pepstep.certify.certify` (imported here); raises :class:`InputError` if
    certificates are not available in this installation.
    """
    try:
        from .certify import certify
    except ImportError:
        raise InputError("certificates are not available") from None
    return certify(result.problem, solver=solver)


# --------------------------------------------------------------------------- composition search
#
# A dynamic program over compositions: a schedule of N steps is a left piece of ``a`` steps, one
# joining step ``h`` and a right piece of ``b = N - 1 - a`` steps, each piece the best schedule
# found for its own criterion (a ``family``: a measure and an initial condition on the same
# class). The joining step is fitted by a 1-D search on the exact worst case.


#: Criteria whose best schedules serve as pieces, for classes with a minimizer: f(x_N) - f* and
#: |g_N|^2 from |x_0 - x*| <= R, |g_N|^2 from f(x_0) - f* <= Delta (the f-, s- and g-composable
#: families of Grimmer, Shu & Wang are their minimax schedules).
FAMILIES_WITH_MINIMIZER = (("fgap", "dist"), ("gradnorm", "dist"), ("gradnorm", "fgap"))
#: The same for the nonconvex class (no minimizer: init fgap only).
FAMILIES_NONCONVEX = (("gradnorm", "fgap"), ("mingradnorm", "fgap"))
#: Up to this length every family is built from every pair of families at every split; the
#: pairs that win there are the only ones tried at longer lengths (and the families they use).
LEARN_UNTIL = 4
#: After learning, the pairs of families tried for a family are those that won it at one of
#: the last ``RECENT`` lengths (a pair that stops winning is dropped, and with it the
#: families only it used).
RECENT = 3
#: Inner evaluations of schedules up to this length first try one full-PEP solve by Clarabel,
#: without retries, and keep it when it passes the re-check; otherwise, and for longer
#: schedules, constraint generation through pepstep's Schur route decides (exact to about 1e-8).
#: Measured at N = 16 (composed schedule, joining step moved by 0.7 to 1.05): the full solve
#: 0.11-0.16 s when it passes, the Schur generation 0.2-0.9 s for f-gap and |g|^2 from the
#: distance, and 1.0-2.1 s (3 to 6 rounds, ending inaccurate) for |g|^2 from f(x_0) - f*.
#: At N = 25 the full solve takes about 0.3 s and generation about 0.4 s.
INNER_FULL_UNTIL = 32
#: Up to this length every split is tried; beyond it, the winning split ``p`` of the previous
#: length and ``p + 1``, extended while the best sits at an edge. (Checked with the closed-form
#: joins of the composition theory standing in for the PEP: this reaches the best composition
#: at every N <= 130, with 324 joins up to N = 50 against 1,225 for every split.)
ALL_SPLITS_UNTIL = 8
#: Relative width of the joining step's bracket at which its search stops, and the relative
#: decrease its tangent model must still promise. Inner worst cases near a join's optimum
#: scatter by about 1e-7 relative between steps 1e-7 apart (N = 27: values and slopes that
#: contradict each other at that scale), so a smaller promise chased noise: 7-14 evaluations
#: per join at N = 27-35 instead of 4-8, for no better value.
JOIN_XTOL = 1e-8
JOIN_FTOL = 5e-8
#: Most worst-case evaluations of one joining-step search.
JOIN_MAX_EVALS = 40
#: The first probe from the screen's step (relative), and the farthest (:func:`_join_search`).
JOIN_PROBE = 1e-6
JOIN_PROBE_MAX = 1e-2
#: Two joins within this relative value of each other tie (the first in submission order wins;
#: both pairs of families count as winners): the accuracy of the inner evaluations.
TIE_RTOL = 1e-6


@dataclass(frozen=True)
class Piece:
    """The best schedule found for one family and length by the composition search.

    Attributes
    ----------
    steps : tuple of float
        The schedule (empty for length 0).
    value : float
        Its normalized worst case for the family's criterion (``nan`` for length 0).
    how : str
        ``"left[a] + h + right[b]"`` with the families of the pieces, or ``"empty"``.
    split : int
        ``a``, the length of the left piece (-1 for length 0).
    """

    steps: tuple
    value: float
    how: str
    split: int

    def to_json(self) -> dict:
        value = self.value if math.isfinite(self.value) else None  # JSON has no NaN
        return {"steps": list(self.steps), "value": value, "how": self.how, "split": self.split}


def _family_name(measure, init) -> str:
    return f"{Measure.parse(measure).value}/{InitialCondition.parse(init).value}"


def composition_families(template: Problem) -> tuple:
    """The families of the composition search for ``template``: its own criterion first, then
    the auxiliary criteria valid on its class (:data:`FAMILIES_WITH_MINIMIZER`,
    :data:`FAMILIES_NONCONVEX`), as ``"measure/init"`` names.

    Examples
    --------
    >>> from pepstep import Problem, constant
    >>> composition_families(Problem(constant(1.5, 3)))
    ('fgap/dist', 'gradnorm/dist', 'gradnorm/fgap')
    """
    fc = template.function_class
    own = _family_name(template.measure, template.init)
    out = [own]
    for m, i in FAMILIES_WITH_MINIMIZER if fc.has_minimizer else FAMILIES_NONCONVEX:
        name = _family_name(m, i)
        if name in out:
            continue
        try:
            Problem(constant(1.0, 1), fc, m, i, 1.0)
        except InputError:  # a combination the class refuses
            continue
        out.append(name)
    return tuple(out)


def _family_problem(fc: FunctionClass, family: str, steps) -> Problem:
    m, i = family.split("/")
    return Problem(Schedule(tuple(float(x) for x in steps)), fc, m, i, 1.0)


def exact_worst_case(
    problem: Problem,
    solver: str = "clarabel",
    method: str = "generate",
    *,
    inner: bool = False,
    deadline: float | None = None,
) -> WorstCase:
    """The worst case by ``method``; ``generate`` with the default solver runs constraint
    generation through pepstep's Schur route (:func:`pepstep.generation.worst_case_generated`,
    exact to about 1e-8 relative against the closed forms), and falls back to
    :func:`pepstep.compute.worst_case` (``generate``, then ``full``) when that solve is not
    optimal. ``WorstCase.solver`` names what ran.

    With ``inner`` (the optimizer's inner evaluations, whose winner is evaluated again
    without it), a schedule of at most ``INNER_FULL_UNTIL`` steps is first solved once as the
    full PEP, kept when it passes the re-check; and a generation that closed (no violated
    pair left) with an ``inaccurate`` last solve is kept as it is. Near a join's optimum at
    N = 36 the fallbacks took 6-20 s more per evaluation and returned Clarabel values above
    the generation's own certified upper bound (2.6e-5 relative at the f-gap join). An inner
    generation also stops when its value stalls (:data:`INNER_STALL`) and keeps that value.

    With ``deadline`` (a ``time.perf_counter()`` time) the generation adds no round after
    it and no fallback starts after it (a fallback under way stops at it, ``bounded``); the
    result is then not ``ok`` unless its first round closed."""
    if method == "generate" and solver == "clarabel":
        from .generation import worst_case_generated

        if inner and problem.num_steps <= INNER_FULL_UNTIL:
            wc = solve_full(problem, solver, throw=False, retry=False)
            if wc.ok:
                return wc

        # the Schur route for every working set below SCHUR_UNTIL steps (the per-round choice
        # picked Clarabel at N = 16 and failed, and sent N = 100 to a full SCS solve); from
        # there on (longer than the optimizer goes) the per-round choice
        route = "schur" if problem.num_steps < SCHUR_UNTIL else "auto"
        values: list = []
        stall = inner and problem.num_steps > INNER_FULL_UNTIL

        def stalled(rounds, seconds, size) -> bool:
            return stall and _stalled(values)

        gen = worst_case_generated(
            problem,
            route,
            throw=False,
            deadline=deadline,
            progress=lambda rounds, size, value: values.append(value),
            stop=stalled,
        )
        wc = gen.worst_case
        if wc.ok or (inner and (gen.info.exact or gen.info.stopped) and wc.status is Status.INACCURATE):
            return wc
        if deadline is not None and time.perf_counter() >= deadline:
            return wc

        def left() -> float | None:  # the fallbacks stop at the deadline too (then `bounded`)
            return None if deadline is None else max(deadline - time.perf_counter(), 1e-3)

        wc = worst_case(problem, solver, throw=False, method="generate", time_limit=left())
        if wc.ok or problem.num_steps > AUTO_FULL_UNTIL:
            return wc
        return worst_case(problem, solver, throw=False, method="full", time_limit=left())
    return worst_case(problem, solver, throw=False, method=method)


#: An inner evaluation (:func:`exact_worst_case` with ``inner``) stops its constraint
#: generation when two rounds in a row did not lower the value by more than this
#: (relative), and keeps the last one: a working set's value bounds the full PEP's from
#: above, and pairs that do not lower it are the degenerate primal's, not the worst case's.
#: Measured on the joins' high-rank side (f-gap N = 45 and 47, gradient norm N = 33,
#: joining steps 1e-6 to 1e-4 off the optimum): generation ran 7-11 rounds, 10-52 s, while
#: from the second round on the values moved by 1e-7 to 5e-6 in both directions (the
#: solves' own accuracy there; the last value was reported ``inaccurate``). One round
#: without progress is not enough: the composed schedule at N = 100 rises by 3e-6 (noise)
#: in its second round and closes at the explicit bound in its third, and random steps at
#: N = 10 stay 2.3e-6 above the full PEP for one round before the last. It applies only
#: beyond ``INNER_FULL_UNTIL`` steps, where the full PEP is not tried first.
INNER_STALL = 1e-7


def _stalled(values: list) -> bool:
    """Whether a generation's round values (in order) stopped falling: the last two rounds
    each lowered the value by at most ``INNER_STALL`` (relative)."""
    return len(values) >= 3 and all(values[-k] >= values[-k - 1] * (1.0 - INNER_STALL) for k in (1, 2))


#: :func:`exact_worst_case` falls back to the full PEP up to this length.
AUTO_FULL_UNTIL = 64
#: :func:`exact_worst_case` forces the Schur route below this length (measured on the
#: composition search's joins at N = 32-34: 3.5-9.6 s per length against 32-59 s with the
#: per-round choice, whose Clarabel rounds fail the re-check near a join's optimum; and on
#: the composed schedule at N = 100, which the Schur route closes in 3 rounds, 21 s, where
#: the per-round choice went to a full SCS solve that had not ended after 5 minutes). Every
#: length the optimizer accepts (at most 127).
SCHUR_UNTIL = 128


def _evaluate(fc: FunctionClass, family: str, steps, solver: str, route: str, deadline: float | None = None):
    """``(value, dw/dh, status)`` of one schedule for one family (normalized); a failed or
    unbounded solve gives ``(inf, None, status)``. Past ``deadline`` (``time.perf_counter()``;
    the generation adds no round after it) :class:`_Deadline` is raised instead."""
    problem = _family_problem(fc, family, steps)
    try:
        wc = exact_worst_case(problem, solver, route, inner=route == "generate", deadline=deadline)
    except SolverError:
        return math.inf, None, Status.FAILED
    if deadline is not None and time.perf_counter() >= deadline:
        raise _Deadline
    w = wc.normalized_value
    if wc.status in (Status.OPTIMAL, Status.INACCURATE) and math.isfinite(w) and w > 0:
        return float(w), worst_case_gradient(wc), wc.status
    return math.inf, None, wc.status


#: The lower-bound screen of a join (:func:`lower_screen`): points of its first grid
#: (geometric on the step's bracket), and the relative width at which its golden-section
#: refinement stops.
SCREEN_GRID = 48
SCREEN_XTOL = 1e-10
#: A join whose exact worst case at the screen's step is within this of the screen's value
#: is done after that one evaluation: no step does better, since the worst case is never
#: below the explicit functions' value. Kept well below the 1e-6 asked of the search, so
#: that it and the inner solves' own error (up to :data:`pepstep.generation.RTOL_SANDWICH`
#: for a worst case closed by the lower bound) do not add up past it.
SCREEN_RTOL = 3e-7
#: Joins are screened from this length on (below it every candidate runs: at N = 3 the
#: screens of the 43 candidates took 8 s, their SDPs under 1 s).
SCREEN_FROM = ALL_SPLITS_UNTIL + 1


def lower_screen(value, lo: float, hi: float, grid: int = SCREEN_GRID, xtol: float = SCREEN_XTOL):
    """Minimize a 1-D lower bound ``value(h)`` on ``[lo, hi]``: its minimum on a geometric
    grid, refined by golden-section search (in ``log h``) between the grid neighbours.

    ``value`` is the explicit functions' bound (:func:`pepstep.lower.lower_bound`) of a
    schedule with one step ``h`` free; it costs a few milliseconds and needs no SDP. Its
    minimum ``v`` bounds the best exact worst case over ``h`` from below (the worst case
    is at least the bound at every ``h``), so a join whose ``v`` exceeds a value already
    found cannot win, and a join whose exact worst case at the minimizer equals ``v`` is
    solved. Returns ``(h, v)``.

    Examples
    --------
    >>> h, v = lower_screen(lambda h: abs(math.log(h / 3.0)) + 1.0, 1e-3, 100.0)
    >>> round(h, 8), round(v, 8)
    (3.0, 1.0)
    """
    hs = np.geomspace(lo, hi, grid)
    vs = [value(float(h)) for h in hs]
    i = int(np.argmin(vs))
    best_h, best_v = float(hs[i]), float(vs[i])
    a, b = math.log(hs[max(i - 1, 0)]), math.log(hs[min(i + 1, grid - 1)])
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    vc, vd = value(math.exp(c)), value(math.exp(d))
    while b - a > xtol:
        if vc <= vd:
            b, d, vd = d, c, vc
            c = b - ratio * (b - a)
            vc = value(math.exp(c))
        else:
            a, c, vc = c, d, vd
            d = a + ratio * (b - a)
            vd = value(math.exp(d))
    for u, v in ((c, vc), (d, vd)):
        if v < best_v:
            best_h, best_v = math.exp(u), v
    return best_h, best_v


def _explicit_bound(problem: Problem) -> float:
    """The normalized value of :func:`pepstep.lower.lower_bound` (``-inf`` without one)."""
    from .lower import lower_bound

    lb = lower_bound(problem)
    return float(lb.value) if lb is not None else -math.inf


def _join_lower(fc: FunctionClass, family: str, left, right):
    """``h -> `` the explicit lower bound of ``left + (h,) + right`` for ``family`` (None for
    a class without one: nonconvex)."""
    if not fc.has_minimizer:
        return None
    return lambda h: _explicit_bound(_family_problem(fc, family, (*left, h, *right)))


def _join_search(
    value_slope,
    lo: float,
    hi: float,
    guess: float,
    max_evals: int = JOIN_MAX_EVALS,
    done_below: float = -math.inf,
    first: float | None = None,
    stop=None,
):
    """Minimize a 1-D worst case ``w(h)`` on ``[lo, hi]`` from ``guess``.

    ``value_slope(h)`` gives ``(w, dw/dh)`` (``(inf, None)`` where the solve failed, read as
    "step too long"). The minimum of a joining step is typically a kink: ``w`` falls along one
    worst-case function and rises along another. The search keeps a bracket ``lo_pt`` (slope
    < 0) and ``hi_pt`` (slope > 0), steps to the intersection of their tangent lines (exact
    for two linear branches, quadratically convergent for smooth ones), and falls back to a
    geometric bisection when the intersection is not well inside the bracket. ``first``
    (the screen's step, :func:`lower_screen`) is evaluated first: when its value is at most
    ``done_below`` (the screen's minimum of a lower bound, which no step goes below), the
    search ends there. Otherwise it probes downhill from ``first`` (:data:`JOIN_PROBE` up to
    :data:`JOIN_PROBE_MAX`, relative) for a bracket; ``guess`` (the previous length's step)
    is evaluated only when there is none, and ends the search too when it meets
    ``done_below``. ``stop()`` is asked before each evaluation after the first; when it is
    true, :class:`_Deadline` is raised.
    Returns ``(h, w, evals)``.
    """
    evals = 0
    pts: dict = {}

    def at(h):
        nonlocal evals
        h = float(min(max(h, lo), hi))
        if h not in pts:
            if evals and stop is not None and stop():
                raise _Deadline
            evals += 1
            pts[h] = value_slope(h)
        return pts[h]

    def best():
        h = min(pts, key=lambda x: (pts[x][0], x))
        return h, pts[h][0]

    if first is not None and math.isfinite(first):
        h = float(min(max(first, lo), hi))
        if at(h)[0] <= done_below:
            return h, pts[h][0], evals
        # the optimum is typically within 1e-6 relative of the screen's step: probe downhill
        # from it, 1e-6 relative first and ten times farther each time, until the slope
        # changes sign (the previous length's step, tried first before, was up to 2% away
        # and uphill as often as not: 7-14 evaluations per join at N = 27-35)
        w0, g0 = pts[h]
        if g0 is not None and math.isfinite(w0):
            sign, rel = (-1.0 if g0 > 0 else 1.0), JOIN_PROBE
            while rel <= JOIN_PROBE_MAX and evals < max_evals:
                x = float(min(max(h * (1.0 + sign * rel), lo), hi))
                if x == h or x in pts:
                    break
                wx, gx = at(x)
                if gx is None or (gx > 0) != (g0 > 0) or wx > w0:
                    break
                rel *= 10.0

    def bracket():
        # the tightest bracket: the largest step with slope < 0 and the smallest with slope
        # > 0 (or a failed solve, read as "too long"); when they cross (w not unimodal on
        # the points seen), the best point alone, on its side
        lefts = [x for x in pts if pts[x][1] is not None and pts[x][1] <= 0]
        rights = [x for x in pts if pts[x][1] is None or pts[x][1] > 0]
        a, b = (max(lefts) if lefts else None), (min(rights) if rights else None)
        if a is not None and b is not None and a >= b:
            x = best()[0]
            a, b = (x, None) if x in lefts else (None, x)
        return (None if a is None else (a, *pts[a])), (None if b is None else (b, *pts[b]))

    left, right = bracket()
    if left is None or right is None:  # go on from the previous length's step
        h = float(min(max(guess, lo), hi))
        w, g = at(h)
        if w <= done_below:
            return h, w, evals
        left, right = bracket()
    factor = 1.03
    while (left is None or right is None) and evals < max_evals:
        if left is None:
            if right[0] <= lo:
                return lo, pts[lo][0], evals
            h = max(lo, right[0] / factor)
            w, g = at(h)
            if g is None or g > 0:
                right = (h, w, g)
            else:
                left = (h, w, g)
        else:
            if left[0] >= hi:
                return hi, pts[hi][0], evals
            h = min(hi, left[0] * factor)
            w, g = at(h)
            if g is None or g > 0:
                right = (h, w, g)
            else:
                left = (h, w, g)
        factor = factor**2
    last_side, same_side = "", 0
    while evals < max_evals and left is not None and right is not None:
        a, wa, ga = left
        b, wb, gb = right
        if b - a <= JOIN_XTOL * b:
            break
        cut = None
        if gb is not None and math.isfinite(wb) and ga < gb:
            cut = (wb - wa + ga * a - gb * b) / (ga - gb)
            model = wa + ga * (cut - a)
            # the model's promise counts only when its cut is inside the bracket: near a
            # join's optimum a third function bends w, and a cut outside stopped the search
            # 4.9e-5 short of it (N = 15: 1.3e-6 above the optimum's value)
            if a < cut < b and best()[1] - model <= JOIN_FTOL * best()[1]:
                break
        width = b - a
        if cut is None or same_side >= 2:
            # no model, or the same end moved twice: bisect (a bracket moved by 1% at a
            # time crept toward a kink in 1e-7 steps)
            cut = math.sqrt(a * b)
        elif not (a + 0.01 * width < cut < b - 0.01 * width):
            cut = min(max(cut, a + 0.01 * width), b - 0.01 * width)
        w, g = at(cut)
        side = "right" if g is None or g > 0 else "left"
        same_side = same_side + 1 if side == last_side else 1
        last_side = side
        if side == "right":
            right = (cut, w, g)
        else:
            left = (cut, w, g)
    h, w = best()
    return h, w, evals


def _join_task(task: dict) -> dict:
    """Executor task: the best joining step of ``left + [h] + right`` for one family.

    Module-level (it pickles); deterministic in its input, so the composition search gives the
    same answer on any executor. The search starts at the screen's step (:func:`lower_screen`)
    and ends there when the exact worst case meets the screen's value.
    """
    fc, family = task["function_class"], task["family"]
    left, right = tuple(task["left"]), tuple(task["right"])
    k = len(left)
    status_seen = []

    def value_slope(h):
        deadline = None if wall is None else time.perf_counter() + (wall - time.time())
        w, grad, status = _evaluate(fc, family, (*left, h, *right), task["solver"], task["route"], deadline)
        status_seen.append(status.value)
        return (w, None) if grad is None else (w, float(grad[k]))

    done_below = task["screen"] * (1.0 + SCREEN_RTOL) if math.isfinite(task["screen"]) else -math.inf
    wall = task.get("wall_deadline")
    try:
        h, w, evals = _join_search(
            value_slope,
            task["lo"],
            task["hi"],
            task["guess"],
            done_below=done_below,
            first=task["screen_step"],
            stop=None if wall is None else (lambda: time.time() > wall),
        )
    except _Deadline:  # the caller's time limit: this length is not finished
        return {"h": math.nan, "value": math.inf, "evals": len(status_seen), "statuses": [], "stopped": True}
    return {"h": h, "value": w, "evals": evals, "statuses": sorted(set(status_seen))}


def _map(executor, fn, tasks: list) -> list:
    """``fn`` over ``tasks``, in order (on ``executor`` when given)."""
    if executor is None:
        return [fn(t) for t in tasks]
    futures = [executor.submit(fn, t) for t in tasks]
    return [f.result() for f in futures]


class _Deadline(Exception):
    """The time limit was reached inside the composition search."""


@dataclass
class CompositionState:
    """The composition search's state: the best piece per family and length, the pairs of
    families that won while learning, and the cost so far (a checkpoint is its JSON)."""

    families: tuple
    pieces: dict  # family -> list of Piece, index = length
    combos: dict  # family -> per length from 2 on, the winning (left family, right family) pairs
    evals: int = 0
    tasks: int = 0
    pruned: int = 0

    @property
    def length(self) -> int:
        """The longest length built for the target (the first family); the other families
        are built only as far as the joins use them."""
        return len(self.pieces[self.families[0]]) - 1

    def to_json(self) -> dict:
        return {
            "families": list(self.families),
            "pieces": {f: [p.to_json() for p in ps] for f, ps in self.pieces.items()},
            "combos": {f: [[list(c) for c in cs] for cs in per] for f, per in self.combos.items()},
            "evals": self.evals,
            "tasks": self.tasks,
            "pruned": self.pruned,
        }

    @classmethod
    def from_json(cls, data: dict) -> CompositionState:
        pieces = {
            f: [
                Piece(
                    tuple(p["steps"]),
                    math.nan if p["value"] is None else float(p["value"]),
                    p["how"],
                    int(p["split"]),
                )
                for p in itertools.takewhile(lambda p: p["split"] != -2, ps)  # older files' "not built"
            ]
            for f, ps in data["pieces"].items()
        }
        combos = {
            f: [[tuple(c) for c in cs] for cs in per][: max(len(pieces.get(f, ())) - 2, 0)]
            for f, per in data["combos"].items()
        }
        return cls(
            tuple(data["families"]),
            pieces,
            combos,
            int(data["evals"]),
            int(data["tasks"]),
            int(data.get("pruned", 0)),
        )

    @classmethod
    def empty(cls, families: tuple) -> CompositionState:
        return cls(families, {f: [Piece((), math.nan, "empty", -1)] for f in families}, {})


def _recent(state: CompositionState, family: str) -> list:
    out = []
    for combos in state.combos.get(family, [])[-RECENT:]:
        out += [tuple(c) for c in combos if tuple(c) not in out]
    return out


def _task(state, fc, family, left, right, a, n, solver, route, hi) -> dict:
    lp, rp = state.pieces[left][a], state.pieces[right][n - 1 - a]
    sums = sum(lp.steps) + sum(rp.steps)
    top = max(hi, 2.0 + sums)
    # the smallest explicit lower bound over the joining step (the screen), and where; below
    # SCREEN_FROM steps a join's SDPs cost about what its screen does, and every join runs
    lower = _join_lower(fc, family, lp.steps, rp.steps) if n >= SCREEN_FROM else None
    at, screen = lower_screen(lower, H_MIN, top) if lower is not None else (math.nan, -math.inf)
    guess = NEUTRAL_STEP
    prev = state.pieces[family][n - 1]
    if prev.split >= 0:
        # the previous length's joining step, scaled with the pieces' sums, where the search
        # goes on when the screen's step is not the optimum (at N = 13 a third function lifts
        # the worst case there 5e-5 above both explicit ones; at N = 26, 1e-7)
        p_left = prev.steps[: prev.split]
        p_right = prev.steps[prev.split + 1 :]
        guess = prev.steps[prev.split] * (2.0 + sums) / (2.0 + sum(p_left) + sum(p_right))
    return {
        "function_class": fc,
        "family": family,
        "left": lp.steps,
        "right": rp.steps,
        "lo": H_MIN,
        "hi": top,
        "guess": guess,
        "screen": screen,
        "screen_step": at,
        "solver": solver,
        "route": route,
    }


def _round(state, executor, tasks: list, deadline=None) -> list:
    """Run join tasks (the same pieces for two families, empty ones mostly, are one task).
    With a ``deadline`` (``time.perf_counter()``), each task stops its search when the wall
    clock passes it (tasks may run in other processes), and :class:`_Deadline` is raised."""
    unique: dict = {}
    for t in tasks:
        unique.setdefault((t["family"], t["left"], t["right"]), t)
    wall = None if deadline is None else time.time() + (deadline - time.perf_counter())
    done = dict(
        zip(unique, _map(executor, _join_task, [{**t, "wall_deadline": wall} for t in unique.values()]))
    )
    state.tasks += len(unique)
    state.evals += sum(r["evals"] for r in done.values())
    if any(r.get("stopped") for r in done.values()):
        raise _Deadline
    return [done[(t["family"], t["left"], t["right"])] for t in tasks]


def _built(state: CompositionState, family: str) -> int:
    """The longest length built for ``family`` (pieces are built in order of length)."""
    return len(state.pieces[family]) - 1


def _candidates(state: CompositionState, family: str, n: int) -> list:
    """``(left family, right family, split)`` triples tried first for ``family`` at length
    ``n``: every pair and split while learning, then the pairs that won the family at its
    last ``RECENT`` lengths at the previous winner's split ``p`` and ``p + 1``."""
    combos = (
        [(a, b) for a in state.families for b in state.families]
        if n <= LEARN_UNTIL
        else _recent(state, family)
    )
    if n <= ALL_SPLITS_UNTIL:
        splits = range(n)
    else:
        p = state.pieces[family][n - 1].split
        splits = (p, p + 1)
    out = []
    for left, right in combos:
        for a in splits:
            if 0 <= a < n and (left, right, a) not in out:
                out.append((left, right, a))
    return out


def _uses(key: tuple, n: int) -> tuple:
    """The pieces ``(family, length)`` that the join ``key`` at length ``n`` puts together."""
    left, right, a = key
    return (left, a), (right, n - 1 - a)


def _missing(state: CompositionState, key: tuple, n: int) -> list:
    return [(g, k) for g, k in _uses(key, n) if k > _built(state, g)]


def _joinable(state: CompositionState, family: str, n: int) -> bool:
    """Whether every piece the candidate joins of ``family`` at length ``n`` use is built."""
    return not any(_missing(state, key, n) for key in _candidates(state, family, n))


def _build(state, fc, want: dict, executor, solver, route, hi, deadline, busy=frozenset(), ahead=()):
    """Build each family of ``want`` through its length, and first the pieces of other
    families that its joins use (built on demand: the composition search of N steps builds
    an auxiliary family only as far as the target's joins reach, not to N).

    Jobs whose joins' pieces are all built run side by side on the executor, one length per
    family per call of :func:`_extend_length`. ``ahead`` names pieces ``(family, length)``
    built alongside the others when they are their family's next length and their joins'
    pieces are built (the pieces one split beyond the target's candidates, which its next
    length tries: the ``|g|^2`` join then runs beside the f-gap one). ``busy`` are families an
    enclosing call is building, which this one must not touch.
    """
    while True:
        demand: dict = {}
        todo = [(g, k) for g, k in want.items() if k > _built(state, g)]
        while todo:
            g, k = todo.pop()
            if k <= max(demand.get(g, -1), _built(state, g)):
                continue
            demand[g] = k
            m = _built(state, g) + 1
            for key in _candidates(state, g, m):
                todo += _missing(state, key, m)
        if not demand:
            return
        ready = []
        for g in demand:
            if g in busy:
                raise _Unbuildable(g)
            if _joinable(state, g, _built(state, g) + 1):
                ready.append(g)
        for g, k in ahead:  # speculative: one more piece alongside, where it is ready
            if (
                g not in ready
                and g not in busy
                and k == _built(state, g) + 1
                and k > 0
                and _joinable(state, g, k)
            ):
                ready.append(g)
        if not ready:  # cannot happen: a missing piece is always shorter than what needs it
            raise RuntimeError(f"composition search: no join of {sorted(demand)} can be built")
        _extend_length(state, fc, tuple(ready), executor, solver, route, hi, deadline, busy)


class _Unbuildable(Exception):
    """A join needs a piece of a family that an enclosing call is building."""


def _extend_length(state, fc, jobs, executor, solver, route, hi, deadline, busy=frozenset()):
    """Build each family of ``jobs`` at its next length.

    Each candidate join is first screened by the explicit lower bound (:func:`lower_screen`,
    no SDP). Per family the most promising candidate runs first; a candidate whose screen
    exceeds the best value found (beyond ``TIE_RTOL``) cannot win or tie and is not run
    (counted in ``state.pruned``). From ``ALL_SPLITS_UNTIL`` steps on, the splits next to a
    family's winner are added while the winner sits at the edge of those tried (a piece such
    a split needs is built first, by :func:`_build`). Families run side by side on the
    executor; every decision depends only on finished results, so the answer does not
    depend on the executor.
    """
    n = {f: _built(state, f) + 1 for f in jobs}
    tried: dict = {f: {} for f in jobs}  # family -> {(left, right, a): (h, value)}
    tasks: dict = {f: {} for f in jobs}  # family -> {key: task}, screened
    pruned: dict = {f: set() for f in jobs}
    best = dict.fromkeys(jobs, math.inf)
    pending = {f: _candidates(state, f, n[f]) for f in jobs}
    waiting: dict = {f: [] for f in jobs}  # splits whose pieces are not built yet
    order = {f: list(keys) for f, keys in pending.items()}  # ties go to the first in this order
    open_ = list(jobs)

    def in_order(f: str) -> dict:
        return {key: tried[f][key] for key in order[f] if key in tried[f]}

    while open_:
        if deadline is not None and time.perf_counter() > deadline:
            raise _Deadline
        run = []
        for f in open_:
            for key in pending[f]:
                if key not in tasks[f]:
                    tasks[f][key] = _task(state, fc, f, *key, n[f], solver, route, hi)
            keep = []
            for key in pending[f]:
                if tasks[f][key]["screen"] > best[f] * (1.0 + TIE_RTOL):
                    pruned[f].add(key)
                else:
                    keep.append(key)
            if keep and not math.isfinite(best[f]) and math.isfinite(tasks[f][keep[0]]["screen"]):
                # the lowest screen runs first, with every candidate tying it: no value can
                # prune those (a value is never below its own screen), so they run side by
                # side (the mirrored gradient-norm joins at N >= 36, 20-30 s each, ran one
                # after the other)
                low = min(tasks[f][key]["screen"] for key in keep) * (1.0 + TIE_RTOL)
                first = [key for key in keep if tasks[f][key]["screen"] <= low]
                run += [(f, key) for key in first]
                pending[f] = [key for key in keep if key not in first]
            else:
                run += [(f, key) for key in keep]
                pending[f] = []
        if run:
            for (f, key), res in zip(
                run, _round(state, executor, [tasks[f][key] for f, key in run], deadline)
            ):
                tried[f][key] = (res["h"], res["value"])
                best[f] = min(best[f], res["value"])
            continue
        for f in list(open_):
            if n[f] > ALL_SPLITS_UNTIL and not waiting[f]:
                lf, rf, a = _winner(in_order(f))
                for b in (a - 1, a + 1):
                    key = (lf, rf, b)
                    if (
                        0 <= b < n[f]
                        and key not in tried[f]
                        and key not in pruned[f]
                        and key not in waiting[f]
                    ):
                        waiting[f].append(key)
                        order[f].append(key)
            for key in list(waiting[f]):
                # a piece this split needs is built first; one that a family of this call
                # is building waits for it
                miss = _missing(state, key, n[f])
                if any(g in open_ for g, _ in miss):
                    continue
                waiting[f].remove(key)
                need: dict = {}
                for g, k in miss:
                    need[g] = max(need.get(g, -1), k)
                try:
                    _build(state, fc, need, executor, solver, route, hi, deadline, busy | set(open_))
                except _Unbuildable:
                    pruned[f].add(key)
                    continue
                pending[f].append(key)
            if not pending[f] and not waiting[f]:
                _finish(state, f, n[f], in_order(f))
                open_.remove(f)
        stuck = all(
            any(g in open_ for g, _ in _missing(state, key, n[f])) for f in open_ for key in waiting[f]
        )
        if open_ and stuck and not any(pending[f] for f in open_):
            # every family left waits on another one's piece of this call: none can come
            for f in open_:
                pruned[f].update(waiting[f])
                waiting[f] = []
    state.pruned += sum(len(p) for p in pruned.values())


def _finish(state: CompositionState, f: str, n: int, tried: dict) -> None:
    """Append family ``f``'s piece of length ``n``: the best of ``tried`` (in the candidates'
    order, not the order they ran in), and the pairs of families that won or tied."""
    key = _winner(tried)
    lf, rf, a = key
    h, w = tried[key]
    lp, rp = state.pieces[lf][a], state.pieces[rf][n - 1 - a]
    state.pieces[f].append(Piece((*lp.steps, h, *rp.steps), w, f"{lf}[{a}] + h + {rf}[{n - 1 - a}]", a))
    # the winning pair and every pair tying it with two non-empty pieces, per length: the
    # pairs tried after learning (an empty piece stands for the family itself)
    win = (lf if a else f, rf if n - 1 - a else f)
    ties = [
        (l2, r2) for (l2, r2, a2), (_, w2) in tried.items() if 1 <= a2 <= n - 2 and w2 <= w * (1.0 + TIE_RTOL)
    ]
    combos = []
    for c in (win, *ties):
        if c not in combos:
            combos.append(c)
    if n >= 2:
        state.combos.setdefault(f, []).append(combos)


def _winner(tried: dict):
    """The key with the smallest value; ties within TIE_RTOL go to the first tried."""
    keys = list(tried)
    best = min(tried[k][1] for k in keys)
    for k in keys:
        if tried[k][1] <= best * (1.0 + TIE_RTOL):
            return k
    return keys[0]


def _checkpoint_key(template: Problem, solver: str, hi: float | None) -> dict:
    fc = template.function_class
    return {
        "class": fc.kind,
        "L": fc.L,
        "mu": fc.mu,
        "measure": template.measure.value,
        "init": template.init.value,
        "solver": solver,
        "max_step": hi,
    }


def read_checkpoint(path, template: Problem, solver: str = "clarabel", max_step: float | None = None):
    """The :class:`CompositionState` saved in ``path`` for this problem, or None when the file
    does not exist. Raises :class:`InputError` for a file that is not a checkpoint of the
    same problem (class, constants, measure, initial condition, solver, step bound)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        key, state = data["problem"], CompositionState.from_json(data["composition"])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"The checkpoint {str(path)!r} is not an optimize checkpoint: {exc}.") from None
    want = _checkpoint_key(template, solver, max_step)
    if key != want:
        diff = ", ".join(f"{k}={key.get(k)!r} (not {v!r})" for k, v in want.items() if key.get(k) != v)
        raise InputError(f"The checkpoint {str(path)!r} is for another problem: {diff}.")
    if state.families != composition_families(template):
        raise InputError(f"The checkpoint {str(path)!r} has other families: {', '.join(state.families)}.")
    return state


def _write_checkpoint(path, template, solver, max_step, state: CompositionState) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    data = {"problem": _checkpoint_key(template, solver, max_step), "composition": state.to_json()}
    tmp.write_text(json.dumps(data) + "\n")
    tmp.replace(path)


def compose_search(
    template: Problem,
    *,
    executor=None,
    solver: str = "clarabel",
    max_step: float | None = None,
    deadline: float | None = None,
    checkpoint=None,
    progress=None,
    state: CompositionState | None = None,
) -> CompositionState:
    """Best schedules of every length up to N by a dynamic program over compositions.

    For each length ``n`` and each family ``c`` (a criterion on the template's class:
    :func:`composition_families`), the best schedule is a join ``P[a] + (h,) + Q[b]``,
    ``a + 1 + b = n``, of the best schedules ``P[a]`` and ``Q[b]`` of two families, with the
    joining step ``h`` fitted by a 1-D search on the exact worst case of ``c``
    (:func:`_join_search`; every evaluation by constraint generation, exact). Up to
    ``LEARN_UNTIL`` steps every pair of families and every split is tried; the pairs that
    win there are the only ones tried afterwards, and from ``ALL_SPLITS_UNTIL`` steps on the
    splits are those next to the previous length's winner, extended while the best sits at
    an edge. The template's own family is built to N; the others only as far as some join
    uses them (:func:`_build`, on demand: for convex f-gap at N = 50 the ``|g|^2`` pieces stop
    at 33 steps; the longer ones, high-rank, cost 20-120 s each). From
    ``SCREEN_FROM`` steps on, each candidate join is first screened without an SDP: the
    explicit functions' lower bound minimized over the joining step (:func:`lower_screen`);
    a candidate whose screen is above a value already found for its family cannot win and
    is not solved (``state.pruned`` counts them).

    Nothing here uses a known schedule. For convex ``f(x_N) - f*`` from ``|x_0 - x*| <= R``
    the winning pairs are ``gradnorm/dist + h + fgap/dist`` and ``gradnorm/dist + h +
    gradnorm/dist``: the f- and s-joins of Grimmer, Shu & Wang, whose best compositions are
    the OBS-F schedules, worst case ``1 / (2 (2 S_N + 1))`` (``tests/optimize`` checks the
    values for N = 1..25).

    Parameters
    ----------
    template : Problem
        Its class and criterion; its length N is the last length built.
    executor : concurrent.futures.Executor, optional
        Runs the joining-step searches of one length in parallel (a local process pool,
        a Dask ``Client.get_executor()``); results are taken in submission order, so the
        answer does not depend on it.
    solver : str
        Backend of the working-set solves.
    max_step : float, optional
        Upper bound on the joining step (default ``max(4, 2N)``, raised to the pieces' sum
        plus 2 where that is larger).
    deadline : float, optional
        A ``time.perf_counter()`` value: no new length is started after it (the state of the
        lengths done is returned).
    checkpoint : path, optional
        JSON file rewritten after each length; an existing one for the same problem resumes.
    progress : callable, optional
        Called with one line of text after each length.
    state : CompositionState, optional
        Resume from this state (instead of the checkpoint).

    Returns
    -------
    CompositionState
        ``pieces[family][n]`` for every length done; ``length`` tells how far it got.

    References
    ----------
    B. Grimmer, K. Shu and A. L. Wang, "Composing optimized stepsize schedules for gradient
    descent", arXiv:2410.16249, 2024; Z. Zhang and R. Jiang, arXiv:2410.12395, 2024.

    Examples
    --------
    >>> from pepstep import Problem, constant
    >>> st = compose_search(Problem(constant(1.5, 3)))
    >>> [round(h, 4) for h in st.pieces["fgap/dist"][3].steps]   # sqrt 2, 1 + sqrt 2, 3/2
    [1.4142, 2.4142, 1.5]
    """
    n_target = template.num_steps
    fc = template.function_class
    families = composition_families(template)
    target = families[0]
    hi = default_max_step(n_target) if max_step is None else float(max_step)
    if state is None and checkpoint is not None:
        state = read_checkpoint(checkpoint, template, solver, max_step)
    if state is None:
        state = CompositionState.empty(families)
    start = time.perf_counter()
    stop = None
    while state.length < n_target:
        n = state.length + 1
        if deadline is not None and time.perf_counter() > deadline:
            raise _Deadline
        # the pieces one split beyond the target's candidates, which its next length tries,
        # are built alongside (not at the last length)
        ahead = (
            ()
            if n == n_target
            else tuple(
                piece
                for left, right, a in _candidates(state, target, n)
                for b in (a - 1, a + 1)
                if 0 <= b < n
                for piece in _uses((left, right, b), n)
            )
        )
        try:
            _build(state, fc, {target: n}, executor, solver, "generate", hi, deadline, ahead=ahead)
        except KeyboardInterrupt as exc:
            stop = exc
        if stop is not None:
            break
        if checkpoint is not None:
            _write_checkpoint(checkpoint, template, solver, max_step, state)
        if progress is not None:
            progress(
                f"compose N={n} of {n_target}: {state.pieces[target][n].value:.10g} "
                f"({state.pieces[target][n].how}), {state.tasks} joins, {time.perf_counter() - start:.0f} s"
            )
    if stop is not None:
        raise stop
    return state
