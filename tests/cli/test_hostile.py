"""Hostile input at the CLI boundary: one line on stderr, exit 2, nothing left behind.

Every case runs ``pepstep.cli.main(argv)`` in-process, in a fresh folder holding a few
fixture files, and checks the project's standard for bad input: the exit status, exactly one
line on stderr, no traceback anywhere, the folder unchanged afterwards (nothing half-written),
and a per-case alarm as a guard against hangs (not a speed assertion: bad input is refused
before any computation, so each case takes milliseconds).

The cases are generated from tables (bad values x options x commands) plus hand-written ones
for each finding of the outside review. The last tests solve small PEPs and check that the
statuses tell the truth at the extremes (unbounded, very long steps).
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from pepstep.cli import main

#: Per-case guard against a hang (seconds); a refusal takes milliseconds.
HANG_GUARD = 20

#: Files every case finds in its folder: a text file, a folder, a file that is not JSON,
#: a valid pattern, and a TOML file that is not a spec.
FIXTURES = {
    "afile.txt": "some text\n",
    "notjson.json": "this is not JSON\n",
    "pattern.json": json.dumps({"steps": ["1.5", "4.9", "1.5"]}),
    "bad.toml": "schema_version = 99\n",
    "checkpoint.json": json.dumps({"levels": "x"}),
    "huge.json": json.dumps({"steps": ["1.5", "1e400", "1.5"]}),
    "tiny.json": json.dumps({"steps": ["1e-400"]}),
}


def _snapshot(root: Path) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            out[str(p.relative_to(root))] = (p.is_dir(), st.st_size, st.st_mtime_ns)
    return out


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang(f"no answer within {HANG_GUARD} s")


def run_hostile(argv, tmp_path, monkeypatch, capsys):
    """Run one case; return (exit status, stdout, stderr) after the generic checks."""
    for name, text in FIXTURES.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "adir").mkdir(exist_ok=True)
    monkeypatch.chdir(tmp_path)
    before = _snapshot(tmp_path)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_GUARD)
    try:
        code = main(list(argv))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, err
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1, f"stderr must be one line, got {len(lines)}: {err!r}"
    assert _snapshot(tmp_path) == before, "the command left a file behind or changed one"
    return code, out, err


# --------------------------------------------------------------------------- the tables

#: Bad values of the problem options, each with a word the one-line message must contain.
BAD_PROBLEM_OPTIONS = (
    [
        (["--L", v], w)
        for v, w in [
            ("0", "L=0.0"),
            ("-1", "L=-1.0"),
            ("nan", "finite"),
            ("inf", "finite"),
            ("1e400", "overflows"),
            ("abc", "not a number"),
            ("", "not a number"),
        ]
    ]
    + [
        (["--R", v], w)
        for v, w in [
            ("0", "R=0.0"),
            ("-1", "R=-1.0"),
            ("nan", "finite"),
            ("inf", "finite"),
            ("1e400", "overflows"),
            ("abc", "not a number"),
            ("1e200", "representable"),
            ("1e-200", "representable"),
        ]
    ]
    + [
        (["--class", "strongly-convex", "--mu", v], w)
        for v, w in [
            ("-1", "mu=-1.0"),
            ("0", "mu=0.0"),
            ("1", "mu=1.0"),
            ("2", "mu=2.0"),
            ("nan", "finite"),
            ("inf", "finite"),
            ("abc", "not a number"),
        ]
    ]
    + [
        (["--L=-inf"], "finite"),
        (["--L", "1e300", "--measure", "gradnorm"], "representable"),
        (["--mu", "0.5"], "mu=0.5"),
        (["--class", "concave"], "invalid choice: 'concave'"),
        (["--class", ""], "invalid choice"),
        (["--class", "CONVEX"], "invalid choice"),
        (["--measure", "loss"], "invalid choice: 'loss'"),
        (["--measure", ""], "invalid choice"),
        (["--init", "box"], "invalid choice: 'box'"),
        (["--solver", "gurobi"], "invalid choice: 'gurobi'"),
        (["--solver", ""], "invalid choice"),
        (["--class", "nonconvex", "--measure", "fgap"], "unbounded"),
        (["--class", "nonconvex", "--measure", "dist"], "unbounded"),
        (["--class", "nonconvex", "--measure", "gradnorm", "--init", "dist"], "minimizer"),
        (["--init", "fgap", "--measure", "dist"], "unbounded"),
        (["--bogus"], "unrecognized arguments"),
    ]
)

#: Bad ``--steps`` strings.
BAD_STEPS = [
    ("", "comma-separated"),
    ("1,-1.5", "h_1=-1.5"),
    ("0", "h_0=0"),
    ("nan", "h_0=nan"),
    ("inf", "h_0=inf"),
    ("1,inf", "h_1=inf"),
    ("1e400", "too large"),
    ("1e-400", "too small"),
    ("1,,2", "empty"),
    ("x", "not a number"),
    ("1/0", "not a number"),
    ("1;2", "not a number"),
]

#: Bad ``--schedule`` strings (for rate, table and certify).
BAD_SCHEDULES = [
    ("silver:0", "Got 0"),
    ("silver:-1", "Got -1"),
    ("silver:x", "'x'"),
    ("silver", "silver:N"),
    ("constant:1", "constant:H:N"),
    ("constant:1:0", "Got 0"),
    ("constant:0:5", "h_0=0"),
    ("constant:1:2.5", "'2.5'"),
    ("constant:1,2:3", "one step value"),
    ("constant:1:100000000", "at most"),
    ("silver:5000", "at most"),
    ("pattern:nofile.json:2", "Cannot read"),
    ("pattern:notjson.json:2", "not valid JSON"),
    ("pattern:pattern.json:0", "Got 0"),
    ("pattern:pattern.json:1000", "at most 1023"),
    ("pattern:adir:1", "Cannot read"),
    ("pattern:huge.json:1", "too large"),
    ("pattern:tiny.json:1", "too small"),
    ("foo:1", "Unknown schedule 'foo'"),
    ("", "name such as"),
]

PROBLEM_COMMANDS = ["rate", "table", "certify"]


def _base(command: str) -> list:
    return [command, "--steps", "1.5"]


def _schedule_argv(command: str, spec: str) -> list:
    return [command, "--schedule", spec]


def _steps_argv(command: str, steps: str) -> list:
    return [command, "--steps", steps]


CASES = []  # (id, argv, exit status, word in stderr)

for cmd in PROBLEM_COMMANDS:
    for i, (opts, word) in enumerate(BAD_PROBLEM_OPTIONS):
        CASES.append((f"{cmd}-opt{i}-{'_'.join(opts)}", _base(cmd) + opts, 2, word))
    for i, (steps, word) in enumerate(BAD_STEPS):
        CASES.append((f"{cmd}-steps{i}", _steps_argv(cmd, steps), 2, word))
    for i, (spec, word) in enumerate(BAD_SCHEDULES):
        CASES.append((f"{cmd}-schedule{i}", _schedule_argv(cmd, spec), 2, word))

for cmd in ("rate", "certify"):
    CASES += [
        (f"{cmd}-both", [cmd, "--steps", "1", "--schedule", "silver:3"], 2, "not both"),
        (f"{cmd}-none", [cmd], 2, "No schedule given"),
    ]
for cmd in ("rate", "table", "reproduce"):
    base = ["reproduce", "problems/x.toml"] if cmd == "reproduce" else _base(cmd)
    CASES += [
        (f"{cmd}-method-magic", base + ["--method", "magic"], 2, "invalid choice: 'magic'"),
        (
            f"{cmd}-method-generate-exact-full",
            base + ["--method", "generate", "--exact-full"],
            2,
            "contradicts",
        ),
        (f"{cmd}-method-auto-exact-full", base + ["--method", "auto", "--exact-full"], 2, "contradicts"),
    ]

# certify: the rate, the support and the outputs
BAD_RATES = [
    ("-1", "> 0"),
    ("0", "> 0"),
    ("nan", "rational"),
    ("abc", "rational"),
    ("1/0", "rational"),
    ("", "rational"),
    ("1e400", "too large"),
]
for i, (rate, word) in enumerate(BAD_RATES):
    CASES.append((f"certify-rate{i}", ["certify", "--steps", "1", "--rate", rate], 2, word))
CASES.append(("certify-support", ["certify", "--steps", "1", "--support", "magic"], 2, "invalid choice"))
CASES.append(("certify-solver", ["certify", "--steps", "1", "--solver", "gurobi"], 2, "invalid choice"))

#: Bad output paths for a file option: (path, word).
BAD_FILES = [
    ("adir", "folder"),
    ("adir/", "folder"),
    (".", "folder"),
    ("afile.txt/x.json", "not a folder"),
    ("afile.txt/sub/x.json", "not a folder"),
    ("", "file name"),
    ("  ", "file name"),
    ("/proc/pepstep-hostile.json", "not writable"),
    ("/proc/no/such/x.json", "not writable"),
]
#: Bad output paths for a plot option.
BAD_PLOTS = [(p.replace(".json", ".png"), w) for p, w in BAD_FILES] + [
    ("x.txt", "format matplotlib writes"),
    ("x", "no extension"),
    ("x.json", "format matplotlib writes"),
    ("new/x.doc", "format matplotlib writes"),
]

for i, (path, word) in enumerate(BAD_FILES):
    for option in ("--out", "--proof"):
        CASES.append((f"certify{option}{i}", ["certify", "--steps", "1", option, path], 2, word))
    CASES.append(
        (f"certify-cyclic-out{i}", ["certify", "--cyclic", "--steps", "1.5,4.9,1.5", "--out", path], 2, word)
    )
CASES += [
    (
        "certify-same-file",
        ["certify", "--steps", "1", "--out", "a.json", "--proof", "a.json"],
        2,
        "same file",
    ),
    (
        "certify-same-file-2",
        ["certify", "--steps", "1", "--out", "a.json", "--proof", "./a.json"],
        2,
        "same file",
    ),
    (
        "certify-out-then-bad-proof",
        ["certify", "--steps", "1", "--out", "ok.json", "--proof", "afile.txt/p.md"],
        2,
        "not a folder",
    ),
]

# certify --cyclic: every finite-horizon option is refused, so none is silently ignored
CYCLIC_REFUSED = [
    ["--class", "strongly-convex"],
    ["--class", "convex"],
    ["--L", "2"],
    ["--mu", "0.1"],
    ["--measure", "dist"],
    ["--measure", "fgap"],
    ["--init", "dist"],
    ["--R", "2"],
    ["--rate", "1/3"],
    ["--support", "consecutive"],
    ["--proof", "p.md"],
    ["--solver", "clarabel"],
    ["--class", "strongly-convex", "--mu", "0.1", "--measure", "dist", "--rate", "1/3"],
]
for i, opts in enumerate(CYCLIC_REFUSED):
    CASES.append(
        (f"certify-cyclic-refuses{i}", ["certify", "--cyclic", "--steps", "1,2"] + opts, 2, "--cyclic")
    )
for i, (steps, word) in enumerate(BAD_STEPS):
    CASES.append((f"certify-cyclic-steps{i}", ["certify", "--cyclic", "--steps", steps], 2, word))
CASES.append(
    ("certify-cyclic-long", ["certify", "--cyclic", "--schedule", "constant:1.5:2000"], 2, "at most")
)

# optimize
OPT = ["optimize", "--num-steps", "2"]
BAD_OPTIMIZE = [
    (["--num-steps", "0"], ">= 1"),
    (["--num-steps", "-1"], ">= 1"),
    (["--num-steps", "10000"], "at most 127"),
    (["--num-steps", "128"], "at most 127"),
    (["--num-steps", "101"], "without --time-limit"),
    (["--num-steps", "abc"], "integer"),
    (["--num-steps", "1.5"], "integer"),
    (["--num-steps", "nan"], "integer"),
    (["--starts", "0"], ">= 1"),
    (["--starts", "-1"], ">= 1"),
    (["--starts", "abc"], "integer"),
    (["--restarts", "-1"], ">= 0"),
    (["--restarts", "99999999999999999999"], "at most 64"),
    (["--starts", "99999999999999999999"], "at most 64"),
    (["--restarts", "1.5"], "integer"),
    (["--restarts", "abc"], "integer"),
    (["--seed", "-1"], ">= 0"),
    (["--seed", "abc"], "integer"),
    (["--max-step", "0"], "> 0"),
    (["--max-step", "-1"], "> 0"),
    (["--max-step", "nan"], "finite"),
    (["--max-step", "inf"], "finite"),
    (["--max-step", "1e-9"], "max_step"),
    (["--radius", "0"], "> 0"),
    (["--radius", "-1"], "> 0"),
    (["--radius", "nan"], "finite"),
    (["--radius", "inf"], "finite"),
    (["--radius", "0.1", "--method", "lbfgsb"], "--radius"),
    (["--method", "magic"], "invalid choice"),
    (["--kinds", "magic"], "start kinds"),
    (["--kinds", ","], "empty"),
    (["--out", "a.json", "--certify", "a.json"], "same file"),
    (["--out", "a.json", "--plot", "a.png", "--certify", "./a.png"], "same file"),
]
for i, (opts, word) in enumerate(BAD_OPTIMIZE):
    argv = ["optimize"] + opts if opts[0] == "--num-steps" else OPT + opts
    CASES.append((f"optimize{i}", argv, 2, word))
for i, (opts, word) in enumerate(BAD_PROBLEM_OPTIONS):
    if "--solver" in opts and opts[-1] == "":
        continue
    CASES.append((f"optimize-opt{i}", OPT + opts, 2, word))
for i, (path, word) in enumerate(BAD_PLOTS):
    CASES.append((f"optimize-plot{i}", OPT + ["--plot", path], 2, word))
for i, (path, word) in enumerate(BAD_FILES):
    CASES.append((f"optimize-out{i}", OPT + ["--out", path], 2, word))
    CASES.append((f"optimize-certify{i}", OPT + ["--certify", path], 2, word))
CASES.append(("optimize-missing", ["optimize"], 2, "required"))

# search
SEARCH = ["search", "--length", "3"]
BAD_SEARCH = [
    (["--length", "0"], "2^k - 1"),
    (["--length", "-1"], "2^k - 1"),
    (["--length", "2"], "2^k - 1"),
    (["--length", "4"], "2^k - 1"),
    (["--length", "1023"], "at most 511"),
    (["--length", "abc"], "invalid int"),
    (["--workers", "0"], ">= 1"),
    (["--workers", "-2"], ">= 1"),
    (["--workers", "1000"], "at most 64"),
    (["--workers", "abc"], "integer"),
    (["--first", "-1"], "first=-1.0"),
    (["--first", "0"], "first=0.0"),
    (["--first", "nan"], "first=nan"),
    (["--first", "inf"], "first=inf"),
    (["--first", "abc"], "invalid float"),
    (["--seed", "-1"], ">= 0"),
    (["--scheduler", "notaurl"], "address such as"),
    (["--scheduler", ""], "address such as"),
    (["--scheduler", "http://127.0.0.1:8786"], "address such as"),
    (["--scheduler", "tcp://"], "address such as"),
    (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "not both"),
    (["--scheduler", "tcp://127.0.0.1:1"], "Cannot reach the Dask scheduler"),
    (["--checkpoint", "notjson.json"], "not a search checkpoint"),
    (["--checkpoint", "afile.txt"], "not a search checkpoint"),
    (["--checkpoint", "checkpoint.json"], "not a search checkpoint"),
    (["--checkpoint", "c.json", "--certificate", "c.json"], "same file"),
]
for i, (opts, word) in enumerate(BAD_SEARCH):
    argv = ["search"] + opts if opts[0] == "--length" else SEARCH + opts
    CASES.append((f"search{i}", argv, 2, word))
for i, (path, word) in enumerate(BAD_FILES):
    CASES.append((f"search-checkpoint{i}", SEARCH + ["--checkpoint", path], 2, word))
    CASES.append((f"search-certificate{i}", SEARCH + ["--certificate", path], 2, word))
CASES.append(("search-missing", ["search"], 2, "required"))

# run
RUN = ["run", "--problem", "quadratic:spectrum", "--schedule", "constant:1", "--iters", "10"]
BAD_RUN = [
    (["--problem", "magic"], "Unknown problem 'magic'"),
    (["--iters", "0"], ">= 1"),
    (["--iters", "-1"], ">= 1"),
    (["--iters", "abc"], "integer"),
    (["--iters", "100000000"], "at most"),
    (["--bound-max-n", "0"], ">= 1"),
    (["--bound-max-n", "5000"], "at most 1023"),
    (["--schedule", ""], "name such as"),
    (["--schedule", "foo:1"], "Unknown schedule 'foo'"),
    (["--schedule", "constant:0"], "h_0=0"),
    (["--schedule", "constant:nan"], "h_0=nan"),
    (["--schedule", "steps:1,nan"], "h_1=nan"),
    (["--schedule", "hypergradient:depth=-1"], "depth"),
    (["--schedule", "hypergradient:alpha=1"], "depth=K"),
    (["--schedule", "hypergradient:depth=1000000000"], "at most 1000"),
    (["--schedule", "hypergradient:depth=x"], "must be a number"),
    (["--schedule", "hypergradient:depth=2,kappa=nan"], "hyper_step"),
    (["--schedule", "hypergradient:depth=2,alpha=-1"], "alpha0"),
    (["--schedule", "pattern:nofile.json:2"], "Cannot read"),
    (["--solver", "gurobi"], "invalid choice"),
    (["--cache-dir", "afile.txt"], "not a folder"),
    (["--cache-dir", "afile.txt/sub"], "not a folder"),
    (["--plot", "x.png", "--cache-dir", "x.png"], "same file"),
]
for i, (opts, word) in enumerate(BAD_RUN):
    CASES.append((f"run{i}", RUN + opts, 2, word))
for i, (path, word) in enumerate(BAD_PLOTS):
    CASES.append((f"run-plot{i}", RUN + ["--plot", path], 2, word))
CASES.append(("run-missing", ["run", "--problem", "quadratic:spectrum"], 2, "required"))

# reproduce
CASES += [
    ("reproduce-nofile", ["reproduce", "nofile.toml", "--out", "adir"], 2, "cannot read"),
    ("reproduce-notoml", ["reproduce", "notjson.json", "--out", "adir"], 2, "not valid TOML"),
    ("reproduce-badspec", ["reproduce", "bad.toml", "--out", "adir"], 2, "schema_version"),
    ("reproduce-folder-spec", ["reproduce", "adir", "--out", "adir"], 2, "cannot read"),
    ("reproduce-solver", ["reproduce", "bad.toml", "--solver", "gurobi"], 2, "invalid choice"),
    ("reproduce-missing", ["reproduce"], 2, "required"),
]

# figures
CASES += [
    ("figures-out-missing", ["figures", "--out", "nofolder"], 2, "does not exist"),
    ("figures-out-file", ["figures", "--out", "afile.txt"], 2, "does not exist"),
    ("figures-max-steps-0", ["figures", "--out", "adir", "--max-steps", "0"], 2, "max-steps"),
    ("figures-max-steps-abc", ["figures", "--out", "adir", "--max-steps", "abc"], 2, "invalid int"),
    ("figures-solver", ["figures", "--out", "adir", "--solver", "gurobi"], 2, "invalid choice"),
]

# the command line itself
CASES += [
    ("no-command", [], 2, "required"),
    ("unknown-command", ["frobnicate"], 2, "invalid choice"),
    ("table-no-schedule", ["table"], 2, "No schedule given"),
]
BASES = {"optimize": OPT, "search": SEARCH, "run": RUN, "reproduce": ["reproduce", "bad.toml"]}
for cmd in ("rate", "table", "certify", "optimize", "search", "run", "reproduce", "figures"):
    CASES.append((f"{cmd}-bogus-option", BASES.get(cmd, [cmd]) + ["--bogus-option"], 2, "--bogus-option"))


def test_corpus_is_large():
    assert len(CASES) >= 250, len(CASES)
    assert len({c[0] for c in CASES}) == len(CASES), "case ids must be unique"


@pytest.mark.parametrize(("argv", "status", "word"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_input(argv, status, word, tmp_path, monkeypatch, capsys):
    code, out, err = run_hostile(argv, tmp_path, monkeypatch, capsys)
    assert code == status, err
    assert word in err, err
    assert out == "", "a refusal prints nothing on stdout"


# --------------------------------------------------------------------------- last resort


def test_internal_error_is_one_line(tmp_path, monkeypatch, capsys):
    """An unexpected exception becomes 'pepstep: internal error: ...', exit 1."""
    import pepstep.commands.rate as rate

    def boom(args):
        raise ZeroDivisionError("boom\nsecond line")

    monkeypatch.setattr(rate, "run", boom)
    code, _, err = run_hostile(["rate", "--steps", "1"], tmp_path, monkeypatch, capsys)
    assert code == 1 and err.startswith("pepstep: internal error: ZeroDivisionError: boom second line")


def test_keyboard_interrupt_is_130(tmp_path, monkeypatch, capsys):
    import pepstep.commands.rate as rate

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(rate, "run", interrupted)
    code, _, err = run_hostile(["rate", "--steps", "1"], tmp_path, monkeypatch, capsys)
    assert code == 130 and "interrupted" in err


# --------------------------------------------------------------------------- outputs


def test_check_output_path_signature_and_rules(tmp_path):
    from pepstep._io import check_output_path
    from pepstep.errors import InputError

    assert check_output_path(tmp_path / "new" / "x.json", "--out") == tmp_path / "new" / "x.json"
    assert not (tmp_path / "new").exists(), "checking creates no folder"
    assert check_output_path(tmp_path / "cache", "--cache-dir", folder=True) == tmp_path / "cache"
    with pytest.raises(InputError, match="is a folder"):
        check_output_path(tmp_path, "--out")
    with pytest.raises(InputError, match="format matplotlib writes"):
        check_output_path(tmp_path / "x.txt", "--plot", plot=True)
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="is not a folder"):
        check_output_path(tmp_path / "f", "--cache-dir", folder=True)


def test_outputs_all_or_nothing(tmp_path):
    from pepstep._io import Outputs

    with pytest.raises(RuntimeError, match="late failure"):
        with Outputs() as out:
            out.text(tmp_path / "a.json", "{}")
            out.text(tmp_path / "sub" / "deeper" / "b.md", "text")
            raise RuntimeError("late failure")
    assert list(tmp_path.iterdir()) == [], "temporary files and created folders are removed"
    with Outputs() as out:
        out.text(tmp_path / "a.json", "{}")
        out.text(tmp_path / "sub" / "b.md", "text")
    assert (tmp_path / "a.json").read_text() == "{}" and (tmp_path / "sub" / "b.md").read_text() == "text"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "sub"]


# --------------------------------------------------------------------------- true statuses


def _json_rate(capsys, *argv):
    code = main(["rate", *argv, "--json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, json.loads(out), err


def test_nonconvex_long_step_is_unbounded(capsys):
    """GD with a step above 2 on L-smooth functions: no finite bound on min |grad f|^2."""
    argv = ["--steps", "3,1", "--class", "nonconvex", "--measure", "mingradnorm", "--init", "fgap"]
    for method in ("full", "generate"):
        code, data, _ = _json_rate(capsys, *argv, "--method", method)
        assert code == 1 and data["status"] == "unbounded" and data["value"] is None, data
    code = main(["rate", *argv])
    _, err = capsys.readouterr()
    assert code == 1 and "unbounded" in err and "infeasible PEP" not in err
    assert len(err.strip().splitlines()) == 1


def test_very_long_step_is_not_called_infeasible(capsys):
    """h = 1e6 has a finite worst case (about 5e11 L R^2): never 'infeasible' or 'unbounded'."""
    code, data, _ = _json_rate(capsys, "--steps", "1e6")
    assert data["status"] not in ("infeasible", "unbounded"), data
    if data["status"] == "optimal":
        assert code == 0 and data["value"] == pytest.approx((1e6 - 1) ** 2 / 2, rel=1e-6)
    else:
        assert code == 1 and data["value"] is None and data["residuals"].get("reason"), data


def test_long_step_solved_exactly(capsys):
    """h = 1000 (one step): the worst case is (h - 1)^2 / 2 = 499000.5 L R^2."""
    code, data, _ = _json_rate(capsys, "--steps", "1000")
    assert code == 0 and data["status"] == "optimal"
    assert data["value"] == pytest.approx(499000.5, rel=1e-6)


def test_optimize_prints_no_value_for_an_inaccurate_solve(tmp_path, monkeypatch, capsys):
    """An inaccurate final solve: exit 1, no number, no file (neither --out nor --plot)."""
    from types import SimpleNamespace

    import pepstep.commands.optimize as command
    from pepstep.solve import Status

    fake = SimpleNamespace(
        ok=False,
        status=Status.INACCURATE,
        to_json=lambda: {"steps": [1.5], "value": 0.123456789, "normalized_value": 0.123456789},
    )
    monkeypatch.setattr(command, "optimize", lambda *a, **k: fake)
    argv = ["optimize", "--num-steps", "1", "--out", "o.json", "--plot", "p.png"]
    code, out, err = run_hostile(argv, tmp_path, monkeypatch, capsys)
    assert code == 1 and "inaccurate" in err and "0.123" not in out + err
    code, out, err = run_hostile([*argv, "--json"], tmp_path, monkeypatch, capsys)
    assert code == 1 and json.loads(out)["value"] is None and "0.123" not in out.replace('"steps"', "")
