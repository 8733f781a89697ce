r"""Search for straightforward long-step patterns of length ``t = 2^k - 1`` from scratch.

Patterns are built recursively, as Grimmer's Table 1 suggests: a pattern of length ``2^k - 1`` is two
copies of a pattern of length ``2^(k-1) - 1`` around a new middle step. Steps are tied by level: the step
at position ``i`` (0-based) is ``a_j`` with ``j`` the 2-adic valuation of ``i + 1``, so a pattern is the
level vector ``a = (a_0, ..., a_{k-1})`` and its sum is ``sum_j 2^(k-1-j) a_j``. At each level

1. the previous top level ``a_{k-2}`` is re-scaled over a geometric grid down to 0.12 (the inner
   pattern is re-optimized: Grimmer's t = 15 pattern turns the t = 7 middle 12.0 into 4.5, and his
   t = 127 pattern turns the t = 63 middle 164 into 23.5), then, from ``t = ZOOM_FROM`` on, twice
   more finely around the best scale (the sum is sharply peaked in it, see ``_best_scale``),
2. for each candidate the largest feasible middle ``a_{k-1}`` is found by a parallel section search
   (``SECTION_POINTS`` points per round, so the result does not depend on the number of workers),
3. for ``t < MOVES_BELOW`` (where an SDP costs under 0.3 s), coordinate moves (each inner level
   times ``1 +- step``) are kept when the certified sum increases.

Measured (two workers, seed 0): t = 15 reaches 3.871 (published 3.860), t = 31 4.549 (4.603),
t = 63 5.048 (5.225) in 5.5 minutes. The greedy level-by-level construction loses at t >= 31
because the sum is a narrow ridge in the two top inner levels (inner levels 1.4, 2.0, 3.9, 8.2
and 1.4, 2.0, 4.5, 7.0 both allow a t = 31 middle of 72.3, while 1.4, 2.0, 4.5, 8.2 allows 51.4),
which moves along one coordinate at a time cannot follow.

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

from .cyclic import certify_pattern, check_pattern
from .errors import InputError, SolverError

__all__ = ["PatternResult", "check_length", "levels_to_steps", "local_pool", "search_patterns", "max_middle"]

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
    """

    steps: tuple
    levels: tuple
    average: float
    certified: bool
    certificate: dict | None = field(repr=False)
    seconds: float
    candidates_evaluated: int
    history: tuple = ()


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
        return check_pattern(steps, support=SEARCH_SUPPORT).straightforward
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
    counter = counter or _Counter()
    brackets = []
    for inner in inners:
        s = sum(levels_to_steps(inner)) if len(inner) else 0.0
        brackets.append([lo, hi if hi is not None else 4.0 * (1.0 + s) + 2.0, False])
    # check lo first
    pats = [levels_to_steps(list(inner) + [b[0]]) for inner, b in zip(inners, brackets)]
    ok = _map(executor, pats, counter)
    for b, o in zip(brackets, ok):
        b[2] = o
    while True:
        active = [n for n, b in enumerate(brackets) if b[2] and (b[1] - b[0]) > SECTION_TOL * b[0]]
        if not active:
            break
        jobs = []
        for n in active:
            a, c, _ = brackets[n]
            pts = [a + (c - a) * (q + 1) / (SECTION_POINTS + 1) for q in range(SECTION_POINTS)]
            jobs += [(n, p) for p in pts]
        res = _map(executor, [levels_to_steps(list(inners[n]) + [p]) for n, p in jobs], counter)
        by = {}
        for (n, p), r in zip(jobs, res):
            by.setdefault(n, []).append((p, r))
        for n, lst in by.items():
            a, c, _ = brackets[n]
            for p, r in lst:  # feasibility is monotone in the middle step along the bracket
                if r:
                    a = p
                else:
                    c = p
                    break
            brackets[n][0], brackets[n][1] = a, c
    return [b[0] if b[2] else float("nan") for b in brackets]


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
            fixed = level == 1 and first is not None
            best_sum, best = _best_scale(levels, executor, counter, fixed)
            # 3. coordinate moves on the inner levels (first level kept when fixed), cheap lengths only
            cheap = 2 ** (level + 1) - 1 < MOVES_BELOW
            movable = [j for j in range(level) if cheap and not (j == 0 and first is not None)]
            for step in MOVE_STEPS:
                order = list(rng.permutation(movable)) if movable else []
                for j in order:
                    trial = []
                    for sgn in (1, -1):
                        inner = list(best[:-1])
                        inner[j] *= 1 + sgn * step
                        trial.append(inner)
                    lo, hi = (c * best[-1] for c in MOVE_BRACKET)
                    mids = max_middle(trial, executor, lo=lo, hi=hi, counter=counter)
                    for inner, m in zip(trial, mids):
                        if m == m and _total(inner + [m]) > best_sum + 1e-12:
                            best_sum, best = _total(inner + [m]), inner + [m]
            levels = best
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
