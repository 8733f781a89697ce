"""``pepstep table``: several schedules side by side, each against constant h = 1.

Progress (schedules solved, elapsed time) goes to stderr, also with ``--json``; ``--quiet``
silences it.

JSON output
  | key | meaning |
  |---|---|
  | `rows` | one object per schedule, in the order given |
  | `rows[].schedule` | the schedule's name |
  | `rows[].label` | its display name (the text table's first column) |
  | `rows[].num_steps` | N |
  | `rows[].average_step` | sum h / N |
  | `rows[].max_step` | max h |
  | `rows[].class` | convex, strongly-convex or nonconvex |
  | `rows[].L` | smoothness constant |
  | `rows[].mu` | strong convexity constant |
  | `rows[].measure` | fgap, gradnorm, dist or mingradnorm |
  | `rows[].init` | dist or fgap |
  | `rows[].R` | size of the initial condition (R or Delta) |
  | `rows[].units` | units of `value` and `h1_value`, e.g. "L R^2" |
  | `rows[].value` | exact worst case; null when the solve failed pepstep's re-check |
  | `rows[].status` | the solve's status |
  | `rows[].h1_value` | worst case of constant h = 1 with the same N and problem |
  | `rows[].h1_over_value` | h1_value / value, the text table's "h=1 / this" (> 1: better than h = 1) |
  | `rows[].seconds` | wall time of this schedule's solve |
  | `solver_option` | the --solver given (from 32 steps on the default may run pepstep's Schur route: `pepstep rate --json` names it) |
  | `method` | the --method asked for: auto, full or generate |
"""

from __future__ import annotations

import argparse
import sys

from ..compare import compare_schedules
from ..schedules import parse_schedule, parse_steps
from .common import (
    add_class_arguments,
    add_method_arguments,
    add_quiet_argument,
    add_solver_argument,
    dump_json,
    fmt,
    json_epilog,
    method_from_args,
    problem_from_args,
    problem_json,
    progress_bar,
)
from .rate import MEASURE_TEXT, units


def register(sub) -> None:
    p = sub.add_parser(
        "table",
        help="worst cases of several schedules side by side, each against constant h = 1",
        epilog=json_epilog(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--schedule", action="append", default=[], help="named schedule (repeatable)")
    p.add_argument("--steps", action="append", default=[], help="comma-separated steps (repeatable)")
    add_class_arguments(p)
    add_solver_argument(p)
    add_method_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object (progress still on stderr)")
    add_quiet_argument(p)
    p.set_defaults(func=run)


def run(args) -> int:
    schedules = [parse_schedule(s) for s in args.schedule] + [parse_steps(s) for s in args.steps]
    if not schedules:
        from ..errors import InputError

        raise InputError("No schedule given: use --schedule silver:63 (repeatable).")
    problem = problem_from_args(args, schedules[0])  # validates the class options once
    rows, cache = [], {}  # the cache shares the h = 1 baselines between schedules
    with progress_bar(args, "table", total=len(schedules), unit="schedule", heartbeat=True) as bar:
        for s in schedules:
            bar.set_postfix_str(s.name, refresh=False)
            rows += compare_schedules(
                [(None, s)],
                make_problem=lambda s: problem_from_args(args, s),
                solver=args.solver,
                method=method_from_args(args),
                cache=cache,
            )
            bar.update()
    failed = sum(r.value is None for r in rows)
    if args.json:
        # the problem's keys of ``rate --json`` (the schedule's own keys are the row's)
        keys = ("class", "L", "mu", "measure", "init", "R")
        same = {k: v for k, v in problem_json(problem).items() if k in keys} | {"units": units(problem)}
        dump_json(
            {
                "rows": [
                    {
                        "schedule": s.name,
                        "label": r.label,
                        "num_steps": r.num_steps,
                        "average_step": r.average_step,
                        "max_step": r.max_step,
                        **same,
                        "value": r.value,
                        "status": r.status,
                        "h1_value": r.baseline,
                        "h1_over_value": r.ratio,
                        "seconds": r.seconds,
                    }
                    for s, r in zip(schedules, rows)
                ],
                "solver_option": args.solver,
                "method": method_from_args(args),
            }
        )
        return 1 if failed else 0
    header = (
        f"{'schedule':<28} {'N':>5} {'avg step':>9} {'max step':>9} {'worst case':>14} "
        f"{'h=1 / this':>10} {'time':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        value = fmt(r.value, 8) if r.value is not None else r.status
        ratio = f"{r.ratio:.3g}x" if r.ratio else "-"
        print(
            f"{r.label:<28} {r.num_steps:>5} {r.average_step:>9.3f} {r.max_step:>9.3g} {value:>14} "
            f"{ratio:>10} {r.seconds:>6.2f}s"
        )
    print(
        f"worst case: {MEASURE_TEXT[problem.measure]} over the {problem.function_class.kind} class, "
        f"in units of {units(problem)}.\n"
        "h=1 / this: constant h = 1's worst case over this one's, same N and problem (> 1: a smaller\n"
        "worst case than h = 1): a ratio of worst cases at one N, not a speed of convergence."
    )
    if failed:
        print(
            f"pepstep: {failed} solve(s) did not reach the requested accuracy; no value shown for them.",
            file=sys.stderr,
        )
    return 1 if failed else 0
