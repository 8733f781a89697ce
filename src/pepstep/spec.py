"""Problem specs: ``problems/*.toml`` -> validated dataclasses -> reproduction rows.

A spec states one published result: its source, the problem (class, measure, initial
condition) and rows, each a schedule with the published value and the tolerance its
printed precision allows. Specs are data; they are parsed by the same validated
dataclasses the API uses (:class:`~pepstep.classes.FunctionClass`, schedules through
:func:`~pepstep.schedules.parse_schedule`), and any problem is reported as one line naming
the file, the key and what is wrong.

Schema (``schema_version = 1``)::

    schema_version = 1
    claim = "one sentence: what the source states"
    kind = "worst_case"          # or "optimal_constant", or "long_step" (rows are cyclic
                                 # patterns: certified exactly by Grimmer's criterion, and
                                 # their certified average step compared with `published`)
    fast = true                  # part of the subset `make test` recomputes
    figure = "values"            # "values" (value vs N, log-log) or "none"
    reference_label = "published"  # optional: what the rows' `published` numbers are, as the
                                 # figures and results/README.md name them (e.g. values
                                 # recorded from an earlier pepstep run, not printed in a paper)
    solver = "scs"               # optional: the solver and method this spec needs (they
    method = "full"              # override the command line's; e.g. silver at N = 127)
    [source]                     # authors, title, venue, year, where (theorem/table/row)
    [problem]                    # class, L, mu, measure, init, R
    [[rows]]
    label = "h=1, N=10"
    schedule = "constant:1:10"   # any named schedule (constant:H:N, silver:N, pattern:FILE:REPEATS)
    published = 0.0238095238    # the published value (equality within rtol) ...
    upper_bound = 0.05           # ... and/or a published upper bound (pepstep <= bound)
    rtol = 1e-6
    note = "why a row differs, in words"
    beside = "pattern:patterns/optimized_n10.json:1"   # optional: a schedule whose exact PEP
                                 # value is shown beside the row (not matched against
                                 # anything): optimized schedules beside published ones, the
                                 # finite-horizon value of a repeated long-step pattern
    [speedup]                    # long_step only: certified average of the last row / baseline
    published = 3.0
    rtol = 0.05
    baseline = 2.0               # the classic rate L D^2 / (2 T) of h = 1
    [exponent]                   # optional: rate exponent read from the last doubling of N
    published = 1.2716
    atol = 0.01
    fit_from = 3                 # least-squares fit over rows fit_from.. (by index)
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .classes import FunctionClass
from .errors import InputError
from .pep import Problem
from .schedules import Schedule, parse_schedule

__all__ = ["Spec", "SpecRow", "Source", "ExponentCheck", "load_spec", "SCHEMA_VERSION", "KINDS"]

SCHEMA_VERSION = 1
KINDS = ("worst_case", "optimal_constant", "long_step")


class SpecError(InputError):
    """A malformed spec: the message names the file, the key and the problem.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "bad.toml"
    >>> _ = path.write_text("schema_version = 2")
    >>> load_spec(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pepstep.spec.SpecError: ...bad.toml: key 'schema_version': must be 1, got 2
    """


@dataclass(frozen=True)
class Source:
    authors: str
    title: str
    year: int
    where: str
    venue: str = ""

    def cite(self) -> str:
        venue = f", {self.venue}" if self.venue else ""
        return f'{self.authors}, "{self.title}"{venue} ({self.year}), {self.where}'


@dataclass(frozen=True)
class SpecRow:
    label: str
    schedule: Schedule | None
    schedule_text: str
    num_steps: int
    published: float | None = None
    upper_bound: float | None = None
    rtol: float = 1e-6
    note: str = ""
    beside: Schedule | None = None
    beside_text: str = ""


@dataclass(frozen=True)
class ExponentCheck:
    published: float
    atol: float
    fit_from: int = 0


@dataclass(frozen=True)
class Spec:
    """A validated spec (see the module docstring for the file format).

    Examples
    --------
    >>> import pathlib
    >>> spec = load_spec(pathlib.Path(__file__).parents[2] / "problems" / "silver_schedule.toml")
    >>> spec.kind, spec.rows[0].schedule.name
    ('worst_case', 'silver:1')
    """

    path: Path
    name: str
    claim: str
    kind: str
    fast: bool
    source: Source
    function_class: FunctionClass
    measure: str
    init: str
    R: float
    rows: tuple[SpecRow, ...]
    exponent: ExponentCheck | None = None
    speedup: dict | None = None
    figure: str = "values"
    reference_label: str = "published"
    solver: str | None = None
    method: str | None = None
    extra: dict = field(default_factory=dict)

    def problem(self, schedule: Schedule) -> Problem:
        return Problem(schedule, self.function_class, self.measure, self.init, self.R)


def _err(path: Path, key: str, problem: str) -> SpecError:
    return SpecError(f"{path}: key '{key}': {problem}")


def _get(table: dict, key: str, kind, path: Path, where: str, default=...):
    full = f"{where}.{key}" if where else key
    if key not in table:
        if default is ...:
            raise _err(path, full, "missing")
        return default
    value = table[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise _err(path, full, f"must be {names}, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise _err(path, full, f"must be finite, got {value!r}")
    return value


def load_spec(path) -> Spec:
    """Read and validate one spec file; raise :class:`SpecError` naming file, key and problem.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.toml"
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
    >>> spec = load_spec(path)
    >>> spec.name, spec.rows[0].num_steps, spec.rows[0].published
    ('tiny', 2, 0.1)
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the spec: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from None
    version = _get(data, "schema_version", int, path, "")
    if version != SCHEMA_VERSION:
        raise _err(path, "schema_version", f"must be {SCHEMA_VERSION}, got {version!r}")
    kind = _get(data, "kind", str, path, "", "worst_case")
    if kind not in KINDS:
        raise _err(path, "kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    src = _get(data, "source", dict, path, "")
    source = Source(
        authors=_get(src, "authors", str, path, "source"),
        title=_get(src, "title", str, path, "source"),
        year=_get(src, "year", int, path, "source"),
        where=_get(src, "where", str, path, "source"),
        venue=_get(src, "venue", str, path, "source", ""),
    )
    prob = _get(data, "problem", dict, path, "")
    try:
        fc = FunctionClass(
            _get(prob, "class", str, path, "problem", "convex"),
            L=_get(prob, "L", float, path, "problem", 1.0),
            mu=_get(prob, "mu", float, path, "problem", 0.0),
        )
        measure = _get(prob, "measure", str, path, "problem", "fgap")
        init = _get(prob, "init", str, path, "problem", "dist")
        R = _get(prob, "R", float, path, "problem", 1.0)
        Problem(Schedule((1.0,)), fc, measure, init, R)
    except SpecError:
        raise
    except InputError as exc:
        raise _err(path, "problem", str(exc)) from None
    rows_raw = _get(data, "rows", list, path, "")
    if not rows_raw:
        raise _err(path, "rows", "must hold at least one row")
    rows = []
    for n, row in enumerate(rows_raw):
        where = f"rows[{n}]"
        if not isinstance(row, dict):
            raise _err(path, where, "must be a table")
        text = _get(row, "schedule", str, path, where)
        schedule = None
        if kind == "optimal_constant":
            num = _get(row, "num_steps", int, path, where)
            if num < 1:
                raise _err(path, f"{where}.num_steps", f"must be >= 1, got {num}")
        else:
            try:
                schedule = parse_schedule(_resolve_pattern(text, path))
            except InputError as exc:
                raise _err(path, f"{where}.schedule", str(exc)) from None
            num = schedule.num_steps
        published = _get(row, "published", float, path, where, None)
        bound = _get(row, "upper_bound", float, path, where, None)
        if published is None and bound is None:
            raise _err(path, where, "needs 'published' or 'upper_bound'")
        rtol = _get(row, "rtol", float, path, where, 1e-6)
        if not 0 < rtol < 1:
            raise _err(path, f"{where}.rtol", f"must be in (0, 1), got {rtol!r}")
        beside_text = _get(row, "beside", str, path, where, "")
        beside = None
        if beside_text:
            try:
                beside = parse_schedule(_resolve_pattern(beside_text, path))
            except InputError as exc:
                raise _err(path, f"{where}.beside", str(exc)) from None
        rows.append(
            SpecRow(
                label=_get(row, "label", str, path, where, text),
                schedule=schedule,
                schedule_text=text,
                num_steps=num,
                published=published,
                upper_bound=bound,
                rtol=rtol,
                note=_get(row, "note", str, path, where, ""),
                beside=beside,
                beside_text=beside_text,
            )
        )
    exponent = None
    if "exponent" in data:
        ex = _get(data, "exponent", dict, path, "")
        exponent = ExponentCheck(
            published=_get(ex, "published", float, path, "exponent"),
            atol=_get(ex, "atol", float, path, "exponent"),
            fit_from=_get(ex, "fit_from", int, path, "exponent", 0),
        )
    speedup = None
    if "speedup" in data:
        if kind != "long_step":
            raise _err(path, "speedup", "only for kind 'long_step'")
        sp = _get(data, "speedup", dict, path, "")
        speedup = {
            "published": _get(sp, "published", float, path, "speedup"),
            "rtol": _get(sp, "rtol", float, path, "speedup"),
            "baseline": _get(sp, "baseline", float, path, "speedup"),
        }
    solver = _get(data, "solver", str, path, "", None)
    method = _get(data, "method", str, path, "", None)
    from .compute import METHODS
    from .solve import BACKENDS

    if solver is not None and solver not in BACKENDS:
        raise _err(path, "solver", f"must be one of {', '.join(BACKENDS)}, got {solver!r}")
    if method is not None and method not in METHODS:
        raise _err(path, "method", f"must be one of {', '.join(METHODS)}, got {method!r}")
    figure = _get(data, "figure", str, path, "", "values")
    if figure not in ("values", "none"):
        raise _err(path, "figure", f"must be 'values' or 'none', got {figure!r}")
    return Spec(
        path=path,
        name=_get(data, "name", str, path, "", path.stem),
        claim=_get(data, "claim", str, path, ""),
        kind=kind,
        fast=_get(data, "fast", bool, path, "", False),
        source=source,
        function_class=fc,
        measure=measure,
        init=init,
        R=R,
        rows=tuple(rows),
        exponent=exponent,
        speedup=speedup,
        figure=figure,
        reference_label=_get(data, "reference_label", str, path, "", "published"),
        solver=solver,
        method=method,
    )


def _resolve_pattern(text: str, spec_path: Path) -> str:
    """``pattern:FILE:REPEATS`` with FILE relative to the spec's folder."""
    if not text.startswith("pattern:"):
        return text
    body = text[len("pattern:") :]
    file, _, repeats = body.rpartition(":")
    candidate = spec_path.parent / file
    if not Path(file).is_absolute() and candidate.exists():
        return f"pattern:{candidate}:{repeats}"
    return text
