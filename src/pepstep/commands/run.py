"""``pepstep run``: certified schedules and hypergradient tuning on a real problem, beside their PEP bounds.

Progress (loading the problem, gradient steps, PEP bounds) goes to stderr, also with
``--json``; ``--quiet`` silences it.

JSON output
  | key | meaning |
  |---|---|
  | `provenance` | pepstep_version, git_sha, solver (the --solver given) and its version, cvxpy_version, python, tolerances, date |
  | `problem` | the data set: name, description, dim, L, R (= abs(x0 - x*)), f_star |
  | `iters` | gradient steps per method |
  | `methods` | one object per --schedule, in the order given |
  | `methods[].method` | its label |
  | `methods[].final_gap` | f(x_N) - f* after the last step |
  | `methods[].seconds` | wall time of the run |
  | `methods[].f_gap` | f(x_k) - f* at k = 0, 1, 2, 4, ... and the last k (keys are k) |
  | `methods[].final_step` | the last step h used |
  | `methods[].bounds` | PEP bounds at the checkpoints: N, normalized, value, observed, ratio |
"""

from __future__ import annotations

import argparse
import os

from ..errors import InputError
from ..practice import (
    PROBLEMS,
    ScheduleMethod,
    load_problem,
    parse_method,
    plot_practice,
    run_method,
    schedule_bounds,
)
from .common import (
    MAX_PEP_STEPS,
    Outputs,
    add_quiet_argument,
    add_solver_argument,
    check_outputs,
    dump_json,
    int_in,
    json_epilog,
    progress_bar,
)

#: Most gradient steps per method: each step is one gradient of the data set (about 10-100
#: microseconds on the shipped ones), and the traces are kept in memory.
MAX_ITERS = 10_000_000

OUTPUTS = {"plot": ("--plot", "plot"), "cache_dir": ("--cache-dir", "folder")}


def register(sub) -> None:
    p = sub.add_parser(
        "run",
        help="run schedules on a real problem and compare with their worst-case bounds",
        description="Gradient descent with certified schedules (and hypergradient tuning) on a "
        "smooth convex problem; f(x_k) - f* beside the PEP worst case w L |x0 - x*|^2.",
        epilog=json_epilog(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--problem", required=True, help=f"one of: {', '.join(PROBLEMS)}")
    p.add_argument(
        "--schedule",
        action="append",
        required=True,
        metavar="SPEC",
        help="repeatable: constant:H, constant:H:N, silver:N, pattern:FILE:REPEATS, "
        "steps:H1,H2,..., hypergradient:depth=K[,alpha=A,kappa=C]",
    )
    p.add_argument(
        "--iters",
        type=int_in(1, MAX_ITERS, "the traces of every method are kept in memory"),
        default=1000,
        help="gradient steps per method (default 1000)",
    )
    p.add_argument(
        "--bound-max-n",
        type=int_in(1, MAX_PEP_STEPS, "longer PEPs run for hours"),
        default=32,
        help="largest N at which a PEP bound is solved (default 32)",
    )
    p.add_argument("--cache-dir", default=None, help="folder to keep the reference solutions x* in")
    p.add_argument("--plot", default=None, metavar="PNG", help="write the figure here")
    p.add_argument("--json", action="store_true", help="print one JSON object (progress still on stderr)")
    add_quiet_argument(p)
    add_solver_argument(p)
    p.set_defaults(func=run)


def run(args) -> int:
    if args.iters < 1:
        raise InputError(f"The 'iters' must be a positive integer. Got iters={args.iters}.")
    methods = [parse_method(s) for s in args.schedule]
    if args.problem not in PROBLEMS:
        raise InputError(f"Unknown problem {args.problem!r}; known: {', '.join(PROBLEMS)}.")
    check_outputs(args, OUTPUTS)
    if args.cache_dir is not None and not os.path.isdir(args.cache_dir):
        try:
            os.makedirs(args.cache_dir)
        except OSError as exc:
            raise InputError(
                f"Cannot create the --cache-dir folder {args.cache_dir!r}: {exc.strerror}."
            ) from None
    with progress_bar(args, f"load {args.problem}", heartbeat=True):
        problem = load_problem(args.problem, args.cache_dir)
    total = args.iters * len(methods)
    with progress_bar(args, problem.name, total=total, unit="it") as bar:
        traces = [run_method(problem, m, args.iters, progress=bar.update) for m in methods]
    scheduled = [m for m in methods if isinstance(m, ScheduleMethod)]
    bounds = {}
    with progress_bar(args, "PEP bounds", total=len(scheduled), unit="schedule", heartbeat=True) as bar:
        for m in scheduled:
            bar.set_postfix_str(m.label, refresh=False)
            bounds[m.label] = schedule_bounds(problem, m.schedule, args.bound_max_n, args.solver)
            bar.update()
    if args.plot:
        with Outputs() as out:
            plot_practice(problem, traces, bounds, out.path(args.plot))
    if args.json:
        dump_json(_json(problem, traces, bounds, args))
        return 0
    print(f"problem   {problem.name}: {problem.description}")
    print(f"          L = {problem.L:.10g}, |x0 - x*| = {problem.R:.6g}, f* = {problem.f_star:.15g}")
    print(f"{'method':<40} {'f(x_N) - f*':>12} {'seconds':>8}   PEP bound at N (ratio bound / observed)")
    for t in traces:
        marks = "  ".join(f"N={b.N}: {b.value:.2e} ({_ratio(b, t):.3g})" for b in bounds.get(t.method, []))
        print(f"{t.method:<40} {t.final_gap:>12.4e} {t.seconds:>8.2f}   {marks}")
    if args.plot:
        print(f"figure    {args.plot}")
    return 0


def _ratio(bound, trace) -> float:
    if bound.N > trace.iters:
        return float("nan")
    obs = trace.f_gap[bound.N]
    return float("inf") if obs <= 0 else bound.value / obs


def _json(problem, traces, bounds, args) -> dict:
    from ..reproduce import provenance

    return {
        "provenance": provenance(args.solver),
        "problem": {
            "name": problem.name,
            "description": problem.description,
            "dim": problem.dim,
            "L": problem.L,
            "R": problem.R,
            "f_star": problem.f_star,
        },
        "iters": args.iters,
        "methods": [
            {
                "method": t.method,
                "final_gap": t.final_gap,
                "seconds": t.seconds,
                "f_gap": _subsample(t.f_gap),
                "final_step": float(t.steps[-1]),
                "bounds": [
                    {
                        "N": b.N,
                        "normalized": b.normalized,
                        "value": b.value,
                        "observed": float(t.f_gap[b.N]) if b.N <= t.iters else None,
                        "ratio": _ratio(b, t),
                    }
                    for b in bounds.get(t.method, [])
                ],
            }
            for t in traces
        ],
    }


def _subsample(gaps) -> dict:
    """``f(x_k) - f*`` at k = 0, 1, 2, 4, ..., and the last k."""
    ks = sorted({0, gaps.size - 1, *(2**j for j in range(40) if 2**j < gaps.size)})
    return {str(k): float(gaps[k]) for k in ks}
