"""Shared by the benchmarks that run each case in its own subprocess under a time limit."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
import sys

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


def write_csv(path, rows: list) -> None:
    """Write ``rows`` (dicts with the same keys) to ``path`` with a header from the first row."""
    import csv

    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
