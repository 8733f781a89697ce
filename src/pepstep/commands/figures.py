"""``pepstep figures``: the summary figures of the reproductions (schedule shapes, worst case vs N)."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from ..plots import plot_schedules, plot_worst_case_vs_n
from ..reproduce import check_manifest, record_outputs, summary_points, summary_series, write_index
from ..schedules import load_pattern, silver
from .common import add_quiet_argument, add_solver_argument, progress_bar

FIGURES = ("schedule_shapes.png", "worst_case_vs_n.png")


def register(sub) -> None:
    p = sub.add_parser("figures", help="summary figures: schedule shapes and worst case versus N")
    p.add_argument("--out", default="results", help="output folder (default results/)")
    p.add_argument("--patterns", default="problems/patterns", help="folder of published step patterns")
    p.add_argument(
        "--max-steps", type=int, default=63, help="largest N in the worst-case figure (default 63)"
    )
    add_quiet_argument(p)
    add_solver_argument(p)
    p.set_defaults(func=run)


def run(args) -> int:
    out, patterns = Path(args.out), Path(args.patterns)
    if not out.is_dir():
        raise InputError(f"The output folder {str(out)!r} does not exist.")
    if args.max_steps < 1:
        raise InputError(f"--max-steps must be >= 1. Got {args.max_steps}.")
    check_manifest(out, [*FIGURES, "README.md"])  # before any computation
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
    written = [plot_schedules(shapes, out / FIGURES[0], "Step-size schedules h_k [1/L] (log axis from 0.5)")]
    record_outputs(out, written)
    print(written[0])
    total = len(summary_points(args.max_steps, patterns))
    with progress_bar(args, "worst case vs N", total=total, unit="PEP", heartbeat=True) as bar:
        series = summary_series(
            args.solver, max_steps=args.max_steps, patterns_dir=patterns, progress=bar.update
        )
    path = plot_worst_case_vs_n(
        series,
        out / FIGURES[1],
        "Exact worst case of f(x_N) - f* over L-smooth convex f, |x_0 - x*| <= R  [L R^2]",
    )
    record_outputs(out, [path])
    print(path)
    print(write_index(out))
    return 0
