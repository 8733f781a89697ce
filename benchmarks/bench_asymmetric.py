"""Do the best straightforward patterns have to be palindromes? (Grimmer's criterion, t = 7, 15, 31.)

From each published pattern (Grimmer 2024, Table 1: palindromes), the same coordinate moves
(:func:`pepstep.search.refine_pattern`) run twice: with mirror positions tied (the pattern stays
a palindrome, positions of one level may differ) and with every position free (moves may break
the symmetry). Each result is then certified exactly (:func:`pepstep.cyclic.certify_pattern`,
accepted by the kernel) and its average step reported with its largest asymmetry
``max |h_i - h_{t-1-i}|``. Writes ``asymmetric_patterns.csv`` and ``asymmetric_patterns.json``
(the patterns) into ``out_dir``.

Usage: ``python benchmarks/bench_asymmetric.py [out_dir] [t ...]``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cases import versions, write_csv  # noqa: E402

LENGTHS = (7, 15, 31)
PASSES = {7: 2, 15: 2, 31: 1}


def main(out_dir: Path, lengths=LENGTHS) -> None:
    from pepstep.cyclic import certify_pattern
    from pepstep.errors import InputError
    from pepstep.search import _Counter, refine_pattern

    rows, patterns = [], {}
    for t in lengths:
        start_steps = tuple(
            json.loads((ROOT / "problems" / "patterns" / f"grimmer2023_t{t}.json").read_text())["steps"]
        )
        rows.append(
            {
                "t": t,
                "tie": "published",
                "average": round(sum(start_steps) / t, 6),
                "certified": "",
                "asymmetry": 0.0,
            }
        )
        for tie in ("palindrome", "none"):
            counter = _Counter()
            begin = time.perf_counter()
            h = refine_pattern(start_steps, tie, passes=PASSES.get(t, 1), counter=counter)
            seconds = time.perf_counter() - begin
            cert = certify_pattern(h)
            asym = max(abs(h[i] - h[t - 1 - i]) for i in range(t))
            row = {
                "t": t,
                "tie": tie,
                "average": round(sum(h) / t, 6),
                "certified": bool(cert.valid),
                "certified_average": round(float(cert.average), 6) if cert.valid else "",
                "asymmetry": round(asym, 4),
                "sdps": counter.n,
                "seconds": round(seconds, 1),
                **versions(),
            }
            rows.append(row)
            patterns[f"t{t}_{tie}"] = list(h)
            print("  ", row, flush=True)
            if tie == "none":
                # does the free result need its asymmetry? its mirror average, refined as a palindrome
                sym = tuple((h[i] + h[t - 1 - i]) / 2 for i in range(t))
                counter = _Counter()
                begin = time.perf_counter()
                try:
                    hs = refine_pattern(sym, "palindrome", passes=PASSES.get(t, 1), counter=counter)
                except InputError:
                    hs = None  # the mirror average is not straightforward
                row = {
                    "t": t,
                    "tie": "palindrome from the free result's mirror average",
                    "average": round(sum(hs) / t, 6) if hs else "",
                    "certified": bool(certify_pattern(hs).valid)
                    if hs
                    else "mirror average not straightforward",
                    "certified_average": "",
                    "asymmetry": 0.0,
                    "sdps": counter.n,
                    "seconds": round(time.perf_counter() - begin, 1),
                    **versions(),
                }
                rows.append(row)
                if hs:
                    patterns[f"t{t}_mirror"] = list(hs)
                print("  ", row, flush=True)
    keys = list(rows[1])
    write_csv(Path(out_dir) / "asymmetric_patterns.csv", [{k: r.get(k, "") for k in keys} for r in rows])
    (Path(out_dir) / "asymmetric_patterns.json").write_text(json.dumps(patterns, indent=1) + "\n")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(Path(args[0] if args else "results"), tuple(int(a) for a in args[1:]) or LENGTHS)
