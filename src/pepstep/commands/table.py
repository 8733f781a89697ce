"""``pepstep table``: several schedules side by side, each against constant h = 1."""

from __future__ import annotations

import sys

from ..compare import compare_schedules
from ..schedules import parse_schedule, parse_steps
from .common import (
    add_class_arguments,
    add_method_arguments,
    add_solver_argument,
    dump_json,
    fmt,
    method_from_args,
    problem_from_args,
)
from .rate import MEASURE_TEXT, units


def register(sub) -> None:
    p = sub.add_parser(
        "table", help="worst cases of several schedules side by side, each against constant h = 1"
    )
    p.add_argument("--schedule", action="append", default=[], help="named schedule (repeatable)")
    p.add_argument("--steps", action="append", default=[], help="comma-separated steps (repeatable)")
    add_class_arguments(p)
    add_solver_argument(p)
    add_method_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    schedules = [parse_schedule(s) for s in args.schedule] + [parse_steps(s) for s in args.steps]
    if not schedules:
        from ..errors import InputError

        raise InputError("No schedule given: use --schedule silver:63 (repeatable).")
    problem = problem_from_args(args, schedules[0])  # validates the class options once
    rows = compare_schedules(
        [(None, s) for s in schedules],
        make_problem=lambda s: problem_from_args(args, s),
        solver=args.solver,
        method=method_from_args(args),
    )
    failed = sum(r.value is None for r in rows)
    if args.json:
        dump_json(
            {
                "rows": [
                    {
                        "schedule": s.name,
                        "label": r.label,
                        "num_steps": r.num_steps,
                        "average_step": r.average_step,
                        "max_step": r.max_step,
                        "value": r.value,
                        "status": r.status,
                        "h1_value": r.baseline,
                        "h1_over_value": r.ratio,
                        "seconds": r.seconds,
                    }
                    for s, r in zip(schedules, rows)
                ],
                "solver": args.solver,
                "units": units(problem),
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
