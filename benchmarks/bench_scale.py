"""Constraint generation at large N: time, rounds, pairs, accuracy and peak memory per solver.

Writes ``results/bench_scale.csv``, one row per (solver, schedule, N): end-to-end seconds,
rounds, final working-set size (of ``(N+2)(N+1)``), the largest relative violation of the
full PEP at the answer, how exactness was decided (``closed_by``: feasibility of that answer,
or the dual bound meeting an explicit function's value), the relative error against the closed form (silver:
``1/(4 rho^k - 2)``; constant 1.5: ``(1/2) max(1/(2Nh+1), (1-h)^(2N))``), and the peak
resident memory of the process. Every case runs in its own subprocess (so ``ru_maxrss``
is that case's peak) under a wall-clock limit; a case over the limit is recorded as
``timeout``. BLAS runs single-threaded (``OPENBLAS_NUM_THREADS=1``): on a shared 2-core
machine the threaded BLAS was measured 2.5x (idle) to 20x (shared) slower on the Schur route.

Schedules: ``silver``, ``constant`` (1.5) and ``composed`` (OBS-F, the best known f-gap schedule,
exact value ``1 / (2 (2 S_N + 1))``; its steps reach 105 at N = 100; not in the default run:
``--schedules composed --out results/bench_scale_composed.csv``).

Solvers: ``auto``, ``schur``, ``clarabel``, ... (constraint generation, see
:mod:`pepstep.generation`), ``full-scs``, ``full-clarabel`` (the dense PEP, all pairs,
through :func:`pepstep.worst_case`) and ``pepit`` (PEPit with Clarabel, the speed peer; run
up to ``PEPIT_MAX_N`` steps only: its cost grows like N^6, 453 s at N = 80 here).

Usage: ``python benchmarks/bench_scale.py [--sizes 63 127 255 511 1023]
[--solvers auto schur full-scs] [--limit 900]``.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cases import RowWriter, parse_args, run_case, versions  # noqa: E402

RHO = 1.0 + math.sqrt(2.0)
PEPIT_MAX_N = 63
FIELDS = [
    "solver",
    "schedule",
    "N",
    "status",
    "seconds",
    "rounds",
    "pairs_used",
    "total_pairs",
    "max_violation",
    "closed_by",
    "value",
    "exact_value",
    "rel_error",
    "peak_rss_mb",
    "round_seconds",
    "round_solvers",
    "cvxpy",
    "clarabel",
    "cvxopt",
    "python",
]


def _schedule(schedule: str, n: int):
    from pepstep import Schedule, constant, silver

    if schedule == "composed":
        from pepstep.optimize import composed_schedule

        return Schedule(tuple(composed_schedule(n)[0]))
    return silver(n) if schedule == "silver" else constant(1.5, n)


def _exact(schedule: str, n: int) -> float:
    if schedule == "silver":
        return 1.0 / (4 * RHO ** math.log2(n + 1) - 2)
    if schedule == "composed":  # OBS-F, 1 / (2 (2 S_N + 1)) (Grimmer, Shu & Wang 2024)
        return 1.0 / (2.0 * (2.0 * sum(_schedule(schedule, n).steps) + 1.0))
    return 0.5 * max(1.0 / (2 * n * 1.5 + 1), 0.5 ** (2 * n))


def case(solver: str, schedule: str, n: int) -> dict:
    """One case in this process; prints a JSON line."""
    from pepstep import Problem
    from pepstep.generation import worst_case_generated

    sched = _schedule(schedule, n)
    exact = _exact(schedule, n)
    start = time.perf_counter()
    if solver == "pepit":
        from tests.pepit_oracle import pepit_worst_case

        value = pepit_worst_case(list(sched.steps), solver="CLARABEL")
        seconds = time.perf_counter() - start
        return {
            "rounds": 1,
            "pairs_used": (n + 2) * (n + 1),
            "total_pairs": (n + 2) * (n + 1),
            "status": "optimal",
            "seconds": round(seconds, 2),
            "value": repr(float(value)),
            "exact_value": repr(exact),
            "rel_error": f"{abs(value - exact) / exact:.2e}",
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    if solver.startswith("full-"):  # the dense PEP (all pairs) as the baseline
        from pepstep import worst_case

        wc = worst_case(Problem(sched), solver.removeprefix("full-"), throw=False, method="full")
        row = {"rounds": 1, "pairs_used": wc.pairs_used, "total_pairs": wc.pairs_used, "max_violation": "0"}
    else:
        res = worst_case_generated(Problem(sched), solver, throw=False)
        wc = res.worst_case
        row = {
            "rounds": res.info.rounds,
            "pairs_used": res.info.pairs_used,
            "total_pairs": res.info.total_pairs,
            "max_violation": f"{res.info.max_violation:.2e}",
            "closed_by": res.info.closed_by,
            "round_seconds": " ".join(f"{s:.2f}" for s in res.info.round_seconds),
            "round_solvers": " ".join(res.info.round_solvers),
        }
    seconds = time.perf_counter() - start
    row.update(
        status=wc.status.value,
        seconds=round(seconds, 2),
        value=repr(float(wc.value)),
        exact_value=repr(exact),
        rel_error=f"{abs(wc.value - exact) / exact:.2e}",
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )
    return row


def main(out_dir=None, argv=None) -> None:
    """Run the cases; ``benchmarks/run.py`` calls ``main(out_dir)`` with the default sizes."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[63, 127, 255, 511, 1023])
    ap.add_argument("--solvers", nargs="+", default=["auto", "pepit"])
    ap.add_argument("--schedules", nargs="+", default=["silver", "constant"])
    args = parse_args(ap, "bench_scale", ROOT, out_dir, argv, case_nargs=3)
    if args.case:
        solver, schedule, n = args.case
        print(json.dumps(case(solver, schedule, int(n))))
        return
    info = versions()
    with RowWriter(args.out, FIELDS) as out:
        for solver in args.solvers:
            for schedule in args.schedules:
                timed_out = False
                for n in sorted(args.sizes):
                    row = {"solver": solver, "schedule": schedule, "N": n, **info}
                    if timed_out or (solver == "pepit" and n > PEPIT_MAX_N):  # cannot be faster
                        row["status"] = "skipped"
                    else:
                        row.update(run_case(__file__, [solver, schedule, n], args.limit))
                        if row["status"] == "timeout":
                            row["seconds"] = args.limit
                            timed_out = True
                    out.write(row)


if __name__ == "__main__":
    main()
