"""Shared by the benchmarks that run each case in its own subprocess under a time limit."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time

#: Single-threaded BLAS: on this 2-core machine threaded BLAS was measured 2.5x slower on the
#: Schur route even when idle (constant 1.5, N = 127: 9.0 s against 3.6 s).
SINGLE_THREAD_ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")


def versions() -> dict:
    """Versions of the solvers and Python, one column each."""
    out = {}
    for name in ("cvxpy", "clarabel", "cvxopt", "python-flint"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "none"
    out["python"] = platform.python_version()
    return out


def run_case(script: str, case_args: list, limit: float) -> dict:
    """Run ``python script --case ARGS`` and parse its last stdout line (JSON).

    Returns ``{"status": "timeout"}`` past ``limit`` seconds and ``{"status": "error", ...}``
    when the case fails.
    """
    cmd = [sys.executable, script, "--case", *map(str, case_args)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=SINGLE_THREAD_ENV, timeout=limit)
    except subprocess.TimeoutExpired:
        return {"status": "timeout"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": "error", "error": tail[:200]}
    return json.loads(lines[-1])


def verify_in_process(path) -> tuple[bool, float]:
    """``(valid, seconds)`` of ``python -m pepstep.kernel path``: the verifier in a fresh process,
    launch to exit (whole-process seconds)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pepstep.kernel", str(path)], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    try:
        valid = bool(json.loads(done.stdout)["valid"])
    except (json.JSONDecodeError, KeyError, TypeError):
        valid = False
    return valid, seconds


def write_csv(path, rows: list) -> None:
    """Write ``rows`` (dicts with the same keys) to ``path`` with a header from the first row."""
    import csv

    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def parse_args(ap, name: str, root, out_dir=None, argv=None, case_nargs: int = 2):
    """Add the options every subprocess benchmark shares (``--limit``, ``--out``, the hidden
    ``--case``) to ``ap`` and parse; ``benchmarks/run.py`` passes ``out_dir`` and no argv."""
    from pathlib import Path

    ap.add_argument("--limit", type=float, default=900.0, help="seconds per case")
    ap.add_argument("--out", type=Path, default=Path(root) / "results" / f"{name}.csv")
    ap.add_argument("--case", nargs=case_nargs, help=argparse.SUPPRESS)
    args = ap.parse_args([] if out_dir is not None and argv is None else argv)
    if out_dir is not None:
        args.out = Path(out_dir) / f"{name}.csv"
    return args


class RowWriter:
    """A CSV written one row at a time (flushed, and echoed), so a killed run keeps its rows."""

    def __init__(self, path, fields):
        import csv

        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "w", newline="")
        self._writer = csv.DictWriter(self._fh, fieldnames=fields, extrasaction="ignore")
        self._writer.writeheader()

    def write(self, row: dict) -> None:
        self._writer.writerow(row)
        self._fh.flush()
        print(row, flush=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()
