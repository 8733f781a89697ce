"""``pepstep figures``: the summary figures of the reproductions (schedule shapes, worst case vs N)."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from ..plots import plot_schedules, plot_worst_case_vs_n
from ..reproduce import summary_series
from ..schedules import load_pattern, silver
from .common import add_solver_argument


def register(sub) -> None:
    p = sub.add_parser("figures", help="summary figures: schedule shapes and worst case versus N")
    p.add_argument("--out", default="results", help="output folder (default results/)")
    p.add_argument("--patterns", default="problems/patterns", help="folder of published step patterns")
    p.add_argument(
        "--max-steps", type=int, default=63, help="largest N in the worst-case figure (default 63)"
    )
    add_solver_argument(p)
    p.set_defaults(func=run)


def run(args) -> int:
    out, patterns = Path(args.out), Path(args.patterns)
    if not out.is_dir():
        raise InputError(f"The output folder {str(out)!r} does not exist.")
    if args.max_steps < 1:
        raise InputError(f"--max-steps must be >= 1. Got {args.max_steps}.")
    shapes = {"silver, n = 63 (Altschuler & Parrilo)": silver(63).steps}
    for name, label in (
        ("grimmer2023_t63.json", "Grimmer long-step pattern, t = 63"),
        ("bnbpep_n50.json", "BnB-PEP optimized, N = 50 (Das Gupta, Van Parys & Ryu)"),
    ):
        if (patterns / name).exists():
            shapes[label] = load_pattern(patterns / name).steps
    optimized = out / "optimize_n50.json"
    if optimized.exists():
        try:
            shapes["pepstep optimize, N = 50"] = json.loads(optimized.read_text())["steps"]
        except (json.JSONDecodeError, KeyError, TypeError):
            pass
    print(plot_schedules(shapes, out / "schedule_shapes.png", "Step-size schedules (log scale)"))
    series = summary_series(args.solver, max_steps=args.max_steps, patterns_dir=patterns)
    print(
        plot_worst_case_vs_n(
            series,
            out / "worst_case_vs_n.png",
            "Exact worst case of f(x_N) - f* (L-smooth convex, |x0 - x*| <= R)",
        )
    )
    return 0
