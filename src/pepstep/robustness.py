"""The robustness experiment of hyperoptimizer stacks, beside certified schedules.

Chandra et al. (NeurIPS 2022, Section 4) claim that a taller stack of hyperoptimizers is less
sensitive to the initial step size. :func:`robustness` runs, for each problem, each family
(``sgd``: SGD tuned by SGD levels; ``adam``: Adam tuned by Adam levels) and each height
``n = 0..3``, the stack ``F(alpha0) / F(kappa) / ... / F(kappa)`` (``n`` levels of the same
family above the bottom, every one started at the family's hyper-step ``kappa``) from each initial
step ``alpha0`` of a log-spaced grid, and records the final loss. The **spread** of a row is
``log10(max) - log10(min)`` of the final losses over the grid (in decades; values below the
reference accuracy are counted at that floor, so a row of solved runs has spread near 0), over
the runs that did not diverge (how many diverged is reported beside it).

On a convex problem with known ``L``, an SGD-family run is gradient descent with its realized
steps ``h_k = L alpha_k``: :func:`learned_table` gives the exact worst case of its first ``N``
steps beside silver, OBS-F (the composed schedule of Grimmer, Shu & Wang) and constant
``h = 1`` of the same ``N`` (all normalized, ``L = |x_0 - x*| = 1``), and whether a stack ever
learned a long step ``h > 2``.

References
----------
K. Chandra, A. Xie, J. Ragan-Kelley and E. Meijer, "Gradient descent: the ultimate optimizer",
NeurIPS 2022, Section 4.3 (robustness to the initial hyperparameters) and Figure 3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .errors import InputError
from .practice import Trace, learned_bounds, load_objective, run_schedule, run_stack_on
from .schedules import Schedule, constant, load_pattern, silver
from .stacks import Optimizer, Stack

__all__ = [
    "FAMILIES",
    "RobustnessRow",
    "RobustnessResult",
    "robustness",
    "family_stack",
    "spread_decades",
    "reference_schedules",
    "reference_worst_cases",
    "plot_robustness",
    "plot_learned_steps",
]

#: Family -> the hyper-step ``kappa`` of every level above the bottom (raw units).
FAMILIES = {"sgd": 1e-2, "adam": 1e-3}


def family_stack(family: str, height: int, alpha0: float, kappa: float | None = None) -> Stack:
    """The stack ``F(alpha0)`` with ``height`` levels ``F(kappa)`` above it (``F`` the family)."""
    if family not in FAMILIES:
        raise InputError(f"Unknown family {family!r}; use one of {', '.join(FAMILIES)}.")
    kappa = FAMILIES[family] if kappa is None else kappa
    levels = [Optimizer.make(family, alpha=alpha0)] + [Optimizer.make(family, alpha=kappa)] * height
    return Stack(tuple(levels))


def loss_floor(problem) -> float:
    """Final losses at or below this are the reference accuracy (``1e-12 |f*|``, at least 1e-15)."""
    return max(1e-15, 1e-12 * abs(problem.f_star or 0.0))


def spread_decades(finals, floor: float, initial: float = math.inf) -> tuple[float, int]:
    """``(log10 max - log10 min, diverged)`` of the final losses (floored at ``floor``) of the runs
    that did not diverge; a run diverged when its final loss is not finite or above ``initial``
    (the loss at ``x_0``, the same for every run)."""
    v = np.asarray(finals, dtype=float)
    ok = np.isfinite(v) & (v <= initial)
    if ok.sum() == 0:
        return float("nan"), int(v.size)
    w = np.maximum(v[ok], floor)
    return float(np.log10(w.max()) - np.log10(w.min())), int((~ok).sum())


@dataclass(frozen=True)
class RobustnessRow:
    """One stack family and height on one problem, over the grid of initial steps.

    Attributes
    ----------
    problem, family : str
    height : int
    alphas : tuple of float
        The initial steps ``alpha0`` (raw units of ``x``).
    finals : tuple of float
        Final ``f(x_N) - f*`` (``f(x_N)`` when ``f*`` is unknown), ``inf`` for a divergence.
    spread : float
        :func:`spread_decades` of ``finals``.
    diverged : int
    max_steps : tuple of float
        The largest realized ``h = L alpha`` (``alpha`` when ``L`` is unknown) of each run that
        did not diverge (``nan`` for one that did).
    initial : float
        The loss at ``x_0`` (a run whose final loss is above it diverged).
    learned : tuple
        Per run, the :class:`~pepstep.practice.LearnedBound` list (empty when not a schedule).
    """

    problem: str
    family: str
    height: int
    alphas: tuple
    finals: tuple
    spread: float
    diverged: int
    max_steps: tuple
    initial: float = math.inf
    learned: tuple = ()
    traces: tuple = field(default=(), repr=False, compare=False)


@dataclass(frozen=True)
class RobustnessResult:
    """The experiment: rows, the certified references, and the settings."""

    rows: tuple
    iters: dict
    references: dict
    floors: dict
    notes: dict
    kappas: dict


def reference_schedules(n: int) -> dict[str, Schedule]:
    """Certified schedules of ``n`` steps: silver (the first ``n`` of silver(2^k - 1) for the
    least ``2^k - 1 >= n``), OBS-F (the composed schedule of ``n`` steps) and constant 1."""
    from .optimize import composed_schedule

    k = max(1, math.ceil(math.log2(n + 1)))
    s = silver(2**k - 1)
    return {
        "silver": Schedule(s.steps[:n], name=f"silver:{n}"),
        "OBS-F": Schedule(composed_schedule(n)[0], name=f"OBS-F:{n}"),
        "constant 1": constant(1.0, n),
    }


def reference_worst_cases(ns, solver: str = "clarabel") -> dict:
    """``{N: {name: (status, w or None)}}`` of :func:`reference_schedules` (exact worst cases)."""
    from .compute import worst_case
    from .pep import Problem

    out = {}
    for n in ns:
        out[n] = {}
        for name, s in reference_schedules(n).items():
            wc = worst_case(Problem(s), solver, throw=False)
            out[n][name] = (wc.status.value, wc.normalized_value if wc.ok else None)
    return out


def robustness(
    problems,
    *,
    families=("sgd", "adam"),
    heights=(0, 1, 2, 3),
    alphas=None,
    iters=1000,
    certify_n=(7, 15, 31),
    solver: str = "clarabel",
    kappas: dict | None = None,
    keep_traces: bool = False,
    progress=None,
) -> RobustnessResult:
    """Run the experiment (module docstring). ``iters`` is an int or ``{problem: int}``.

    ``progress`` is called with ``(done, total, what)`` after each run.
    """
    alphas = tuple(float(a) for a in (np.logspace(-4, 1, 11) if alphas is None else alphas))
    kappas = {**FAMILIES, **(kappas or {})}
    its = {p: (iters[p] if isinstance(iters, dict) else int(iters)) for p in problems}
    total = len(problems) * len(families) * len(heights) * len(alphas)
    done = 0
    rows, refs, floors, notes = [], {}, {}, {}
    for spec in problems:
        prob = load_objective(spec)
        floors[spec] = loss_floor(prob)
        notes[spec] = prob.pep_note
        if prob.pep_note is None:
            refs[spec] = {
                name: run_schedule(prob, s, its[spec]).final_gap
                for name, s in reference_schedules(its[spec]).items()
            }
        for fam in families:
            for n in heights:
                finals, tops, learned, traces = [], [], [], []
                for a in alphas:
                    t: Trace = run_stack_on(prob, family_stack(fam, n, a, kappas[fam]), its[spec])
                    finals.append(t.final_gap)
                    initial = float(t.f_gap[0])
                    fin = t.steps[np.isfinite(t.steps)]
                    ok = math.isfinite(t.final_gap) and t.final_gap <= initial
                    tops.append(float(fin.max()) if fin.size and ok else float("nan"))
                    ns = [N for N in certify_n if N <= t.iters]
                    learned.append(tuple(learned_bounds(prob, t, ns, solver)) if t.is_schedule else ())
                    if keep_traces:
                        traces.append(t)
                    done += 1
                    if progress is not None:
                        progress(done, total, f"{spec} {fam} height {n}")
                spread, div = spread_decades(finals, floors[spec], initial)
                rows.append(
                    RobustnessRow(
                        spec,
                        fam,
                        n,
                        alphas,
                        tuple(finals),
                        spread,
                        div,
                        tuple(tops),
                        initial,
                        tuple(learned),
                        tuple(traces),
                    )
                )
    return RobustnessResult(tuple(rows), its, refs, floors, notes, kappas)


# --------------------------------------------------------------------------- figures


def plot_robustness(result: RobustnessResult, path) -> None:
    """Final loss against the initial step, one panel per problem and family, one line per height;
    convex panels carry the final gaps of silver, OBS-F and constant 1 as horizontal lines."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    probs = list(dict.fromkeys(r.problem for r in result.rows))
    fams = list(dict.fromkeys(r.family for r in result.rows))
    fig, axes = plt.subplots(
        len(probs),
        len(fams),
        figsize=(6.2 * len(fams), 4.6 * len(probs)),
        squeeze=False,
        layout="constrained",
    )
    ref_style = {"silver": ("0.35", "--"), "OBS-F": ("0.35", ":"), "constant 1": ("0.35", "-.")}
    for i, spec in enumerate(probs):
        floor = result.floors[spec]
        for j, fam in enumerate(fams):
            ax = axes[i, j]
            for r in (r for r in result.rows if r.problem == spec and r.family == fam):
                v = np.array(r.finals, dtype=float)
                ok = np.isfinite(v) & (v <= r.initial)
                line = ax.plot(
                    np.array(r.alphas)[ok],
                    np.maximum(v[ok], floor),
                    marker="o",
                    ms=4,
                    label=f"height {r.height}: spread {r.spread:.2f} dec"
                    + (f", {r.diverged} diverged" if r.diverged else ""),
                )
                bad = np.array(r.alphas)[~ok]
                if bad.size:
                    ax.plot(
                        bad,
                        np.full(bad.size, ax.get_ylim()[1]),
                        ls="none",
                        marker="x",
                        color=line[0].get_color(),
                    )
            for name, val in result.references.get(spec, {}).items():
                col, ls = ref_style[name]
                ax.axhline(
                    max(val, floor), color=col, ls=ls, lw=1.1, label=f"{name} (certified schedule): {val:.1e}"
                )
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("initial step alpha0 (units of x per unit gradient)")
            ylabel = (
                "final f(x_N)"
                if result.notes[spec] and "nonconvex" in result.notes[spec]
                else "final f(x_N) - f*"
            )
            ax.set_ylabel(ylabel)
            note = result.notes[spec] or "convex, L known"
            ax.set_title(f"{spec}, {fam} stacks, N = {result.iters[spec]}  ({note})", fontsize=9)
            ax.grid(True, which="major", alpha=0.3)
            ax.legend(fontsize=7, loc="best")
    caption = (
        "Figure: final loss after N iterations against the initial step of the bottom optimizer, for stacks "
        "F(alpha0)/F(kappa)/.../F(kappa) of height 0-3 (kappa: "
        + ", ".join(f"{k} {v:g}" for k, v in result.kappas.items())
        + "). Spread: log10(max/min) of the final losses over the grid, over the runs that did not diverge "
        "(x: diverged, final loss above the initial one, drawn at the top). Grey lines: gradient descent with the certified schedules silver, OBS-F and constant h = 1 "
        "for the same N. Losses below the reference accuracy are drawn at it."
    )
    fig.supxlabel(
        "\n".join(textwrap.wrap(caption, 80 * len(fams))), x=0.01, ha="left", fontsize=7.5, color="0.25"
    )
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_learned_steps(traces: dict, n: int, path, pattern_file=None) -> None:
    """Learned steps ``h_k`` (k < n) of SGD stacks beside silver, OBS-F and Grimmer's pattern."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9.5, 5.2), layout="constrained")
    k = np.arange(n)
    refs = reference_schedules(n)
    for name, col in (("silver", "0.2"), ("OBS-F", "0.55")):
        ax.plot(
            k, refs[name].steps, color=col, lw=0.9, marker=".", ms=4, label=f"{name} (certified, N = {n})"
        )
    if pattern_file is not None:
        p = load_pattern(pattern_file)
        ax.plot(
            k,
            [p.steps[i % len(p)] for i in k],
            color="0.75",
            lw=0.9,
            label=f"Grimmer t = {len(p)} pattern, cycled",
        )
    for label, t in traces.items():
        ax.plot(k, t.steps[:n], lw=1.6, label=label)
    ax.axhline(2.0, color="k", lw=0.8, ls="--")
    ax.text(n - 1, 2.05, "h = 2", ha="right", va="bottom", fontsize=8)
    ax.set_yscale("log")
    ax.set_xlabel("iteration k")
    ax.set_ylabel("normalized step h_k = L alpha_k")
    ax.set_title(
        "steps learned by SGD hyperoptimizer stacks against certified long-step schedules", fontsize=10
    )
    ax.legend(fontsize=7, loc="upper left", ncol=2)
    ax.grid(True, which="major", alpha=0.3)
    fig.savefig(path, dpi=120)
    plt.close(fig)
