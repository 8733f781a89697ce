"""``pepstep certify``: an exact rational certificate of a worst-case rate.

Progress (elapsed time) goes to stderr; ``--quiet`` silences it. Without ``--out`` the
certificate itself (the JSON that :mod:`pepstep.kernel` reads, its keys stated there) is
printed on stdout and the one-line summary goes to stderr.
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction

from .. import kernel
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
        help="the rate to prove, e.g. 1/42 with --schedule constant:1:10 (its exact worst case, "
        "proved exactly) or 0.0239; exit 1 if it cannot be proved; default: the tightest rate found",
    )
    p.add_argument("--out", default=None, help="write the certificate (JSON) here, atomically")
    p.add_argument("--proof", default=None, help="write a human-readable proof (Markdown) here")
    p.add_argument(
        "--cyclic",
        action="store_true",
        help="certify the steps as a cyclic long-step pattern (Grimmer's criterion) instead; "
        "takes only --steps or --schedule, --at and --out",
    )
    p.add_argument(
        "--at",
        default=None,
        metavar="T1,T2,...",
        help="with --cyclic: also state f(x_T) - f* <= B(T) L D^2 at these step counts (rounded up "
        "to whole cycles; at most 10^5 cycles, the verifier's limit); default 10, 100, 1000 and 10^4 cycles",
    )
    add_quiet_argument(p)
    p.set_defaults(func=run, solver="auto")
    for action in p._actions:  # the certificate's own solver routes besides the cvxpy backends
        if action.dest == "solver":
            action.choices = ["auto", "schur", *action.choices]
            action.help = "auto (default), schur, clarabel, cvxopt, scs or mosek"


def _run_cyclic(args) -> int:
    from ..cyclic import certify_pattern, warmup_cycles_T0

    refuse_given(
        args, NOT_CYCLIC, "with --cyclic (a cyclic pattern is certified for L-smooth convex f, f(x) - f*)"
    )
    schedule = schedule_from_args(args)
    check_num_steps(schedule.num_steps)
    at = _cycle_ends(args.at, schedule.num_steps)
    check_outputs(args, OUTPUTS)
    with progress_bar(args, f"certify cyclic t={schedule.num_steps}", heartbeat=True):
        cert = certify_pattern(schedule.exact or schedule.steps, at=at)
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
    T0 = warmup_cycles_T0(cert)
    reach = f"from T = {T0:.3g} steps on" if T0 else "never (the bound's tail stays above it)"
    print(
        f"Delta {float(cert.delta):.3g}: f(x_T) - f* <= L D^2 / (avg T) + O(1/T^2), within 1% of "
        f"1/(avg T) {reach} (D: radius of the initial sublevel set)"
    )
    for T, B in cert.bounds:
        print(
            f"  T = {T:<9} f(x_T) - f* <= {float(B):.6g} L D^2   (T B(T) = {T * float(B):.4g}, 1/avg = {1 / float(cert.average):.4g})"
        )
    return 0


def _cycle_ends(text, t: int):
    """``--at`` as step counts rounded up to whole cycles of length ``t`` (None: the default)."""
    if text is None:
        return None
    try:
        ends = [int(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        raise InputError(f"--at takes positive integers such as 100,1000. Got --at {text!r}.") from None
    if not ends or any(T <= 0 for T in ends):
        raise InputError(f"--at takes positive integers such as 100,1000. Got --at {text!r}.")
    ends = [-(-T // t) * t for T in ends]
    if max(ends) // t > kernel.LIMITS["cycles"]:
        raise InputError(f"--at allows at most 10^5 cycles of length {t}. Got --at {text!r}.")
    return ends


def run(args) -> int:
    if args.cyclic:
        return _run_cyclic(args)
    refuse_given(args, {"at": "--at"}, "without --cyclic (B(T) bounds are for cyclic patterns)")
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
