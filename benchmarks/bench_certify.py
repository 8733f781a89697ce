"""Exact certificates: time to certify and to verify, against the float PEP solve of the same run.

Writes ``results/bench_certify.csv``, one row per (schedule, N) for constant steps h = 1.5 and
the silver schedule (rounded to rationals, see :func:`pepstep.certify.rational_steps`), N in
{10, 31, 63, 127}: seconds to certify (float dual, rounding, exact repair and the verification
inside :func:`pepstep.certify.certify`), seconds for a separate :func:`pepstep.certify.verify`
of the written certificate (python-flint), the float PEP's seconds (:func:`pepstep.worst_case`,
the peer: ``certify_ratio`` is certify over PEP), the certified rate against the PEP value, and
the number of multipliers. Each case runs in its own subprocess under a time limit.

Usage: ``python benchmarks/bench_certify.py [--sizes 10 31 63 127] [--limit 900]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cases import RowWriter, parse_args, run_case, versions  # noqa: E402

FIELDS = [
    "schedule",
    "N",
    "status",
    "certify_seconds",
    "verify_seconds",
    "pep_seconds",
    "certify_ratio",
    "rate",
    "pep_value",
    "rate_over_pep_minus_1",
    "multipliers",
    "file_bytes",
    "cvxpy",
    "clarabel",
    "cvxopt",
    "python-flint",
    "python",
]


def case(schedule: str, n: int) -> dict:
    """One case in this process."""
    import tempfile

    from pepstep import Problem, constant, silver, worst_case
    from pepstep.certify import certify, load_certificate, verify

    problem = Problem(silver(n) if schedule == "silver" else constant("1.5", n))
    certify(Problem(constant("1", 2)))  # warm-up: imports and first-call costs are not timed
    start = time.perf_counter()
    wc = worst_case(problem)
    pep_seconds = time.perf_counter() - start
    start = time.perf_counter()
    cert = certify(problem)
    certify_seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cert.json"
        path.write_text(cert.to_json())
        start = time.perf_counter()
        report = verify(load_certificate(path))
        verify_seconds = time.perf_counter() - start
        size = path.stat().st_size
    return {
        "status": "valid" if report.valid else f"rejected: {report.failed_check}",
        "certify_seconds": round(certify_seconds, 2),
        "verify_seconds": round(verify_seconds, 3),
        "pep_seconds": round(pep_seconds, 2),
        "certify_ratio": round(certify_seconds / pep_seconds, 1),
        "rate": f"{float(cert.rate):.12g}",
        "pep_value": f"{wc.value:.12g}",
        "rate_over_pep_minus_1": f"{float(cert.rate) / wc.value - 1:.1e}",
        "multipliers": len(cert.multipliers),
        "file_bytes": size,
    }


def main(out_dir=None, argv=None) -> None:
    """Run the cases; ``benchmarks/run.py`` calls ``main(out_dir)`` with the defaults."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 31, 63, 127])
    ap.add_argument("--schedules", nargs="+", default=["constant", "silver"])
    args = parse_args(ap, "bench_certify", ROOT, out_dir, argv, case_nargs=2)
    if args.case:
        print(json.dumps(case(args.case[0], int(args.case[1]))))
        return
    info = versions()
    with RowWriter(args.out, FIELDS) as out:
        for schedule in args.schedules:
            for n in sorted(args.sizes):
                row = {"schedule": schedule, "N": n, **info, **run_case(__file__, [schedule, n], args.limit)}
                if row["status"] == "timeout":
                    row["certify_seconds"] = args.limit
                out.write(row)


if __name__ == "__main__":
    main()
