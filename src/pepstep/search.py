r"""Search for straightforward long-step patterns of length ``t = 2^k - 1`` from scratch.

Patterns are built recursively, as Grimmer's Table 1 suggests: a pattern of length ``2^k - 1`` is two
copies of a pattern of length ``2^(k-1) - 1`` around a new middle step. Steps are tied by level: the step
at position ``i`` (0-based) is ``a_j`` with ``j`` the 2-adic valuation of ``i + 1``, so a pattern is the
level vector ``a = (a_0, ..., a_{k-1})`` and its sum is ``sum_j 2^(k-1-j) a_j``.

**The flip bound.** No straightforward pattern has a middle step longer than the sum of its other
steps plus 2 (:func:`corner`: the sign vector of gradients flipping after the middle step), and
Grimmer's patterns sit at or near that bound. A pattern at the bound, ``a_{k-1} = 2 I + 2`` with
``I`` the sum of the inner pattern, has sum ``4 I + 2``: the search for the middle step becomes
a search for the largest inner sum whose corner pattern is still straightforward.

**The knee route** (from ``t = KNEE_FROM`` on). Given the levels of the previous length,

1. the lower levels ``a_0..a_{k-3}`` are kept and the top inner level ``a_{k-2}`` (the previous
   middle) is lowered to the *knee*: the largest value whose corner pattern (middle at the flip
   bound minus ``CORNER_SLACK``) is straightforward, by a parallel geometric section search;
2. coordinate moves on the lower levels (each times ``1 +- step``) re-fit the knee and are kept
   when the sum increases: three step sizes below ``t = MOVES_BELOW``, two from it on, none from
   ``t = KNEE_MOVES_BELOW`` on.

The knee follows the ridge that defeats one-coordinate moves with a fixed middle: Grimmer's t = 31
inner levels 1.4, 2.0, 3.9, 8.2 and 1.4, 2.0, 4.5, 7.0 both allow a middle of 72.3 while 1.4, 2.0,
4.5, 8.2 allows 51.4; lowering one lower level raises the knee of the top one. When no corner
pattern is straightforward, the scale route decides:

1. the previous top level ``a_{k-2}`` is re-scaled over a geometric grid down to 0.12, then, from
   ``t = ZOOM_FROM`` on, twice more finely around the best scale,
2. for each candidate the largest feasible middle ``a_{k-1}`` is found by a parallel section search
   (``SECTION_POINTS`` points per round, so the result does not depend on the number of workers),
3. for ``t < MOVES_BELOW``, coordinate moves (each inner level times ``1 +- step``) are kept when the
   certified sum increases.

Lengths 1, 3 and 7 always take the scale route.

Measured (two workers, seed 0, from scratch): t = 15 reaches 3.885 (published 3.860), t = 31
4.612 (4.603) in 92 s, t = 63 5.338 (5.225), t = 127 6.189 (5.835) in about 23 minutes, all
certified exactly; the scale route alone reached 3.871, 4.549 and 5.048 and did not finish t = 127.
At t = 127 the moves matter most: the knee of the t = 63 lower levels gives 5.653, lowering their
level 2 from 4.48 to 3.43 (and re-fitting the others) gives 6.189.
t = 255 (the knee of the doubled t = 127 pattern, no moves; 21 SDPs of about 1.5 minutes each on
two workers, 16 minutes) reaches 6.757 by the float criterion (``problems/patterns/search_t255.json``);
shortened by 1e-4 it is certified exactly (average 6.7567) in 86.5 s by :func:`certified_backoff` in
a two-process pool. From ``t = LARGE_SEARCH_FROM`` (511) on a check costs six to nine minutes, and
the knee's section search is coarse (two points a round, stopped at 10% relative width): t = 511
reaches 7.163 by the float criterion in 45 minutes after t = 255 (9 SDPs), not certified
(``problems/patterns/search_t511.json``; README).

Feasibility is :func:`pepstep.cyclic.check_pattern` (Grimmer's criterion, Definition 2.1). Every
candidate is an independent SDP submitted to a ``concurrent.futures``-style executor (a local
``ProcessPoolExecutor``, or a Dask ``Client.get_executor()``); results are consumed in submission order,
so the outcome depends only on the inputs and the seed.

References
----------
B. Grimmer, "Provably faster gradient descent via long steps", SIAM J. Optim. 34(3) (2024), Table 1.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .cyclic import AUTO_SCHUR_FROM, certify_pattern, check_pattern
from .errors import InputError, SolverError

__all__ = [
    "PatternResult",
    "check_length",
    "levels_to_steps",
    "local_pool",
    "search_patterns",
    "max_middle",
    "refine_pattern",
    "certified_backoff",
]

SECTION_POINTS = 4  # evaluations per section-search round (fixed: results independent of workers)
SECTION_TOL = 2e-3  # relative width at which a section search stops
SCALE_GRID = (1.0, 0.85, 0.7, 0.55, 0.4, 0.3, 0.22, 0.16, 0.12)  # re-scalings of the previous top level
SCALE_ZOOMS = ((0.92, 0.96, 1.04, 1.08), (0.98, 0.99, 1.01, 1.02))  # refinements around the best scale
ZOOM_FROM = 31  # zoom from this length on (see _best_scale)
ZOOM_BRACKET = (0.6, 1.4)  # the middle step's bracket while zooming, times the best middle so far
MOVE_STEPS = (0.15, 0.06, 0.025)  # relative coordinate moves, one pass each
MOVE_BRACKET = (0.7, 1.4)  # the middle step's bracket during moves, times the best middle so far
MOVES_BELOW = 63  # coordinate moves only for shorter patterns (each SDP costs under 0.3 s there)
#: Multiplier support of the criterion SDPs (:func:`pepstep.cyclic.pattern_pairs`): the step horizon
#: widened by two, on which every published pattern is straightforward. A third of the dyadic
#: support's pairs at t = 63 and half at t = 127 (checks 0.9 s against 2.3 s, 5.6 s against 22 s);
#: at t = 15 the search reaches 3.8710 on it against 3.8738 on the dyadic support (published 3.86).
SEARCH_SUPPORT = "wide"
#: The knee route runs from this length on (see the module docstring).
KNEE_FROM = 15
#: Slack below the flip bound of :func:`corner` (steps in units of 1/L): below ``t = AUTO_SCHUR_FROM``
#: (Clarabel checks the patterns) and from it on (the Schur route does). The Schur route's answer
#: does not stand at slack 0.05 for t = 127 (Clarabel then takes 30 s a check instead of 6 s); it
#: stands at 0.25 and above (measured on Grimmer's t = 127 inner levels).
CORNER_SLACK = (0.05, 0.5)
#: The top inner level's bracket during knee moves, times the best top so far.
KNEE_BRACKET = (0.8, 1.25)
#: Step sizes of the knee moves from ``MOVES_BELOW`` on (all of ``MOVE_STEPS`` below it). The moves
#: matter most there: at t = 127, the t = 63 lower levels 1.43, 1.94, 4.48, 7.09, 10.85 have their knee
#: at an average step of 5.653; with the level 4.48 lowered to 3.9, at 5.989.
KNEE_LONG_STEPS = MOVE_STEPS[:2]
#: No knee moves from this length on: a check costs about a minute at t = 255 (wide support, about
#: 3,000 multipliers), so the knee of the doubled pattern alone is searched.
KNEE_MOVES_BELOW = 255
#: From this length on a check costs six to nine minutes (t = 511, wide support, 6,607
#: multipliers; nine with two at once), so the knee's section search takes
#: ``LARGE_SECTION_POINTS`` points per round and stops at the relative width
#: ``LARGE_SECTION_TOL``: any straightforward knee gives a longer pattern (the sum is
#: ``4 (I + knee) + 2 - slack`` with ``I`` fixed by the lower levels), and the last 10% of the
#: knee moves the average by about 1% of it.
LARGE_SEARCH_FROM = 511
LARGE_SECTION_POINTS = 2
LARGE_SECTION_TOL = 0.1


@dataclass(frozen=True)
class PatternResult:
    """Best pattern found by :func:`search_patterns`.

    Attributes
    ----------
    steps : tuple of float
        The pattern.
    levels : tuple of float
        Level values ``a_j`` (see module docstring).
    average : float
        ``sum(steps) / len(steps)``.
    certified : bool
        Exact verdict of :func:`pepstep.cyclic.certify_pattern` (False if not asked).
    certificate : dict or None
        The exact certificate (JSON form) when certified.
    seconds : float
        Wall time.
    candidates_evaluated : int
        Number of SDPs solved.
    history : tuple
        ``(t, average)`` per level.

    Examples
    --------
    >>> r = search_patterns(3, first=1.5, certify=False)
    >>> r  # doctest: +ELLIPSIS
    PatternResult(t=3, average=2.6..., certified=False, candidates_evaluated=..., ... s)
    >>> print(r.summary())  # doctest: +ELLIPSIS
    pattern      t = 3, average step 2.6...
    ...
    """

    steps: tuple
    levels: tuple
    average: float
    certified: bool
    certificate: dict | None = field(repr=False)
    seconds: float
    candidates_evaluated: int
    history: tuple = ()

    def __repr__(self) -> str:
        return (
            f"PatternResult(t={len(self.steps)}, average={self.average:.10g}, certified={self.certified}, "
            f"candidates_evaluated={self.candidates_evaluated}, {self.seconds:.3g} s)"
        )

    def summary(self) -> str:
        """The search's outcome on several lines: pattern, levels, verdict, history."""
        return "\n".join(
            [
                f"pattern      t = {len(self.steps)}, average step {self.average:.10g}",
                f"levels       {', '.join(f'{a:.6g}' for a in self.levels)}",
                f"certified    {self.certified}"
                + (" (exact certificate attached)" if self.certificate else ""),
                f"history      {'; '.join(f't = {t}: {avg:.6g}' for t, avg in self.history)}",
                f"SDPs         {self.candidates_evaluated}",
                f"seconds      {self.seconds:.3g}",
            ]
        )


def levels_to_steps(levels) -> tuple:
    """Expand level values into the pattern of length ``2^k - 1``.

    Examples
    --------
    >>> levels_to_steps([1.5, 4.9])
    (1.5, 4.9, 1.5)
    """
    k = len(levels)
    out = []
    for i in range(2**k - 1):
        j = ((i + 1) & -(i + 1)).bit_length() - 1
        out.append(float(levels[j]))
    return tuple(out)


def local_pool(workers: int | None = None):
    """A ``ProcessPoolExecutor`` for :func:`search_patterns` on this machine.

    Workers are *spawned*, not forked: a process that has already run Clarabel holds its thread
    pool, and a forked child that calls Clarabel again can wait forever on a lock copied in its
    held state (seen in the test suite). Each worker uses one BLAS thread, so ``workers``
    processes (default: all cores) share the cores without oversubscription.
    """
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    workers = workers or os.cpu_count() or 1
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_one_blas_thread
    )


def _one_blas_thread():
    """Worker initializer: the limit holds for the worker's life (it is never restored)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def check_length(length) -> None:
    """Raise InputError unless ``length`` is of the form ``2^k - 1``."""
    if not isinstance(length, int) or length < 1 or (length + 1) & length:
        raise InputError(
            f"The 'length' must be of the form 2^k - 1 (1, 3, 7, 15, ...). Got length={length!r}."
        )


def _feasible(steps) -> bool:
    """Worker task: Grimmer's criterion for one pattern (module-level so it pickles)."""
    try:
        return check_pattern(steps, support=SEARCH_SUPPORT, fallback=False).straightforward
    except Exception:  # a failed solve counts as "not certified"
        return False


class _Counter:
    def __init__(self):
        self.n = 0


def _map(executor, patterns, counter):
    counter.n += len(patterns)
    if executor is None:
        return [_feasible(p) for p in patterns]
    futures = [executor.submit(_feasible, p) for p in patterns]
    return [f.result() for f in futures]


def _largest(build, brackets, executor, counter, geometric=False, points=SECTION_POINTS, tol=SECTION_TOL):
    """Largest ``p`` in each bracket ``[lo, hi]`` with ``build(n, p)`` straightforward (``nan`` if
    even ``lo`` fails), assuming feasibility is monotone (feasible below a threshold).

    A parallel section search: ``points`` points per bracket and round (evenly spaced, or
    geometrically when ``geometric``), all brackets in lockstep, until the relative width is below
    ``tol``.
    """
    brackets = [[lo, hi, False] for lo, hi in brackets]
    ok = _map(executor, [build(n, b[0]) for n, b in enumerate(brackets)], counter)
    for b, o in zip(brackets, ok):
        b[2] = o
    while True:
        active = [n for n, b in enumerate(brackets) if b[2] and (b[1] - b[0]) > tol * b[0]]
        if not active:
            break
        jobs = []
        for n in active:
            a, c, _ = brackets[n]
            for q in range(1, points + 1):
                f = q / (points + 1)
                jobs.append((n, a * (c / a) ** f if geometric else a + (c - a) * f))
        res = _map(executor, [build(n, p) for n, p in jobs], counter)
        by: dict = {}
        for (n, p), r in zip(jobs, res):
            by.setdefault(n, []).append((p, r))
        for n, lst in by.items():
            a, c, _ = brackets[n]
            for p, r in lst:  # feasibility is monotone along the bracket
                if r:
                    a = p
                else:
                    c = p
                    break
            brackets[n][0], brackets[n][1] = a, c
    return [b[0] if b[2] else float("nan") for b in brackets]


def max_middle(inners, executor=None, *, lo=0.5, hi=None, counter=None):
    """Largest middle step keeping each inner level vector straightforward (parallel section search).

    Parameters
    ----------
    inners : list of sequences
        Level vectors of the inner pattern (one search per entry, run in lockstep).
    executor : concurrent.futures.Executor or None
    lo, hi : float
        Initial bracket (``hi`` default: ``4 * (1 + sum(inner steps))``, above any known pattern).

    Returns
    -------
    list of float
        The largest middle found feasible per inner (``nan`` when even ``lo`` fails).
    """
    brackets = []
    for inner in inners:
        s = sum(levels_to_steps(inner)) if len(inner) else 0.0
        brackets.append((lo, hi if hi is not None else 4.0 * (1.0 + s) + 2.0))
    return _largest(
        lambda n, p: levels_to_steps(list(inners[n]) + [p]), brackets, executor, counter or _Counter()
    )


def corner(inner, slack=None) -> list:
    """``inner + [m]`` with the middle ``m = 2 sum(inner steps) + 2 - slack`` at the flip bound.

    With the sign vector ``v = (1, ..., 1, -1, ..., -1)`` on ``g_0..g_t`` (flipping after the
    middle step), ``v^T M(lambda) v`` is linear in ``lambda``; its largest value over the
    multipliers satisfying (C1) is ``(sum of the other steps) - m + 2``, reached on the chain of
    consecutive pairs (each same-sign pair adds its step, the flip adds ``2 - m``; a linear
    program over the flows, checked in the tests). So (C4) needs ``m <= 2 sum(inner) + 2``: no
    straightforward pattern has a longer middle. Grimmer's patterns sit at or near this bound
    (slack 0.1 at t = 3 and 31, 0.5 at t = 15, 3.2 at t = 63, 3.0 at t = 127).
    """
    inner = list(inner)
    if slack is None:
        slack = CORNER_SLACK[2 ** (len(inner) + 1) - 1 >= AUTO_SCHUR_FROM]
    return inner + [2.0 * float(sum(levels_to_steps(inner))) + 2.0 - slack]


def _knee(lowers, tops, executor, counter):
    """Step 1 (from ``KNEE_FROM`` on): for each lower level vector (levels ``0..k-3``), the largest
    top inner level (level ``k-2``, searched in ``tops[n]`` geometrically) whose :func:`corner`
    pattern is straightforward. Returns ``[(sum, levels)]`` (``(-inf, None)`` when none is).
    """
    large = lowers and 2 ** (len(lowers[0]) + 2) - 1 >= LARGE_SEARCH_FROM
    section = dict(points=LARGE_SECTION_POINTS, tol=LARGE_SECTION_TOL) if large else {}
    found = _largest(
        lambda n, p: levels_to_steps(corner(list(lowers[n]) + [p])),
        tops,
        executor,
        counter,
        geometric=True,
        **section,
    )
    out = []
    for lower, top in zip(lowers, found):
        if top == top:
            lv = corner(list(lower) + [top])
            out.append((_total(lv), lv))
        else:
            out.append((-np.inf, None))
    return out


def _best_scale(levels, executor, counter, fixed: bool):
    """Steps 1 and 2: the best re-scaling of the top level of ``levels`` and its largest middle.

    A geometric grid, then two zooms around the best scale. The sum is sharply peaked in the
    scale (Grimmer's t = 31 inner levels 1.4, 2.0, 4.5 with 7.0 on top allow a middle of 72.3,
    with 8.2 only 51.4): a coarse grid alone misses the peak. Returns ``(sum, levels + [middle])``.
    """
    top = levels[-1]

    def best_of(scales, lo=0.5, hi=None, best=(-np.inf, None)):
        inners = [list(levels[:-1]) + [top * c] for c in scales]
        mids = max_middle(inners, executor, lo=lo, hi=hi, counter=counter)
        for inner, m in zip(inners, mids):
            if m == m and _total(inner + [m]) > best[0] + 1e-12:
                best = (_total(inner + [m]), inner + [m])
        return best

    best = best_of((1.0,) if fixed else SCALE_GRID)
    if best[1] is None:
        raise SolverError(f"No straightforward pattern extends the levels {levels}.")
    if not fixed and 2 ** (len(levels) + 1) - 1 >= ZOOM_FROM:
        for zoom in SCALE_ZOOMS:
            c = best[1][-2] / top
            lo, hi = (f * best[1][-1] for f in ZOOM_BRACKET)
            best = best_of([c * z for z in zoom], lo, hi, best)
    return best


def _next_level(levels, executor, counter, rng, first):
    """One doubling: the best level vector of length ``len(levels) + 1`` found from ``levels``."""
    k = len(levels) + 1
    t = 2**k - 1
    if k >= 3 and t >= KNEE_FROM:
        found = _knee_route(levels, executor, counter, rng, first)
        if found is not None:
            return found
    fixed = k == 2 and first is not None
    best = _best_scale(levels, executor, counter, fixed)

    def refit_middle(j, step, lv):  # 3. move inner level j, re-fit the middle
        trial = [_scaled(lv[:-1], j, 1 + sgn * step) for sgn in (1, -1)]
        lo, hi = (c * lv[-1] for c in MOVE_BRACKET)
        mids = max_middle(trial, executor, lo=lo, hi=hi, counter=counter)
        return [
            (_total(inner + [m]), inner + [m]) if m == m else (-np.inf, None) for inner, m in zip(trial, mids)
        ]

    movable = [j for j in range(k - 1) if t < MOVES_BELOW and not (j == 0 and first is not None)]
    return _coordinate_moves(best, movable, MOVE_STEPS, rng, refit_middle)


def _knee_route(levels, executor, counter, rng, first):
    """Steps 1-2 of the knee route (see the module docstring); None when no corner pattern is
    straightforward, and the scale route decides."""
    lower, prev_top = list(levels[:-1]), levels[-1]
    best = _knee([lower], [(lower[-1], prev_top)], executor, counter)[0]
    if best[1] is None:
        return None

    def refit_knee(j, step, lv):  # move lower level j, re-fit the knee
        trial = [_scaled(lv[:-2], j, 1 + sgn * step) for sgn in (1, -1)]
        return _knee(trial, [tuple(lv[-2] * c for c in KNEE_BRACKET)] * 2, executor, counter)

    t = 2 ** (len(levels) + 1) - 1
    movable = [j for j in range(len(lower)) if t < KNEE_MOVES_BELOW and not (j == 0 and first is not None)]
    return _coordinate_moves(
        best, movable, MOVE_STEPS if t < MOVES_BELOW else KNEE_LONG_STEPS, rng, refit_knee
    )


def _coordinate_moves(best, movable, steps, rng, refit):
    """Coordinate moves shared by both routes: for each step size, the movable levels in a seeded
    random order; ``refit(j, step, levels)`` returns candidates ``(sum, levels)`` for level ``j``
    times ``1 + step`` and ``1 - step`` (``levels`` None when infeasible); a candidate is kept when
    its sum increases. ``best`` is ``(sum, levels)``; returns the best levels.
    """
    best_sum, best_levels = best
    for step in steps:
        for j in rng.permutation(movable) if movable else []:
            for total, lv in refit(j, step, best_levels):
                if lv is not None and total > best_sum + 1e-12:
                    best_sum, best_levels = total, lv
    return best_levels


def _scaled(levels, j, factor):
    out = list(levels)
    out[j] *= factor
    return out


def _total(levels):
    return float(sum(levels_to_steps(levels)))


def _write_checkpoint(path, state):
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(state, indent=1))
    tmp.replace(path)


def search_patterns(
    length: int,
    executor=None,
    *,
    seed: int = 0,
    checkpoint=None,
    certify: bool = True,
    progress=None,
    first: float | None = None,
) -> PatternResult:
    """Search a straightforward pattern of ``length = 2^k - 1`` with the largest average step.

    Parameters
    ----------
    length : int
        ``t``, of the form ``2^k - 1`` (1, 3, 7, 15, ...).
    executor : concurrent.futures.Executor, optional
        Runs the SDPs; ``None`` runs them in this process.
    seed : int
        Seeds the order of the coordinate moves (``np.random.default_rng(seed)``).
    checkpoint : path, optional
        JSON file, written atomically after each level; an existing one resumes the search.
    certify : bool
        Certify the final pattern exactly (:func:`pepstep.cyclic.certify_pattern`).
    progress : callable, optional
        Called with ``(level, k, average)`` after each level (the CLI draws a tqdm bar with it).
    first : float, optional
        Fix the level-0 step (e.g. 1.5) instead of searching it.

    Returns
    -------
    PatternResult

    Examples
    --------
    >>> r = search_patterns(3, first=1.5, certify=False)
    >>> abs(r.steps[1] - 4.9) < 0.1
    True
    """
    check_length(length)
    start = time.perf_counter()
    k = (length + 1).bit_length() - 1
    rng = np.random.default_rng(seed)
    counter = _Counter()
    levels: list = []
    history: list = []
    if checkpoint and Path(checkpoint).exists():
        state = json.loads(Path(checkpoint).read_text())
        if state.get("seed") == seed and state.get("first") == first and len(state["levels"]) <= k:
            levels, history = list(state["levels"]), [tuple(x) for x in state["history"]]
            counter.n = state.get("candidates_evaluated", 0)
    while len(levels) < k:
        level = len(levels)
        if level == 0:
            if first is not None:
                levels = [float(first)]
            else:
                levels = [max_middle([[]], executor, lo=0.25, hi=4.0, counter=counter)[0]]
        else:
            levels = _next_level(levels, executor, counter, rng, first)
        history.append((2 ** len(levels) - 1, _total(levels) / (2 ** len(levels) - 1)))
        if checkpoint:
            _write_checkpoint(
                checkpoint,
                {
                    "length": length,
                    "seed": seed,
                    "first": first,
                    "levels": levels,
                    "history": history,
                    "candidates_evaluated": counter.n,
                },
            )
        if progress:
            progress(len(levels), k, history[-1][1])
    steps = levels_to_steps(levels)
    cert = certify_pattern(steps) if certify else None
    return PatternResult(
        steps=steps,
        levels=tuple(float(x) for x in levels),
        average=float(sum(steps) / len(steps)),
        certified=bool(cert and cert.valid),
        certificate=cert.to_json() if cert and cert.valid else None,
        seconds=time.perf_counter() - start,
        candidates_evaluated=counter.n,
        history=tuple(history),
    )


#: Relative brackets of :func:`refine_pattern`'s moves: each group of positions is first raised
#: as far as it stays straightforward, then lowered by each factor while the longest step is
#: re-raised (a trade between a short step and the middle, which the level-tied search cannot make
#: position by position).
REFINE_RAISE = 1.6
REFINE_TRADES = (0.9, 0.97)


def refine_pattern(steps, tie: str = "palindrome", executor=None, *, passes: int = 2, counter=None) -> tuple:
    """Coordinate moves on a pattern's positions, tied in mirror pairs or free.

    The question it answers: do the best straightforward patterns have to be palindromes? With
    ``tie="palindrome"`` the positions ``i`` and ``t - 1 - i`` move together (the pattern stays
    a palindrome, but positions of the same level may differ); with ``tie="none"`` every
    position moves alone, so a move can break the symmetry. The same moves from the same start
    under both ties compare the two families fairly. Each pass raises every group as far as it
    stays straightforward (a section search, :func:`_largest`), then, for each other group and
    each factor of ``REFINE_TRADES``, lowers it and re-raises the group of the longest step,
    keeping the trade when the sum grows. Returns the best pattern found (float criterion).

    Examples
    --------
    >>> h = refine_pattern((1.5, 4.9, 1.5), passes=1)
    >>> sum(h) >= 7.9 and h[0] == h[2]
    True
    """
    if tie not in ("palindrome", "none"):
        raise InputError(f"The 'tie' must be 'palindrome' or 'none'. Got tie={tie!r}.")
    counter = counter or _Counter()
    h = [float(x) for x in steps]
    t = len(h)
    if tie == "palindrome":
        groups = [sorted({i, t - 1 - i}) for i in range((t + 1) // 2)]
    else:
        groups = [[i] for i in range(t)]

    def with_group(base, group, value):
        out = list(base)
        for i in group:
            out[i] = value
        return tuple(out)

    def raise_group(base, g):
        group = groups[g]
        v = max(base[i] for i in group)
        best = _largest(lambda n, p: with_group(base, group, p), [(v, REFINE_RAISE * v)], executor, counter)[
            0
        ]
        return list(with_group(base, group, best)) if best == best else list(base)

    if not _map(executor, [tuple(h)], counter)[0]:
        raise InputError("refine_pattern needs a straightforward start.")
    for _ in range(int(passes)):
        for g in range(len(groups)):
            h = raise_group(h, g)
        top = max(range(len(groups)), key=lambda g: h[groups[g][0]])
        for g in range(len(groups)):
            if g == top:
                continue
            for factor in REFINE_TRADES:
                low = list(with_group(h, groups[g], factor * h[groups[g][0]]))
                trial = raise_group(low, top)
                if sum(trial) > sum(h) * (1 + 1e-9):
                    h = trial
    return tuple(h)


#: Relative shrinkings :func:`certified_backoff` tries, in order.
BACKOFF = (0.0, 1e-4, 1e-3, 3e-3, 1e-2)


def certified_backoff(steps, executor=None, *, width: int = 2):
    """``(steps, certificate)``: ``steps`` scaled down by the first factor of ``BACKOFF`` that
    certifies exactly (:func:`pepstep.cyclic.certify_pattern`), or ``(steps, None)``.

    A pattern found by the float criterion at the edge of the straightforward set (as
    :func:`refine_pattern` finds them) may fail the exact certificate by a hair; a uniformly
    shorter pattern usually passes. With an ``executor`` the shortenings are certified ``width``
    at a time (each is minutes from t = 255 on); the answer is still the first in ``BACKOFF``'s
    order that certifies.
    """
    trials = [tuple(float(x) * (1.0 - eps) for x in steps) for eps in BACKOFF]
    for lo in range(0, len(trials), 1 if executor is None else width):
        wave = trials[lo : lo + (1 if executor is None else width)]
        if executor is None:
            certs = [certify_pattern(h) for h in wave]
        else:
            certs = [f.result() for f in [executor.submit(certify_pattern, h) for h in wave]]
        for h, cert in zip(wave, certs):
            if cert.valid:
                return h, cert
    return tuple(steps), None
