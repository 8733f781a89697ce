"""`make bench`: run every benchmarks/bench_*.py module's ``main(out_dir)`` in one process run.

Each benchmark writes its own CSV into ``out_dir`` (``results/`` by default) with the peer it is
compared against measured in the same run, so that figures are ratios, not absolute seconds.
Usage: ``python benchmarks/run.py [--out results] [--only rate,scale]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="results")
    parser.add_argument("--only", default="", help="comma-separated benchmark names (e.g. rate,scale)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if only and name not in only:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        start = time.perf_counter()
        print(f"== benchmark {name}", flush=True)
        module.main(out)
        print(f"== {name} done in {time.perf_counter() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
