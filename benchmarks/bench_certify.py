"""Exact certificates: time to certify and to verify, against the float PEP solve of the same run.

Writes ``results/bench_certify.csv``, one row per (schedule, N) for constant steps h = 1.5 and
the silver schedule (rounded to rationals, see :func:`pepstep.certify.rational_steps`), N in
{10, 31, 63, 127}: seconds to certify (float dual, rounding, exact repair and the verification
inside :func:`pepstep.certify.certify`), seconds for a separate :func:`pepstep.certify.verify`
of the written certificate (python-flint), the float PEP's seconds (:func:`pepstep.worst_case`,
the peer: ``certify_ratio`` is certify over PEP), the certified rate against the PEP value, and
the number of multipliers. Verification is the kernel's (:mod:`pepstep.kernel`): in-process
(``verify_seconds``), against the same PSD decision by exact LDL^T alone, without the dominance
proof (``verify_ldl_seconds``, the previous verifier's route; ``verify_ratio`` = ldl / kernel),
and whole-process as ``pepstep verify`` runs it (``verify_process_seconds``: ``python -m
pepstep.kernel FILE`` under the work limit). Row ``pattern`` 127 verifies the committed
certificate of the searched t = 127 long-step pattern (``results/search_t127_certificate.json``).
Each case runs in its own subprocess under a time limit.

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

from _cases import RowWriter, parse_args, run_case, verify_in_process, versions  # noqa: E402

FIELDS = [
    "schedule",
    "N",
    "status",
    "certify_seconds",
    "verify_seconds",
    "verify_ldl_seconds",
    "verify_ratio",
    "verify_process_seconds",
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


def _kernel_times(path: Path) -> dict:
    from pepstep import kernel

    start = time.perf_counter()
    verdict = kernel.verify_file(path)
    seconds = time.perf_counter() - start
    valid, process = verify_in_process(path)
    assert valid == verdict.valid
    return {
        "verdict": verdict,
        "verify_seconds": round(seconds, 3),
        "verify_process_seconds": round(process, 3),
    }


def _pattern_case() -> dict:
    path = ROOT / "results" / "search_t127_certificate.json"
    times = _kernel_times(path)
    verdict = times.pop("verdict")
    return {"status": "valid" if verdict.valid else f"rejected: {verdict.failed_check}", **times}


def case(schedule: str, n: int) -> dict:
    """One case in this process."""
    import tempfile

    from pepstep import kernel

    if schedule == "pattern":
        return _pattern_case()

    from pepstep import Problem, constant, silver, worst_case
    from pepstep.certify import certify, load_certificate

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
        times = _kernel_times(path)
        verdict = times.pop("verdict")
        start = time.perf_counter()
        ldl_ok = kernel.ldl_factor(kernel.slack(load_certificate(path)._fields()))[0]
        ldl_seconds = time.perf_counter() - start
        size = path.stat().st_size
    return {
        "status": "valid" if verdict.valid and ldl_ok else f"rejected: {verdict.failed_check}",
        "certify_seconds": round(certify_seconds, 2),
        **times,
        "verify_ldl_seconds": round(ldl_seconds, 3),
        "verify_ratio": round(ldl_seconds / max(times["verify_seconds"], 1e-6), 1),
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
    ap.add_argument("--schedules", nargs="+", default=["constant", "silver", "pattern"])
    args = parse_args(ap, "bench_certify", ROOT, out_dir, argv, case_nargs=2)
    if args.case:
        print(json.dumps(case(args.case[0], int(args.case[1]))))
        return
    info = versions()
    with RowWriter(args.out, FIELDS) as out:
        for schedule in args.schedules:
            for n in [127] if schedule == "pattern" else sorted(args.sizes):
                row = {"schedule": schedule, "N": n, **info, **run_case(__file__, [schedule, n], args.limit)}
                if row["status"] == "timeout":
                    row["certify_seconds"] = args.limit
                out.write(row)


if __name__ == "__main__":
    main()
