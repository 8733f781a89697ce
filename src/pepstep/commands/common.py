"""Options shared by the subcommands that take a problem (rate, certify, optimize, ...)."""

from __future__ import annotations

import json
import math
import sys

from .._io import write_atomic
from ..classes import FunctionClass
from ..errors import InputError
from ..pep import Problem
from ..schedules import Schedule, parse_schedule, parse_steps

__all__ = [
    "add_class_arguments",
    "add_problem_arguments",
    "add_solver_argument",
    "add_method_arguments",
    "method_from_args",
    "function_class_from_args",
    "problem_from_args",
    "schedule_from_args",
    "dump_json",
    "write_atomic",
    "problem_json",
    "fmt",
    "trusted_digits",
]


def add_class_arguments(p) -> None:
    p.add_argument(
        "--class",
        dest="fclass",
        default="convex",
        metavar="CLASS",
        help="convex (default), strongly-convex or nonconvex",
    )
    p.add_argument("--L", type=float, default=1.0, help="smoothness constant (default 1)")
    p.add_argument("--mu", type=float, default=0.0, help="strong convexity constant (default 0)")
    p.add_argument("--measure", default="fgap", help="fgap (default), gradnorm, dist or mingradnorm")
    p.add_argument("--init", default=None, help="dist (default; fgap for nonconvex) or fgap")
    p.add_argument(
        "--R",
        type=float,
        default=1.0,
        help="size of the initial condition: R in |x0 - x*| <= R, or Delta in f(x0) - f* <= Delta",
    )


def add_solver_argument(p) -> None:
    p.add_argument("--solver", default="clarabel", help="clarabel (default), cvxopt, scs or mosek")


def add_method_arguments(p) -> None:
    """``--method auto|full|generate`` and its shorthand ``--exact-full``."""
    p.add_argument(
        "--method",
        default="auto",
        help="auto (default: constraint generation from 32 steps on), full or generate",
    )
    p.add_argument(
        "--exact-full",
        action="store_true",
        help="force the dense formulation (all (N+2)(N+1) pairs in one SDP)",
    )


def method_from_args(args) -> str:
    return "full" if getattr(args, "exact_full", False) else getattr(args, "method", "auto")


def add_problem_arguments(p, steps_required: bool = True) -> None:
    """``--steps`` / ``--schedule`` plus the class, measure, init and solver options."""
    p.add_argument("--steps", default=None, help="comma-separated normalized steps, e.g. 1.5,4.9,1.5")
    p.add_argument(
        "--schedule", default=None, help="named schedule: constant:H:N, silver:N or pattern:FILE:REPEATS"
    )
    add_class_arguments(p)
    add_solver_argument(p)


def schedule_from_args(args) -> Schedule:
    if args.steps is not None and args.schedule is not None:
        raise InputError("Give either --steps or --schedule, not both.")
    if args.steps is not None:
        return parse_steps(args.steps)
    if args.schedule is not None:
        return parse_schedule(args.schedule)
    raise InputError("No schedule given: use --steps 1.5,4.9,1.5 or --schedule silver:63.")


def function_class_from_args(args) -> FunctionClass:
    return FunctionClass(args.fclass, L=args.L, mu=args.mu)


def problem_from_args(args, schedule: Schedule | None = None) -> Problem:
    fc = function_class_from_args(args)
    init = args.init
    if init is None:
        init = "dist" if fc.has_minimizer else "fgap"
    return Problem(schedule or schedule_from_args(args), fc, args.measure, init, args.R)


def problem_json(problem: Problem) -> dict:
    fc = problem.function_class
    return {
        "steps": list(problem.schedule.steps),
        "num_steps": problem.num_steps,
        "schedule": problem.schedule.name,
        "class": fc.kind,
        "L": fc.L,
        "mu": fc.mu,
        "measure": problem.measure.value,
        "init": problem.init.value,
        "R": problem.R,
    }


def _clean(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def dump_json(obj, stream=None) -> None:
    """Print one JSON object (non-finite floats become null)."""
    stream = stream or sys.stdout
    json.dump(_clean(obj), stream, indent=2)
    stream.write("\n")


def fmt(x: float, digits: int = 10) -> str:
    return f"{x:.{digits}g}"


def trusted_digits(residuals: dict) -> int:
    """Significant digits the re-checked accuracy supports (relative gap and dual residual)."""
    err = max(residuals.get("gap", 1.0), residuals.get("dual", 1.0), 1e-12)
    return max(3, min(10, int(-math.log10(err))))
