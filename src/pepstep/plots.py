"""matplotlib figures (imported lazily; the Agg backend, files only).

Every figure is meant to be read at a glance: labeled axes with units (worst cases are
normalized by L R^2), legends that do not cover data, and log scales where the point is
a rate or a fractal pattern of steps.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

__all__ = [
    "plot_spec_values",
    "plot_schedules",
    "plot_steps",
    "plot_worst_case_vs_n",
    "plot_worst_function",
    "worst_function_caption",
    "fit_exponent",
    "spec_caption",
    "SUMMARY_CAPTIONS",
    "KNOWN_EXPONENTS",
]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


#: Rate exponents known in closed form, drawn beside the fitted tail (worst case ~ N^-p).
KNOWN_EXPONENTS = {
    "constant h = 1": (1.0, "1/(4N+2): exponent 1"),
    "best constant h": (1.0, "exponent 1"),
    "silver": (math.log2(1.0 + math.sqrt(2.0)), "log2(1 + sqrt 2) = 1.2716"),
}
#: Points of each curve the tail exponent is fitted over.
TAIL_POINTS = 3
#: Relative errors below this are drawn at it (a solver cannot resolve less).
REL_ERR_FLOOR = 1e-12

#: Captions of the figures ``pepstep figures`` draws (also listed in results/README.md).
SUMMARY_CAPTIONS = {
    "schedule_shapes.png": (
        "the steps h_k (units 1/L) of silver (n = 63), Grimmer's t = 63 pattern and BnB-PEP's N = 50 "
        "vector, on a log axis from 0.5; the dashed line h = 2 is the longest step that never "
        "increases f on its own."
    ),
    "worst_case_vs_n.png": (
        "exact worst case of f(x_N) - f* from |x_0 - x*| <= R [L R^2] against N (log-log); the "
        "legend gives each family's exponent fitted over its last 3 points, with the known "
        "exponent (dashed lines through the last point) where one is proved. The repeated Grimmer "
        "pattern stays high: its certified rate L D^2/(avg T) measures the start by the sublevel "
        "radius D, which R does not bound."
    ),
}


def fit_exponent(ns, values, tail: int | None = None) -> float:
    """Least-squares slope ``p`` of ``log value = c - p log N`` (over the last ``tail`` points).

    >>> round(fit_exponent([10, 20, 40], [1 / 42, 1 / 82, 1 / 162]), 3)
    0.974
    """
    ns, values = np.asarray(ns, float), np.asarray(values, float)
    if tail is not None:
        ns, values = ns[-tail:], values[-tail:]
    return float(-np.polyfit(np.log(ns), np.log(values), 1)[0])


def spec_caption(spec) -> str:
    """The caption of a spec's figure (drawn under it and listed in results/README.md)."""
    ref = spec.reference_label
    if spec.kind == "long_step":
        return (
            "top: certified average step of each cyclic pattern (pepstep's exact certificate, o) and "
            f"the {ref} one (x), units 1/L; middle: their relative error against the tolerance "
            "(dashed); bottom: at the horizon T of the repeated pattern, its exact worst case from "
            "|x_0 - x*| <= R [L R^2] beside the cyclic guarantee's tail 1/(avg T) [L D^2, D >= R "
            "the initial sublevel radius]: two measures of the start, not one bound against another."
        )
    noun = "published value" if ref == "published" else ref
    why = "the tolerance of the printed digits" if ref == "published" else "the spec's tolerance"
    text = (
        f"top: pepstep's exact PEP value (o) and the {noun} (x) of each row, in {_unit(spec)}; "
        f"below: their relative error |pepstep - {ref}| / {ref} against {why} (dashed)"
    )
    if spec.kind == "worst_case" and any(r.beside is not None for r in spec.rows):
        text += (
            "; bottom: pepstep's optimized schedule against the published one, in % of the published "
            "schedule's worst case (negative: pepstep's is smaller)"
        )
    return text + "."


def _rel_err_panel(ax, x, rows) -> None:
    rel = np.array([np.nan if r.rel_err is None else max(r.rel_err, REL_ERR_FLOOR) for r in rows], float)
    colors = ["tab:blue" if r.match else "tab:red" for r in rows]
    ax.scatter(x, rel, c=colors, s=28, zorder=3)
    rtol = np.array([r.rtol for r in rows], float)
    ax.step(np.r_[x - 0.5, x[-1] + 0.5], np.r_[rtol, rtol[-1]], where="post", ls="--", color="0.4", lw=1)
    ax.set_yscale("log")
    ax.set_ylabel("relative error\n(dashed: tolerance)")
    finite = rel[np.isfinite(rel)]
    low = min(finite.min() if finite.size else 1e-9, rtol.min()) / 10
    ax.set_ylim(low, max(rtol.max(), finite.max() if finite.size else 0) * 10)
    ax.grid(True, which="major", alpha=0.3)


def _short_source(source) -> str:
    """``Taylor et al. 2018`` from a spec's source."""
    words = source.authors.split(",")[0].split(" and ")[0].split()
    first = " ".join(w for w in words if not w.endswith(".")) or words[-1]
    more = "," in source.authors or " and " in source.authors
    return f"{first}{' et al.' if more else ''} {source.year}"


def _caption(fig, text: str, width: int = 120) -> None:
    fig.supxlabel(_wrap(text, width), x=0.01, ha="left", fontsize=7.5, color="0.25")


def plot_spec_values(result, path) -> Path:
    """A spec's figure: values by row, their relative error, and what the spec shows beside."""
    if result.spec.kind == "long_step":
        return _plot_long_step(result, path)
    plt = _pyplot()
    spec = result.spec
    rows = result.rows
    x = np.arange(len(rows))
    beside = np.array([r.beside_pepstep if r.beside_pepstep is not None else np.nan for r in rows], float)
    show_beside = spec.kind == "worst_case" and not np.all(np.isnan(beside))  # same units as the rows
    width = max(7.0, 0.45 * len(rows) + 3)
    ratios = (2, 1, 1) if show_beside else (2, 1)
    fig, axes = plt.subplots(
        len(ratios),
        1,
        figsize=(width, 2.4 * len(ratios) + 1.6),
        sharex=True,
        height_ratios=ratios,
        constrained_layout=True,
    )
    ax = axes[0]
    pep = np.array([r.pepstep if r.pepstep is not None else np.nan for r in rows], float)
    ax.plot(x, pep, "o", ms=7, color="tab:blue", label="pepstep (exact PEP)")
    pub = np.array([r.published if r.published is not None else np.nan for r in rows], float)
    ref = spec.reference_label
    if not np.all(np.isnan(pub)):
        label = ref if ref != "published" else f"published ({_short_source(spec.source)})"
        ax.plot(x, pub, "x", ms=9, mew=2, color="tab:orange", label=label)
    bound = np.array([r.upper_bound if r.upper_bound is not None else np.nan for r in rows], float)
    if not np.all(np.isnan(bound)):
        ax.plot(x, bound, "v", ms=7, color="tab:green", label="published upper bound")
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
    ax.set_ylabel(_unit_label(spec))
    ax.set_title(_wrap(spec.claim, 100), fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    _rel_err_panel(axes[1], x, rows)
    if show_beside:
        ax2 = axes[2]
        ax.plot(x, beside, "^", ms=6, color="tab:purple", label="pepstep-optimized schedule (exact PEP)")
        ax.legend(fontsize=8, loc="best")
        diff = 100.0 * (beside / pep - 1.0)
        ax2.bar(x, diff, color=np.where(diff <= 0, "tab:purple", "tab:red"), width=0.6)
        ax2.axhline(0.0, color="black", lw=0.8)
        ax2.set_ylabel("optimized vs\npublished [%]")
        ax2.grid(True, axis="y", alpha=0.3)
        finite = diff[np.isfinite(diff)]
        if finite.size:
            ax2.set_ylim(min(1.35 * finite.min(), -0.5), max(1.35 * finite.max(), 0.5))
        for xi, v in zip(x, diff):
            if np.isfinite(v):
                ax2.annotate(
                    f"{v:+.2f}" if abs(v) >= 0.005 else "0",
                    (xi, v),
                    textcoords="offset points",
                    xytext=(0, -10 if v < 0 else 3),
                    ha="center",
                    fontsize=7,
                )
    axes[-1].set_xticks(x, [r.label for r in rows], rotation=60, ha="right", fontsize=8)
    _caption(fig, "Figure: " + spec_caption(spec), int(width * 14))
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return Path(path)


def _plot_long_step(result, path) -> Path:
    plt = _pyplot()
    spec = result.spec
    speed = [r for r in result.rows if r.label.startswith("speed-up")]
    rows = [r for r in result.rows if not r.label.startswith("speed-up")]
    x = np.arange(len(rows))
    fig, (ax, axe, axb) = plt.subplots(
        3, 1, figsize=(8.5, 8.8), sharex=True, height_ratios=(2, 1, 2), constrained_layout=True
    )
    avg = np.array([r.pepstep if r.pepstep is not None else np.nan for r in rows], float)
    pub = np.array([r.published if r.published is not None else np.nan for r in rows], float)
    ax.plot(x, avg, "o", ms=7, color="tab:blue", label="pepstep: certified average step (exact certificate)")
    ax.plot(
        x,
        pub,
        "x",
        ms=9,
        mew=2,
        color="tab:orange",
        label=f"{spec.reference_label} average step ({_short_source(spec.source)})",
    )
    ax.axhline(2.0, ls=":", color="0.4", lw=1)
    ax.annotate(
        "2: the classic rate L D^2/(2T) of h = 1",
        (x[-1], 2.0),
        textcoords="offset points",
        xytext=(0, -11),
        ha="right",
        fontsize=7,
        color="0.3",
    )
    ax.set_ylabel("average step  [1/L]\n(rate L D^2/(avg T))")
    ax.set_ylim(0, np.nanmax(np.r_[avg, pub]) * 1.15)
    title = _wrap(spec.claim, 100)
    if speed and speed[0].pepstep is not None:
        sp = speed[0]
        title += f"\nspeed-up over h = 1 ({sp.label[len('speed-up over h = 1 ') :].strip('()')}): pepstep {sp.pepstep:.3f}, "
        title += f"{spec.reference_label} {sp.published:g} (average / 2)"
    ax.set_title(title, fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    _rel_err_panel(axe, x, rows)
    fin = np.array([r.beside_pepstep if r.beside_pepstep is not None else np.nan for r in rows], float)
    tail = np.array([r.beside_reference if r.beside_reference is not None else np.nan for r in rows], float)
    axb.plot(
        x,
        fin,
        "^",
        ms=7,
        color="tab:red",
        label="exact worst case of f(x_T) - f* from |x_0 - x*| <= R  [L R^2]",
    )
    axb.plot(x, tail, "s", ms=6, color="tab:green", label="cyclic guarantee's tail 1/(avg T)  [L D^2]")
    for xi, r in zip(x, rows):
        if r.beside_steps:
            axb.annotate(
                f"T = {r.beside_steps}",
                (xi, fin[xi] if np.isfinite(fin[xi]) else tail[xi]),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=7,
            )
    axb.set_yscale("log")
    axb.set_ylabel("at the horizon T\n[L R^2] or [L D^2]")
    axb.grid(True, which="both", alpha=0.3)
    axb.legend(fontsize=8, loc="upper right")
    axb.set_xticks(x, [r.label for r in rows], rotation=0, fontsize=8)
    _caption(fig, "Figure: " + spec_caption(spec), 125)
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


def _unit(spec) -> str:
    unit = {"fgap": "L R^2", "gradnorm": "L^2 R^2", "dist": "R^2", "mingradnorm": "L^2 R^2"}[spec.measure]
    if spec.init == "fgap":
        unit = {"fgap": "Delta", "dist": "Delta / L"}.get(spec.measure, "L Delta")
    return unit


def _unit_label(spec) -> str:
    measure = {
        "fgap": "f(x_N) - f*",
        "gradnorm": "|grad f(x_N)|^2",
        "dist": "|x_N - x*|^2",
        "mingradnorm": "min_k |grad f(x_k)|^2",
    }[spec.measure]
    return f"worst case of {measure}  [{_unit(spec)}]"


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def _step_bars(ax, steps) -> None:
    """Bars of normalized steps on a log axis from 0.5 (a 1.41 bar is plainly visible)."""
    steps = np.asarray(steps, float)
    ax.bar(np.arange(steps.size), steps, width=0.85, color="tab:blue")
    ax.set_yscale("log")
    ax.set_ylim(0.5, max(steps.max(), 2.0) * 1.6)
    _plain_log_ticks(ax)
    ax.axhline(2.0, ls="--", color="0.35", lw=0.9)
    ax.set_ylabel("h_k  [1/L]")
    ax.grid(True, axis="y", which="major", alpha=0.3)


def plot_schedules(schedules: dict, path, title: str = "Step-size schedules") -> Path:
    """Bar charts of several schedules' steps (log axis from 0.5), one panel each, with a caption."""
    plt = _pyplot()
    n = len(schedules)
    fig, axes = plt.subplots(n, 1, figsize=(9, 2.2 * n + 1.2), constrained_layout=True, squeeze=False)
    for ax, (name, steps) in zip(axes[:, 0], schedules.items()):
        steps = np.asarray(steps, float)
        _step_bars(ax, steps)
        ax.set_title(
            f"{name}  (N = {steps.size}, max {steps.max():.3g}, average {steps.mean():.3g})", fontsize=9
        )
    axes[0, 0].annotate(
        "h = 2",
        (1.0, 2.0),
        xycoords=("axes fraction", "data"),
        xytext=(3, 0),
        textcoords="offset points",
        va="center",
        fontsize=7,
        color="0.35",
    )
    axes[-1, 0].set_xlabel("iteration k")
    fig.suptitle(title, fontsize=11)
    _caption(fig, "Figure: " + SUMMARY_CAPTIONS["schedule_shapes.png"], 130)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return Path(path)


def plot_steps(steps, path, title: str, caption: str = "") -> Path:
    """One schedule's steps as bars (log axis from 0.5, dashed h = 2), e.g. an optimized schedule."""
    plt = _pyplot()
    steps = np.asarray(steps, float)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.16 * steps.size + 3.0), 4.2), constrained_layout=True)
    _step_bars(ax, steps)
    ax.set_xlabel("iteration k")
    ax.set_title(title, fontsize=10)
    if caption:  # wrapped to the figure's width (7.5 pt: about 14 characters per inch)
        _caption(fig, caption, int(14 * max(6.0, 0.16 * steps.size + 3.0)))
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return Path(path)


def plot_worst_case_vs_n(series: dict, path, title: str = "Worst case versus N") -> Path:
    """Log-log worst case (units L R^2) against N, one line per family; the legend gives the
    exponent fitted over the last ``TAIL_POINTS`` points and the known one, drawn dashed."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.5, 6.4), constrained_layout=True)
    markers = "osD^v<>p*"
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (name, (ns, values)) in enumerate(series.items()):
        ns, values = np.asarray(ns, float), np.asarray(values, float)
        ok = np.isfinite(values) & (values > 0)
        if ok.sum() == 0:
            continue
        color = colors[k % len(colors)]
        label = name
        if ok.sum() >= TAIL_POINTS:
            label += f"  (tail fit N^-{fit_exponent(ns[ok], values[ok], TAIL_POINTS):.3f}"
            known = KNOWN_EXPONENTS.get(name)
            if known is not None:
                p, text = known
                label += f"; known {text}"
                nn = np.array([ns[ok][0], ns[ok][-1]])
                ax.loglog(nn, values[ok][-1] * (nn / nn[-1]) ** -p, ls="--", lw=1, color=color)
            label += ")"
        ax.loglog(ns[ok], values[ok], marker=markers[k % len(markers)], color=color, label=label)
    ax.set_xlabel("number of steps N")
    ax.set_ylabel("worst case of f(x_N) - f*  [L R^2]")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7.5, loc="lower left")
    _caption(fig, "Figure: " + SUMMARY_CAPTIONS["worst_case_vs_n.png"], 120)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return Path(path)


# --------------------------------------------------------------------------- worst functions

_MEASURE_LABELS = {
    "fgap": "f(x_k) - f*",
    "gradnorm": "|grad f(x_k)|^2",
    "mingradnorm": "|grad f(x_k)|^2",
    "dist": "|x_k - x*|^2",
}
#: Grid points per axis of a worst function's contour plot (each point is a small QP).
CONTOUR_GRID = 61


def _worst_units(wf) -> tuple[str, str, str]:
    """Names of the x, f and measure units of a worst function's problem."""
    dist = wf.init == "dist"
    x_unit, f_unit = ("R", "L R^2") if dist else ("sqrt(Delta/L)", "Delta")
    measure_unit = {
        "fgap": f_unit,
        "dist": "R^2" if dist else "Delta/L",
        "gradnorm": "L^2 R^2" if dist else "L Delta",
        "mingradnorm": "L^2 R^2" if dist else "L Delta",
    }[wf.measure]
    return x_unit, f_unit, measure_unit


def worst_function_caption(wf) -> str:
    """The default caption of :func:`plot_worst_function`."""
    x_unit, f_unit, m_unit = _worst_units(wf)
    where = {
        1: "the function on a line",
        2: "level sets of the function in the plane of its points",
    }.get(
        wf.dimension,
        "level sets on the plane through the points' mean spanned by their first two "
        "principal directions (a slice; the points are projected onto it)",
    )
    return (
        f"Worst-case function of gradient descent ({wf.function_class}, {wf.measure} from {wf.init}, "
        f"N = {wf.num_steps}) in dimension {wf.dimension}, interpolated in its class (Taylor, Hendrickx "
        f"& Glineur 2017). Left: {where}, iterates x_0..x_N numbered (x in units of {x_unit}, f in "
        f"{f_unit}). Right: {_MEASURE_LABELS[wf.measure]} along gradient descent run on it [{m_unit}]; "
        f"dashed: the worst case {wf.value / _measure_unit_value(wf):.6g} {m_unit}"
        + (
            "; dotted: the Huber lower bound 1/(2(2 sum_{m<k} h_m + 1)) for each horizon k, which the "
            "good schedules attain at k = N."
            if _huber_shown(wf)
            else "."
        )
    )


def _huber_shown(wf) -> bool:
    return wf.function_class == "convex" and wf.measure == "fgap" and wf.init == "dist"


def plot_worst_function(wf, path, title: str = "", caption: str | None = None, run=None) -> Path:
    """A worst-case function and gradient descent on it.

    In one dimension the function with its iterates; in two, its level sets with the path;
    above, level sets on the plane of the points' first two principal directions through their
    mean. Right panel: the measure along the run (for ``convex`` ``fgap`` from ``dist``, with the
    Huber function's value ``L R^2 / (2 (2 sum_{m<k} h_m + 1))`` for comparison). Coordinates
    are drawn in units of ``R`` (``sqrt(Delta / L)``) and values in ``L R^2`` (``Delta``).
    ``run`` is :func:`pepstep.worstfunction.run_gradient_descent`'s result (computed if not given).
    """
    from .worstfunction import run_gradient_descent

    plt = _pyplot()
    run = run if run is not None else run_gradient_descent(wf)
    sx, sf = wf.x_unit, wf.f_unit
    x_unit, f_unit, m_unit = _worst_units(wf)
    pts = np.asarray(wf.points, float)
    star = None if wf.x_star is None else np.asarray(wf.x_star, float)
    fig, (ax, bx) = plt.subplots(
        1, 2, figsize=(12.5, 5.2), constrained_layout=True, gridspec_kw={"width_ratios": [1.35, 1.0]}
    )
    cloud = pts if star is None else np.vstack([pts, star])
    if wf.dimension == 1:
        lo, hi = cloud.min(), cloud.max()
        pad = 0.15 * max(hi - lo, 1e-3 * sx)
        xs = np.linspace(lo - pad, hi + pad, 401)
        fs = np.array([wf([x])[0] for x in xs])
        ax.plot(xs / sx, fs / sf, color="0.25", lw=1.4, label="f")
        ax.plot(pts[:, 0] / sx, np.asarray(wf.values) / sf, "-", color="tab:blue", lw=0.6, alpha=0.6)
        ax.scatter(pts[:, 0] / sx, np.asarray(wf.values) / sf, color="tab:blue", zorder=3, s=22, label="x_k")
        for k in _labelled(len(pts)):
            ax.annotate(
                str(k),
                (pts[k, 0] / sx, wf.values[k] / sf),
                xytext=(3, 4),
                textcoords="offset points",
                fontsize=7,
                color="tab:blue",
            )
        if star is not None:
            ax.scatter(
                [star[0] / sx], [wf.f_star / sf], marker="*", s=120, color="tab:red", zorder=4, label="x*"
            )
        ax.set_xlabel(f"x  [{x_unit}]")
        ax.set_ylabel(f"f(x)  [{f_unit}]")
    else:
        if wf.dimension == 2:
            centre, basis, names = np.zeros(2), np.eye(2), ("x_1", "x_2")
        else:
            centre = cloud.mean(axis=0)
            basis = np.linalg.svd(cloud - centre, full_matrices=False)[2][:2].T
            names = ("principal direction 1", "principal direction 2")
        coords = (cloud - centre) @ basis
        lo, hi = coords.min(axis=0), coords.max(axis=0)
        span = max(float(np.max(hi - lo)), 1e-3 * sx)
        half = np.maximum(0.5 * (hi - lo), 0.35 * span) + 0.15 * span  # a flat cloud gets a square frame
        mid = 0.5 * (lo + hi)
        u = np.linspace(mid[0] - half[0], mid[0] + half[0], CONTOUR_GRID)
        v = np.linspace(mid[1] - half[1], mid[1] + half[1], CONTOUR_GRID)
        Z = np.array([[wf(centre + a * basis[:, 0] + b * basis[:, 1])[0] for a in u] for b in v])
        cs = ax.contour(u / sx, v / sx, Z / sf, levels=18, cmap="viridis", linewidths=0.8)
        fig.colorbar(cs, ax=ax, label=f"f  [{f_unit}]")
        path_xy = (pts - centre) @ basis
        ax.plot(path_xy[:, 0] / sx, path_xy[:, 1] / sx, "-o", color="tab:blue", ms=3.5, lw=1.0, label="x_k")
        for k in _labelled(len(pts)):
            ax.annotate(
                str(k),
                path_xy[k] / sx,
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=7,
                color="tab:blue",
            )
        if star is not None:
            s_xy = (star - centre) @ basis
            ax.scatter(
                [s_xy[0] / sx], [s_xy[1] / sx], marker="*", s=120, color="tab:red", zorder=4, label="x*"
            )
        ax.set_xlabel(f"{names[0]}  [{x_unit}]")
        ax.set_ylabel(f"{names[1]}  [{x_unit}]")
        ax.set_aspect("equal", adjustable="datalim")
    ax.legend(fontsize=8, loc="best")
    ax.grid(True, alpha=0.3)
    ax.set_title(f"dimension {wf.dimension}", fontsize=9)

    k = np.arange(len(run.values))
    unit = _measure_unit_value(wf)
    along = _along(wf, run) / unit
    worst = "min over k" if wf.measure == "mingradnorm" else "at k = N"
    bx.plot(
        k, along, "o-", color="tab:blue", ms=4, label=f"{_MEASURE_LABELS[wf.measure]} on the worst function"
    )
    bx.axhline(
        wf.value / unit, ls="--", color="0.35", lw=1, label=f"worst case ({worst}): {wf.value / unit:.4g}"
    )
    shown = [along]
    if _huber_shown(wf):
        huber = 1.0 / (2.0 * (2.0 * np.concatenate([[0.0], np.cumsum(wf.steps)]) + 1.0))
        bx.plot(
            k,
            huber,
            "s:",
            color="tab:orange",
            ms=3.5,
            label="Huber lower bound for horizon k: 1/(2(2 sum_{m<k} h_m + 1))",
        )
        shown.append(huber)
    shown = np.concatenate(shown)
    positive = shown[shown > 0]
    if positive.size and positive.max() > 10 * positive.min():
        bx.set_yscale("log")
    else:  # e.g. mingradnorm: every |g_k|^2 equal to 1e-11; no offset notation
        bx.ticklabel_format(axis="y", useOffset=False)
        if positive.size and positive.max() - positive.min() < 0.05 * positive.max():
            bx.set_ylim(0.9 * positive.min(), 1.1 * positive.max())
    bx.set_xlabel("iteration k")
    bx.set_ylabel(f"{_MEASURE_LABELS[wf.measure]}  [{m_unit}]")
    bx.grid(True, which="both", alpha=0.3)
    bx.legend(
        fontsize=7.5, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False
    )  # above: no data hidden
    fig.suptitle(
        title
        or f"Worst-case function of {wf.schedule}: {wf.function_class} {wf.measure} from {wf.init}, N = {wf.num_steps}",
        fontsize=11,
    )
    _caption(fig, "Figure: " + (caption if caption is not None else worst_function_caption(wf)), 150)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return Path(path)


def _labelled(count: int) -> list:
    """Indices of the iterates worth a number (all up to 16, else every few and the last)."""
    if count <= 16:
        return list(range(count))
    every = int(math.ceil(count / 12))
    return sorted(set(range(0, count, every)) | {count - 1})


def _measure_unit_value(wf) -> float:
    dist = wf.init == "dist"
    L, R = wf.L, wf.R
    return {
        "fgap": L * R * R if dist else R,
        "dist": R * R if dist else R / L,
        "gradnorm": L * L * R * R if dist else L * R,
        "mingradnorm": L * L * R * R if dist else L * R,
    }[wf.measure]


def _along(wf, run) -> np.ndarray:
    """The measure's quantity at every iterate of ``run`` (user units)."""
    if wf.measure == "fgap":
        return np.asarray(run.values) - wf.f_star
    if wf.measure == "dist":
        d = np.asarray(run.points) - np.asarray(wf.x_star)
        return np.einsum("ij,ij->i", d, d)
    g = np.asarray(run.gradients)
    return np.einsum("ij,ij->i", g, g)
