"""Every fast spec in problems/ reproduces its published numbers and its committed results/ table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pepstep.cli import main
from pepstep.reproduce import reproduce, write_index, write_outputs
from pepstep.spec import SpecError, load_spec

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "problems").glob("*.toml"))
FAST = [p for p in SPECS if load_spec(p).fast]
#: Committed results are recomputed with the same solver; they agree to the solver's accuracy.
RTOL_DRIFT = 1e-6


def test_every_spec_parses():
    assert len(SPECS) >= 6
    for path in SPECS:
        spec = load_spec(path)
        assert spec.rows and spec.source.year > 1900


@pytest.mark.parametrize("path", FAST, ids=[p.stem for p in FAST])
def test_fast_spec_reproduces_published_and_committed_values(path, tmp_path):
    spec = load_spec(path)
    result = reproduce(spec)
    differing = [(r.label, r.published, r.pepstep, r.status) for r in result.rows if not r.match]
    assert not differing, f"{spec.name}: rows differ from the published values: {differing}"
    committed = ROOT / "results" / f"{spec.name}.json"
    assert committed.exists(), f"{committed} is not committed; run `make results`"
    old = {row["label"]: row["pepstep"] for row in json.loads(committed.read_text())["rows"]}
    for row in result.rows:
        assert old[row.label] == pytest.approx(row.pepstep, rel=RTOL_DRIFT), (
            f"{spec.name} {row.label} drifted"
        )
    paths = write_outputs(result, tmp_path, figure=False)
    assert [p.suffix for p in paths] == [".csv", ".json"]
    index = write_index(tmp_path).read_text()
    assert spec.claim in index and "differs" not in index


BAD_SPECS = [
    ("schema_version = 2\n", "key 'schema_version': must be 1, got 2"),
    ("schema_version = 1\nkind = 'magic'\n", "key 'kind': must be one of"),
    (
        "schema_version = 1\n[source]\nauthors = 'A'\ntitle = 'T'\nyear = 2020\n",
        "key 'source.where': missing",
    ),
    (
        "schema_version = 1\nclaim = 'c'\n[source]\nauthors = 'A'\ntitle = 'T'\nyear = 2020\nwhere = 'w'\n"
        "[problem]\nclass = 'convex'\nmu = 2.0\n[[rows]]\nschedule = 'silver:3'\npublished = 1.0\n",
        "key 'problem':",
    ),
    (
        "schema_version = 1\nclaim = 'c'\n[source]\nauthors = 'A'\ntitle = 'T'\nyear = 2020\nwhere = 'w'\n"
        "[problem]\n[[rows]]\nschedule = 'constant:-1:3'\npublished = 1.0\n",
        "key 'rows[0].schedule': Step 0 must be finite",
    ),
    (
        "schema_version = 1\nclaim = 'c'\n[source]\nauthors = 'A'\ntitle = 'T'\nyear = 2020\nwhere = 'w'\n"
        "[problem]\n[[rows]]\nschedule = 'silver:3'\n",
        "key 'rows[0]': needs 'published' or 'upper_bound'",
    ),
    (
        "schema_version = 1\nclaim = 'c'\n[source]\nauthors = 'A'\ntitle = 'T'\nyear = 'x'\nwhere = 'w'\n",
        "key 'source.year': must be int",
    ),
    (
        "schema_version = 1\nclaim = 'c'\n[source]\nauthors = 'A'\ntitle = 'T'\nyear = 2020\nwhere = 'w'\n"
        "[problem]\n[[rows]]\nschedule = 'silver:3'\npublished = 1.0\nbeside = 'constant:1:0'\n",
        "key 'rows[0].beside':",
    ),
    ("schema_version = [", "not valid TOML"),
]


@pytest.mark.parametrize(("text", "message"), BAD_SPECS)
def test_malformed_spec_is_one_line_naming_file_and_key(tmp_path, capsys, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SpecError, match="bad.toml"):
        load_spec(path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code = main(["reproduce", str(path), "--out", str(out_dir)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert list(out_dir.iterdir()) == []  # nothing half-written


BESIDE_SPEC = """schema_version = 1
claim = "constant steps h = 1 and h = 3/2, N = 10"
kind = "worst_case"
[source]
authors = "Y. Drori and M. Teboulle"
title = "Performance of first-order methods for smooth convex minimization: a novel approach"
year = 2014
where = "Theorem 2 (and the (0, 2) extension)"
[problem]
[[rows]]
label = "h=1"
schedule = "constant:1:10"
published = 0.023809523809523808
beside = "constant:1.5:10"
"""


def test_beside_schedule_is_evaluated_and_written(tmp_path):
    # Drori & Teboulle: w = 1 / (4 N h + 2): 1/42 for the row, 1/62 beside it (N = 10)
    path = tmp_path / "beside.toml"
    path.write_text(BESIDE_SPEC)
    result = reproduce(load_spec(path))
    (row,) = result.rows
    assert row.match and row.beside_steps == 10
    assert row.beside_pepstep == pytest.approx(1 / 62, rel=RTOL_DRIFT)
    csv_path, json_path = write_outputs(result, tmp_path, figure=False)
    assert "constant:1.5:10,10,0.0161290" in csv_path.read_text()
    index = write_index(tmp_path).read_text()
    assert "`constant:1.5:10` (N = 10): 0.016129" in index
