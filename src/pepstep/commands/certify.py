"""``pepstep certify``: an exact rational certificate of a worst-case rate."""

from __future__ import annotations

import json

from ..certify import certify, proof_markdown
from .common import add_problem_arguments, fmt, problem_from_args, schedule_from_args, write_atomic


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
        help="the rate to prove, e.g. 1/42 or 0.0238096 (exit 1 if it cannot be proved); "
        "default: the tightest rate found",
    )
    p.add_argument("--out", default=None, help="write the certificate (JSON) here, atomically")
    p.add_argument("--proof", default=None, help="write a human-readable proof (Markdown) here")
    p.add_argument(
        "--cyclic",
        action="store_true",
        help="certify the steps as a cyclic long-step pattern (Grimmer's criterion) instead",
    )
    p.set_defaults(func=run, solver="auto")


def _run_cyclic(args) -> int:
    from ..cyclic import certify_pattern

    schedule = schedule_from_args(args)
    cert = certify_pattern(schedule.exact or schedule.steps)
    if args.out and cert.valid:
        write_atomic(args.out, json.dumps(cert.to_json(), indent=1) + "\n")
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
    cert = certify(problem, rate=args.rate, support=args.support, solver=args.solver)
    if args.out:
        write_atomic(args.out, cert.to_json())
    if args.proof:
        write_atomic(args.proof, proof_markdown(cert))
    if not args.out:
        print(cert.to_json(), end="")
    rate = cert.rate
    text = f"{rate.numerator}/{rate.denominator}" if rate.denominator != 1 else str(rate.numerator)
    print(
        f"certified: rate {text} (about {fmt(float(rate))}), {len(cert.multipliers)} multipliers, "
        f"support {cert.support}" + (f", written to {args.out}" if args.out else ""),
        file=__import__("sys").stderr if not args.out else None,
    )
    return 0
