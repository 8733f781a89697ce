"""Reproduce published results from specs and write tables with provenance.

:func:`reproduce` computes every row of a :class:`~pepstep.spec.Spec` with pepstep's own
PEP and compares it with the published number; :func:`write_outputs` writes
``NAME.csv``, ``NAME.json`` (with provenance) and ``NAME.png``; :func:`write_index`
writes ``README.md``, an index of every result in the folder, one section per claim. A row
that does not match is reported as ``differs`` with the spec's note: a wrong number is
never hidden.

pepstep never overwrites a file it did not write: every file written into an output folder
is listed in that folder's ``MANIFEST`` (``.pepstep-manifest.json``), and
:func:`check_manifest` refuses, before any computation, a folder where a file pepstep would
write exists without being listed there (a user's own ``README.md``, say).
"""

from __future__ import annotations

import csv
import datetime as _dt
import importlib.metadata
import io
import json
import math
import platform
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ._io import write_atomic
from .compute import worst_case
from .errors import InputError, SolverError
from .schedules import constant
from .solve import RTOL_GAP, TOL_DUAL, TOL_FEAS, Status
from .spec import Spec, load_spec

__all__ = [
    "MANIFEST",
    "RowResult",
    "SpecResult",
    "reproduce",
    "write_outputs",
    "write_index",
    "provenance",
    "planned_outputs",
    "check_manifest",
    "record_outputs",
    "summary_points",
]

#: The list of files pepstep wrote into an output folder (names relative to the folder).
MANIFEST = ".pepstep-manifest.json"
#: Written by :func:`write_index`.
INDEX = "README.md"


def _manifest(out: Path) -> set:
    path = out / MANIFEST
    if not path.exists():
        return set()
    try:
        data = json.loads(path.read_text())
        return {str(name) for name in data["files"]}
    except (OSError, json.JSONDecodeError, KeyError, TypeError):
        raise InputError(
            f"The manifest {str(path)!r} is unreadable: remove it only if every file it listed "
            "may be overwritten."
        ) from None


def planned_outputs(specs, *, figure: bool = True) -> list[str]:
    """Names of the files :func:`write_outputs` and :func:`write_index` write for ``specs``."""
    names = []
    for spec in specs:
        names += [f"{spec.name}.csv", f"{spec.name}.json"]
        if figure and spec.figure == "values":
            names.append(f"{spec.name}.png")
    return names + [INDEX]


def check_manifest(out_dir, names) -> None:
    """Refuse (:class:`InputError`) if a file of ``names`` exists in ``out_dir`` but pepstep did
    not write it (it is not in the folder's :data:`MANIFEST`). Call before computing."""
    out = Path(out_dir)
    if not out.is_dir():
        raise InputError(f"The output folder {str(out)!r} does not exist.")
    known = _manifest(out)
    foreign = [n for n in names if (out / n).exists() and n not in known]
    if foreign:
        listed = ", ".join(repr(str(out / n)) for n in foreign[:3]) + (" ..." if len(foreign) > 3 else "")
        raise InputError(
            f"Refusing to overwrite {listed}: pepstep did not write {'it' if len(foreign) == 1 else 'them'} "
            f"(not listed in {str(out / MANIFEST)!r}). Choose another --out folder or move the file."
        )


def record_outputs(out_dir, paths) -> None:
    """Add ``paths`` (files just written into ``out_dir``) to the folder's :data:`MANIFEST`."""
    out = Path(out_dir)
    known = _manifest(out)
    new = known | {Path(p).name for p in paths}
    if new != known or not (out / MANIFEST).exists():
        doc = {"written_by": "pepstep (reproduce, figures)", "files": sorted(new)}
        write_atomic(out / MANIFEST, json.dumps(doc, indent=1) + "\n")


def _num(x) -> str:
    return "-" if x is None else f"{x:.7g}"


@dataclass(frozen=True)
class RowResult:
    """One reproduced row: the published number, pepstep's, and whether they match.

    ``pepstep`` is pepstep's value (``None`` when the solve failed), ``published`` and
    ``upper_bound`` the source's, ``rel_err`` their relative difference and ``match``
    whether it is within ``rtol`` (and below the bound); ``beside_*`` describe a schedule
    shown beside the row without being matched. ``repr`` is one line; :meth:`summary` holds
    every field.
    """

    label: str
    schedule: str
    num_steps: int
    published: float | None
    upper_bound: float | None
    pepstep: float | None
    status: str
    rel_err: float | None
    rtol: float
    match: bool
    seconds: float
    note: str = ""
    step: float | None = None
    beside: str = ""
    beside_steps: int | None = None
    beside_pepstep: float | None = None
    beside_reference: float | None = None

    def __repr__(self) -> str:
        verdict = "match" if self.match else "differs"
        return (
            f"RowResult({self.label[:40]!r}, pepstep={_num(self.pepstep)}, published={_num(self.published)}, "
            f"{verdict}, {self.status}, {self.seconds:.2g} s)"
        )

    def summary(self) -> str:
        """Every field of the row, one per line."""
        return "\n".join(f"{k:<17s}{v}" for k, v in asdict(self).items())


@dataclass(frozen=True)
class SpecResult:
    """All rows of a spec, the exponent check if any, and whether everything matched.

    ``repr`` is one line (spec name, rows, verdict, solver); :meth:`summary` is a table of
    the rows.

    Examples
    --------
    >>> import pathlib
    >>> spec = load_spec(pathlib.Path(__file__).parents[2] / "problems" / "silver_schedule.toml")
    >>> from dataclasses import replace
    >>> spec = replace(spec, rows=spec.rows[:1], exponent=None)   # the row silver:1 only
    >>> result = reproduce(spec)
    >>> result.all_match, len(result.rows), result.solver     # the spec names its solver
    (True, 1, 'scs')
    >>> print(result.summary())  # doctest: +ELLIPSIS
    silver_schedule: Silver step-size schedule, n = 2^k - 1: ...
    solver scs
      k=1, n=1  pepstep ...  published    0.1306019  match
    """

    spec: Spec
    rows: tuple[RowResult, ...]
    exponent_last_doubling: float | None
    exponent_fit: float | None
    exponent_match: bool | None
    solver: str

    @property
    def all_match(self) -> bool:
        """Every row matched, and the exponent check (if the spec has one) too."""
        return all(r.match for r in self.rows) and self.exponent_match is not False

    def __repr__(self) -> str:
        matched = sum(r.match for r in self.rows)
        verdict = "all match" if self.all_match else f"{matched} of {len(self.rows)} rows match"
        return f"SpecResult({self.spec.name[:60]!r}, {len(self.rows)} rows, {verdict}, {self.solver})"

    def summary(self) -> str:
        """The claim, then one line per row: label, pepstep's value, the published one, verdict."""
        lines = [f"{self.spec.name}: {self.spec.claim}", f"solver {self.solver}"]
        width = max(len(r.label) for r in self.rows) if self.rows else 0
        for r in self.rows:
            verdict = "match" if r.match else f"differs ({r.status})"
            ref = _num(r.published if r.published is not None else r.upper_bound)
            lines.append(
                f"  {r.label:<{width}s}  pepstep {_num(r.pepstep):>12s}  published {ref:>12s}  {verdict}"
            )
        if self.exponent_match is not None:
            lines.append(
                f"  exponent (last doubling) {_num(self.exponent_last_doubling)}, fit {_num(self.exponent_fit)}: "
                + ("match" if self.exponent_match else "differs")
            )
        return "\n".join(lines)


def _compare(published, bound, value, rtol) -> tuple[float | None, bool]:
    if value is None:
        return None, False
    rel, ok = None, True
    if published is not None:
        rel = abs(value - published) / abs(published)
        ok = rel <= rtol
    if bound is not None:
        ok = ok and value <= bound * (1 + rtol)
    return rel, ok


def _optimal_constant(make_problem, n: int, solver: str):
    """Minimize the PEP over a constant step h in [1, 2) (the minimizer exceeds 1 for every N)."""
    from scipy.optimize import minimize_scalar

    cache = {}

    def w(h):
        if h not in cache:
            cache[h] = worst_case(make_problem(constant(float(h), n)), solver).value
        return cache[h]

    res = minimize_scalar(w, bounds=(1.0, 1.999), method="bounded", options={"xatol": 1e-7})
    return float(res.x), float(res.fun)


def _certified_average(schedule, solver: str):
    """Certify a cyclic pattern exactly (Grimmer's criterion); its certified average step."""
    from .cyclic import certify_pattern

    steps = schedule.exact if schedule.exact is not None else schedule.steps
    try:
        cert = certify_pattern(steps, solver)
    except SolverError as exc:
        return None, f"failed: {exc}"
    if not cert.valid:
        return None, "not certified"
    return float(cert.average), "certified (exact)"


def reproduce(spec, solver: str = "clarabel", *, progress=None, method: str = "auto") -> SpecResult:
    """Compute every row of ``spec`` with pepstep's PEP and compare with the published values.

    Parameters
    ----------
    spec : Spec or path
        A spec (:func:`pepstep.spec.load_spec`), or the path of a ``problems/*.toml`` file.
    solver : str
        PEP backend (``clarabel`` by default).
    progress : callable, optional
        Called after each row with the :class:`RowResult`.
    method : str
        PEP formulation of :func:`pepstep.compute.worst_case` (``auto``, ``full``, ``generate``).

    A spec that names its own ``solver`` or ``method`` overrides the arguments.

    Returns
    -------
    SpecResult

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "drori_teboulle.toml"
    >>> _ = path.write_text('''
    ... schema_version = 1
    ... claim = "h = 1: f(x_N) - f* <= L R^2 / (4 N + 2)"
    ... [source]
    ... authors = "Y. Drori and M. Teboulle"
    ... title = "Performance of first-order methods for smooth convex minimization"
    ... year = 2014
    ... where = "Theorem 3.1"
    ... [problem]
    ... class = "convex"
    ... [[rows]]
    ... label = "h=1, N=2"
    ... schedule = "constant:1:2"
    ... published = 0.1
    ... ''')
    >>> result = reproduce(path)
    >>> result
    SpecResult('drori_teboulle', 1 rows, all match, clarabel)
    >>> result.rows[0]  # doctest: +ELLIPSIS
    RowResult('h=1, N=2', pepstep=0.1, published=0.1, match, optimal, ... s)
    """
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    solver = spec.solver or solver
    method = spec.method or method
    rows = []
    for row in spec.rows:
        start = time.perf_counter()
        step = None
        if spec.kind == "optimal_constant":
            try:
                step, value = _optimal_constant(spec.problem, row.num_steps, solver)
                status = Status.OPTIMAL.value
            except SolverError as exc:
                value, status = None, f"failed: {exc}"
        elif spec.kind == "long_step":
            value, status = _certified_average(row.schedule, solver)
        else:
            wc = worst_case(spec.problem(row.schedule), solver, throw=False, method=method)
            status = wc.status.value
            value = wc.value if wc.ok else None
        rel, ok = _compare(row.published, row.upper_bound, value, row.rtol)
        beside_value = None
        if row.beside is not None:  # shown beside the row; no published number to match
            wc = worst_case(spec.problem(row.beside), solver, throw=False, method=method)
            beside_value = wc.value if wc.ok else None
        # long steps: the guarantee 1 / (avg T) (units L D^2, D >= R the initial sublevel radius)
        # at the beside horizon T, next to its exact finite-horizon PEP value (units L R^2)
        reference = None
        if spec.kind == "long_step" and row.beside is not None and value:
            reference = 1.0 / (value * row.beside.num_steps)
        rows.append(
            RowResult(
                label=row.label,
                schedule=row.schedule_text,
                num_steps=row.num_steps,
                published=row.published,
                upper_bound=row.upper_bound,
                pepstep=value,
                status=status,
                rel_err=rel,
                rtol=row.rtol,
                match=ok,
                seconds=time.perf_counter() - start,
                note=row.note,
                step=step,
                beside=row.beside_text,
                beside_steps=row.beside.num_steps if row.beside is not None else None,
                beside_pepstep=beside_value,
                beside_reference=reference,
            )
        )
        if progress is not None:
            progress(rows[-1])
    if spec.speedup is not None and rows:
        sp = spec.speedup
        avg = rows[-1].pepstep
        ratio = None if avg is None else avg / sp["baseline"]
        rel, ok = _compare(sp["published"], None, ratio, sp["rtol"])
        rows.append(
            RowResult(
                label=f"speed-up over h = 1 ({rows[-1].label})",
                schedule=rows[-1].schedule,
                num_steps=rows[-1].num_steps,
                published=sp["published"],
                upper_bound=None,
                pepstep=ratio,
                status=rows[-1].status,
                rel_err=rel,
                rtol=sp["rtol"],
                match=ok,
                seconds=0.0,
                note=f"certified average / {sp['baseline']:g} (the classic rate L D^2 / (2T) of h = 1)",
            )
        )
    last = fit = exp_ok = None
    if spec.exponent is not None:
        values = [r.pepstep for r in rows]
        ns = [r.num_steps for r in rows]
        if len(values) >= 2 and all(v is not None and v > 0 for v in values):
            # Per doubling of the index k (n = 2^k - 1): log2(v_{K-1} / v_K), as published.
            last = math.log(values[-2] / values[-1]) / math.log(2.0)
            sel = slice(spec.exponent.fit_from, None)
            slope = np.polyfit(np.log(ns[sel]), np.log(values[sel]), 1)[0]
            fit = float(-slope)
            exp_ok = abs(last - spec.exponent.published) <= spec.exponent.atol
        else:
            exp_ok = False
    return SpecResult(spec, tuple(rows), last, fit, exp_ok, solver)


def _git_sha() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            cwd=Path(__file__).resolve().parent,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def provenance(solver: str) -> dict:
    """Who computed a result, with what, and when."""
    from . import __version__

    return {
        "pepstep_version": __version__,
        "git_sha": _git_sha(),
        "solver": solver,
        "solver_version": _version(solver),
        "cvxpy_version": _version("cvxpy"),
        "python": platform.python_version(),
        "tolerances": {"relative_gap": RTOL_GAP, "primal_feasibility": TOL_FEAS, "dual_relative": TOL_DUAL},
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


CSV_FIELDS = (
    "label",
    "schedule",
    "num_steps",
    "step",
    "published",
    "upper_bound",
    "pepstep",
    "rel_err",
    "rtol",
    "match",
    "status",
    "seconds",
    "note",
    "beside",
    "beside_steps",
    "beside_pepstep",
    "beside_reference",
)


def _csv_text(result: SpecResult) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in result.rows:
        d = asdict(r)
        d["match"] = "match" if r.match else "differs"
        d["seconds"] = f"{r.seconds:.3f}"
        for key in (
            "published",
            "upper_bound",
            "pepstep",
            "step",
            "beside_steps",
            "beside_pepstep",
            "beside_reference",
        ):
            d[key] = "" if d[key] is None else repr(int(d[key]) if key == "beside_steps" else float(d[key]))
        d["rel_err"] = "" if r.rel_err is None else f"{r.rel_err:.2e}"
        writer.writerow({k: d[k] for k in CSV_FIELDS})
    return buf.getvalue()


def write_outputs(result: SpecResult, out_dir, *, figure: bool = True) -> list[Path]:
    """Write ``NAME.csv``, ``NAME.json`` and (unless disabled) ``NAME.png``; return their paths."""
    out = Path(out_dir)
    spec = result.spec
    figure = figure and spec.figure == "values"
    check_manifest(out, planned_outputs([spec], figure=figure)[:-1])
    paths = [out / f"{spec.name}.csv", out / f"{spec.name}.json"]
    write_atomic(paths[0], _csv_text(result))
    from .plots import spec_caption

    doc = {
        "name": spec.name,
        "claim": spec.claim,
        "kind": spec.kind,
        "reference_label": spec.reference_label,
        "figure_caption": spec_caption(spec) if figure else None,
        "source": asdict(spec.source) | {"citation": spec.source.cite()},
        "problem": {
            "class": spec.function_class.kind,
            "L": spec.function_class.L,
            "mu": spec.function_class.mu,
            "measure": spec.measure,
            "init": spec.init,
            "R": spec.R,
        },
        "all_match": result.all_match,
        "rows": [asdict(r) for r in result.rows],
        "exponent": None
        if spec.exponent is None
        else {
            "published": spec.exponent.published,
            "atol": spec.exponent.atol,
            "last_doubling": result.exponent_last_doubling,
            "least_squares_fit": result.exponent_fit,
            "fit_from_row": spec.exponent.fit_from,
            "match": result.exponent_match,
        },
        "provenance": provenance(result.solver),
    }
    write_atomic(paths[1], json.dumps(doc, indent=1, default=str) + "\n")
    if figure:
        from .plots import plot_spec_values

        png = out / f"{spec.name}.png"
        plot_spec_values(result, png)
        paths.append(png)
    record_outputs(out, paths)
    return paths


def _fmt(x) -> str:
    return "" if x is None else f"{x:.6g}"


_UNITS = {"fgap": "L R^2", "gradnorm": "L^2 R^2", "dist": "R^2", "mingradnorm": "L^2 R^2"}
_MEASURES = {
    "fgap": "f(x_N) - f*",
    "gradnorm": "|grad f(x_N)|^2",
    "dist": "|x_N - x*|^2",
    "mingradnorm": "min_k |grad f(x_k)|^2",
}


def _problem_text(doc: dict) -> str:
    prob = doc.get("problem", {})
    measure, init = prob.get("measure", "fgap"), prob.get("init", "dist")
    if doc.get("kind") == "long_step":
        return (
            "rows: certified average step of the cyclic pattern (exact certificate); beside: the "
            "exact worst case of f(x_N) - f* of the repeated pattern from |x_0 - x*| <= R [L R^2] "
            "and the cyclic tail 1/(avg T) [L D^2, D the initial sublevel radius]"
        )
    start = "|x_0 - x*| <= R" if init == "dist" else "f(x_0) - f* <= Delta"
    unit = _UNITS.get(measure, "") if init == "dist" else "in units of Delta"
    mu = f", mu = {prob.get('mu')}" if prob.get("mu") else ""
    return f"{prob.get('class', 'convex')} class{mu}, worst case of {_MEASURES.get(measure, measure)} from {start} [{unit}]"


def _row_line(r: dict) -> str:
    pub = _fmt(r.get("published")) or f"<= {_fmt(r.get('upper_bound'))}"
    mark = "match" if r.get("match") else "**differs**"
    note = f" ({r['note']})" if r.get("note") and not r.get("match") else ""
    rel = "" if r.get("rel_err") is None else f"{r['rel_err']:.1e}"
    beside = ""
    if r.get("beside"):
        text = r["beside"]
        name = Path(text.split(":")[1]).stem if text.startswith("pattern:") else text
        reps = text.rsplit(":", 1)[-1] if text.startswith("pattern:") else ""
        beside = f"`{name}`" + (f" x{reps}" if reps and reps != "1" else "")
        beside += f" (N = {r.get('beside_steps')}): {_fmt(r.get('beside_pepstep')) or 'failed'}"
        if r.get("beside_reference"):
            beside += f"; 1/(avg T) = {_fmt(r['beside_reference'])}"
    return f"| {r['label']} | {pub} | {_fmt(r.get('pepstep'))} | {rel} | {mark}{note} | {beside} |"


def write_index(out_dir) -> Path:
    """Write ``README.md``: one section per claim (its source once), a line per row, a caption
    per figure, for every ``*.json`` result in the folder."""
    out = Path(out_dir)
    check_manifest(out, [INDEX])
    lines = [
        "# Reproductions",
        "",
        "Written by `pepstep reproduce` (`make results`): one section per published claim, its source",
        "cited once, then one line per reproduced number. `rel. error` is |pepstep - published| /",
        "published; `beside` is a related schedule's exact value, shown and not matched. Values are in",
        "units of the measure with L = R = 1 (stated per section). Figures `pepstep figures` draws are",
        "listed at the end.",
    ]
    for path in sorted(out.glob("*.json")):
        try:
            doc = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(doc, dict) or "rows" not in doc or "claim" not in doc:
            continue
        rows = doc["rows"]
        ok = sum(bool(r.get("match")) for r in rows)
        ref = doc.get("reference_label", "published")
        lines += [
            "",
            f"## {doc['name']}",
            "",
            doc["claim"] + ".",
            "",
            f"- Source: {doc['source'].get('citation', '')}.",
            f"- Measured: {_problem_text(doc)}.",
            f"- {ok} of {len(rows)} rows match; table `{doc['name']}.csv`, provenance in `{doc['name']}.json`.",
        ]
        png = out / f"{doc['name']}.png"
        if png.exists():
            caption = doc.get("figure_caption") or "published and pepstep values by row."
            lines.append(f"- Figure `{png.name}`: {caption}")
        lines += ["", f"| row | {ref} | pepstep | rel. error | match | beside |", "|---|---|---|---|---|---|"]
        lines += [_row_line(r) for r in rows]
        ex = doc.get("exponent")
        if ex:
            mark = "match" if ex.get("match") else "**differs**"
            lines.append(
                f"| rate exponent, last doubling (least-squares fit {_fmt(ex.get('least_squares_fit'))}) | "
                f"{_fmt(ex['published'])} +- {ex['atol']} | {_fmt(ex.get('last_doubling'))} |  | {mark} |  |"
            )
    from .plots import SUMMARY_CAPTIONS

    summary = [(name, text) for name, text in SUMMARY_CAPTIONS.items() if (out / name).exists()]
    if summary:
        lines += ["", "## Summary figures (`pepstep figures`)", ""]
        lines += [f"- `{name}`: {text}" for name, text in summary]
    index = out / INDEX
    write_atomic(index, "\n".join(lines) + "\n")
    record_outputs(out, [index])
    return index


def summary_points(max_steps: int = 63, patterns_dir=None) -> list[tuple]:
    """The points of :func:`summary_series`: ``(family, N, schedule)`` (``None``: the best
    constant step, found by a 1-D search), so that a caller can count them for progress."""
    from .schedules import load_pattern, silver

    points = [("constant h = 1", n, constant(1.0, n)) for n in (1, 2, 4, 8, 16, 32, 64) if n <= max_steps + 1]
    points += [("best constant h", n, None) for n in (1, 2, 4, 8, 16) if n <= max_steps]
    points += [("silver", 2**k - 1, silver(2**k - 1)) for k in range(1, 8) if 2**k - 1 <= max_steps]
    if patterns_dir is not None:
        pdir = Path(patterns_dir)
        t7 = pdir / "grimmer2023_t7.json"
        if t7.exists():
            base = load_pattern(t7)
            points += [
                ("Grimmer t = 7 pattern, repeated (finite horizon)", 7 * r, base.repeat(r))
                for r in (1, 2, 4, 8)
                if 7 * r <= max_steps
            ]
        bnb = sorted(pdir.glob("bnbpep_n*.json"), key=lambda p: int(p.stem.removeprefix("bnbpep_n")))
        points += [
            ("BnB-PEP optimized", int(p.stem.removeprefix("bnbpep_n")), load_pattern(p))
            for p in bnb
            if int(p.stem.removeprefix("bnbpep_n")) <= max_steps
        ]
    return points


def summary_series(
    solver: str = "clarabel", *, max_steps: int = 63, patterns_dir=None, progress=None
) -> dict:
    """Worst case versus N for the schedule families the reproductions compare.

    Families (:func:`summary_points`): constant h = 1, the best constant step (1-D search over
    h), silver (n = 2^k - 1), Grimmer's t = 7 long-step pattern repeated, and the BnB-PEP
    vectors. Returns ``{name: (ns, values)}`` with values normalized by L R^2 (convex, fgap,
    dist). ``progress``, if given, is called with no argument after each point.
    """
    from .pep import Problem

    def value(schedule):
        # Dense solves: long-step patterns need O(N^2) pairs, where generation only adds rounds.
        problem = Problem(schedule)
        wc = worst_case(problem, solver, throw=False, method="full")
        if not wc.ok:  # a full solve that fails the re-check: constraint generation decides
            wc = worst_case(problem, solver, throw=False, method="generate")
        return wc.value if wc.ok else float("nan")

    series: dict = {}
    for family, n, schedule in summary_points(max_steps, patterns_dir):
        v = _optimal_constant(Problem, n, solver)[1] if schedule is None else value(schedule)
        ns, values = series.setdefault(family, ([], []))
        ns.append(n)
        values.append(v)
        if progress is not None:
            progress()
    return series
