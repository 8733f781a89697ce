"""The `pepstep rate` contract: JSON keys, exit codes, one-line errors naming the bad value."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pepstep.cli import main
from tests.conftest import RTOL_CLOSED_FORM, assert_rel


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_rate_json_contract(capsys):
    code, out, err = run(capsys, "rate", "--schedule", "constant:1:10", "--json")
    assert code == 0, err
    data = json.loads(out)
    for key in ("value", "status", "solver", "steps", "num_steps", "class", "measure", "init", "seconds"):
        assert key in data
    assert data["status"] == "optimal" and data["solver"] == "clarabel" and data["num_steps"] == 10
    assert_rel(data["value"], 1 / 42, RTOL_CLOSED_FORM, "constant h=1, N=10")


def test_rate_units_and_text(capsys):
    code, out, _ = run(capsys, "rate", "--steps", "1.5", "--L", "2", "--R", "3")
    assert code == 0
    assert "<= 2.25 " in out  # (1/8) L R^2 = 2.25
    code, out, _ = run(
        capsys, "rate", "--schedule", "constant:1:5", "--class", "nonconvex", "--measure", "mingradnorm"
    )
    assert code == 0 and "min_k |grad f(x_k)|^2" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--steps", "1,-1.5"], "Got h_1=-1.5"),
        (["--steps", "0"], "Got h_0=0"),
        (["--steps", "1,nan"], "Got h_1=nan"),
        (["--steps", "inf"], "Got h_0=inf"),
        (["--steps", ""], "comma-separated"),
        (["--steps", "1,x"], "Step 1 is not a number: 'x'"),
        (["--steps", "1", "--L", "0"], "Got L=0.0"),
        (["--steps", "1", "--L", "-2"], "Got L=-2.0"),
        (["--steps", "1", "--class", "strongly-convex", "--mu", "1"], "Got mu=1.0 with L=1.0"),
        (["--steps", "1", "--class", "strongly-convex", "--mu", "-1"], "Got mu=-1.0"),
        (["--steps", "1", "--class", "concave"], "invalid choice: 'concave'"),
        (["--steps", "1", "--measure", "loss"], "invalid choice: 'loss'"),
        (["--steps", "1", "--init", "box"], "invalid choice: 'box'"),
        (["--steps", "1", "--solver", "gurobi"], "invalid choice: 'gurobi'"),
        (["--steps", "1", "--L", "abc"], "not a number: 'abc'"),
        (["--schedule", "silver:0"], "Got 0"),
        ([], "No schedule given"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, "rate", *argv) if argv else run(capsys, "rate")
    assert code == 2
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_mosek_without_license_is_one_clear_line(capsys):
    mosek = pytest.importorskip("mosek")
    try:
        with mosek.Env() as env:
            env.checkoutlicense(mosek.feature.pts)
        pytest.skip("MOSEK is licensed on this machine")
    except mosek.Error:
        pass
    code, out, err = run(capsys, "rate", "--steps", "1", "--solver", "mosek")
    assert code == 2 and out == ""
    assert err.startswith("pepstep: error: MOSEK is installed but has no license:")
    assert "use --solver clarabel" in err and len(err.strip().splitlines()) == 1


def test_solver_failure_prints_no_number(capsys):
    """An inaccurate solve: exit 1, status in the JSON, value null."""
    code, out, _ = run(
        capsys,
        "rate",
        "--schedule",
        "constant:1:10",
        "--class",
        "strongly-convex",
        "--mu",
        "0.5",
        "--measure",
        "dist",
        "--json",
    )
    data = json.loads(out)
    if data["status"] == "optimal":
        assert code == 0
        assert_rel(data["value"], 0.5**20, RTOL_CLOSED_FORM, "reported optimal")
    else:
        assert code == 1 and data["value"] is None


def test_console_script_runs():
    proc = subprocess.run(
        [sys.executable, "-m", "pepstep.cli", "rate", "--steps", "1.5", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert_rel(json.loads(proc.stdout)["value"], 0.125, RTOL_CLOSED_FORM, "N=1, h=1.5")


def test_large_n_uses_constraint_generation_with_the_full_value(capsys):
    """N = 63 (above GENERATE_FROM): generated, and equal to the closed form 1/(2(2Nh+1))."""
    code, out, err = run(capsys, "rate", "--schedule", "constant:1.5:63", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["method"] == "auto" and data["pairs_used"] < 65 * 64 and data["generation"]["rounds"] >= 1
    assert_rel(data["value"], 1 / (2 * (2 * 63 * 1.5 + 1)), RTOL_CLOSED_FORM, "constant 1.5, N=63")


def test_text_output_says_how_exactness_was_decided(capsys):
    """Silver N = 63: the step-horizon set (507 pairs) meets the Huber bound 1/(4 rho^6 - 2)."""
    code, out, err = run(capsys, "rate", "--schedule", "silver:63")
    assert code == 0, err
    line = next(x for x in out.splitlines() if x.startswith("exact"))
    assert "507 of 4160 pairs, 1 round(s): dual bound within 1e-6" in line
    rho = 1 + 2**0.5
    # printed to the digits the sandwich's width 1e-6 supports (7 here): 5e-7 relative
    assert_rel(float(line.rsplit(" ", 1)[1]), 1 / (4 * rho**6 - 2), 5e-7, "printed lower bound")


def test_exact_full_and_method_options(capsys):
    code, out, _ = run(capsys, "rate", "--schedule", "constant:1:5", "--exact-full", "--json")
    data = json.loads(out)
    assert code == 0 and data["method"] == "full" and data["pairs_used"] == 7 * 6
    code, out, _ = run(capsys, "rate", "--schedule", "constant:1:5", "--method", "generate", "--json")
    data = json.loads(out)
    assert code == 0 and data["pairs_used"] <= 7 * 6
    assert_rel(data["value"], 1 / 22, RTOL_CLOSED_FORM, "generated N=5")
    code, out, err = run(capsys, "rate", "--steps", "1", "--method", "magic")
    assert code == 2 and "invalid choice: 'magic'" in err and len(err.strip().splitlines()) == 1
