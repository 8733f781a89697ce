"""``pepstep optimize``: a step-size schedule minimizing the exact worst case.

A composition search (the best schedules of every length up to N, each a join of two
shorter ones around one step fitted by the exact worst case) runs first, from scratch;
then the starts chosen by ``--kinds`` are polished locally. ``--time-limit S`` (and Ctrl-C)
stops the search and reports the best schedule found so far with its exact value.
``--checkpoint FILE`` saves the composition search after each length and resumes it.
``--workers`` (local processes) or ``--scheduler`` (Dask) spread the joins of one length;
the result does not depend on them.

Progress (lengths and starts done, best value, elapsed time) goes to stderr, also with
``--json``; ``--quiet`` silences it. ``--out`` writes the same JSON object as ``--json``.

JSON output
  | key | meaning |
  |---|---|
  | `steps` | the optimized normalized steps |
  | `value` | its worst case in user units, by the full PEP; null unless status is optimal |
  | `normalized_value` | the same with L = R = 1; null unless optimal |
  | `units` | the homogeneity factor of `value`, e.g. "L R^2" |
  | `status` | status of the final full-PEP solve |
  | `num_steps` | N |
  | `class` | convex, strongly-convex or nonconvex |
  | `L` | smoothness constant |
  | `mu` | strong convexity constant |
  | `measure` | fgap, gradnorm, dist or mingradnorm |
  | `init` | dist or fgap |
  | `R` | size of the initial condition (R or Delta) |
  | `starts` | every start: kind, seed, value, pep_solves, iterations, message, initial_steps, steps |
  | `winning_start` | index, kind and seed of the winner |
  | `best_constant` | step, value (null unless optimal) and solver status of the best constant schedule |
  | `seconds` | wall time |
  | `pep_solves` | PEP solves in all |
  | `solver` | the package of the final full-PEP solve |
  | `solver_version` | its version |
  | `formulation` | how the final solve was formulated (see `pepstep rate --help`) |
  | `found_by` | how the winner was found: its start kind (compose: the join that built it) |
  | `stopped` | null, or "time limit" / "interrupted": the best found so far is reported |
  | `anchors` | the schedules compared with, on the same problem |
  | `anchors.constant` | the best constant step: value (null unless optimal), status, reason, steps |
  | `anchors.silver` | the silver schedule (N >= 2): value, status, reason (why not finite), steps |
  | `anchors.composed` | the composed schedule (convex fgap from dist, N >= 2): value, status, reason, steps |
  | `certificate` | null unless --certify was given |
  | `certificate.written_to` | the --certify file |
  | `certificate.rate` | the certified rate, an exact "p/q" (normalized, L = R = 1) |
"""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import InputError
from ..optimize import NEUTRAL_STEP, START_KINDS, certify_schedule, optimize, plot_schedule, read_checkpoint
from ..pep import Problem
from ..schedules import constant
from .common import (
    Outputs,
    add_class_arguments,
    add_executor_arguments,
    add_quiet_argument,
    add_solver_argument,
    check_executor_args,
    check_outputs,
    dump_json,
    fmt,
    function_class_from_args,
    int_in,
    json_epilog,
    make_executor,
    positive_float,
    progress_bar,
    refuse_given,
    solver_json,
)
from .rate import units

#: Largest N ``optimize`` accepts. The composition search solves dozens of PEPs per length
#: up to N (by constraint generation: about 1.3 s apiece at N = 50 and 5 s at N = 127 on
#: this machine); N = 127 is the longest run measured (benchmarks/bench_optimize.py).
MAX_NUM_STEPS = 127
WHY_MAX = (
    "the composition search solves dozens of PEPs of order N + 2 for every length up to N, "
    "about 5 s apiece at N = 127 on this machine; longer runs take many hours"
)
#: Without --time-limit, the composition search from scratch is refused beyond this N (its
#: measured time grows past an hour; with a time limit the best found in time is reported).
MAX_UNLIMITED = 60
WHY_UNLIMITED = (
    "without --time-limit the composition search from scratch is refused beyond N = "
    f"{MAX_UNLIMITED} (it runs for hours there); give --time-limit S to get the best found in S seconds, "
    "or --no-explore"
)

#: Most starts, and most restarts per start: each runs a whole local optimization.
MAX_STARTS = 64
WHY_STARTS = "each runs a whole local optimization of dozens of PEP solves"

OUTPUTS = {
    "out": ("--out", "file"),
    "plot": ("--plot", "plot"),
    "certify": ("--certify", "file"),
    "checkpoint": ("--checkpoint", "file"),
}


def register(sub) -> None:
    p = sub.add_parser(
        "optimize",
        help="optimize the step-size schedule (minimize the worst case)",
        epilog=json_epilog(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--num-steps",
        type=int_in(1, MAX_NUM_STEPS, WHY_MAX),
        required=True,
        help=f"number of steps N, 1 <= N <= {MAX_NUM_STEPS}",
    )
    add_class_arguments(p)
    add_solver_argument(p)
    p.add_argument(
        "--starts",
        type=int_in(1, MAX_STARTS, WHY_STARTS),
        default=4,
        help="number of starts: neutral (all 1.5), composed (closed form; convex, fgap, "
        "init dist), silver, concatenations of optimized shorter schedules, seeded "
        "perturbations (default 4)",
    )
    p.add_argument("--seed", type=int_in(0), default=0, help="base seed of the perturbed starts (default 0)")
    p.add_argument(
        "--max-step", type=positive_float, default=None, help="upper bound on every step (default max(4, 2N))"
    )
    p.add_argument(
        "--restarts",
        type=int_in(0, MAX_STARTS, WHY_STARTS),
        default=2,
        help="perturbed restarts after each start (default 2)",
    )
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
    p.add_argument(
        "--radius", type=positive_float, default=0.5, help="initial trust-region radius (default 0.5)"
    )
    p.add_argument(
        "--no-explore",
        dest="explore",
        action="store_false",
        help="skip the composition search (only the --kinds starts run)",
    )
    p.add_argument(
        "--pep-method",
        default="generate",
        choices=("generate", "auto", "full"),
        help="how the winner's exact worst case is computed: generate (default: constraint "
        "generation, exact), auto or full (all pairs in one SDP)",
    )
    p.add_argument(
        "--time-limit",
        type=positive_float,
        default=None,
        metavar="S",
        help="stop after about S seconds and report the best schedule found so far, evaluated exactly",
    )
    p.add_argument(
        "--checkpoint",
        default=None,
        help="JSON file of the composition search, rewritten per length; resumes",
    )
    add_executor_arguments(p, "local processes for the composition search (default: this process only)")
    p.add_argument("--json", action="store_true", help="print one JSON object (progress still on stderr)")
    add_quiet_argument(p)
    p.add_argument("--out", default=None, help="write the result (JSON) here, atomically")
    p.add_argument("--plot", default=None, help="bar chart of the steps (PNG, PDF, SVG, ...)")
    p.add_argument(
        "--certify", default=None, metavar="FILE", help="write an exact certificate of the value here"
    )
    p.set_defaults(func=run)


def check_args(args) -> Problem:
    """Every refusal of ``optimize``, before any computation; returns the template problem."""
    fc = function_class_from_args(args)
    if args.method != "trust-region":
        refuse_given(
            args, {"radius": "--radius"}, f"with --method {args.method} (it is the trust-region radius)"
        )
    kinds = None if args.kinds is None else [k.strip() for k in args.kinds.split(",") if k.strip()]
    if kinds is not None and not kinds:
        raise InputError(f"The --kinds list is empty. Got --kinds {args.kinds!r}.")
    if kinds is not None:
        bad = [k for k in kinds if k not in START_KINDS]
        if bad:
            raise InputError(
                f"The start kinds must be among {', '.join(START_KINDS)}. Got {bad[0]!r} in --kinds {args.kinds!r}."
            )
    args.kinds_list = kinds
    if args.explore and args.time_limit is None and args.num_steps > MAX_UNLIMITED:
        raise InputError(f"--num-steps {args.num_steps} is refused: {WHY_UNLIMITED}.")
    if not args.explore:
        refuse_given(
            args, {"checkpoint": "--checkpoint"}, "with --no-explore (it saves the composition search)"
        )
    check_executor_args(args)
    check_outputs(args, OUTPUTS)
    init = args.init or ("dist" if fc.has_minimizer else "fgap")
    # the problem of every schedule tried; its steps are the neutral start
    template = Problem(constant(NEUTRAL_STEP, args.num_steps), fc, args.measure, init, args.R)
    if args.checkpoint:
        read_checkpoint(args.checkpoint, template, args.solver, args.max_step)  # refuses a foreign file
    return template


def run(args) -> int:
    template = check_args(args)
    fc = template.function_class
    executor, close = None, (lambda: None)
    if args.workers is not None or args.scheduler is not None:
        executor, close = make_executor(args)

    def report(text):
        bar.set_postfix_str(text)

    try:
        with progress_bar(args, f"optimize N={args.num_steps}", unit="step", heartbeat=True) as bar:
            result = optimize(
                template,
                starts=args.starts,
                seed=args.seed,
                max_step=args.max_step,
                solver=args.solver,
                restarts=args.restarts,
                local_method=args.method,
                radius=args.radius,
                kinds=args.kinds_list,
                progress=report,
                explore=args.explore,
                pep_method=args.pep_method,
                time_limit=args.time_limit,
                executor=executor,
                checkpoint=args.checkpoint,
            )
    finally:
        close()
    out = _json(result)
    if not result.ok:  # never a value the solver did not certify, and no file
        out["value"] = out["normalized_value"] = None
        if args.json:
            dump_json(out)
        written = args.out or args.certify or args.plot
        print(
            f"pepstep: solver failure: the best schedule's worst case is {result.status.value} "
            f"({result.status.message}); no value is reported" + ("; no file written." if written else "."),
            file=sys.stderr,
        )
        return 1
    with Outputs() as files:  # every output or none
        if args.certify:
            with progress_bar(args, f"certify N={args.num_steps}", heartbeat=True):
                cert = certify_schedule(result, args.solver)
            files.text(args.certify, cert.to_json())
            out["certificate"] = {"written_to": args.certify, "rate": str(cert.rate)}
        if args.out:
            files.text(args.out, json.dumps(out, indent=2) + "\n")
        if args.plot:
            plot_schedule(result, files.path(args.plot))
    if args.json:
        dump_json(out)
    else:
        win = result.starts[result.winning_start]
        print(f"steps        {', '.join(fmt(h, 8) for h in result.steps)}")
        print(
            f"worst case   {fmt(result.value)}  (status {result.status.value}, N = {result.num_steps}, "
            f"class {fc.kind}, measure {result.problem.measure.value}, init {result.problem.init.value})"
        )
        for name, a in out["anchors"].items():
            shown = (
                fmt(a["value"])
                if a["value"] is not None
                else f"no value ({a['status']}: {a.get('reason') or ''})"
            )
            print(f"{'vs ' + name:<12s} {shown}")
        print(
            f"won          start {result.winning_start} ({win.kind}"
            + (f", seed {win.seed}" if win.seed is not None else "")
            + f") of {len(result.starts)}; {result.pep_solves} PEP solves, {result.seconds:.1f} s"
        )
        print(f"found by     {result.found_by}")
        if result.stopped:
            print(f"stopped      {result.stopped}: the best schedule found so far, evaluated exactly")
        if args.certify:
            print(f"certificate  rate {out['certificate']['rate']} written to {args.certify}")
    return 0


def _json(result) -> dict:
    """The JSON object of the module notes: the result's, the solver named as it ran."""
    out = result.to_json()
    problem = getattr(result, "problem", None)
    out["units"] = units(problem) if problem is not None else None
    out.update(solver_json(out.pop("solver", ""), out.pop("solver_version", "")))
    out["certificate"] = None
    order = [*list(out)[:4], "units"]  # units after the value, as in ``rate``
    return {k: out[k] for k in [*order, *(k for k in out if k not in order)]}
