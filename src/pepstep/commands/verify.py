"""``pepstep verify``: check a certificate file in exact rational arithmetic.

Exit status: 0 and ``valid: rate p/q`` when every check holds; 1 naming the first failed
check; 2 for a file that is unreadable or malformed.
"""

from __future__ import annotations

import sys

from ..certify import load_certificate, proof_markdown, verify
from .common import write_atomic


def register(sub) -> None:
    p = sub.add_parser(
        "verify", help="check a certificate file exactly (exit 0 valid, 1 invalid, 2 malformed)"
    )
    p.add_argument("file", help="certificate written by pepstep certify")
    p.add_argument("--proof", default=None, help="also write a human-readable proof (Markdown) here")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..cyclic import read_pattern_certificate, verify_pattern_json

    cyclic = read_pattern_certificate(args.file)
    if cyclic is not None:  # a cyclic long-step pattern certificate (pepstep certify --cyclic)
        valid, message = verify_pattern_json(cyclic)
        print(message, file=None if valid else sys.stderr)
        return 0 if valid else 1
    cert = load_certificate(args.file)
    report, factors = verify(cert, with_factors=True)
    if not report.valid:
        print(report.message, file=sys.stderr)
        return 1
    if args.proof:
        write_atomic(args.proof, proof_markdown(cert, factors))
    print(report.message)
    return 0
