"""Long-step frontier: certified average, widest Delta, explicit-bound warm-up T_0 per pattern.

For Grimmer's published patterns (t = 2..127, ``problems/patterns/grimmer2023_t*.json``) the
certificate is built from scratch by :func:`pepstep.cyclic.certify_pattern` (seconds measured);
for pepstep's searched t = 127 pattern the committed certificate
(``results/search_t127_certificate.json``) is re-verified by the kernel; pepstep's searched
t = 255 pattern (``problems/patterns/search_t255.json``) is certified from scratch by
:func:`pepstep.search.certified_backoff` (the float pattern sits at the edge of the
straightforward set; the first uniform shortening that certifies is kept; the shortenings are
certified two at a time in a process pool; ``--reuse 255`` re-verifies the committed certificate
instead), its certificate is
written to ``results/search_t255_certificate.json`` and re-verified by the kernel in a fresh
process (``verify_seconds``, whole process). Each row: t, source,
certified average (exact, as a float), mean(h) (the peer: the straightforward limit), the widest
Delta, T_0 (the first cycle end from which T B(T) is within 1% of 1/avg,
:func:`pepstep.cyclic.warmup_cycles_T0`), T B(T) at 10^4 cycles against 1/avg, and seconds.
The search time of the searched pattern is the one measured by ``pepstep search`` (README).
Writes ``results/long_step_frontier.csv`` and ``results/long_step_frontier.png``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from fractions import Fraction as F
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _cases import RowWriter, verify_in_process  # noqa: E402

FIELDS = [
    "t",
    "source",
    "average",
    "mean_h",
    "delta",
    "T0",
    "TB_at_1e4_cycles",
    "one_over_avg",
    "seconds",
    "verify_seconds",
]
SEARCH_T127_MINUTES = 23  # pepstep search --length 127 from scratch (README, bench_search)
SEARCH_T255_MINUTES = 16  # the t = 255 level after t = 127 (README)
#: Searched patterns certified from scratch: (t, search minutes, the length the search went on from).
#: The searched t = 511 pattern (``problems/patterns/search_t511.json``) is not here: its rounded
#: multipliers do not certify (README, issue notes).
SEARCHED = ((255, SEARCH_T255_MINUTES, 127),)


def _verify_process(path: Path) -> float:
    """Seconds of the kernel in a fresh process (whole process); raises unless it is valid."""
    valid, seconds = verify_in_process(path)
    if not valid:
        raise RuntimeError(f"the kernel refused {path}")
    return seconds


def _committed(path: Path, label: str) -> tuple:
    """A row's ``(label, certificate, seconds, verify_seconds)`` from a committed certificate file:
    the kernel in this process (seconds), then in a fresh one (whole process)."""
    from pepstep import kernel
    from pepstep.cyclic import PatternCertificate

    start = time.perf_counter()
    verdict = kernel.verify_file(path)
    data = json.loads(path.read_text())
    lam = {(i, j): F(v) for i, j, v in data["lambda"]}
    gam = {(i, j): F(v) for i, j, v in data["gamma"]}
    steps = tuple(F(s) for s in data["steps"])
    cert = PatternCertificate(
        steps, F(data["delta"]), F(data["q"]), lam, gam, verdict.valid, F(data["average"]), "wide", 0.0
    )
    return label, cert, time.perf_counter() - start, _verify_process(path)


def main(out_dir=None, argv=None) -> None:
    from pepstep import kernel
    from pepstep.cyclic import certify_pattern, cycle_bound_estimate, warmup_cycles_T0

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "long_step_frontier.csv")
    ap.add_argument(
        "--reuse",
        type=int,
        nargs="*",
        default=[],
        metavar="T",
        help="re-verify the committed certificate of these searched lengths instead of certifying from scratch",
    )
    args = ap.parse_args([] if out_dir is not None and argv is None else argv)
    if out_dir is not None:
        args.out = Path(out_dir) / "long_step_frontier.csv"
    certs = []
    for t in (2, 3, 7, 15, 31, 63, 127):
        steps = json.loads((ROOT / "problems" / "patterns" / f"grimmer2023_t{t}.json").read_text())["steps"]
        start = time.perf_counter()
        cert = certify_pattern([F(str(s)) for s in steps])
        certs.append((f"Grimmer 2024, t = {t}", cert, time.perf_counter() - start, None))
    label = f"pepstep search, t = 127 (verify; search {SEARCH_T127_MINUTES} min)"
    certs.append(_committed(ROOT / "results" / "search_t127_certificate.json", label))
    from pepstep.search import certified_backoff, local_pool

    for t, minutes, after in SEARCHED:
        path = Path(args.out).parent / f"search_t{t}_certificate.json"
        if t in args.reuse:
            label = f"pepstep search, t = {t} (committed certificate, verify; search {minutes} min after t = {after})"
            certs.append(_committed(path, label))
            continue
        pattern = ROOT / "problems" / "patterns" / f"search_t{t}.json"
        steps = json.loads(pattern.read_text())["steps"]
        start = time.perf_counter()
        with local_pool(2) as pool:  # the shortenings of BACKOFF two at a time
            shortened, cert = certified_backoff(steps, pool)
            seconds = time.perf_counter() - start
        if cert is None:
            raise RuntimeError(f"the t = {t} pattern did not certify at any shortening")
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(cert.to_json()))
        tmp.replace(path)
        shrink = 1 - shortened[0] / steps[0]
        label = (
            f"pepstep search, t = {t} (certified from scratch, steps shortened by {shrink:.0e}; "
            f"search {minutes} min after t = {after})"
        )
        certs.append((label, cert, seconds, _verify_process(path)))
    curves = {}
    with RowWriter(args.out, FIELDS) as out:
        for source, cert, seconds, verify_seconds in certs:
            t, total = len(cert.steps), sum(cert.steps)
            B = kernel.cycle_bounds(total, cert.q, cert.delta, 10**4)
            row = {"t": t, "source": source, "average": f"{float(cert.average):.10g}"}
            row |= {"mean_h": f"{float(total / t):.10g}", "delta": f"{float(cert.delta):.3g}"}
            row |= {"T0": warmup_cycles_T0(cert), "TB_at_1e4_cycles": f"{10**4 * t * float(B[-1]):.4g}"}
            row |= {"one_over_avg": f"{1 / float(cert.average):.4g}", "seconds": round(seconds, 2)}
            row |= {"verify_seconds": "" if verify_seconds is None else round(verify_seconds, 2)}
            out.write(row)
            T0 = row["T0"] or 10**7 * t
            far = sorted({int(10 ** (4 + k / 20)) for k in range(200) if 10 ** (4 + k / 20) <= 10 * T0 / t})
            curves[source] = (
                t,
                float(cert.average),
                [float(b) for b in B],
                far,
                cycle_bound_estimate(cert, far),
            )
    _plot(curves, args.out.with_suffix(".png"))


def _plot(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5))
    for source, (t, avg, B, far, est) in curves.items():
        n = range(1, len(B) + 1)
        label = f"{source.split(' (')[0]} (avg {avg:.4g})"  # the CSV's source keeps the details
        (line,) = ax.loglog([k * t for k in n], [k * t * b * avg for k, b in zip(n, B)], label=label)
        ax.loglog(
            [k * t for k in far], [k * t * b * avg for k, b in zip(far, est)], ls=":", color=line.get_color()
        )
    ax.axhline(1.0, color="k", ls="--", lw=1, label="the asymptotic rate: T B(T) = 1/avg")
    ax.set_xlabel("steps T (cycle ends)")
    ax.set_ylabel("T B(T) avg   [dimensionless; B in L D^2]")
    ax.set_title(
        "Explicit bounds of the cyclic certificates: warm-up before f(x_T) - f* <= L D^2/(avg T)", fontsize=10
    )
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.text(
        0.01,
        0.005,
        "B(T): f(x_T) - f* <= B(T) L D^2 at every cycle end, iterated from the certificate's (q, Delta, sum h); "
        "1 on the axis means the O(1/T^2) term has faded.\nSolid: exact B for 10^4 cycles; dotted: its upper estimate beyond.",
        fontsize=7,
    )
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
