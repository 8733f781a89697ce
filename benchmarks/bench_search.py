"""Long-step patterns: time to certify Grimmer's published patterns, and to search t = 15.

Writes ``results/bench_search.csv``. Rows ``certify``: :func:`pepstep.cyclic.certify_pattern`
on the published t = 15, 31, 63, 127 patterns with pepstep's defaults (``solver="auto"``: the
low-rank Schur route from t = 63 on; ``support="auto"``: the step-horizon support first, then the
widened and the dyadic ones) and, as the peer measured in the same run, with Clarabel on the same
supports, with the certified average and its relative loss against ``mean(h)``. Row ``search``:
:func:`pepstep.search.search_patterns` for t = 15 from scratch (seed 0, one process), against the
published 57.9 / 15. Every case runs in its own subprocess under a time limit (a case over it is
recorded as ``timeout``).

Usage: ``python benchmarks/bench_search.py [--limit 900]``.
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

PATTERNS = ROOT / "problems" / "patterns"
#: Published sums of Grimmer's t = 15 pattern (Table 1): the search is compared with 57.9 / 15.
PUBLISHED_T15_AVERAGE = 57.9 / 15
FIELDS = [
    "task",
    "t",
    "solver",
    "support",
    "status",
    "seconds",
    "certified",
    "average",
    "mean_steps",
    "relative_loss",
    "peer_seconds",
    "ratio_peer_over_pepstep",
    "candidates_evaluated",
    "cvxpy",
    "clarabel",
    "cvxopt",
    "python-flint",
    "python",
]


def case(task: str, t: int, solver: str) -> dict:
    """One case in this process."""
    from pepstep.cyclic import certify_pattern
    from pepstep.schedules import load_pattern

    certify_pattern([1.5, 4.9, 1.5])  # warm-up: imports and first-call costs are not timed
    if task == "search":
        from pepstep.search import search_patterns

        start = time.perf_counter()
        res = search_patterns(t, seed=0)
        seconds = time.perf_counter() - start
        return {
            "status": "ok",
            "seconds": round(seconds, 2),
            "certified": res.certified,
            "average": repr(float(res.average)),
            "mean_steps": repr(PUBLISHED_T15_AVERAGE),
            "relative_loss": f"{1 - float(res.average) / PUBLISHED_T15_AVERAGE:.2e}",
            "candidates_evaluated": res.candidates_evaluated,
        }
    steps = load_pattern(PATTERNS / f"grimmer2023_t{t}.json").steps
    start = time.perf_counter()
    cert = certify_pattern(steps, solver)
    seconds = time.perf_counter() - start
    mean = sum(steps) / len(steps)
    return {
        "status": "ok",
        "seconds": round(seconds, 2),
        "certified": cert.valid,
        "support": f"auto->{cert.support}",
        "average": repr(float(cert.average)),
        "mean_steps": repr(float(mean)),
        "relative_loss": f"{1 - float(cert.average) / mean:.2e}",
    }


def main(out_dir=None, argv=None) -> None:
    """Run the cases; ``benchmarks/run.py`` calls ``main(out_dir)``."""
    args = parse_args(argparse.ArgumentParser(), "bench_search", ROOT, out_dir, argv, case_nargs=3)
    if args.case:
        task, t, solver = args.case
        print(json.dumps(case(task, int(t), solver)))
        return
    info = versions()
    with RowWriter(args.out, FIELDS) as out:
        for t in (15, 31, 63, 127):
            ours = {"task": "certify", "t": t, "solver": "auto", **info}
            ours.update(run_case(__file__, ["certify", t, "auto"], args.limit))
            peer = {"task": "certify", "t": t, "solver": "clarabel", **info}
            peer.update(run_case(__file__, ["certify", t, "clarabel"], args.limit))
            if peer["status"] == "timeout":
                peer["seconds"] = args.limit
            if ours.get("status") == "ok":
                ours["peer_seconds"] = peer.get("seconds")
                if peer.get("seconds"):
                    prefix = ">=" if peer["status"] == "timeout" else ""
                    ours["ratio_peer_over_pepstep"] = f"{prefix}{peer['seconds'] / ours['seconds']:.1f}"
            out.write(ours)
            out.write(peer)
        from pepstep.search import SEARCH_SUPPORT

        row = {"task": "search", "t": 15, "solver": "auto", "support": SEARCH_SUPPORT, **info}
        row.update(run_case(__file__, ["search", 15, "auto"], args.limit))
        out.write(row)


if __name__ == "__main__":
    main()
