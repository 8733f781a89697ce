"""Every ``--json`` output: one JSON object on stdout, no duplicate key, exactly the keys its
command module documents (the ``JSON output`` table of its docstring, also its ``--help``
epilog), and progress on stderr unless ``--quiet``."""

from __future__ import annotations

import importlib
import json

import pytest

from pepstep.cli import main
from pepstep.commands.common import json_epilog, json_schema

#: A fast run of each command with ``--json`` (files it writes go to the test's folder).
RUNS = {
    "rate-generated": ("rate", ["rate", "--schedule", "constant:1:40", "--json"]),
    "rate-full": ("rate", ["rate", "--steps", "1,1.5", "--json"]),
    "table": ("table", ["table", "--schedule", "constant:1.5:3", "--steps", "1.5,1.5", "--json"]),
    "optimize": (
        "optimize",
        ["optimize", "--num-steps", "1", "--starts", "1", "--restarts", "0", "--json", "--certify", "c.json"],
    ),
    "search": ("search", ["search", "--length", "1", "--workers", "1", "--json"]),
    "run": (
        "run",
        ["run", "--problem", "quadratic:spectrum", "--schedule", "constant:1", "--iters", "8", "--json"],
    ),
    "reproduce": ("reproduce", ["reproduce", "SPEC", "--out", ".", "--no-figures", "--json"]),
}


def strict_loads(text: str):
    """``json.loads`` that refuses a key given twice in one object."""

    def pairs(items):
        keys = [k for k, _ in items]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise AssertionError(f"duplicate JSON keys {dup}")
        return dict(items)

    return json.loads(text, object_pairs_hook=pairs)


def documented(command: str) -> dict:
    """``{parent: set of keys}`` of a command's table: ``""`` the top level, ``a`` and ``a[]``."""
    doc = importlib.import_module(f"pepstep.commands.{command}").__doc__
    schema = json_schema(doc)
    assert schema, f"pepstep.commands.{command} documents no JSON output"
    tree: dict = {}
    for path in schema:
        parent, _, key = path.rpartition(".")
        tree.setdefault(parent, set()).add(key)
    return tree


def check_keys(data: dict, tree: dict, where: str) -> None:
    assert set(data) == tree[""], f"{where}: keys {sorted(data)} != documented {sorted(tree[''])}"
    for parent, keys in tree.items():
        if not parent:
            continue
        name = parent.removesuffix("[]")
        value = data[name]
        items = value if parent.endswith("[]") else [value]
        for item in items:
            if item is None:  # documented as nullable ("null unless ...")
                continue
            assert set(item) == keys, f"{where}: {parent} keys {sorted(item)} != documented {sorted(keys)}"


def run_cli(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", list(RUNS))
def test_json_output_is_one_object_with_the_documented_keys(name, tmp_path, monkeypatch, capsys, request):
    command, argv = RUNS[name]
    root = request.config.rootpath
    argv = [str(root / "problems" / "constant_convex_short_steps.toml") if a == "SPEC" else a for a in argv]
    code, out, err = run_cli([*argv, "--quiet"], tmp_path, monkeypatch, capsys)
    assert code == 0, err
    data = strict_loads(out)  # exactly one JSON value: trailing text would not parse
    assert isinstance(data, dict)
    check_keys(data, documented(command), name)
    assert err == "", f"--quiet leaves stderr empty, got {err!r}"


def test_the_schema_is_the_help_epilog(capsys):
    for command in {c for c, _ in RUNS.values()}:
        code = main([command, "--help"])
        out = capsys.readouterr().out
        assert code == 0
        doc = importlib.import_module(f"pepstep.commands.{command}").__doc__
        for line in json_epilog(doc).splitlines():
            assert line.strip() in out, f"{command} --help lacks {line.strip()!r}"


def test_rate_names_what_ran(tmp_path, monkeypatch, capsys):
    """The Schur route is CVXOPT with pepstep's KKT solver; generation keys appear once."""
    code, out, err = run_cli(
        ["rate", "--schedule", "silver:63", "--json", "--quiet"], tmp_path, monkeypatch, capsys
    )
    data = strict_loads(out)
    assert code == 0, err
    assert (data["solver"], data["formulation"]) == ("cvxopt", "schur")
    assert "max_violation" not in data and "max_violation" not in data["residuals"]
    assert data["generation"]["closed_by"] == "lower bound"
    code, out, err = run_cli(["rate", "--steps", "1,1", "--json", "--quiet"], tmp_path, monkeypatch, capsys)
    data = strict_loads(out)
    assert (data["solver"], data["formulation"], data["generation"]) == ("clarabel", "dense", None)


def test_search_certificate_is_never_a_bare_null_beside_certified(tmp_path, monkeypatch, capsys):
    argv = ["search", "--length", "1", "--workers", "1", "--json", "--quiet"]
    code, out, err = run_cli([*argv, "--certificate", "cert.json"], tmp_path, monkeypatch, capsys)
    data = strict_loads(out)
    assert code == 0 and data["certified"] is True, err
    assert data["certificate"]["written_to"] == "cert.json" and (tmp_path / "cert.json").exists()
    assert data["certificate"]["average"] == json.loads((tmp_path / "cert.json").read_text())["average"]


@pytest.mark.parametrize("quiet", [False, True])
def test_progress_goes_to_stderr_with_json_unless_quiet(quiet, tmp_path, monkeypatch, capsys):
    """A fast optimize with the progress delay forced to 0: stdout one object, stderr the bar."""
    monkeypatch.setenv("PEPSTEP_PROGRESS_DELAY", "0")
    argv = ["optimize", "--num-steps", "2", "--starts", "1", "--restarts", "0", "--json"]
    code, out, err = run_cli(argv + ["--quiet"] * quiet, tmp_path, monkeypatch, capsys)
    assert code == 0, err
    assert isinstance(strict_loads(out), dict)
    if quiet:
        assert err == ""
    else:
        assert "optimize N=2" in err and "1 of 1 starts done" in err


def test_duplicate_keys_are_caught():
    with pytest.raises(AssertionError, match="duplicate JSON keys"):
        strict_loads('{"a": 1, "a": 2}')
