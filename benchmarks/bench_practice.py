"""Hyperoptimizer stacks on ``mlp:digits``: 2,000 iterations must take under a minute.

Each case runs a stack for 2,000 iterations on the MLP (full batch and mini-batches of 128);
the peer, measured in the same run, is plain gradient descent (``stack:sgd``: one gradient and
one loss per iteration, the floor of every stack), so ``ratio_to_sgd`` is the cost of the
hyperoptimizer levels. Writes ``results/bench_practice.csv``: the case, iterations, seconds,
milliseconds per iteration, the final loss, the ratio, and whether it met the 60 s limit.

Usage: ``python benchmarks/bench_practice.py [--out results]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cases import RowWriter  # noqa: E402

FIELDS = ["problem", "stack", "iters", "seconds", "ms_per_iter", "final_loss", "ratio_to_sgd", "under_60s"]
ITERS = 2000
LIMIT_SECONDS = 60.0
STACKS = [
    "stack:sgd(0.1)",
    "stack:sgd(0.1)/sgd(1e-3)",
    "stack:sgd(0.1)/sgd(1e-3)/sgd(1e-3)/sgd(1e-3)",
    "stack:adam(1e-3)/sgd(1e-5)",
    "stack:adam(1e-3)/adam(1e-3)/adam(1e-3)/adam(1e-3)",
    "stack:rmsprop(1e-3)/adagrad(1e-3)",
]
PROBLEMS = ["mlp:digits", "mlp:digits@batch=128,seed=0"]


def main(out_dir=None, argv=None) -> None:
    from pepstep.practice import load_objective, run_stack_on
    from pepstep.stacks import parse_stack

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "results"))
    args = ap.parse_args(argv or [])
    out = Path(out_dir or args.out) / "bench_practice.csv"
    with RowWriter(out, FIELDS) as w:
        for spec in PROBLEMS:
            problem = load_objective(spec)
            run_stack_on(problem, parse_stack(STACKS[0]), 50)  # warm-up: imports, first BLAS calls
            base = None
            for text in STACKS:
                t = run_stack_on(problem, parse_stack(text), ITERS)
                base = base or t.seconds
                w.write(
                    {
                        "problem": spec,
                        "stack": text,
                        "iters": ITERS,
                        "seconds": f"{t.seconds:.2f}",
                        "ms_per_iter": f"{1e3 * t.seconds / ITERS:.3f}",
                        "final_loss": f"{t.final_gap:.6g}",
                        "ratio_to_sgd": f"{t.seconds / base:.2f}",
                        "under_60s": t.seconds < LIMIT_SECONDS,
                    }
                )


if __name__ == "__main__":
    main(argv=sys.argv[1:])
