r"""Schedules side by side, each against constant ``h = 1``: finite horizons and cyclic guarantees.

Two questions a newcomer asks, answered with pepstep's exact numbers:

1. *Which finite schedule is best?* :func:`compare_schedules` gives each schedule's exact worst
   case ``w(h)`` (``f(x_N) - f*`` over L-smooth convex ``f`` with ``|x_0 - x*| <= R``, units
   ``L R^2``), the ratio ``w(h = 1, same N) / w(h)`` and the Huber lower bound
   ``1 / (2 (2 sum h + 1))``, which every schedule respects and the good ones attain.
2. *Why do cyclic long steps win in the long run?* :func:`compare_patterns` puts beside the
   finite-horizon worst case of a few cycles (from ``R``) the exact certificate of Grimmer's
   criterion: ``f(x_T) - f* <= L D^2 / (avg T) + O(1/T^2)`` with ``D`` the radius of the initial
   sublevel set, and the length of its ``O(1/T^2)`` warm-up.

Nothing here prints; :mod:`pepstep.commands.demo` and :mod:`pepstep.commands.table` format.

References
----------
B. Grimmer, "Provably faster gradient descent via long steps", SIAM J. Optim. 34(3) (2024),
Theorem 1.1 (the rate in ``D``; the classic guarantee of ``h = 1`` is ``L D^2 / (2T)``).

Examples
--------
>>> from pepstep import constant
>>> (row,) = compare_schedules([("h = 1.5", constant(1.5, 3))])
>>> round(row.ratio, 4), round(row.value * 20, 6)   # w = 1/(4 N h + 2): 1/14 for h = 1, 1/20
(1.4286, 1.0)
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .compute import worst_case
from .pep import Problem
from .schedules import Schedule, constant

__all__ = [
    "CLASSIC_H1_AVERAGE",
    "ScheduleRow",
    "PatternRow",
    "compare_schedules",
    "compare_patterns",
    "demo",
    "Demo",
    "display_name",
    "huber_bound",
    "warmup_cycles",
]

#: The classic guarantee of constant ``h = 1``, ``f(x_T) - f* <= L D^2 / (2 T)``, written as
#: Grimmer's ``L D^2 / (avg T)``: an "average" of 2, the baseline of his speed-ups.
CLASSIC_H1_AVERAGE = 2.0


@dataclass(frozen=True)
class ScheduleRow:
    """One schedule's exact worst case beside constant ``h = 1`` at the same ``N``.

    Attributes
    ----------
    label : str
        Display name (:func:`display_name` unless given).
    num_steps : int
        ``N``.
    sum_steps, average_step, max_step : float
        ``sum h``, ``sum h / N`` and ``max h`` (normalized steps, the step is ``h / L``).
    value : float or None
        Exact worst case of the problem's measure in its units (``L R^2`` by default);
        ``None`` when the solve did not pass pepstep's re-check (see ``status``).
    status : str
        The solve's status.
    baseline : float or None
        Worst case of constant ``h = 1`` with the same ``N`` and problem.
    ratio : float or None
        ``baseline / value``: how many times smaller this worst case is (> 1: better than h = 1).
    huber_bound : float
        ``1 / (2 (2 sum h + 1))`` in units ``L R^2`` (convex, fgap, distance start): a lower
        bound on the worst case of every schedule, attained by the good ones.
    seconds : float
        Wall time of this schedule's solve.
    """

    label: str
    num_steps: int
    sum_steps: float
    average_step: float
    max_step: float
    value: float | None
    status: str
    baseline: float | None
    ratio: float | None
    huber_bound: float
    seconds: float


@dataclass(frozen=True)
class PatternRow:
    """A cyclic pattern: a few cycles' worst case from ``R`` and its exact cyclic certificate.

    Attributes
    ----------
    label : str
        Display name.
    length : int
        Pattern length ``t``.
    finite : ScheduleRow
        The pattern repeated ``finite.num_steps / t`` times, against ``h = 1`` at that ``N``.
    certified : bool
        Whether the exact certificate verified (Grimmer's criterion, rational arithmetic).
    average : float or None
        Certified average step ``avg``: ``f(x_T) - f* <= L D^2 / (avg T) + O(1/T^2)``.
    guarantee_ratio : float or None
        ``avg / CLASSIC_H1_AVERAGE``: the long-run guarantee against h = 1's ``L D^2 / (2 T)``.
    delta : float or None
        The certificate's ``Delta`` (the range of its one-cycle inequality).
    warmup_cycles : float or None
        :func:`warmup_cycles` of the certificate.
    seconds : float
        Wall time of the certificate (SDP, rounding, exact check).
    """

    label: str
    length: int
    finite: ScheduleRow
    certified: bool
    average: float | None
    guarantee_ratio: float | None
    delta: float | None
    warmup_cycles: float | None
    seconds: float


def huber_bound(steps) -> float:
    """The Huber lower bound ``1 / (2 (2 sum h + 1))`` (units ``L R^2``) of any schedule.

    >>> huber_bound([1.0] * 10) * 42
    1.0
    """
    return 1.0 / (2.0 * (2.0 * float(sum(steps)) + 1.0))


def warmup_cycles(delta: float, sum_steps: float, q: float) -> float:
    """Cycles before a certificate's ``O(1/T^2)`` term fades: ``ln(1 / (2 Delta)) / (Delta s)``.

    With ``s = 2 sum h - q`` the certified sum. From ``f(x_0) - f* <= L D^2 / 2`` each cycle
    gives ``e_+ <= (1 - 2 delta sum h) e + delta^2 q D^2`` for ``delta`` in ``[0, Delta]``:
    geometric decrease at ``delta = Delta`` until ``e`` is of order ``Delta D^2``, then the
    ``1 / (avg T)`` tail. A certificate with a larger ``Delta`` is the stronger theorem.

    >>> round(warmup_cycles(1e-3, 1.0, 1.0))
    6215
    """
    s = 2.0 * sum_steps - q
    if not (delta > 0 and s > 0):
        return math.inf
    return max(0.0, math.log(1.0 / (2.0 * delta))) / (delta * s)


_PATTERN = re.compile(r"^pattern:(?P<file>.+?)(?:x(?P<reps>\d+))?$")
_FILE_NAMES = (
    (re.compile(r"^grimmer\d*_t(\d+)$"), "Grimmer t={}"),
    (re.compile(r"^bnbpep_n(\d+)$"), "BnB-PEP N={}"),
    (re.compile(r"^optimized_n(\d+)$"), "pepstep optimize N={}"),
    (re.compile(r"^search_t(\d+)$"), "pepstep search t={}"),
)


def display_name(schedule: Schedule) -> str:
    """A short readable name: ``constant h=1.5``, ``silver``, ``Grimmer t=3 x5``, ``BnB-PEP N=50``.

    >>> from pepstep.schedules import parse_schedule
    >>> display_name(parse_schedule("constant:1.5:10")), display_name(parse_schedule("silver:7"))
    ('constant h=1.5', 'silver')
    """
    name = schedule.name
    if name.startswith("constant:"):
        return f"constant h={float(name.split(':')[1]):g}"
    if name.startswith("silver:"):
        return "silver"
    match = _PATTERN.match(name)
    if match:
        stem = Path(match["file"]).name.removesuffix(".json")
        for regex, text in _FILE_NAMES:
            found = regex.match(stem)
            if found:
                stem = text.format(found[1])
                break
        reps = match["reps"]
        return f"{stem} x{reps}" if reps and reps != "1" else stem
    if name == "custom":
        text = ",".join(f"{h:g}" for h in schedule.steps[:4])
        return f"steps {text}{',...' if schedule.num_steps > 4 else ''}"
    return name


def compare_schedules(
    schedules: Sequence[tuple[str | None, Schedule]],
    *,
    make_problem: Callable[[Schedule], Problem] = Problem,
    solver: str = "clarabel",
    method: str = "auto",
    cache: dict | None = None,
) -> tuple[ScheduleRow, ...]:
    """Exact worst case of each schedule and the ratio against constant ``h = 1`` at the same N.

    Parameters
    ----------
    schedules : sequence of (str or None, Schedule)
        Labels and schedules; ``None`` labels become :func:`display_name`.
    make_problem : callable
        Builds the problem of a schedule (class, measure, initial condition); default the
        convex ``f(x_N) - f*`` from ``|x_0 - x*| <= 1``.
    solver, method : str
        As in :func:`pepstep.worst_case`.
    cache : dict, optional
        Solves keyed by steps, shared between calls on the same problem (the h = 1 baselines).
    """
    cache = {} if cache is None else cache

    def solve(schedule: Schedule) -> tuple:
        if schedule.steps not in cache:
            start = time.perf_counter()
            wc = worst_case(make_problem(schedule), solver, throw=False, method=method)
            cache[schedule.steps] = (
                wc.value if wc.ok else None,
                wc.status.value,
                time.perf_counter() - start,
            )
        return cache[schedule.steps]

    rows = []
    for label, schedule in schedules:
        value, status, seconds = solve(schedule)
        baseline = solve(constant(1.0, schedule.num_steps))[0]
        ratio = baseline / value if baseline is not None and value else None
        total = float(sum(schedule.steps))
        rows.append(
            ScheduleRow(
                label=label or display_name(schedule),
                num_steps=schedule.num_steps,
                sum_steps=total,
                average_step=total / schedule.num_steps,
                max_step=max(schedule.steps),
                value=value,
                status=status,
                baseline=baseline,
                ratio=ratio,
                huber_bound=huber_bound(schedule.steps),
                seconds=seconds,
            )
        )
    return tuple(rows)


def compare_patterns(
    patterns: Sequence[tuple[str | None, Schedule]],
    horizon: int = 15,
    *,
    solver: str = "clarabel",
    method: str = "auto",
    cache: dict | None = None,
) -> tuple[PatternRow, ...]:
    """Grimmer-style patterns: a few cycles' exact worst case from ``R`` beside their certificate.

    Each pattern of length ``t`` runs ``max(1, round(horizon / t))`` whole cycles (so ``N`` is
    the multiple of ``t`` nearest to ``horizon``) and is certified exactly by
    :func:`pepstep.cyclic.certify_pattern`. ``cache`` as in :func:`compare_schedules`.
    """
    from .cyclic import certify_pattern
    from .errors import SolverError

    out = []
    for label, pattern in patterns:
        t = pattern.num_steps
        reps = max(1, round(horizon / t))
        (finite,) = compare_schedules(
            [(f"{label or display_name(pattern)} x{reps}", pattern.repeat(reps))],
            solver=solver,
            method=method,
            cache=cache,
        )
        start = time.perf_counter()
        try:
            cert = certify_pattern(pattern.exact if pattern.exact is not None else pattern.steps)
        except SolverError:
            cert = None
        seconds = time.perf_counter() - start
        ok = cert is not None and cert.valid
        avg = float(cert.average) if ok else None
        out.append(
            PatternRow(
                label=label or display_name(pattern),
                length=t,
                finite=finite,
                certified=ok,
                average=avg,
                guarantee_ratio=None if avg is None else avg / CLASSIC_H1_AVERAGE,
                delta=float(cert.delta) if ok else None,
                warmup_cycles=warmup_cycles(float(cert.delta), float(sum(cert.steps)), float(cert.q))
                if ok
                else None,
                seconds=seconds,
            )
        )
    return tuple(out)


#: Steps of the demo's finite comparison (BnB-PEP's published vector has 50).
DEMO_NUM_STEPS = 50
#: Horizon of the demo's long-step comparison (whole cycles: t = 3 x5, t = 7 x2, t = 15 x1).
DEMO_HORIZON = 15


@dataclass(frozen=True)
class Demo:
    """What ``pepstep demo`` shows.

    Attributes
    ----------
    finite : tuple of ScheduleRow
        ``DEMO_NUM_STEPS``-step schedules: constant 1 and 1.5, silver, BnB-PEP, composed.
    baseline : ScheduleRow
        Constant ``h = 1`` over ``DEMO_HORIZON`` steps.
    cyclic : tuple of PatternRow
        Grimmer's t = 3, 7, 15 patterns.
    seconds : float
        Wall time of everything.
    """

    finite: tuple[ScheduleRow, ...]
    baseline: ScheduleRow
    cyclic: tuple[PatternRow, ...]
    seconds: float


def demo(patterns_dir="problems/patterns", solver: str = "clarabel") -> Demo:
    """The demo's two comparisons (about 6 s of solves on a 2-core machine)."""
    from .errors import InputError
    from .optimize import composed_schedule
    from .schedules import load_pattern, silver

    start = time.perf_counter()
    folder = Path(patterns_dir)

    def pattern(name: str) -> Schedule:
        path = folder / name
        if not path.exists():
            raise InputError(f"The pattern file {str(path)!r} does not exist (give the patterns folder).")
        return load_pattern(path)

    n = DEMO_NUM_STEPS
    finite = compare_schedules(
        [
            (None, constant(1.0, n)),
            (None, constant(1.5, n)),
            (f"silver (first {n} steps)", silver(n)),
            ("BnB-PEP (Das Gupta et al.)", pattern(f"bnbpep_n{n}.json")),
            ("composed (Grimmer-Shu-Wang)", Schedule(composed_schedule(n)[0], name=f"composed:{n}")),
        ],
        solver=solver,
    )
    cache: dict = {}
    (baseline,) = compare_schedules([(None, constant(1.0, DEMO_HORIZON))], solver=solver, cache=cache)
    cyclic = compare_patterns(
        [(f"Grimmer t={t}", pattern(f"grimmer2023_t{t}.json")) for t in (3, 7, 15)],
        DEMO_HORIZON,
        solver=solver,
        cache=cache,
    )
    return Demo(finite, baseline, cyclic, time.perf_counter() - start)
