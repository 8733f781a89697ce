"""Exact tight certificates: the certified rate equals the worst case, exactly.

For each case the claimed rate is the exact value of an explicit function of the class (a Huber
function or a quadratic, :func:`pepstep.certify.exact_lower_bound`), so a certificate of it proves
the worst case exactly. OBS-F's steps are irrational; rounded to three decimals their worst case
is no longer the Huber value (``pep_over_rate_minus_1``: the float PEP's value over it), so no
exact rate is claimed to be known there. Writes ``results/tight_certificates.csv``: the case, the exact rate,
whether :func:`pepstep.certify.certify` found a certificate of exactly that rate (``tight``), the
number of multipliers, the longest fraction in characters, seconds; the peer is the float PEP
solve of the same problem in the same run (``pep_seconds``). Also writes the certificate and the
proof of constant h = 1, N = 10 (``results/tight_h1_n10.json``, ``results/tight_h1_n10.md``).

Usage: ``python benchmarks/bench_tight.py [--out results/tight_certificates.csv]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cases import RowWriter  # noqa: E402

FIELDS = [
    "case",
    "N",
    "rate",
    "attained_by",
    "pep_over_rate_minus_1",
    "tight",
    "multipliers",
    "longest_fraction",
    "seconds",
    "pep_seconds",
]


def cases():
    from pepstep import FunctionClass, Problem, constant

    for n in range(1, 21):
        yield f"constant h=1 N={n}", Problem(constant("1", n))
    for n in range(1, 21):
        yield f"constant h=3/2 N={n}", Problem(constant("1.5", n))
    from fractions import Fraction

    from pepstep import Schedule
    from pepstep.optimize import composed_schedule

    for n in range(1, 11):  # OBS-F (composed) steps rounded to three decimals: rational steps
        steps = [Fraction(round(h, 3)).limit_denominator(1000) for h in composed_schedule(n)[0]]
        yield f"composed (OBS-F) to 1e-3, N={n}", Problem(Schedule.from_rationals(steps))
    for n in (1, 2, 5, 10, 20):
        yield (
            f"strongly convex mu/L=1/10, dist, h=1, N={n}",
            Problem(constant("1", n), FunctionClass("strongly-convex", mu=0.1), "dist", "dist"),
        )


def main(out_dir=None, argv=None) -> None:
    from pepstep import worst_case
    from pepstep.certify import certify, exact_lower_bound, proof_markdown
    from pepstep.errors import SolverError

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "tight_certificates.csv")
    args = ap.parse_args([] if out_dir is not None and argv is None else argv)
    if out_dir is not None:
        args.out = Path(out_dir) / "tight_certificates.csv"
    with RowWriter(args.out, FIELDS) as out:
        for label, problem in cases():
            rate, who = exact_lower_bound(problem)
            start = time.perf_counter()
            wc = worst_case(problem)
            pep_seconds = time.perf_counter() - start
            start = time.perf_counter()
            try:
                cert = certify(problem, rate=rate)
                tight = cert.rate == rate
            except SolverError:
                cert, tight = None, False
            row = {
                "case": label,
                "N": problem.num_steps,
                "rate": str(rate),
                "attained_by": who,
                "tight": tight,
                "pep_over_rate_minus_1": f"{wc.value / float(rate) - 1:.1e}",
            }
            row |= {"seconds": round(time.perf_counter() - start, 2), "pep_seconds": round(pep_seconds, 2)}
            if cert is not None:
                row |= {"multipliers": len(cert.multipliers)}
                row |= {"longest_fraction": max(len(str(v)) for v in cert.multipliers.values())}
            out.write(row)
            if label == "constant h=1 N=10" and cert is not None:
                (args.out.parent / "tight_h1_n10.json").write_text(cert.to_json())
                (args.out.parent / "tight_h1_n10.md").write_text(proof_markdown(cert))


if __name__ == "__main__":
    main()
