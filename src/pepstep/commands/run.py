"""``pepstep run``: certified schedules, hypergradient stacks and their PEP bounds on a real problem.

Progress (loading the problem, gradient steps, PEP bounds) goes to stderr, also with
``--json``; ``--quiet`` silences it.

Problems: the shipped smooth convex ones, ``mlp:digits`` (nonconvex, no known L: no PEP
bound), and any of them as ``NAME@batch=B[,seed=S]`` (mini-batch gradients: no PEP bound).
Methods (``--schedule``): fixed schedules, ``hypergradient:depth=K`` and hyperoptimizer stacks
``stack:NAME(...)/NAME(...)`` (:mod:`pepstep.stacks`). A run whose bottom level is plain
full-batch gradient descent on a convex problem *is* gradient descent with its realized steps
``h_k = L alpha_k``: the exact worst case of its first N steps is reported beside it (only
when the solve's status is ``optimal``).

JSON output
  | key | meaning |
  |---|---|
  | `provenance` | pepstep_version, git_sha, solver (the --solver given) and its version, cvxpy_version, python, tolerances, date |
  | `problem` | the data set: name, description, dim, L, R (= abs(x0 - x*)), f_star (L, R, f_star null when unknown), pep_note |
  | `iters` | gradient steps per method |
  | `methods` | one object per --schedule, in the order given |
  | `methods[].method` | its label (a stack with every hyperparameter named) |
  | `methods[].final_gap` | f(x_N) - f* after the last step (f(x_N) when f* is unknown) |
  | `methods[].seconds` | wall time of the run |
  | `methods[].f_gap` | f(x_k) - f* at k = 0, 1, 2, 4, ... and the last k (keys are k) |
  | `methods[].final_step` | the last step h used (alpha when L is unknown) |
  | `methods[].max_step` | the largest step h used |
  | `methods[].pep` | what the bounds are, or why there are none ("no PEP bound: ...") |
  | `methods[].bounds` | PEP bounds at the checkpoints: N, normalized, value, observed, ratio (of a fixed schedule or of the realized steps) |
  | `methods[].bound_status` | per checkpoint N (keys), the status of the solve of the realized steps' worst case (empty for a fixed schedule) |
  | `methods[].final_hyper` | for a stack, every level's hyperparameters after the run (null otherwise) |
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from ..errors import InputError
from ..practice import (
    Bound,
    ScheduleMethod,
    StackMethod,
    learned_bounds,
    load_objective,
    parse_method,
    parse_problem_spec,
    plot_practice,
    problem_names,
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
    p.add_argument(
        "--problem",
        required=True,
        help=f"one of: {', '.join(problem_names())}; each also as NAME@batch=B[,seed=S] (mini-batches)",
    )
    p.add_argument(
        "--schedule",
        action="append",
        required=True,
        metavar="SPEC",
        help="repeatable: constant:H, constant:H:N, silver:N, pattern:FILE:REPEATS, "
        "steps:H1,H2,..., hypergradient:depth=K[,alpha=A,kappa=C], "
        "stack:NAME(v,..,key=v)/NAME(...) with NAME in sgd, momentum, adam, adagrad, rmsprop "
        "(bottom first, e.g. stack:adam/sgd(1e-5))",
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
    name, batch, _ = parse_problem_spec(args.problem)
    if name == "mlp:digits":
        for m in methods:
            if not isinstance(m, StackMethod):
                raise InputError(
                    f"The method {m.label!r} takes steps h/L, and mlp:digits has no known L; "
                    "use a stack, e.g. stack:sgd(alpha=0.1)."
                )
    check_outputs(args, OUTPUTS)
    if args.cache_dir is not None and not os.path.isdir(args.cache_dir):
        try:
            os.makedirs(args.cache_dir)
        except OSError as exc:
            raise InputError(
                f"Cannot create the --cache-dir folder {args.cache_dir!r}: {exc.strerror}."
            ) from None
    with progress_bar(args, f"load {args.problem}", heartbeat=True):
        problem = load_objective(args.problem, args.cache_dir)
    total = args.iters * len(methods)
    with progress_bar(args, problem.name, total=total, unit="it") as bar:
        traces = [run_method(problem, m, args.iters, progress=bar.update) for m in methods]
    bounds, statuses, notes = _bounds(args, problem, methods, traces)
    if args.plot:
        with Outputs() as out:
            plot_practice(problem, traces, bounds, out.path(args.plot))
    if args.json:
        dump_json(_json(problem, traces, bounds, statuses, notes, args))
        return 0
    print(f"problem   {problem.name}: {problem.description}")
    if problem.f_star is None:
        print(f"          {problem.pep_note}; the values are f(x_N)")
    else:
        print(f"          L = {problem.L:.10g}, |x0 - x*| = {problem.R:.6g}, f* = {problem.f_star:.15g}")
    head = "f(x_N)" if problem.f_star is None else "f(x_N) - f*"
    print(f"{'method':<40} {head:>12} {'seconds':>8}   PEP bound at N (ratio bound / observed)")
    for t in traces:
        marks = "  ".join(f"N={b.N}: {b.value:.2e} ({_ratio(b, t):.3g})" for b in bounds.get(t.method, []))
        failed = [f"N={n}: {st}, no bound" for n, st in statuses.get(t.method, {}).items() if st != "optimal"]
        extra = "  ".join([marks, *failed]).strip() or notes[t.method]
        print(f"{t.method:<40} {t.final_gap:>12.4e} {t.seconds:>8.2f}   {extra}")
        if t.method in statuses:
            print(f"{'':<40} {'':>12} {'':>8}   ({notes[t.method]}; largest h = {_max_step(t):.4g})")
    if args.plot:
        print(f"figure    {args.plot}")
    return 0


def _max_step(trace) -> float:
    steps = trace.steps[np.isfinite(trace.steps)]
    return float(steps.max()) if steps.size else float("nan")


def _bounds(args, problem, methods, traces):
    """PEP bounds of each run: ``{label: [Bound]}``, ``{label: {N: status}}``, ``{label: note}``."""
    bounds, statuses, notes = {}, {}, {}
    learned_n = [2**k - 1 for k in range(1, 11) if 2**k - 1 <= args.bound_max_n]
    with progress_bar(args, "PEP bounds", total=len(methods), unit="method", heartbeat=True) as bar:
        for m, t in zip(methods, traces):
            bar.set_postfix_str(m.label, refresh=False)
            if problem.pep_note is not None:
                notes[t.method] = problem.pep_note
            elif isinstance(m, ScheduleMethod):
                bounds[t.method] = schedule_bounds(problem, m.schedule, args.bound_max_n, args.solver)
                notes[t.method] = "exact worst case of the schedule's first N steps"
            elif t.is_schedule:
                found = learned_bounds(problem, t, learned_n, args.solver)
                statuses[t.method] = {b.N: b.status for b in found}
                bounds[t.method] = [Bound(b.N, b.normalized, b.value) for b in found if b.value is not None]
                notes[t.method] = "exact worst case of the realized steps h_0..h_{N-1} (a learned schedule)"
            else:
                notes[t.method] = (
                    f"no PEP bound: the bottom level {t.method.split(':', 1)[1].split('(')[0]} "
                    "is not plain gradient descent"
                )
            bar.update()
    return bounds, statuses, notes


def _ratio(bound, trace) -> float:
    if bound.N > trace.iters:
        return float("nan")
    obs = trace.f_gap[bound.N]
    return float("inf") if obs <= 0 else bound.value / obs


def _json(problem, traces, bounds, statuses, notes, args) -> dict:
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
            "pep_note": problem.pep_note,
        },
        "iters": args.iters,
        "methods": [
            {
                "method": t.method,
                "final_gap": t.final_gap,
                "seconds": t.seconds,
                "f_gap": _subsample(t.f_gap),
                "final_step": float(t.steps[-1]),
                "max_step": _max_step(t),
                "pep": notes[t.method],
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
                "bound_status": {str(n): st for n, st in statuses.get(t.method, {}).items()},
                "final_hyper": [dict(h) for h in t.final_hyper] if t.final_hyper else None,
            }
            for t in traces
        ],
    }


def _subsample(gaps) -> dict:
    """``f(x_k) - f*`` at k = 0, 1, 2, 4, ..., and the last k."""
    ks = sorted({0, gaps.size - 1, *(2**j for j in range(40) if 2**j < gaps.size)})
    return {str(k): float(gaps[k]) for k in ks}
