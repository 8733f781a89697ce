"""Every figure kind renders on small data into a valid PNG; the rate fit reads the right exponent."""

from __future__ import annotations

import math

import pytest

from pepstep.plots import (
    KNOWN_EXPONENTS,
    TAIL_POINTS,
    fit_exponent,
    plot_schedules,
    plot_spec_values,
    plot_steps,
    plot_worst_case_vs_n,
)
from pepstep.practice import quadratic_spectrum, run_hypergradient, run_schedule, schedule_bounds
from pepstep.reproduce import reproduce
from pepstep.schedules import constant, silver
from pepstep.spec import load_spec

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: A rendered figure with axes, labels and a caption is tens of kilobytes; 5 kB means an empty canvas.
MIN_PNG_BYTES = 5_000
RHO = 1.0 + math.sqrt(2.0)
#: The silver exponent log2(rho) = 1.2716 is asymptotic; the tail fit over n = 31, 63, 127 of the
#: exact values 1/(4 rho^k - 2) reads 1.248 (the local slope grows by about 0.02 per doubling).
ATOL_SILVER_TAIL = 0.03


def assert_png(path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    assert len(data) > MIN_PNG_BYTES, f"{path} is nearly empty ({len(data)} bytes)"


SPEC_HEAD = """schema_version = 1
claim = "{claim}"
kind = "{kind}"
[source]
authors = "A. Author and B. Author"
title = "A title"
year = 2024
where = "Table 1"
[problem]
"""

WORST_CASE_ROWS = """[[rows]]
label = "h=1, N=2"
schedule = "constant:1:2"
published = 0.1
beside = "constant:1.5:2"
[[rows]]
label = "h=1, N=3"
schedule = "constant:1:3"
published = 0.0714285714285714
beside = "constant:1.5:3"
"""

LONG_STEP_ROWS = """[speedup]
published = 1.1
rtol = 0.05
baseline = 2.0
[[rows]]
label = "t=2"
schedule = "steps:1.5,2.9"
published = 2.2
beside = "constant:1:4"
"""


def _spec(tmp_path, kind: str, rows: str):
    path = tmp_path / f"{kind}.toml"
    path.write_text(SPEC_HEAD.format(claim=f"a {kind} claim", kind=kind) + rows)
    return load_spec(path)


def test_worst_case_figure_with_beside_and_relative_error(tmp_path):
    result = reproduce(_spec(tmp_path, "worst_case", WORST_CASE_ROWS))
    assert all(r.match for r in result.rows)
    assert_png(plot_spec_values(result, tmp_path / "values.png"))


def test_long_step_figure(tmp_path):
    spec_path = tmp_path / "long.toml"
    # a spec's schedules are named schedules; write the t = 2 pattern as a file
    (tmp_path / "t2.json").write_text('{"steps": ["3/2", "29/10"]}')
    rows = LONG_STEP_ROWS.replace('"steps:1.5,2.9"', '"pattern:t2.json:1"').replace(
        '"constant:1:4"', '"pattern:t2.json:2"'
    )
    spec_path.write_text(SPEC_HEAD.format(claim="t = 2 certifies", kind="long_step") + rows)
    result = reproduce(load_spec(spec_path))
    (row, speed) = result.rows
    assert row.pepstep == pytest.approx(2.2, rel=1e-6) and row.beside_steps == 4
    assert speed.pepstep == pytest.approx(1.1, rel=1e-6)
    assert_png(plot_spec_values(result, tmp_path / "long.png"))


def test_schedule_bars(tmp_path):
    assert_png(plot_schedules({"silver 7": silver(7).steps, "h=1.5": [1.5] * 5}, tmp_path / "s.png"))
    assert_png(plot_steps(silver(15).steps, tmp_path / "one.png", "silver 15", caption="a caption"))


def test_worst_case_vs_n_tail_fit_reads_the_silver_exponent(tmp_path):
    ks = (1, 2, 3, 4, 5, 6, 7)
    ns = [2**k - 1 for k in ks]
    values = [1.0 / (4.0 * RHO**k - 2.0) for k in ks]  # exact PEP values of silver (DESIGN section 6)
    known = KNOWN_EXPONENTS["silver"][0]
    assert known == pytest.approx(1.2716, abs=1e-4)
    assert fit_exponent(ns, values, TAIL_POINTS) == pytest.approx(known, abs=ATOL_SILVER_TAIL)
    # the whole-range fit is what misled: 1.17 over n = 1..127
    assert abs(fit_exponent(ns, values) - known) > ATOL_SILVER_TAIL
    h1 = [1, 2, 4, 8, 16]
    series = {"constant h = 1": (h1, [1 / (4 * n + 2) for n in h1]), "silver": (ns, values)}
    assert_png(plot_worst_case_vs_n(series, tmp_path / "wc.png"))


def test_practice_figure_floor_and_panels(tmp_path):
    p = quadratic_spectrum(dim=20)
    traces = [run_schedule(p, constant(1.0, 1), 16), run_hypergradient(p, 1, 16)]
    bounds = {traces[0].method: schedule_bounds(p, constant(1.0, 1), max_n=4)}
    assert_png_path = tmp_path / "practice.png"
    from pepstep.practice import plot_practice

    plot_practice(p, traces, bounds, assert_png_path)
    assert_png(assert_png_path)
