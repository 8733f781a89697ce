"""``pepstep verify``: check a certificate file in exact rational arithmetic.

The verdict is the verifier kernel's (:mod:`pepstep.kernel`), run as its own process under a CPU
and memory limit. Exit status: 0 and ``valid: ...`` when every check holds; 1 naming the first
failed check; 2 for a file that is unreadable, malformed, outside the kernel's limits, or that
needs more than its work limit. With ``--chain`` the files are certificates of consecutive pieces
of one schedule: each is checked the same way, then the bound they prove for the whole is printed
(:func:`pepstep.certify.chain_of_claims`); a piece that does not hold gives exit 1, pieces that do
not chain exit 2.
"""

from __future__ import annotations

import json
import subprocess
import sys

from .. import kernel
from .._io import check_output_path, write_atomic
from ..errors import CertificateFormatError, InputError
from .common import dump_json

_LIMITS_TEXT = (
    "Limits (outside them the file is refused with exit 2, naming the field): at most "
    f'{kernel.LIMITS["file_bytes"] // 2**20} MiB; numbers are integers or "p/q" strings in lowest terms '
    f"(ASCII digits, no exponents, floats or JSON infinities), at most {kernel.LIMITS['digits']} digits "
    f"per integer; at most {kernel.LIMITS['steps']} steps (worst-case kind) or a pattern of length "
    f"{kernel.LIMITS['pattern']} (cyclic kind); at most {kernel.LIMITS['multipliers']} entries per "
    f"multiplier table; stated bounds B(T) of at most {kernel.LIMITS['cycles']} cycles; no nesting "
    "beyond the certificate schema; no duplicate or unknown keys. "
    f"The check runs under a work limit of {kernel.WORK_LIMIT_SECONDS} s of CPU time and "
    f"{kernel.WORK_LIMIT_BYTES // 2**30} GiB of memory; a file that needs more is refused (exit 2). "
    "Key order and white space do not matter."
)


def register(sub) -> None:
    p = sub.add_parser(
        "verify",
        help="check a certificate file exactly (exit 0 valid, 1 invalid, 2 malformed)",
        description="Check a certificate written by pepstep certify (worst-case or --cyclic) in exact "
        "rational arithmetic, trusting nothing in it. " + _LIMITS_TEXT,
    )
    p.add_argument("file", nargs="+", help="certificate written by pepstep certify (several with --chain)")
    p.add_argument(
        "--chain",
        action="store_true",
        help="the files certify consecutive pieces of one schedule (each but the last |x_N - x*|^2 "
        "from |x_0 - x*|, one class): check each, then print the bound they prove for the whole",
    )
    p.add_argument("--proof", default=None, help="also write a human-readable proof (Markdown) here")
    p.add_argument(
        "--json", action="store_true", help="print one JSON object: the verdict and what was proved"
    )
    p.set_defaults(func=run)


def _run_kernel(path: str) -> dict:
    """The kernel's answer for ``path``, from its own process under the work limit."""
    cmd = [sys.executable, "-m", "pepstep.kernel", path]
    limit = f"more than the verifier's work limit ({kernel.WORK_LIMIT_SECONDS} s of CPU time, "
    limit += f"{kernel.WORK_LIMIT_BYTES // 2**30} GiB of memory)"
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=kernel.WORK_LIMIT_SECONDS + 3)
    except subprocess.TimeoutExpired:
        raise CertificateFormatError(f"Checking {path!r} takes {limit}; the file is refused.") from None
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise CertificateFormatError(f"Checking {path!r} needs {limit}; the file is refused.") from None


def run(args) -> int:
    if len(args.file) > 1 and not args.chain:
        raise InputError(
            f"Got {len(args.file)} files; pass --chain to check them as pieces of one schedule, "
            "or verify one file at a time."
        )
    if args.chain:
        if args.proof:
            raise InputError("--proof writes the proof of one certificate; it does not combine with --chain.")
        return _run_chain(args)
    args.file = args.file[0]
    if args.proof:
        check_output_path(args.proof, "--proof")
    out = _run_kernel(args.file)
    if "malformed" in out:
        raise CertificateFormatError(out["malformed"])
    if args.proof:
        if out["claim"]["kind"] != kernel.KIND_RATE:
            raise CertificateFormatError(
                "--proof writes the proof of a worst-case certificate; this one is cyclic."
            )
        if out["valid"]:
            from ..certificate import load_certificate, proof_markdown

            write_atomic(args.proof, proof_markdown(load_certificate(args.file), message=out["message"]))
    if args.json:
        dump_json(
            {
                "valid": out["valid"],
                "failed_check": out["failed_check"],
                "message": out["message"],
                **out["claim"],
            }
        )
    else:
        print(out["message"], file=sys.stdout if out["valid"] else sys.stderr)
    return 0 if out["valid"] else 1


def _run_chain(args) -> int:
    """``--chain``: every file through the kernel (its own process, the work limit each), then the
    chain of their claims (:func:`pepstep.certify.chain_of_claims`)."""
    from ..certify import chain_of_claims

    claims = []
    for path in args.file:
        out = _run_kernel(path)
        if "malformed" in out:
            raise CertificateFormatError(out["malformed"])
        if out["claim"]["kind"] != kernel.KIND_RATE:
            raise CertificateFormatError(f"{path!r} is a cyclic certificate; a chain takes worst-case ones.")
        if not out["valid"]:
            message = f"invalid chain: {path!r}: {out['message']}"
            if args.json:
                dump_json(
                    {"valid": False, "failed_check": out["failed_check"], "file": path, "message": message}
                )
            else:
                print(message, file=sys.stderr)
            return 1
        claims.append(out["claim"])
    bound = chain_of_claims(claims)
    what = kernel._MEASURES[bound.measure].replace("N", str(bound.num_steps))
    text = exact_text(bound.rate)
    message = (
        f"valid chain of {len(claims)} certificates, {bound.num_steps} steps: {what} <= "
        f"{kernel._show(bound.rate)} (about {kernel.approx(bound.rate)}) for |x_0 - x*| <= {bound.R}, every {bound.function_class} function "
        f"with L = {bound.L}" + (f", mu = {bound.mu}" if bound.mu else "")
    )
    if args.json:
        dump_json(
            {
                "valid": True,
                "failed_check": None,
                "message": message,
                "kind": "chain",
                "class": bound.function_class,
                "L": str(bound.L),
                "mu": str(bound.mu),
                "measure": bound.measure,
                "init": "dist",
                "R": str(bound.R),
                "num_steps": bound.num_steps,
                "steps": [str(h) for h in bound.steps],
                "rate": text,
                "piece_rates": [exact_text(r) for r in bound.piece_rates],
            }
        )
    else:
        print(message)
    return 0


def exact_text(q) -> str:
    """``"p/q"`` (or ``"p"``) for a Fraction of any size, for ``--json``: a chain multiplies the
    pieces' rates, whose integers the kernel bounds at 4,000 digits each, past Python's default
    limit on integer printing (4,300 digits), which is lifted here for this conversion only. The
    one-line message shows long fractions as decimals (the kernel's ``_show``)."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return f"{q.numerator}/{q.denominator}" if q.denominator != 1 else str(q.numerator)
    finally:
        sys.set_int_max_str_digits(limit)
