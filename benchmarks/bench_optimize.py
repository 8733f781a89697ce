"""Schedule optimization: time, PEP solves and value against the BnB-PEP vectors.

``main(out_dir)`` times :func:`pepstep.optimize.optimize_schedule` for N = 5, 10, 25 from the
neutral start only (all steps 1.5; trust region, two seeded perturbed restarts) and writes
``bench_optimize.csv``: seconds, PEP solves, the value found, the best literature value (the
BnB-PEP vector of ``problems/patterns/bnbpep_n{N}.json`` evaluated by pepstep's own full
PEP), their relative difference, the best constant step's value, and for comparison the
composed schedule (:func:`pepstep.optimize.composed_schedule`, closed form) evaluated by the
same PEP.

Two more entry points write the saved schedules (``problems/patterns/optimized_n*.json``):

- ``python benchmarks/bench_optimize.py --n50``: the N = 50 optimization (:data:`N50_OPTIONS`),
  its JSON and ``results/optimize_n50.png``;
- ``python benchmarks/bench_optimize.py --patterns``: N = 1..10 and 25 (default multistart,
  which includes the composed start).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cases import write_csv  # noqa: E402

from pepstep import Problem, Schedule, worst_case  # noqa: E402
from pepstep.optimize import composed_schedule, optimize_schedule, pattern_json, plot_schedule  # noqa: E402

SIZES = (5, 10, 25)
#: Perturbed restarts of the neutral start (the default of optimize_schedule).
RESTARTS = 2
PATTERNS = ROOT / "problems" / "patterns"
#: The N = 50 run: the composed start and the silver start, each polished by the trust
#: region from a small radius (a wide first step fails or is rejected at N = 50, and each
#: rejection costs a linearized SDP of about 15 s), with the same iteration budget.
N50_OPTIONS = {
    "kinds": ("composed", "silver"),
    "starts": 2,
    "restarts": 0,
    "max_iter": 12,
    "radius": 0.01,
    "seed": 0,
}
SOURCE = "pepstep.optimize.optimize_schedule({n}, {options}) (convex, fgap, init dist, L = R = 1)"


def bnb_value(n: int) -> float:
    """The BnB-PEP vector of length ``n`` evaluated by pepstep's full PEP (L = R = 1)."""
    steps = json.loads((PATTERNS / f"bnbpep_n{n}.json").read_text())["steps"]
    return worst_case(Problem(Schedule(tuple(steps))), method="full").value


def save_pattern(result, options: dict) -> Path:
    n = result.num_steps
    shown = ", ".join(f"{k}={v!r}" for k, v in options.items())
    path = PATTERNS / f"optimized_n{n}.json"
    path.write_text(json.dumps(pattern_json(result, SOURCE.format(n=n, options=shown)), indent=1) + "\n")
    return path


def optimize_n50(results_dir: Path = ROOT / "results") -> None:
    result = optimize_schedule(50, progress=True, **N50_OPTIONS)
    bnb = bnb_value(50)
    print(
        f"N=50: {result.value:.10g} vs BnB-PEP {bnb:.10g} ({result.value / bnb - 1:+.3%}), "
        f"start {result.starts[result.winning_start].kind}, {result.seconds:.0f} s, "
        f"{result.pep_solves} PEP solves, max step {max(result.steps):.4g}",
        flush=True,
    )
    for s in result.starts:
        print(f"   start {s.kind}: {s.value:.10g} ({s.pep_solves} solves, {s.message})", flush=True)
    print("  ", save_pattern(result, N50_OPTIONS), flush=True)
    plot_schedule(result, results_dir / "optimize_n50.png", reference=("BnB-PEP", bnb))


def save_patterns() -> None:
    known: dict = {}
    for n in (*range(1, 11), 25):
        options = (
            {"starts": 6, "restarts": 1, "seed": 0}
            if n <= 10
            else {"kinds": ("composed",), "starts": 1, "restarts": 0, "max_iter": 12, "radius": 0.01}
        )
        result = optimize_schedule(n, known=known, **options)
        print(f"N={n}: {result.value:.10g} ({result.starts[result.winning_start].kind})", flush=True)
        save_pattern(result, options)


def main(out_dir: Path) -> None:
    rows = []
    for n in SIZES:
        result = optimize_schedule(n, kinds=("neutral",), starts=1, restarts=RESTARTS, seed=0)
        best = bnb_value(n)
        composed = worst_case(Problem(Schedule(composed_schedule(n)[0])), method="full").value
        row = {
            "N": n,
            "seconds": round(result.seconds, 1),
            "pep_solves": result.pep_solves,
            "value": f"{result.value:.10g}",
            "literature_value": f"{best:.10g}",
            "relative_difference": f"{result.value / best - 1:+.3e}",
            "best_constant_value": f"{result.best_constant_value:.10g}",
            "composed_value": f"{composed:.10g}",
            "restarts": RESTARTS,
            "status": result.status.value,
        }
        rows.append(row)
        print("  ", row, flush=True)
        write_csv(out_dir / "bench_optimize.csv", rows)


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--n50" in args:
        optimize_n50()
    elif "--patterns" in args:
        save_patterns()
    else:
        main(Path(args[0] if args else "results"))
