"""matplotlib figures (imported lazily; the Agg backend, files only).

Every figure is meant to be read at a glance: labeled axes with units (worst cases are
normalized by L R^2), legends that do not cover data, and log scales where the point is
a rate or a fractal pattern of steps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_spec_values", "plot_schedules", "plot_worst_case_vs_n", "fit_exponent"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def fit_exponent(ns, values) -> float:
    """Least-squares slope ``p`` of ``log value = c - p log N``."""
    return float(-np.polyfit(np.log(np.asarray(ns, float)), np.log(np.asarray(values, float)), 1)[0])


def plot_spec_values(result, path) -> Path:
    """Published vs pepstep values of one spec, by row (log scale)."""
    plt = _pyplot()
    spec = result.spec
    rows = result.rows
    x = np.arange(len(rows))
    beside = np.array([r.beside_pepstep if r.beside_pepstep is not None else np.nan for r in rows], float)
    show_beside = spec.kind == "worst_case" and not np.all(np.isnan(beside))  # same units as the rows
    width = max(6.0, 0.45 * len(rows) + 3)
    if show_beside:
        fig, (ax, ax2) = plt.subplots(
            2, 1, figsize=(width, 6.4), sharex=True, height_ratios=(2, 1), constrained_layout=True
        )
    else:
        fig, ax = plt.subplots(figsize=(width, 4.2), constrained_layout=True)
    pep = [r.pepstep if r.pepstep is not None else np.nan for r in rows]
    ax.plot(x, pep, "o", ms=7, color="tab:blue", label="pepstep (exact PEP)")
    pub = [r.published if r.published is not None else np.nan for r in rows]
    if not np.all(np.isnan(pub)):
        ax.plot(x, pub, "x", ms=9, mew=2, color="tab:orange", label="published")
    bound = [r.upper_bound if r.upper_bound is not None else np.nan for r in rows]
    if not np.all(np.isnan(bound)):
        ax.plot(x, bound, "v", ms=7, color="tab:green", label="published upper bound")
    if show_beside:
        ax.plot(
            x, beside, "^", ms=7, color="tab:purple", label="beside: pepstep-optimized schedule (exact PEP)"
        )
        diff = 100.0 * (beside / np.asarray(pep, float) - 1.0)
        ax2.bar(x, diff, color=np.where(diff <= 0, "tab:purple", "tab:red"), width=0.6)
        ax2.axhline(0.0, color="black", lw=0.8)
        ax2.set_ylabel("optimized vs published\nschedule [%]")
        ax2.grid(True, axis="y", alpha=0.3)
        finite = diff[np.isfinite(diff)]
        if finite.size:
            ax2.set_ylim(min(1.35 * finite.min(), -0.5), max(1.35 * finite.max(), 0.5))
        for xi, v in zip(x, diff):
            if np.isfinite(v):
                below = -10 if v < 0 else 3
                ax2.annotate(
                    f"{v:+.2f}" if abs(v) >= 0.005 else "0",
                    (xi, v),
                    textcoords="offset points",
                    xytext=(0, below),
                    ha="center",
                    fontsize=7,
                )
    for xi, r in zip(x, rows):
        if not r.match:
            ax.annotate(
                "differs",
                (xi, pep[xi] if np.isfinite(pep[xi]) else pub[xi]),
                color="red",
                textcoords="offset points",
                xytext=(0, 8),
                ha="center",
                fontsize=8,
            )
    ax.set_yscale("log")
    (ax2 if show_beside else ax).set_xticks(x, [r.label for r in rows], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel(_unit_label(spec))
    ax.set_title(_wrap(spec.claim, 90), fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return Path(path)


def _plain_log_ticks(ax) -> None:
    """Tick labels 2, 5, 10 rather than 2 x 10^0 on a log axis."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    fmt = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(fmt)
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))


def _unit_label(spec) -> str:
    measure = {
        "fgap": "f(x_N) - f*",
        "gradnorm": "|grad f(x_N)|^2",
        "dist": "|x_N - x*|^2",
        "mingradnorm": "min_k |grad f(x_k)|^2",
    }[spec.measure]
    unit = {"fgap": "L R^2", "gradnorm": "L^2 R^2", "dist": "R^2", "mingradnorm": "L^2 R^2"}[spec.measure]
    if spec.init == "fgap":
        unit = {"fgap": "Delta", "dist": "Delta / L"}.get(spec.measure, "L Delta")
    return f"worst case of {measure}  [/ {unit}]"


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def plot_schedules(schedules: dict, path, title: str = "Step-size schedules") -> Path:
    """Bar charts of several schedules' steps on a log scale, one panel each."""
    plt = _pyplot()
    n = len(schedules)
    fig, axes = plt.subplots(n, 1, figsize=(9, 2.2 * n + 0.6), constrained_layout=True, squeeze=False)
    for ax, (name, steps) in zip(axes[:, 0], schedules.items()):
        steps = np.asarray(steps, float)
        ax.bar(np.arange(steps.size), steps, width=0.85, color="tab:blue")
        ax.set_yscale("log")
        _plain_log_ticks(ax)
        ax.set_ylabel("h_k (x 1/L)")
        ax.set_title(
            f"{name}  (N = {steps.size}, max {steps.max():.3g}, average {steps.mean():.3g})", fontsize=9
        )
        ax.grid(True, axis="y", which="both", alpha=0.3)
    axes[-1, 0].set_xlabel("iteration k")
    fig.suptitle(title, fontsize=11)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return Path(path)


def plot_worst_case_vs_n(series: dict, path, title: str = "Worst case versus N") -> Path:
    """Log-log worst case (normalized by L R^2) against N, one line per schedule family,
    with the fitted exponent in the legend."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 5.2), constrained_layout=True)
    markers = "osD^v<>p*"
    for k, (name, (ns, values)) in enumerate(series.items()):
        ns, values = np.asarray(ns, float), np.asarray(values, float)
        ok = np.isfinite(values) & (values > 0)
        if ok.sum() == 0:
            continue
        label = name
        if ok.sum() >= 3:
            label += f"  (fit: N^-{fit_exponent(ns[ok], values[ok]):.3f})"
        ax.loglog(ns[ok], values[ok], marker=markers[k % len(markers)], label=label)
    ax.set_xlabel("number of steps N")
    ax.set_ylabel("worst case of f(x_N) - f*  [/ L R^2]")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return Path(path)
