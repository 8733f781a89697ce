"""``pepstep verify``: check a certificate file in exact rational arithmetic.

The verdict is the verifier kernel's (:mod:`pepstep.kernel`), run as its own process under a CPU
and memory limit. Exit status: 0 and ``valid: ...`` when every check holds; 1 naming the first
failed check; 2 for a file that is unreadable, malformed, outside the kernel's limits, or that
needs more than its work limit.
"""

from __future__ import annotations

import json
import subprocess
import sys

from .. import kernel
from .._io import check_output_path, write_atomic
from ..errors import CertificateFormatError
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
    p.add_argument("file", help="certificate written by pepstep certify")
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
