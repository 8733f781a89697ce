"""``pepstep rate``: the exact worst case of one schedule.

Progress (constraint-generation rounds, elapsed time) goes to stderr, also with ``--json``;
``--quiet`` silences it. ``--worst-function FILE.json`` writes the worst-case function (points,
gradients and values in the smallest dimension found, :mod:`pepstep.worstfunction`) and
``--plot FILE.png`` draws it; both paths are checked before any computation.

JSON output
  | key | meaning |
  |---|---|
  | `value` | worst case in user units (L, R or Delta included); null unless status is optimal |
  | `normalized_value` | the same with L = 1 and R (Delta) = 1; null unless optimal |
  | `units` | the homogeneity factor of `value`, e.g. "L R^2" |
  | `status` | optimal, inaccurate, infeasible, unbounded, bounded or failed (after pepstep's re-check) |
  | `bounds` | [lower, upper] in user units when status is bounded (--time-limit came first, or no solve passed the re-check), else null |
  | `solver` | the package that solved the (last) SDP: clarabel, cvxopt, scs or mosek |
  | `solver_version` | its version |
  | `formulation` | "dense" (through cvxpy) or "schur" (pepstep's low-rank Schur KKT in CVXOPT) |
  | `method` | the --method asked for: auto, full or generate |
  | `steps` | the normalized steps h_0..h_{N-1} |
  | `num_steps` | N |
  | `schedule` | the schedule's name |
  | `class` | convex, strongly-convex or nonconvex |
  | `L` | smoothness constant |
  | `mu` | strong convexity constant |
  | `measure` | fgap, gradnorm, dist or mingradnorm |
  | `init` | dist or fgap |
  | `R` | size of the initial condition (R or Delta) |
  | `seconds` | wall time of the solve |
  | `pairs_used` | interpolation pairs in the (final) SDP |
  | `generation` | constraint generation's record, or null when the full PEP was solved |
  | `generation.rounds` | working-set solves |
  | `generation.total_pairs` | inequalities of the full PEP |
  | `generation.max_violation` | largest violation outside the working set, relative to the value |
  | `generation.closed_by` | "lower bound", "feasibility" or "" (not exact) |
  | `generation.lower_bound` | normalized value of the explicit function compared with (null if none) |
  | `residuals` | pepstep's re-check of the solve: gap, primal, dual, min_eig_slack, ... |
"""

from __future__ import annotations

import argparse
import math
import sys

from ..classes import InitialCondition, Measure
from ..compute import NO_ROUTE_PASSED, worst_case
from ..errors import InputError
from ..solve import Status, failure_message
from .common import (
    Outputs,
    add_method_arguments,
    add_problem_arguments,
    add_quiet_argument,
    check_num_steps,
    check_outputs,
    dump_json,
    fmt,
    json_epilog,
    method_from_args,
    problem_from_args,
    problem_json,
    progress_bar,
    solver_json,
    solver_text,
    trusted_digits,
)

#: Output options of ``rate``: attribute -> (option, kind) for :func:`check_outputs`.
OUTPUTS = {"worst_function": ("--worst-function", "file"), "plot": ("--plot", "plot")}
#: Longest schedule whose worst-case function ``rate`` draws: the rank-reducing solves use every
#: interpolation pair, (N + 2)(N + 1) rows (N = 15 takes about a second, N = 64 minutes).
MAX_WORST_FUNCTION_STEPS = 64

#: Keys of ``residuals`` that constraint generation adds; the JSON puts them under ``generation``.
GENERATION_KEYS = ("rounds", "total_pairs", "max_violation", "closed_by", "lower_bound")

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
    p = sub.add_parser(
        "rate",
        help="exact worst case of gradient descent with a schedule",
        epilog=json_epilog(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_problem_arguments(p)
    add_method_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON object (progress still on stderr)")
    p.add_argument(
        "--worst-function",
        metavar="FILE.json",
        default=None,
        help="write the worst-case function: points, gradients, values in the smallest dimension found",
    )
    p.add_argument(
        "--plot",
        metavar="FILE.png",
        default=None,
        help="draw the worst-case function (1-D: the function; 2-D: level sets; above: a principal plane)",
    )
    p.add_argument(
        "--time-limit",
        type=float,
        metavar="S",
        default=None,
        help="seconds; if the exact value is not reached by then, print a certified interval "
        "(status bounded, exit 1) instead of a value",
    )
    add_quiet_argument(p)
    p.set_defaults(func=run)


def check_time_limit(value) -> float | None:
    """``--time-limit``: ``None`` or a finite number of seconds > 0 (else one line, exit 2)."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise InputError(f"--time-limit must be a finite number of seconds > 0. Got --time-limit {value!r}.")
    return value


def solve_with_progress(problem, solver: str, method: str, bar, time_limit: float | None = None):
    """``worst_case`` of ``problem``, its constraint-generation rounds drawn on ``bar``."""

    lower = []  # the explicit lower bound, computed at the first round (never for a full solve)

    def report(rounds, pairs, value):
        if not lower:
            from ..lower import lower_bound

            lb = lower_bound(problem)
            lower.append(lb.value if lb is not None else float("nan"))
        lo = f"{lower[0]:.6g} <= " if lower[0] == lower[0] else ""
        bar.set_postfix_str(f"round {rounds}, {pairs} pairs, {lo}value <= {value:.6g}", refresh=False)

    return worst_case(problem, solver, throw=False, method=method, progress=report, time_limit=time_limit)


def rate_json(problem, wc, method: str) -> dict:
    """The JSON object of one worst case (see the module notes)."""
    ok = wc.status is Status.OPTIMAL
    res = dict(wc.residuals)
    generated = "rounds" in res
    generation = {k: res.pop(k, None) for k in GENERATION_KEYS} if generated else None
    return {
        "value": wc.value if ok else None,
        "normalized_value": wc.normalized_value if ok else None,
        "units": units(problem),
        "status": wc.status.value,
        "bounds": list(wc.bounds) if wc.bounds is not None else None,
        **solver_json(wc.solver, wc.solver_version),
        "method": method,
        **problem_json(problem),
        "seconds": wc.seconds,
        "pairs_used": wc.pairs_used,
        "generation": generation,
        "residuals": res,
    }


def run(args) -> int:
    problem = problem_from_args(args)
    method = method_from_args(args)
    time_limit = check_time_limit(args.time_limit)
    outputs = check_outputs(args, OUTPUTS)
    drawing = outputs["worst_function"] is not None or outputs["plot"] is not None
    if drawing:
        check_num_steps(
            problem.num_steps,
            MAX_WORST_FUNCTION_STEPS,
            "with --worst-function or --plot (the rank-reducing solves use all (N + 2)(N + 1) pairs).",
        )
    name = problem.schedule.name
    with progress_bar(args, f"rate {name if len(name) <= 40 else name[:37] + '...'}", heartbeat=True) as bar:
        wc = solve_with_progress(problem, args.solver, method, bar, time_limit)
        ok = wc.status is Status.OPTIMAL
        if drawing and ok:
            bar.set_postfix_str("worst-case function", refresh=False)
            write_worst_function(wc, outputs, args.solver)
    if args.json:
        dump_json(rate_json(problem, wc, method))
        return 0 if ok else 1
    if wc.status is Status.BOUNDED:
        lo, up = wc.bounds
        if time_limit is not None and wc.residuals.get("reason") != NO_ROUTE_PASSED:
            why, upper = (
                f"the time limit of {fmt(time_limit, 6)} s came before the exact value",
                "working set",
            )
        else:
            why, upper = "no solve's primal point passed the re-check, so no exact value", "solve"
        print(f"bounded      {fmt(lo, 7)} <= {MEASURE_TEXT[problem.measure]} worst case <= {fmt(up, 7)}")
        print(f"             ({units(problem)}; {why})")
        print(f"schedule     {problem.schedule.name}  (N = {problem.num_steps})")
        family = wc.residuals.get("lower_family") or "no explicit function"
        print(f"how          upper: best re-checked dual bound of a {upper}; lower: {family} function")
        return 1
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
        f"solver       {solver_text(wc.solver, wc.solver_version)}: {wc.status.value}, "
        f"relative gap {wc.residuals['gap']:.1e}, {wc.seconds:.2f} s"
    )
    if drawing:
        files = " and ".join(str(p) for p in outputs.values() if p is not None)
        print(f"worst function written to {files}")
    closed_by = wc.residuals.get("closed_by")
    if closed_by:
        from ..generation import RTOL_SANDWICH

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


def write_worst_function(wc, outputs: dict, solver: str) -> None:
    """The worst-case function of ``wc`` to ``--worst-function`` (JSON) and ``--plot``, together."""
    from ..reproduce import provenance
    from ..worstfunction import run_gradient_descent, worst_function

    wf = worst_function(wc, solver=solver)
    with Outputs() as out:
        if outputs["worst_function"] is not None:
            out.text(outputs["worst_function"], wf.to_json(provenance(solver)))
        if outputs["plot"] is not None:
            from ..plots import plot_worst_function

            plot_worst_function(wf, out.path(outputs["plot"]), run=run_gradient_descent(wf))
