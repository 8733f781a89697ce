"""``pepstep certify``: an exact rational certificate of a worst-case rate.

Progress (elapsed time) goes to stderr; ``--quiet`` silences it. Without ``--out`` the
certificate itself (the JSON that :mod:`pepstep.kernel` reads, its keys stated there) is
printed on stdout and the one-line summary goes to stderr.
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction

from ..certify import certify, exact_lower_bound, parse_rate, proof_markdown
from ..errors import InputError
from .common import (
    Outputs,
    add_problem_arguments,
    add_quiet_argument,
    check_num_steps,
    check_outputs,
    fmt,
    problem_from_args,
    progress_bar,
    refuse_given,
    schedule_from_args,
)

#: Options of a finite-horizon certificate that ``--cyclic`` does not use.
NOT_CYCLIC = {
    "fclass": "--class",
    "L": "--L",
    "mu": "--mu",
    "measure": "--measure",
    "init": "--init",
    "R": "--R",
    "rate": "--rate",
    "support": "--support",
    "proof": "--proof",
    "solver": "--solver",
}

OUTPUTS = {"out": ("--out", "file"), "proof": ("--proof", "file")}


def register(sub) -> None:
    p = sub.add_parser("certify", help="exact rational certificate of a worst-case rate")
    add_problem_arguments(p)
    p.add_argument(
        "--support",
        default="full",
        choices=("full", "consecutive"),
        help="pairs the certificate may use: full (all) or consecutive ((k, k+1), (k+1, k), (*, k), (k, *))",
    )
    p.add_argument(
        "--rate",
        default=None,
        help="the rate to prove, e.g. 1/41 or 0.02381 with --schedule constant:1:10 (whose exact "
        "worst case is 1/42); exit 1 if it cannot be proved; default: the tightest rate found",
    )
    p.add_argument("--out", default=None, help="write the certificate (JSON) here, atomically")
    p.add_argument("--proof", default=None, help="write a human-readable proof (Markdown) here")
    p.add_argument(
        "--cyclic",
        action="store_true",
        help="certify the steps as a cyclic long-step pattern (Grimmer's criterion) instead; "
        "takes only --steps or --schedule, and --out",
    )
    add_quiet_argument(p)
    p.set_defaults(func=run, solver="auto")
    for action in p._actions:  # the certificate's own solver routes besides the cvxpy backends
        if action.dest == "solver":
            action.choices = ["auto", "schur", *action.choices]
            action.help = "auto (default), schur, clarabel, cvxopt, scs or mosek"


def _run_cyclic(args) -> int:
    from ..cyclic import certify_pattern

    refuse_given(
        args, NOT_CYCLIC, "with --cyclic (a cyclic pattern is certified for L-smooth convex f, f(x) - f*)"
    )
    schedule = schedule_from_args(args)
    check_num_steps(schedule.num_steps)
    check_outputs(args, OUTPUTS)
    with progress_bar(args, f"certify cyclic t={schedule.num_steps}", heartbeat=True):
        cert = certify_pattern(schedule.exact or schedule.steps)
    if args.out and cert.valid:
        with Outputs() as out:
            out.text(args.out, json.dumps(cert.to_json(), indent=1) + "\n")
    if not cert.valid:  # no verified certificate: no average step to report
        print(f"cyclic pattern of length {len(cert.steps)}: not certified, {cert.seconds:.1f} s")
        return 1
    written = f", written to {args.out}" if args.out else ""
    print(
        f"cyclic pattern of length {len(cert.steps)}: certified True, average step "
        f"{float(cert.average):.10g}, {cert.seconds:.1f} s{written}"
    )
    return 0


def run(args) -> int:
    if args.cyclic:
        return _run_cyclic(args)
    problem = problem_from_args(args)
    rate = None if args.rate is None else parse_rate(args.rate)
    if rate is not None and rate > Fraction(sys.float_info.max):
        raise InputError(f"The 'rate' is too large for a float. Got rate={args.rate!r}.")
    check_outputs(args, OUTPUTS)
    with progress_bar(args, f"certify {problem.schedule.name}", heartbeat=True):
        cert = certify(problem, rate=args.rate, support=args.support, solver=args.solver)
    with Outputs() as out:  # both files or neither
        if args.out:
            out.text(args.out, cert.to_json())
        if args.proof:
            out.text(args.proof, proof_markdown(cert))
    if not args.out:
        print(cert.to_json(), end="")
    rate = cert.rate
    text = f"{rate.numerator}/{rate.denominator}" if rate.denominator != 1 else str(rate.numerator)
    print(
        f"certified: rate {text} (about {fmt(float(rate))}), {len(cert.multipliers)} multipliers, "
        f"support {cert.support}" + (f", written to {args.out}" if args.out else ""),
        file=sys.stderr if not args.out else None,
    )
    lower = exact_lower_bound(problem)
    if lower is not None and lower[0] == rate:  # proved from above, attained from below
        print(
            f"tight: the worst case equals {text} exactly ({lower[1]} attains it)",
            file=sys.stderr if not args.out else None,
        )
    return 0
