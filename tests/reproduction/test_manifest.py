"""reproduce never overwrites a file it did not write; results/README.md is grouped by claim."""

from __future__ import annotations

from pathlib import Path

import pytest

from pepstep.cli import main
from pepstep.errors import InputError
from pepstep.reproduce import MANIFEST, check_manifest, planned_outputs, record_outputs
from pepstep.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "problems" / "strongly_convex_constant.toml"


def test_reproduce_refuses_a_foreign_readme_before_computing(tmp_path, capsys):
    (tmp_path / "README.md").write_text("my notes\n")
    code = main(["reproduce", str(SPEC), "--out", str(tmp_path), "--no-figures", "--quiet"])
    err = capsys.readouterr()
    assert code == 2 and "Refusing to overwrite" in err.err and len(err.err.strip().splitlines()) == 1
    assert err.out == ""  # refused before the first row was computed
    assert (tmp_path / "README.md").read_text() == "my notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]


def test_reproduce_rewrites_its_own_files_and_groups_the_index(tmp_path, capsys):
    args = ["reproduce", str(SPEC), "--out", str(tmp_path), "--no-figures", "--quiet"]
    assert main(args) == 0
    assert main(args) == 0  # its own files, listed in the manifest, are rewritten
    assert "README.md" in (tmp_path / MANIFEST).read_text()
    index = (tmp_path / "README.md").read_text()
    spec = load_spec(SPEC)
    assert index.count(spec.source.authors) == 1  # the source cited once for its claim
    assert index.count(spec.claim) == 1
    assert index.count("| match |") == len(spec.rows) + 1  # the table header, then a line per row


def test_committed_results_are_all_in_their_manifest():
    specs = [load_spec(p) for p in sorted((ROOT / "problems").glob("*.toml"))]
    check_manifest(ROOT / "results", planned_outputs(specs))  # raises if one is missing


def test_manifest_check_names_the_file(tmp_path):
    (tmp_path / "a.csv").write_text("x")
    with pytest.raises(InputError, match=r"Refusing to overwrite .*a\.csv"):
        check_manifest(tmp_path, ["a.csv", "b.csv"])
    record_outputs(tmp_path, [tmp_path / "a.csv"])
    check_manifest(tmp_path, ["a.csv", "b.csv"])
