"""How a worst case is computed: the full PEP or constraint generation, and anytime bounds.

This module sits above :mod:`pepstep.solve` (one SDP, its backends and re-check) and
:mod:`pepstep.generation` (working sets of interpolation pairs); neither imports it.

**Choosing the method.** ``method="auto"`` compares predicted costs instead of a fixed N.
The full PEP's interior-point iteration factors a dense block of order ``t = d (d + 1) / 2``
(``d = N + 2``, the slack's packed triangle), so its time grows like ``t^3``
(:func:`full_seconds`); constraint generation's first round solves a working set of about
``K`` pairs by the Schur route, measured to cost about ``K^2`` at these sizes
(:func:`generation_seconds`),
and closes at once for the schedules that attain an explicit function's value (constant,
silver, optimized schedules). Both predictions include the one-time import of the libraries
the route needs and the process has not loaded yet (cvxopt and scipy's optimizers for
generation), because at small N a whole run is import-bound. Generation runs when its first
round is predicted to cost less than the full solve; when it does not close, it switches to
the full PEP as soon as its next working set would be solved at the full PEP's price.
The constants were measured on the project's 2-core reference machine
(``benchmarks/bench_method.py`` re-measures them and the choice).

**Anytime answers.** With ``time_limit``, generation stops starting rounds at the deadline.
If the exact value is not reached, the result has status ``bounded`` and
``bounds = (lower, upper)``: ``upper`` is the smallest dual bound of a working set whose dual
passed the re-check (its multipliers, zero on the other pairs, are dual-feasible for the full
PEP; the bound is widened by the re-checked dual residual), a round under way at the deadline
being stopped (Clarabel's and SCS's time limits, or the Schur route's KKT solver refusing to
factor; cvxpy's model building for SCS is not interruptible: perturbed silver at N = 127 with a
120 s limit ended after 175 s), ``lower`` the value of the best explicit function of the class
(:func:`pepstep.lower.lower_bound`), which is a feasible point of the full PEP. ``value`` is
NaN: a bound is never reported as the value.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import replace

import numpy as np

from .errors import InputError, SolverError
from .pep import Problem, horizon_pairs, value_scale
from .solve import TIME_LIMIT_OPTION, Status, WorstCase, failure_message, solve_full

__all__ = [
    "METHODS",
    "FULL_SECONDS_PER_T3",
    "SCHUR_SECONDS_PER_K2",
    "ROUTE_IMPORT_SECONDS",
    "FULL_IMPORT_SECONDS",
    "FULL_AGAIN_BELOW_SECONDS",
    "NO_ROUTE_PASSED",
    "AUTO_FULL_AFTER_GENERATION",
    "AUTO_FULL_BELOW",
    "choose_method",
    "full_seconds",
    "generation_seconds",
    "schur_seconds",
    "worst_case",
]

#: How :func:`worst_case` computes: ``full`` all pairs in one SDP, ``generate`` constraint
#: generation, ``auto`` the cheaper by :func:`choose_method`.
METHODS = ("auto", "full", "generate")
#: Seconds per ``t^3`` of one full solve (``t = d (d + 1) / 2``), with a fixed overhead
#: ``FULL_OVERHEAD``. Fitted to Clarabel through its own API, one process, N = 16..127
#: (benchmarks/bench_method.py; N = 63 15.7 s with t = 2145, N = 127 766 s with t = 8385).
FULL_SECONDS_PER_T3 = 2.0e-9
FULL_OVERHEAD = 0.03
#: Seconds per ``K^2`` of constraint generation's first round on ``K`` pairs (the Schur route,
#: the violation check over all pairs and the explicit lower bound), with a fixed overhead
#: ``SCHUR_OVERHEAD``. Fitted at N = 16..50 (K = 106..426): the round's cost is dominated by
#: CVXOPT's iterations on a Schur matrix of order K formed from rank-3 products, not by its
#: K^3 factorization, at these sizes.
SCHUR_SECONDS_PER_K2 = 3.0e-6
SCHUR_OVERHEAD = 0.015
#: One-time imports of the generation route (cvxopt and its solvers; the Schur route's
#: small Schur matrices are factored by CVXOPT's LAPACK and the explicit lower bound is
#: numpy only) in a process that has not loaded them, seconds (measured whole-process on
#: the idle machine: 0.03 s).
ROUTE_IMPORT_SECONDS = 0.03
_GENERATION_MODULES = ("cvxopt",)
#: One-time import of what Clarabel's PSD cone needs in a process that has not loaded it:
#: Clarabel's Python module takes LAPACK from scipy.linalg, whose import costs 0.45 s more
#: than numpy's here (0.65 s against 0.2 s, whole process), more than the solve below N = 30.
FULL_IMPORT_SECONDS = 0.45
_FULL_MODULES = ("scipy.linalg",)
#: ``method="auto"`` always solves the full PEP below this many steps once its libraries are
#: loaded: it takes under 0.05 s there, and it is the reference route every other one is
#: checked against. In a fresh process (a command-line run) the import decides instead.
AUTO_FULL_BELOW = 16
#: With ``method="auto"``, a schedule this short whose constraint generation ends without an
#: ``optimal`` answer is solved again as the full PEP (same solver): the dense solve still fits.
AUTO_FULL_AFTER_GENERATION = 64
#: That second solve is skipped when generation's last round was the full PEP already (by
#: Clarabel) and one more solve is predicted to take longer than this many seconds (N > 40).
FULL_AGAIN_BELOW_SECONDS = 2.0


def full_seconds(num_steps: int, has_minimizer: bool = True, *, imports: bool = False) -> float:
    """Predicted seconds of the full PEP of ``num_steps`` steps (see the module notes); with
    ``imports``, plus the import of what Clarabel needs if this process has not loaded it.

    Examples
    --------
    >>> round(full_seconds(127))   # measured: 766 s
    1179
    """
    d = num_steps + (2 if has_minimizer else 1)
    t = d * (d + 1) / 2
    missing = imports and any(name not in sys.modules for name in _FULL_MODULES)
    return FULL_OVERHEAD + FULL_SECONDS_PER_T3 * t**3 + (FULL_IMPORT_SECONDS if missing else 0.0)


def generation_seconds(problem: Problem) -> float:
    """Predicted seconds of constraint generation's first round for ``problem``, imports included."""
    has_min = problem.function_class.has_minimizer
    k = horizon_pairs(problem.schedule.steps, has_min).shape[0]
    missing = any(name not in sys.modules for name in _GENERATION_MODULES)
    return schur_seconds(k) + (ROUTE_IMPORT_SECONDS if missing else 0.0)


def schur_seconds(num_pairs: int) -> float:
    """Predicted seconds of one generation round on ``num_pairs`` pairs by the Schur route."""
    return SCHUR_OVERHEAD + SCHUR_SECONDS_PER_K2 * num_pairs**2


def choose_method(problem: Problem, solver: str = "clarabel") -> str:
    """``"full"`` or ``"generate"``: what ``method="auto"`` runs for ``problem``.

    Generation when its first round is predicted cheaper than the full PEP; the full PEP
    when a backend other than the default is asked for at a size the full solve handles
    (generation's working sets would run on that backend too, without the Schur route).

    Examples
    --------
    >>> from pepstep.schedules import constant
    >>> import scipy.linalg   # in a process where Clarabel's LAPACK is loaded already
    >>> choose_method(Problem(constant(1.0, 10))), choose_method(Problem(constant(1.0, 100)))
    ('full', 'generate')
    """
    n = problem.num_steps
    loaded = all(name in sys.modules for name in _FULL_MODULES)
    if solver != "clarabel":
        return "full" if n < 32 else "generate"
    if n < AUTO_FULL_BELOW and loaded:
        return "full"
    full = full_seconds(n, problem.function_class.has_minimizer, imports=True)
    return "generate" if generation_seconds(problem) < full else "full"


def worst_case(
    problem: Problem,
    solver: str = "clarabel",
    *,
    pairs: np.ndarray | None = None,
    throw: bool = True,
    options: dict | None = None,
    method: str = "auto",
    progress=None,
    time_limit: float | None = None,
) -> WorstCase:
    """Exact worst case of gradient descent for ``problem``.

    Parameters
    ----------
    problem : Problem
    solver : str
        ``clarabel`` (default), ``cvxopt``, ``scs`` or ``mosek``.
    pairs : array (M, 2), optional
        Restrict the interpolation pairs (gives an upper bound); all pairs by default.
    throw : bool
        Raise :class:`SolverError` unless the status is ``optimal`` (default); with
        ``False`` the result is returned and its ``status`` tells.
    options : dict, optional
        Solver options overriding the backend's defaults.
    method : str
        ``full`` (all (N+2)(N+1) pairs in one SDP), ``generate`` (constraint generation:
        a working set of pairs grown until no inequality is violated or the dual bound meets
        an explicit function's value, so the value is the full PEP's; ``residuals`` then
        also report ``rounds`` and ``max_violation``), or ``auto`` (default): the cheaper by
        :func:`choose_method`; a generation that does not close switches to the full PEP
        when its next round would cost as much, and a schedule of at most
        ``AUTO_FULL_AFTER_GENERATION`` steps whose generation ends without an optimal answer
        is solved as the full PEP after it, and a full solve that does not pass the re-check
        is followed by constraint generation (other SDPs, other solver); when no route's
        primal point passes the re-check but a dual bound does, the answer is ``bounded``
        between the explicit lower bound and that dual bound. With the default solver, generation picks its
        working-set solver by size (``schur``, ``clarabel``, or one full ``scs`` solve);
        ``solver`` records which ran.
    progress : callable, optional
        Called after each constraint-generation round with ``(rounds, pairs, value)``, the
        value being the round's upper bound; nothing here prints.
    time_limit : float, optional
        Seconds. When the exact value is not reached in time the result has status
        ``bounded`` and ``bounds = (lower, upper)`` in user units (module notes); a solve
        under way at the deadline is stopped within one interior-point iteration (the first
        working set always finishes: it gives the first upper bound). With ``method="full"`` the limit
        is Clarabel's own, and a solve it stops is ``bounded`` by the explicit lower bound
        and the a priori upper bound (:func:`pepstep.solve.a_priori_bound`).

    Examples
    --------
    >>> from pepstep.schedules import constant
    >>> round(worst_case(Problem(constant(1.0, 2))).value, 6)   # 1 / (4N + 2)
    0.1
    """
    if method not in METHODS:
        raise InputError(f"The 'method' must be one of {', '.join(METHODS)}. Got method={method!r}.")
    if time_limit is not None and not (
        isinstance(time_limit, (int, float)) and math.isfinite(time_limit) and time_limit > 0
    ):
        raise InputError(
            f"The 'time_limit' must be a finite number of seconds > 0. Got time_limit={time_limit!r}."
        )
    start = time.perf_counter()
    deadline = None if time_limit is None else start + float(time_limit)
    if pairs is not None:
        return solve_full(problem, solver, pairs=pairs, throw=throw, options=options)
    auto = method == "auto"
    if auto:
        method = choose_method(problem, solver)
    if method == "full":
        wc = _full(problem, solver, False, options, deadline)
        if auto and wc.status is Status.INACCURATE and not _out_of_time(deadline):
            # a second route before giving up: the working sets are other SDPs, solved by the
            # Schur route below 32 steps (measured: OBS-F at N = 25, the full solve's primal
            # point sits 1.4e-8 outside, which lifts its value by 2.8e-5; generation's is 4e-8 off)
            gen = _generated(problem, solver, False, options, None, deadline, auto=False, start=start)
            if gen.ok or gen.status is Status.BOUNDED:
                wc = replace(gen, residuals={**gen.residuals, "after_full": wc.status.value})
    else:
        wc = _generated(problem, solver, False, options, progress, deadline, auto=auto, start=start)
    if auto and wc.status is Status.INACCURATE:
        wc = _interval_if_dual_holds(problem, wc)
    if throw and not wc.ok:
        raise SolverError(failure_message(wc))
    return wc


#: ``residuals["reason"]`` of a ``bounded`` answer that no time limit cut short: every route's
#: primal point failed the re-check, and a re-checked dual bound gives the upper end.
NO_ROUTE_PASSED = "no route passed the re-check"


def _interval_if_dual_holds(problem: Problem, wc: WorstCase) -> WorstCase:
    """No route passed the re-check, but a dual bound that did (its slack, identity and signs
    within ``TOL_DUAL``) still bounds the full PEP above: ``bounded`` between the explicit lower
    bound and it (measured: silver's first 25 steps, every route ends with a primal point whose
    weighted violations are 2e-5 of the value, the dual bounds agree to 1e-7)."""
    from .solve import TOL_DUAL

    dual = wc.residuals.get("dual", math.inf)
    tau = wc.tau
    if not (dual <= TOL_DUAL and math.isfinite(tau) and tau > 0):
        return wc
    out = _bounded(problem, wc, upper=tau * (1 + max(dual, 0.0)))
    if out.status is Status.BOUNDED:
        out = replace(out, residuals={**out.residuals, "reason": NO_ROUTE_PASSED})
    return out


def _out_of_time(deadline) -> bool:
    return deadline is not None and time.perf_counter() >= deadline


def _full(problem, solver, throw, options, deadline) -> WorstCase:
    if solver not in TIME_LIMIT_OPTION:
        deadline = None  # CVXOPT's and MOSEK's time limits are not wired; they run to the end
    wc = solve_full(problem, solver, throw=False, options=options, deadline=deadline)
    if wc.residuals.get("stopped") == "time limit":
        wc = _bounded(problem, wc, upper=None)
    if throw and not wc.ok:
        raise SolverError(failure_message(wc))
    return wc


def _generated(problem, solver, throw, options, progress, deadline, *, auto, start) -> WorstCase:
    from .generation import worst_case_generated

    n = problem.num_steps
    has_min = problem.function_class.has_minimizer
    d = n + (2 if has_min else 1)
    t_full = full_seconds(n, has_min)

    def cheaper_in_full(rounds, seconds, next_pairs):
        # the next working set costs like the full PEP once it reaches the packed triangle's
        # size (Clarabel's dense block) or its Schur matrix costs more than the full solve
        return next_pairs >= d * (d + 1) / 2 or schur_seconds(next_pairs) >= t_full

    choose = solver == "clarabel" and not options
    gen = worst_case_generated(
        problem,
        "auto" if choose else solver,
        throw=False,
        options=options,
        progress=progress,
        deadline=deadline,
        stop=cheaper_in_full if auto and choose and n <= AUTO_FULL_AFTER_GENERATION else None,
    )
    wc = gen.worst_case
    timed_out = gen.info.stopped == "time limit" or (deadline is not None and time.perf_counter() >= deadline)
    if timed_out and not wc.ok:
        wc = _bounded(problem, wc, upper=gen.info.upper_bound)
    elif (
        auto
        and not wc.ok
        and n <= AUTO_FULL_AFTER_GENERATION
        and (deadline is None or time.perf_counter() < deadline)
        and not _solved_in_full(gen.info, n, has_min)
    ):
        # stopped for the cheaper full PEP, or the working-set solve did not pass the re-check
        # (measured: Grimmer's t = 31 pattern twice, N = 62, dual residual 1.9e-6)
        full = _full(problem, solver, False, options, deadline)
        if full.ok or full.status is Status.BOUNDED:
            wc = replace(full, residuals={**full.residuals, "after_generation": wc.status.value})
            wc = replace(wc, seconds=time.perf_counter() - start)
    if throw and not wc.ok:
        raise SolverError(failure_message(wc))
    return wc


def _solved_in_full(info, num_steps: int, has_minimizer: bool) -> bool:
    """Whether generation's last round was already the full PEP by Clarabel, and solving it again
    (the full route's retries with other settings) would cost more than
    ``FULL_AGAIN_BELOW_SECONDS``: then it is not repeated (measured: perturbed silver at N = 63,
    every one of the six retries also ended inaccurate, 341 s after generation's 26 s)."""
    last_full = info.pairs_used == info.total_pairs and info.round_solvers[-1:] == ("clarabel",)
    return last_full and full_seconds(num_steps, has_minimizer) > FULL_AGAIN_BELOW_SECONDS


def _bounded(problem: Problem, wc: WorstCase, upper: float | None) -> WorstCase:
    """``wc`` as a ``bounded`` answer: the certified interval, or ``wc`` itself if none holds.

    ``upper`` is a normalized upper bound already checked (generation's best dual bound); the
    a priori bound (:func:`pepstep.solve.a_priori_bound`) replaces it when there is none.
    """
    from .lower import lower_bound
    from .solve import a_priori_bound

    scale = value_scale(problem)
    lb = lower_bound(problem)
    lo = lb.value if lb is not None and lb.value > 0 else 0.0
    up = math.inf if upper is None else float(upper)
    if not math.isfinite(up):
        up = a_priori_bound(problem)
    if not math.isfinite(up):
        return wc
    residuals = {**wc.residuals, "lower_family": lb.family if lb is not None else ""}
    return replace(
        wc,
        status=Status.BOUNDED,
        value=float("nan"),
        normalized_value=float("nan"),
        bounds=(lo * scale, max(up, lo) * scale),
        residuals=residuals,
    )
