"""``pepstep optimize``: a step-size schedule minimizing the exact worst case."""

from __future__ import annotations

import json

from ..optimize import certify_schedule, optimize_schedule, plot_schedule
from .common import (
    add_class_arguments,
    add_solver_argument,
    dump_json,
    fmt,
    function_class_from_args,
    write_atomic,
)


def register(sub) -> None:
    p = sub.add_parser("optimize", help="optimize the step-size schedule (minimize the worst case)")
    p.add_argument("--num-steps", type=int, required=True, help="number of steps N >= 1")
    add_class_arguments(p)
    add_solver_argument(p)
    p.add_argument(
        "--starts",
        type=int,
        default=4,
        help="number of starts: neutral (all 1.5), composed (closed form; convex, fgap, "
        "init dist), silver, concatenations of optimized shorter schedules, seeded "
        "perturbations (default 4)",
    )
    p.add_argument("--seed", type=int, default=0, help="base seed of the perturbed starts (default 0)")
    p.add_argument(
        "--max-step", type=float, default=None, help="upper bound on every step (default max(4, 2N))"
    )
    p.add_argument("--restarts", type=int, default=2, help="perturbed restarts after each start (default 2)")
    p.add_argument(
        "--method",
        default="trust-region",
        choices=("trust-region", "lbfgsb"),
        help="local method (default trust-region)",
    )
    p.add_argument(
        "--kinds",
        default=None,
        help="comma-separated start kinds to use, in order: neutral, warm, composed, silver, "
        "concat, perturbed (default: all that apply, in that order)",
    )
    p.add_argument("--radius", type=float, default=0.5, help="initial trust-region radius (default 0.5)")
    p.add_argument("--json", action="store_true", help="print one JSON object (no progress bar)")
    p.add_argument("--out", default=None, help="write the result (JSON) here, atomically")
    p.add_argument("--plot", default=None, help="bar chart of the steps (PNG)")
    p.add_argument(
        "--certify", default=None, metavar="FILE", help="write an exact certificate of the value here"
    )
    p.set_defaults(func=run)


def run(args) -> int:
    fc = function_class_from_args(args)
    result = optimize_schedule(
        args.num_steps,
        function_class=fc,
        measure=args.measure,
        init=args.init,
        starts=args.starts,
        seed=args.seed,
        max_step=args.max_step,
        solver=args.solver,
        restarts=args.restarts,
        method=args.method,
        radius=args.radius,
        kinds=None if args.kinds is None else [k.strip() for k in args.kinds.split(",") if k.strip()],
        progress=not args.json,
        L_R=args.R,
    )
    out = result.to_json()
    if args.certify:
        cert = certify_schedule(result, args.solver)
        write_atomic(args.certify, cert.to_json())
        out["certificate"] = {"file": args.certify, "rate": str(cert.rate)}
    if args.out:
        write_atomic(args.out, json.dumps(out, indent=2) + "\n")
    if args.plot:
        plot_schedule(result, args.plot)
    if args.json:
        dump_json(out)
    else:
        win = result.starts[result.winning_start]
        print(f"steps        {', '.join(fmt(h, 8) for h in result.steps)}")
        print(
            f"worst case   {fmt(result.value)}  (status {result.status.value}, N = {result.num_steps}, "
            f"class {fc.kind}, measure {result.problem.measure.value}, init {result.problem.init.value})"
        )
        print(f"best const.  h = {fmt(result.best_constant_step, 8)}: {fmt(result.best_constant_value)}")
        print(
            f"won          start {result.winning_start} ({win.kind}"
            + (f", seed {win.seed}" if win.seed is not None else "")
            + f") of {len(result.starts)}; {result.pep_solves} PEP solves, {result.seconds:.1f} s"
        )
        if args.certify:
            print(f"certificate  rate {out['certificate']['rate']} written to {args.certify}")
    return 0 if result.ok else 1
