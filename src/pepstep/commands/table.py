"""``pepstep table``: several schedules side by side (the demo)."""

from __future__ import annotations

import sys

from ..schedules import parse_schedule, parse_steps
from ..solve import Status, worst_case
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
    p = sub.add_parser("table", help="worst cases of several schedules side by side")
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
    problems = [problem_from_args(args, s) for s in schedules]
    rows, failed = [], 0
    for problem in problems:
        wc = worst_case(problem, args.solver, throw=False, method=method_from_args(args))
        ok = wc.status is Status.OPTIMAL
        failed += not ok
        avg = sum(problem.schedule.steps) / problem.num_steps
        rows.append(
            {
                "schedule": problem.schedule.name,
                "num_steps": problem.num_steps,
                "average_step": avg,
                "value": wc.value if ok else None,
                "status": wc.status.value,
                "seconds": wc.seconds,
            }
        )
    if args.json:
        dump_json({"rows": rows, "solver": args.solver})
        return 1 if failed else 0
    ok_values = [r["value"] for r in rows if r["value"] is not None]
    worst = max(ok_values) if ok_values else None
    header = f"{'schedule':<34} {'N':>5} {'avg step':>9} {'worst case':>14} {'speed-up':>9} {'time':>7}"
    print(header)
    print("-" * len(header))
    for r in rows:
        value = fmt(r["value"], 8) if r["value"] is not None else r["status"]
        speed = f"{worst / r['value']:.2f}x" if r["value"] else "-"
        print(
            f"{r['schedule']:<34} {r['num_steps']:>5} {r['average_step']:>9.3f} {value:>14} "
            f"{speed:>9} {r['seconds']:>6.2f}s"
        )
    problem = problems[0]
    print(
        f"worst case: {MEASURE_TEXT[problem.measure]} over the {problem.function_class.kind} class, "
        f"in units of {units(problem)}; speed-up: the slowest schedule's worst case over this one's."
    )
    if failed:
        print(
            f"pepstep: {failed} solve(s) did not reach the requested accuracy; no value shown for them.",
            file=sys.stderr,
        )
    return 1 if failed else 0
