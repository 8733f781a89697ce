"""``pepstep rate``: the exact worst case of one schedule."""

from __future__ import annotations

import math
import sys

from ..classes import InitialCondition, Measure
from ..generation import RTOL_SANDWICH
from ..solve import Status, failure_message, worst_case
from .common import (
    add_method_arguments,
    add_problem_arguments,
    dump_json,
    fmt,
    method_from_args,
    problem_from_args,
    problem_json,
    trusted_digits,
)

MEASURE_TEXT = {
    Measure.FGAP: "f(x_N) - f*",
    Measure.GRADNORM: "|grad f(x_N)|^2",
    Measure.DIST: "|x_N - x*|^2",
    Measure.MINGRADNORM: "min_k |grad f(x_k)|^2",
}


def units(problem) -> str:
    """The homogeneity factor of the value, e.g. ``L R^2``."""
    m, dist = problem.measure, problem.init is InitialCondition.DIST
    grad = m in (Measure.GRADNORM, Measure.MINGRADNORM)
    if dist:
        return {Measure.FGAP: "L R^2", Measure.DIST: "R^2"}.get(m, "L^2 R^2")
    return "Delta" if m is Measure.FGAP else ("L Delta" if grad else "Delta / L")


def register(sub) -> None:
    p = sub.add_parser("rate", help="exact worst case of gradient descent with a schedule")
    add_problem_arguments(p)
    add_method_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    problem = problem_from_args(args)
    wc = worst_case(problem, args.solver, throw=False, method=method_from_args(args))
    ok = wc.status is Status.OPTIMAL
    if args.json:
        out = {
            "value": wc.value if ok else None,
            "normalized_value": wc.normalized_value if ok else None,
            "status": wc.status.value,
            "solver": wc.solver,
            "solver_version": wc.solver_version,
            **problem_json(problem),
            "seconds": wc.seconds,
            "pairs_used": wc.pairs_used,
            "method": method_from_args(args),
            "rounds": wc.residuals.get("rounds", 1),
            "max_violation": wc.residuals.get("max_violation"),
            "residuals": wc.residuals,
        }
        dump_json(out)
        return 0 if ok else 1
    if not ok:
        kind = "no finite worst case" if wc.status is Status.UNBOUNDED else "solver failure"
        print(f"pepstep: {kind}: {failure_message(wc)}", file=sys.stderr)
        return 1
    fc = problem.function_class
    size = "R" if problem.init is InitialCondition.DIST else "Delta"
    digits = trusted_digits(wc.residuals)
    print(
        f"worst case   {MEASURE_TEXT[problem.measure]} <= {fmt(wc.value, digits)}"
        f"   (= {fmt(wc.normalized_value, digits)} {units(problem)}, L={fmt(fc.L, 6)}, {size}={fmt(problem.R, 6)})"
    )
    print(f"schedule     {problem.schedule.name}  (N = {problem.num_steps})")
    cls = fc.kind + (f", mu = {fmt(fc.mu, 6)}" if fc.kind == "strongly-convex" else "")
    print(f"class        {cls};  init {problem.init.value}")
    print(
        f"solver       {wc.solver} {wc.solver_version}: {wc.status.value}, "
        f"relative gap {wc.residuals['gap']:.1e}, {wc.seconds:.2f} s"
    )
    closed_by = wc.residuals.get("closed_by")
    if closed_by:
        how = (
            f"dual bound within 1e{math.log10(RTOL_SANDWICH):.0f} of an explicit function's value "
            f"{fmt(wc.residuals['lower_bound'], digits)}"
            if closed_by == "lower bound"
            else f"no interpolation inequality violated beyond {wc.residuals['max_violation']:.1e} of the value"
        )
        print(
            f"exact        {wc.pairs_used} of {wc.residuals['total_pairs']} pairs, {wc.residuals['rounds']} round(s): {how}"
        )
    return 0
