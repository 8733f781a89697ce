"""The CLI of stacks and of the robustness experiment: hostile input is one line and exit 2 with
nothing written; --json outputs carry exactly the documented keys; statuses tell the truth."""

from __future__ import annotations

import json

import pytest

from pepstep.cli import main
from tests.cli.test_hostile import run_hostile
from tests.cli.test_json_schema import check_keys, documented, strict_loads

RUN = ["run", "--problem", "least_squares:diabetes", "--iters", "5"]
ROB = ["robustness", "--problem", "least_squares:diabetes", "--iters", "5", "--per-decade", "1"]

HOSTILE = [
    (RUN + ["--schedule", "stack:"], "names no optimizer"),
    (RUN + ["--schedule", "stack:adam//sgd"], "Bad stack level"),
    (RUN + ["--schedule", "stack:lion/sgd"], "Unknown optimizer 'lion'"),
    (RUN + ["--schedule", "stack:sgd(0.1"], "Unbalanced parentheses"),
    (RUN + ["--schedule", "stack:sgd(-1)"], "alpha=-1.0"),
    (RUN + ["--schedule", "stack:sgd(nan)"], "must be finite"),
    (RUN + ["--schedule", "stack:sgd(inf)/sgd"], "must be finite"),
    (RUN + ["--schedule", "stack:adam(0.1,1.5)"], "beta1=1.5"),
    (RUN + ["--schedule", "stack:adam(beta2=0)"], "beta2=0.0"),
    (RUN + ["--schedule", "stack:momentum(mu=-0.1)"], "mu=-0.1"),
    (RUN + ["--schedule", "stack:rmsprop(gamma=1)"], "gamma=1.0"),
    (RUN + ["--schedule", "stack:sgd(1,2)"], "at most 1 values"),
    (RUN + ["--schedule", "stack:sgd(lr=1)"], "no hyperparameter 'lr'"),
    (RUN + ["--schedule", "stack:sgd(alpha=1,alpha=2)"], "given twice"),
    (RUN + ["--schedule", "stackk:sgd"], "Unknown schedule 'stackk'"),
    (RUN + ["--schedule", "stack:" + "sgd/" * 60 + "sgd"], "at most 50 levels"),
    (["run", "--problem", "mlp:digits", "--schedule", "constant:1"], "no known L"),
    (["run", "--problem", "mlp:digits", "--schedule", "hypergradient:depth=1"], "no known L"),
    (["run", "--problem", "mlp:digits@batch=0", "--schedule", "stack:sgd"], "batch=0"),
    (
        ["run", "--problem", "mlp:digits@batch=2,seed=x", "--schedule", "stack:sgd"],
        "'seed' must be an integer",
    ),
    (["run", "--problem", "quadratic:spectrum@batch=2", "--schedule", "stack:sgd"], "not a sum over samples"),
    (["run", "--problem", "mlp:cifar", "--schedule", "stack:sgd"], "Unknown problem 'mlp:cifar'"),
    (ROB + ["--heights", "0,x"], "'x'"),
    (ROB + ["--heights", "0,11"], "in [0, 10]. Got 11"),
    (ROB + ["--heights", "1,1"], "twice"),
    (ROB + ["--heights", "-1"], "Got -1"),
    (ROB + ["--certify-n", "0"], "in [1, 1023]. Got 0"),
    (ROB + ["--certify-n", "2000"], "Got 2000"),
    (ROB + ["--alpha-min", "0"], "must be finite and > 0"),
    (ROB + ["--alpha-min", "nan"], "finite"),
    (ROB + ["--alpha-max", "-1"], "must be finite and > 0"),
    (ROB + ["--alpha-min", "1", "--alpha-max", "0.1"], "below --alpha-max"),
    (ROB + ["--kappa-sgd", "-1"], "must be finite and > 0"),
    (ROB + ["--kappa-adam", "inf"], "finite"),
    (ROB + ["--family", "lion"], "invalid choice: 'lion'"),
    (ROB + ["--per-decade", "0"], ">= 1"),
    (ROB + ["--iters", "0"], ">= 1"),
    (ROB + ["--problem", "least_squares:diabetes"], "given twice"),
    (ROB[:1] + ["--problem", "nope"], "Unknown problem 'nope'"),
    (ROB + ["--alpha-min", "1e-300", "--alpha-max", "1e300", "--per-decade", "20"], "at most 10000"),
    (ROB + ["--plot", "adir"], "adir"),
    (ROB + ["--out", "x.json", "--learned-table", "x.json"], "x.json"),
    (ROB + ["--plot", "out.txt"], "out.txt"),
    (ROB + ["--out", "missing/deeper/x.json", "--heights", "x"], "'x'"),
]


@pytest.mark.parametrize("argv,needle", HOSTILE, ids=[" ".join(a[-2:])[:40] for a, _ in HOSTILE])
def test_hostile_input_is_one_line_and_exit_2(argv, needle, tmp_path, monkeypatch, capsys):
    code, out, err = run_hostile(argv, tmp_path, monkeypatch, capsys)
    assert code == 2, err
    assert needle in err, err
    assert out == ""


def _run(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main([*argv, "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""
    return out


def test_run_json_of_stacks_has_the_documented_keys(tmp_path, monkeypatch, capsys):
    argv = RUN + [
        "--schedule",
        "silver:7",
        "--schedule",
        "stack:sgd(0.1)/sgd(1e-3)",
        "--schedule",
        "stack:adam/sgd",
    ]
    data = strict_loads(_run([*argv, "--json", "--bound-max-n", "7"], tmp_path, monkeypatch, capsys))
    check_keys(data, documented("run"), "run with stacks")
    fixed, learned, adam = data["methods"]
    assert fixed["bound_status"] == {} and fixed["final_hyper"] is None
    assert learned["bound_status"] == {"1": "optimal", "3": "optimal"}  # N <= iters = 5
    assert "realized steps" in learned["pep"]
    assert all(b["observed"] <= b["value"] for b in learned["bounds"])
    assert learned["final_hyper"][1] == {"alpha": 1e-3}  # the top level is constant
    assert adam["bounds"] == [] and adam["pep"].startswith("no PEP bound: the bottom level adam")


def test_run_on_mlp_prints_no_bound(tmp_path, monkeypatch, capsys):
    data = strict_loads(
        _run(
            [
                "run",
                "--problem",
                "mlp:digits",
                "--schedule",
                "stack:adam/sgd(1e-5)",
                "--iters",
                "3",
                "--json",
            ],
            tmp_path,
            monkeypatch,
            capsys,
        )
    )
    check_keys(data, documented("run"), "run on mlp:digits")
    assert data["problem"]["L"] is None and data["problem"]["f_star"] is None
    (m,) = data["methods"]
    assert m["pep"] == "no PEP bound: nonconvex, L unknown" and m["bounds"] == []
    text = _run(
        ["run", "--problem", "mlp:digits", "--schedule", "stack:sgd", "--iters", "2"],
        tmp_path,
        monkeypatch,
        capsys,
    )
    assert "no PEP bound: nonconvex, L unknown" in text


def test_robustness_json_has_the_documented_keys_and_true_statuses(tmp_path, monkeypatch, capsys):
    argv = ROB + [
        "--alpha-min",
        "0.01",
        "--alpha-max",
        "0.1",
        "--heights",
        "0,1",
        "--certify-n",
        "3",
        "--json",
        "--out",
        "r.json",
        "--learned-table",
        "t.csv",
    ]
    data = strict_loads(_run(argv, tmp_path, monkeypatch, capsys))
    check_keys(data, documented("robustness"), "robustness")
    assert json.loads((tmp_path / "r.json").read_text()) == data
    assert len(data["rows"]) == 4 and data["alphas"] == pytest.approx([0.01, 0.1])
    sgd = [x for x in data["learned"] if x["N"] == 3]
    assert len(sgd) == 4 and all(x["status"] == "optimal" for x in sgd)
    assert all(x["observed"] <= x["worst_case"] for x in sgd)
    ref = data["reference_worst_cases"]["3"]
    assert ref["constant 1"]["worst_case"] == pytest.approx(1 / 14, rel=1e-6)  # 1/(4N + 2)
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert len(lines) == 1 + len(data["learned"])
