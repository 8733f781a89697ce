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
#: Lengths also started from pepstep's own level-tied search (seconds at t = 7 and 15).
SEARCH_STARTS = (7, 15)


def main(out_dir: Path, lengths=LENGTHS) -> None:
    from pepstep.search import search_patterns

    rows, patterns = [], {}
    for t in lengths:
        path = ROOT / "problems" / "patterns" / f"grimmer2023_t{t}.json"
        starts = {"Grimmer": tuple(json.loads(path.read_text())["steps"])}
        if t in SEARCH_STARTS:
            starts["pepstep search"] = search_patterns(t, certify=False).steps
        for label, start in starts.items():
            _compare(t, label, start, rows, patterns)
    keys = list(rows[1])
    write_csv(Path(out_dir) / "asymmetric_patterns.csv", [{k: r.get(k, "") for k in keys} for r in rows])
    (Path(out_dir) / "asymmetric_patterns.json").write_text(json.dumps(patterns, indent=1) + "\n")


def _row(t, label, tie, h, cert, counter, seconds) -> dict:
    return {
        "t": t,
        "start": label,
        "tie": tie,
        "average": round(sum(h) / t, 6) if h else "",
        "certified": ""
        if cert == ""
        else ((cert is not None and bool(cert.valid)) if h else "not straightforward"),
        "asymmetry": round(max(abs(h[i] - h[t - 1 - i]) for i in range(t)), 4) if h else "",
        "sdps": counter.n if counter else "",
        "seconds": round(seconds, 1) if seconds is not None else "",
        **versions(),
    }


def _compare(t, label, start, rows, patterns) -> None:
    """The start, its refinement as a palindrome and free, and the free result's mirror average."""
    from pepstep.errors import InputError
    from pepstep.search import _Counter, certified_backoff, refine_pattern

    rows.append(_row(t, label, "start (level-tied palindrome)", start, "", None, None))
    for tie, source in (("palindrome", start), ("none", start), ("mirror", None)):
        if tie == "mirror":  # does the free result need its asymmetry?
            free = patterns[f"t{t} {label} none"]
            source = tuple((free[i] + free[t - 1 - i]) / 2 for i in range(t))
        counter, begin = _Counter(), time.perf_counter()
        try:
            h = refine_pattern(
                source, "palindrome" if tie == "mirror" else tie, passes=PASSES.get(t, 1), counter=counter
            )
        except InputError:
            h = None  # the mirror average is not straightforward
        seconds = time.perf_counter() - begin
        cert = None
        if h:
            h, cert = certified_backoff(h)  # the float result, shortened until it certifies exactly
        name = "palindrome from the free result's mirror average" if tie == "mirror" else tie
        rows.append(_row(t, label, name, h, cert, counter, seconds))
        if h:
            patterns[f"t{t} {label} {tie}"] = list(h)
        print("  ", rows[-1], flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(Path(args[0] if args else "results"), tuple(int(a) for a in args[1:]) or LENGTHS)
