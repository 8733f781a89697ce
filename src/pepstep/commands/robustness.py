"""``pepstep robustness``: final loss against the initial step size for hyperoptimizer stacks of
height 0 to 3 (SGD and Adam families), beside certified schedules, and the exact worst cases of
the schedules the SGD stacks learned (:mod:`pepstep.robustness`).

Progress (one tick per run) goes to stderr, also with ``--json``; ``--quiet`` silences it.

JSON output
  | key | meaning |
  |---|---|
  | `provenance` | pepstep_version, git_sha, solver and its version, cvxpy_version, python, tolerances, date |
  | `alphas` | the initial steps alpha0 of the grid (raw units of x) |
  | `kappas` | per family, the hyper-step of every level above the bottom |
  | `problems` | one object per --problem |
  | `problems[].name` | the problem |
  | `problems[].iters` | iterations per run |
  | `problems[].floor` | final losses at or below it count as it (the reference accuracy) |
  | `problems[].pep_note` | why no PEP bound applies (null for a convex problem with known L) |
  | `problems[].references` | final f(x_N) - f* of gradient descent with silver, OBS-F and constant 1 for the same N (null without a PEP bound) |
  | `rows` | one object per problem, family and height |
  | `rows[].problem` | the problem |
  | `rows[].family` | sgd or adam |
  | `rows[].height` | levels above the bottom optimizer |
  | `rows[].finals` | final loss per alpha0 (null: diverged) |
  | `rows[].spread_decades` | log10(max / min) of the final losses of the runs that did not diverge |
  | `rows[].diverged` | runs that diverged (final loss not finite or above the initial loss) |
  | `rows[].initial` | the loss at x0 |
  | `rows[].max_steps` | per alpha0, the largest realized step h = L alpha (alpha when L is unknown) |
  | `learned` | one object per SGD-family run on a convex problem and N: the exact worst case of its realized steps |
  | `learned[].problem` | the problem |
  | `learned[].height` | the stack's height |
  | `learned[].alpha0` | the initial step |
  | `learned[].N` | the first N realized steps |
  | `learned[].status` | the solve's status (a worst case is given only when optimal); "no guarantee" when the lower bound exceeds 1/2 (not solved); "not a schedule" for a step <= 0 |
  | `learned[].worst_case` | w(h_0..h_{N-1}), normalized (L = abs(x0 - x*) = 1); null unless optimal |
  | `learned[].observed` | f(x_N) - f* of the run over L abs(x0 - x*)^2 (never above worst_case) |
  | `learned[].max_step` | the largest of the N steps |
  | `learned[].lower` | closed-form lower bound on the normalized worst case: max((1/2) prod (1 - h_k)^2, 1/(2 (2 sum h_k + 1))) |
  | `reference_worst_cases` | per N (keys), per schedule (silver, OBS-F, constant 1): status and normalized worst case |
  | `long_steps` | SGD-family stacks of height >= 1 on convex problems, runs that did not diverge: any_above_2 (a step h > 2 anywhere in the run), max_learned_step, from_short_start_above_2 and max_from_short_start (the same over runs whose first step L alpha0 is at most 2), certified_above_2 (a step h > 2 within the first N steps of a learned schedule whose worst case is optimal) |
  | `claim` | per "problem family": spread_by_height, diverged_by_height, decreasing (never larger one level up), taller_more_robust (tallest spread below height 0's, no more divergences) |
"""

from __future__ import annotations

import argparse
import csv
import io

import numpy as np

from ..errors import InputError
from ..practice import parse_problem_spec, problem_names
from ..robustness import FAMILIES, family_stack
from .common import (
    MAX_PEP_STEPS,
    Outputs,
    add_quiet_argument,
    add_solver_argument,
    check_outputs,
    dump_json,
    int_in,
    json_epilog,
    positive_float,
    progress_bar,
)

OUTPUTS = {
    "out": ("--out", "file"),
    "plot": ("--plot", "plot"),
    "learned_plot": ("--learned-plot", "plot"),
    "learned_table": ("--learned-table", "file"),
}
#: Most runs of one experiment (problems x families x heights x grid points).
MAX_RUNS = 10_000
#: Most iterations per run.
MAX_ITERS = 1_000_000
#: Tallest stack of the experiment.
MAX_HEIGHT = 10
DEFAULT_PROBLEMS = ("logistic:breast_cancer", "mlp:digits")


def register(sub) -> None:
    p = sub.add_parser(
        "robustness",
        help="final loss against the initial step for hyperoptimizer stacks of growing height",
        description="The robustness experiment of 'Gradient descent: the ultimate optimizer' beside "
        "certified schedules: final loss against the initial step size, stack heights 0-3, SGD and "
        "Adam families; the exact worst cases of the schedules the SGD stacks learned.",
        epilog=json_epilog(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--problem",
        action="append",
        default=None,
        help=f"repeatable (default: {', '.join(DEFAULT_PROBLEMS)}); one of {', '.join(problem_names())}, "
        "each also NAME@batch=B[,seed=S]",
    )
    p.add_argument(
        "--family",
        action="append",
        choices=list(FAMILIES),
        default=None,
        help="sgd and/or adam (default both)",
    )
    p.add_argument("--heights", default="0,1,2,3", help="comma-separated stack heights (default 0,1,2,3)")
    p.add_argument(
        "--alpha-min", type=positive_float, default=1e-4, help="smallest initial step (default 1e-4)"
    )
    p.add_argument("--alpha-max", type=positive_float, default=10.0, help="largest initial step (default 10)")
    p.add_argument(
        "--per-decade",
        type=int_in(1, 20, "a finer grid only repeats the runs"),
        default=2,
        help="grid points per decade (default 2)",
    )
    p.add_argument(
        "--iters", type=int_in(1, MAX_ITERS), default=1000, help="iterations per run (default 1000)"
    )
    for fam, kappa in FAMILIES.items():
        p.add_argument(
            f"--kappa-{fam}",
            type=positive_float,
            default=kappa,
            help=f"hyper-step of the {fam} levels (default {kappa:g})",
        )
    p.add_argument(
        "--certify-n", default="7,15,31", help="N at which learned schedules are certified (default 7,15,31)"
    )
    p.add_argument("--out", default=None, metavar="JSON", help="write the JSON result here too")
    p.add_argument("--plot", default=None, metavar="PNG", help="write the robustness figure here")
    p.add_argument("--learned-plot", default=None, metavar="PNG", help="write the learned-steps figure here")
    p.add_argument(
        "--learned-table", default=None, metavar="CSV", help="write the learned-schedule table here"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object (progress still on stderr)")
    add_quiet_argument(p)
    add_solver_argument(p)
    p.set_defaults(func=run)


def _int_list(text: str, option: str, lo: int, hi: int) -> tuple[int, ...]:
    out = []
    for part in text.split(","):
        try:
            v = int(part)
        except ValueError:
            raise InputError(
                f"{option} takes comma-separated integers. Got {part.strip()!r} in {text!r}."
            ) from None
        if not lo <= v <= hi:
            raise InputError(f"{option} values must be in [{lo}, {hi}]. Got {v} in {text!r}.")
        out.append(v)
    if len(set(out)) != len(out):
        raise InputError(f"{option} lists a value twice: {text!r}.")
    return tuple(out)


def run(args) -> int:
    from ..robustness import plot_learned_steps, plot_robustness, robustness

    problems = tuple(args.problem or DEFAULT_PROBLEMS)
    for spec in problems:
        parse_problem_spec(spec)
    if len(set(problems)) != len(problems):
        raise InputError(f"A --problem is given twice: {', '.join(problems)}.")
    families = tuple(dict.fromkeys(args.family or FAMILIES))
    heights = _int_list(args.heights, "--heights", 0, MAX_HEIGHT)
    certify_n = _int_list(args.certify_n, "--certify-n", 1, MAX_PEP_STEPS)
    if args.alpha_min >= args.alpha_max:
        raise InputError(
            f"--alpha-min must be below --alpha-max. Got {args.alpha_min:g} >= {args.alpha_max:g}."
        )
    decades = float(np.log10(args.alpha_max) - np.log10(args.alpha_min))
    alphas = np.logspace(
        np.log10(args.alpha_min), np.log10(args.alpha_max), int(round(decades * args.per_decade)) + 1
    )
    kappas = {fam: getattr(args, f"kappa_{fam}") for fam in FAMILIES}
    runs = len(problems) * len(families) * len(heights) * alphas.size
    if runs > MAX_RUNS:
        raise InputError(
            f"The experiment has {runs} runs; at most {MAX_RUNS} (fewer problems, heights or grid points)."
        )
    for fam in families:  # every stack of the grid is valid before any run
        family_stack(fam, max(heights), float(alphas[0]), kappas[fam])
    check_outputs(args, OUTPUTS)
    with progress_bar(args, "robustness", total=runs, unit="run") as bar:

        def tick(done, total, what):
            bar.set_postfix_str(what, refresh=False)
            bar.update()

        result = robustness(
            problems,
            families=families,
            heights=heights,
            alphas=alphas,
            iters=args.iters,
            certify_n=certify_n,
            solver=args.solver,
            kappas=kappas,
            keep_traces=bool(args.learned_plot),
            progress=tick,
        )
    learned_n = sorted({b.N for r in result.rows for run in r.learned for b in run})
    with progress_bar(args, "reference worst cases", heartbeat=True):
        from ..robustness import reference_worst_cases

        ref_wc = reference_worst_cases(learned_n, args.solver)
    data = _json(result, ref_wc, args)
    with Outputs() as out:
        if args.out:
            out.text(args.out, _dumps(data))
        if args.plot:
            plot_robustness(result, out.path(args.plot))
        if args.learned_plot:
            plot_learned_steps(_learned_traces(result), 64, out.path(args.learned_plot), _grimmer_pattern())
        if args.learned_table:
            out.text(args.learned_table, _csv(data))
    if args.json:
        dump_json(data)
        return 0
    _print(data)
    for opt in ("out", "plot", "learned_plot", "learned_table"):
        if getattr(args, opt):
            print(f"wrote     {getattr(args, opt)}")
    return 0


def _grimmer_pattern():
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "problems" / "patterns" / "grimmer2023_t7.json"
    return path if path.exists() else None


def _learned_traces(result) -> dict:
    """For the learned-steps figure: per convex problem, SGD stacks of height >= 1 at two alpha0."""
    out = {}
    for r in result.rows:
        if r.family != "sgd" or r.height == 0 or not r.traces or not r.learned[0]:
            continue
        for i in sorted({0, len(r.alphas) // 2}):  # the smallest alpha0 and the middle of the grid
            t = r.traces[i]
            if np.all(np.isfinite(t.steps[:64])):
                out[f"{r.problem} sgd height {r.height}, alpha0 {r.alphas[i]:.0e}"] = t
    return out


def _none(x):
    return None if x is None or not np.isfinite(x) else float(x)


def _json(result, ref_wc, args) -> dict:
    from ..reproduce import provenance

    rows = [
        {
            "problem": r.problem,
            "family": r.family,
            "height": r.height,
            "finals": [_none(v) for v in r.finals],
            "spread_decades": _none(r.spread),
            "diverged": r.diverged,
            "max_steps": [_none(v) for v in r.max_steps],
            "initial": r.initial,
        }
        for r in result.rows
    ]
    learned = []
    scale = {}
    for r in result.rows:
        for a, bounds in zip(r.alphas, r.learned):
            for b in bounds:
                if r.problem not in scale:
                    from ..practice import load_objective

                    p = load_objective(r.problem)
                    scale[r.problem] = p.L * p.R**2
                learned.append(
                    {
                        "problem": r.problem,
                        "height": r.height,
                        "alpha0": float(a),
                        "N": b.N,
                        "status": b.status,
                        "worst_case": b.normalized,
                        "observed": b.observed / scale[r.problem],
                        "max_step": _none(b.max_step),
                        "lower": _none(b.lower),
                    }
                )
    long_steps = _long_steps(result, learned, scale)
    claim = {}
    for r in result.rows:
        claim.setdefault(f"{r.problem} {r.family}", []).append(r)
    claim = {key: _claim(rs) for key, rs in claim.items()}
    return {
        "provenance": provenance(args.solver),
        "alphas": [float(a) for a in result.rows[0].alphas],
        "kappas": result.kappas,
        "problems": [
            {
                "name": spec,
                "iters": result.iters[spec],
                "floor": result.floors[spec],
                "pep_note": result.notes[spec],
                "references": result.references.get(spec),
            }
            for spec in result.iters
        ],
        "rows": rows,
        "learned": learned,
        "reference_worst_cases": {
            str(n): {name: {"status": st, "worst_case": w} for name, (st, w) in d.items()}
            for n, d in ref_wc.items()
        },
        "long_steps": long_steps,
        "claim": claim,
    }


def _long_steps(result, learned, scale) -> dict:
    """Whether SGD stacks of height >= 1 on convex problems learned steps h > 2 (runs that did not
    diverge); "from a short start": runs whose first step h_0 = L alpha0 is at most 2."""
    from ..practice import load_objective

    tops, short = [], []
    for r in result.rows:
        if r.height < 1 or not (r.learned and r.learned[0]):
            continue
        L = load_objective(r.problem).L
        for a, top in zip(r.alphas, r.max_steps):
            if np.isfinite(top):
                tops.append(top)
                if L * a <= 2:
                    short.append(top)
    return {
        "any_above_2": bool(tops) and max(tops) > 2,
        "max_learned_step": max(tops) if tops else None,
        "from_short_start_above_2": bool(short) and max(short) > 2,
        "max_from_short_start": max(short) if short else None,
        "certified_above_2": any(
            x["status"] == "optimal" and x["height"] >= 1 and x["max_step"] > 2 for x in learned
        ),
    }


def _claim(rows) -> dict:
    """Spreads by height; ``decreasing``: never larger one level up; ``taller_more_robust``: the
    tallest stack has a smaller spread than height 0 and no more divergences."""
    rows = sorted(rows, key=lambda r: r.height)
    spreads = [_none(r.spread) for r in rows]
    low, top = rows[0], rows[-1]
    return {
        "spread_by_height": {str(r.height): s for r, s in zip(rows, spreads)},
        "diverged_by_height": {str(r.height): r.diverged for r in rows},
        "decreasing": all(a is not None and b is not None and b <= a for a, b in zip(spreads, spreads[1:])),
        "taller_more_robust": bool(
            len(rows) > 1
            and np.isfinite(top.spread)
            and np.isfinite(low.spread)
            and top.spread < low.spread
            and top.diverged <= low.diverged
        ),
    }


def _dumps(data) -> str:
    buf = io.StringIO()
    dump_json(data, buf)
    return buf.getvalue()


def _csv(data) -> str:
    """The learned-schedule table: each learned worst case beside silver, OBS-F and constant 1."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "problem",
            "height",
            "alpha0",
            "N",
            "status",
            "learned_worst_case",
            "observed",
            "max_step",
            "lower",
            "silver",
            "obs_f",
            "constant_1",
        ]
    )
    refs = data["reference_worst_cases"]
    for row in data["learned"]:
        ref = refs[str(row["N"])]
        w.writerow(
            [
                row["problem"],
                row["height"],
                f"{row['alpha0']:.6g}",
                row["N"],
                row["status"],
                _fmt(row["worst_case"]),
                _fmt(row["observed"]),
                _fmt(row["max_step"]),
                _fmt(row["lower"]),
                *(_fmt(ref[k]["worst_case"]) for k in ("silver", "OBS-F", "constant 1")),
            ]
        )
    return buf.getvalue()


def _fmt(x) -> str:
    return "" if x is None else f"{x:.10g}"


def _print(data) -> None:
    for prob in data["problems"]:
        print(
            f"problem   {prob['name']}: {prob['iters']} iterations per run"
            + (f"; {prob['pep_note']}" if prob["pep_note"] else "")
        )
        if prob["references"]:
            print(
                "          certified schedules, final f(x_N) - f*: "
                + ", ".join(f"{k} {v:.3e}" for k, v in prob["references"].items())
            )
        print(
            f"          {'family':<7} {'height':>6} {'spread (decades)':>17} {'diverged':>9}   final loss per alpha0"
        )
        for r in (r for r in data["rows"] if r["problem"] == prob["name"]):
            finals = " ".join("   div" if v is None else f"{v:.0e}" for v in r["finals"])
            spread = "n/a" if r["spread_decades"] is None else f"{r['spread_decades']:.2f}"
            print(f"          {r['family']:<7} {r['height']:>6} {spread:>17} {r['diverged']:>9}   {finals}")
    print("alpha0    " + " ".join(f"{a:.0e}" for a in data["alphas"]))
    if data["learned"]:
        print(
            "learned schedules (normalized exact worst case w, L = |x0 - x*| = 1; best learned over the grid):"
        )
        for n, ref in data["reference_worst_cases"].items():
            ws = [
                r["worst_case"] for r in data["learned"] if r["N"] == int(n) and r["worst_case"] is not None
            ]
            best = f"{min(ws):.4e}" if ws else "none certified"
            refs = ", ".join(
                f"{k} {v['worst_case']:.4e}" if v["worst_case"] is not None else f"{k} {v['status']}"
                for k, v in ref.items()
            )
            print(f"          N={n}: learned {best}; {refs}")
        ls = data["long_steps"]
        print(
            f"          long steps (h > 2): largest step of a stack of height >= 1 {ls['max_learned_step']:.4g}; "
            f"from a first step h_0 <= 2: largest {ls['max_from_short_start']:.4g} "
            f"({'above 2' if ls['from_short_start_above_2'] else 'never above 2'}); within a certified "
            f"learned schedule: {'yes' if ls['certified_above_2'] else 'no'}"
        )
    for key, c in data["claim"].items():
        by_h = ", ".join(
            f"{h}: {'n/a' if v is None else f'{v:.2f}'} ({c['diverged_by_height'][h]} div)"
            for h, v in c["spread_by_height"].items()
        )
        verdict = "taller is more robust" if c["taller_more_robust"] else "taller is not more robust"
        print(f"claim     {key}: spread (decades) by height {by_h}; {verdict}")
