"""pepstep vs PEPit on the same GD PEP (convex, fgap, h = 1, all pairs), same solver, one run.

pepstep's full PEP is forced (``method="full"``: all (N+2)(N+1) pairs, Clarabel), as PEPit
builds it; pepstep's default (``method="auto"``: the full PEP or constraint generation with the
step-horizon working set, the Schur route and the lower-bound stop, as the cost model of
:mod:`pepstep.compute` predicts cheaper) is reported beside it, with its own ratio against PEPit.
Both are timed in one process after the imports (whole-process times: ``bench_method.py``).

Writes ``bench_rate.csv``: end-to-end seconds of each (model building included), their ratio,
and each value's relative error against the exact 1/(4N + 2). The cvxpy version is recorded
because PEPit's model building depends strongly on it (DESIGN.md section 6).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cases import write_csv  # noqa: E402
from tests.pepit_oracle import pepit_worst_case  # noqa: E402

from pepstep import Problem, constant, worst_case  # noqa: E402

SIZES = (10, 25, 40, 50)
REPEATS = 2


def _best(fn, repeats):
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def main(out_dir: Path) -> None:
    rows = []
    for n in SIZES:
        exact = 1.0 / (4 * n + 2)
        t_pep, v_pep = _best(
            lambda n=n: worst_case(Problem(constant(1.0, n)), "clarabel", method="full").value, REPEATS
        )
        t_gen, v_gen = _best(lambda n=n: worst_case(Problem(constant(1.0, n))).value, REPEATS)
        t_pit, v_pit = _best(
            lambda n=n: pepit_worst_case([1.0] * n, solver="CLARABEL"), 1 if n >= 50 else REPEATS
        )
        row = {
            "N": n,
            "pepstep_seconds": round(t_pep, 4),
            "pepit_seconds": round(t_pit, 4),
            "speedup_pepstep_vs_pepit": round(t_pit / t_pep, 2),
            "pepstep_relerr": f"{abs(v_pep - exact) / exact:.2e}",
            "pepstep_default_seconds": round(t_gen, 4),
            "speedup_default_vs_pepit": round(t_pit / t_gen, 2),
            "pepstep_default_relerr": f"{abs(v_gen - exact) / exact:.2e}",
            "pepit_relerr": f"{abs(v_pit - exact) / exact:.2e}",
            "cvxpy": importlib.metadata.version("cvxpy"),
            "clarabel": importlib.metadata.version("clarabel"),
            "pepit": importlib.metadata.version("PEPit"),
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
        }
        rows.append(row)
        print("  ", row, flush=True)
    write_csv(out_dir / "bench_rate.csv", rows)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "results"))
