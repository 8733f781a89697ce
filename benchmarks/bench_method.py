"""Whole-process pepstep against PEPit, and the method dispatch against its two routes.

Writes two CSV files into ``out_dir``:

``bench_process.csv``
    ``pepstep rate --schedule constant:1:N --json --quiet`` against a Python process that
    builds and solves the same PEP with PEPit (its Clarabel wrapper through cvxpy), each a
    fresh process timed from launch to exit (imports included: at small N a run is
    import-bound), best of ``REPEATS`` (5), both from compiled bytecode; the ratio PEPit / pepstep
    and both values' relative errors against the closed form 1 / (4N + 2).

``bench_method.csv``
    At N = 31 and 63, for constant h = 1, silver, perturbed silver (each step times a seeded
    factor in [0.9, 1.1], 4 decimals) and uniformly random steps in [0.5, 2.5] (seed 0, 4
    decimals): the seconds of ``method="full"``, ``"generate"`` and ``"auto"`` in one process
    (after a warm-up, so the routes' imports are not counted), and auto's ratio to the
    faster of the other two. The target is at most 1.2.

``bench_method_n127.csv`` (``--n127``, not in ``make bench``: the dense solves take minutes)
    Perturbed silver and random steps at N = 127: ``auto`` under a time limit against the dense
    full PEP, seconds, statuses, values and their relative difference (:func:`n127_rows`).

Usage: ``python benchmarks/bench_method.py [out_dir] [--n127]`` or through ``benchmarks/run.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cases import SINGLE_THREAD_ENV, versions, write_csv  # noqa: E402

PROCESS_SIZES = (10, 25, 40, 50)
METHOD_SIZES = (31, 63)
REPEATS = 5

PEPIT_SCRIPT = """
import sys
from tests.pepit_oracle import pepit_worst_case
print(pepit_worst_case([1.0] * int(sys.argv[1]), solver="CLARABEL"))
"""


def _process_seconds(cmd: list[str]) -> tuple[float, str]:
    best, out = float("inf"), ""
    for _ in range(REPEATS):
        start = time.perf_counter()
        proc = subprocess.run(
            cmd, capture_output=True, text=True, cwd=ROOT, env=SINGLE_THREAD_ENV, check=True
        )
        best = min(best, time.perf_counter() - start)
        out = proc.stdout
    return best, out


def process_rows() -> list[dict]:
    pepstep = str(Path(sys.executable).with_name("pepstep"))
    # Both sides start from compiled bytecode, as an installed package does (PEPit's is compiled
    # at install; pepstep's source tree and the PEPit script's helper may not be, e.g. with
    # PYTHONDONTWRITEBYTECODE set, and compiling them would be timed in every run).
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "pepstep"), str(ROOT / "tests")],
        check=True,
        capture_output=True,
    )
    rows = []
    for n in PROCESS_SIZES:
        exact = 1.0 / (4 * n + 2)
        t_ours, out = _process_seconds(
            [pepstep, "rate", "--schedule", f"constant:1:{n}", "--json", "--quiet"]
        )
        record = json.loads(out)
        t_pit, out_pit = _process_seconds([sys.executable, "-c", PEPIT_SCRIPT, str(n)])
        v_pit = float(out_pit.split()[-1])
        row = {
            "N": n,
            "pepstep_process_seconds": round(t_ours, 3),
            "pepit_process_seconds": round(t_pit, 3),
            "speedup": round(t_pit / t_ours, 2),
            "pepstep_relerr": f"{abs(record['value'] - exact) / exact:.1e}",
            "pepit_relerr": f"{abs(v_pit - exact) / exact:.1e}",
            "pepstep_method": "generate" if record["generation"] else "full",
            **versions(),
        }
        rows.append(row)
        print("  ", row, flush=True)
    return rows


def schedules(n: int) -> dict:
    from pepstep import Schedule, constant, silver

    rng = np.random.default_rng(0)
    perturbed = np.round(np.asarray(silver(n).steps) * rng.uniform(0.9, 1.1, n), 4)
    uniform = np.round(np.random.default_rng(0).uniform(0.5, 2.5, n), 4)
    return {
        "constant": constant(1.0, n),
        "silver": silver(n),
        "perturbed silver": Schedule(perturbed),
        "random [0.5, 2.5]": Schedule(uniform),
    }


def method_rows() -> list[dict]:
    from threadpoolctl import threadpool_limits

    from pepstep import Problem, worst_case

    rows = []
    worst_case(Problem(schedules(20)["silver"]), method="generate")  # the routes' imports
    for n in METHOD_SIZES:
        for name, schedule in schedules(n).items():
            problem = Problem(schedule)
            seconds, values = {}, {}
            for method in ("full", "generate", "auto"):
                with threadpool_limits(limits=1):
                    start = time.perf_counter()
                    wc = worst_case(problem, method=method, throw=False)
                    seconds[method] = time.perf_counter() - start
                values[method] = wc.value if wc.ok else float("nan")
            best = min(seconds["full"], seconds["generate"])
            row = {
                "N": n,
                "schedule": name,
                "full_seconds": round(seconds["full"], 3),
                "generate_seconds": round(seconds["generate"], 3),
                "auto_seconds": round(seconds["auto"], 3),
                "auto_over_faster": round(seconds["auto"] / best, 2),
                "value_full": f"{values['full']:.10g}",
                "auto_relerr_vs_full": f"{abs(values['auto'] - values['full']) / values['full']:.1e}",
            }
            rows.append(row)
            print("  ", row, flush=True)
    return rows


#: ``--n127``: the high-rank cases of N = 127, auto under this time limit (seconds) against
#: the dense solve (all 16,512 pairs by Clarabel, no limit).
N127_LIMIT = 300.0


def n127_rows() -> list[dict]:
    """``bench_method_n127.csv``: perturbed silver and random steps at N = 127, ``auto`` under
    :data:`N127_LIMIT` against ``method="full"``, in one process (BLAS single-threaded; Clarabel's
    own threads as it sets them), the values compared where both are exact."""
    from threadpoolctl import threadpool_limits

    from pepstep import Problem, worst_case

    rows = []
    worst_case(Problem(schedules(20)["silver"]), method="generate")  # the routes' imports
    for name in ("random [0.5, 2.5]", "perturbed silver"):
        problem = Problem(schedules(127)[name])
        out = {}
        for method, limit in (("auto", N127_LIMIT), ("full", None)):
            with threadpool_limits(limits=1):
                start = time.perf_counter()
                wc = worst_case(problem, method=method, throw=False, time_limit=limit)
                out[method] = (time.perf_counter() - start, wc)
        (t_auto, auto), (t_full, full) = out["auto"], out["full"]
        row = {
            "N": 127,
            "schedule": name,
            "auto_seconds": round(t_auto, 1),
            "auto_status": auto.status.value,
            "auto_value": f"{auto.value:.10g}" if auto.ok else "",
            "auto_bounds": (f"[{auto.bounds[0]:.6g}, {auto.bounds[1]:.6g}]" if auto.bounds else ""),
            "full_seconds": round(t_full, 1),
            "full_status": full.status.value,
            "full_value": f"{full.value:.10g}" if full.ok else "",
            "auto_relerr_vs_full": (
                f"{abs(auto.value - full.value) / full.value:.1e}" if auto.ok and full.ok else ""
            ),
            "full_over_auto": round(t_full / t_auto, 2),
        }
        rows.append(row)
        print("  ", row, flush=True)
    return rows


def main(out_dir: Path) -> None:
    out_dir = Path(out_dir)
    write_csv(out_dir / "bench_process.csv", process_rows())
    write_csv(out_dir / "bench_method.csv", method_rows())


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    out = Path(args[0] if args else "results")
    if "--n127" in sys.argv:
        write_csv(out / "bench_method_n127.csv", n127_rows())
    else:
        main(out)
