"""Hostile certificate files against the kernel and ``pepstep verify``.

Every case: exit 1 (a well-formed file whose proof fails) or 2 (malformed, outside the limits),
exactly one line on stderr, no traceback, no file left behind. The bulk corpus (every key deleted
or given a wrong value, for both kinds) runs through the kernel in-process; the crafted files of
the review run through the CLI, which runs the kernel in its own process under the work limit.
"""

from __future__ import annotations

import functools
import json
import signal
from fractions import Fraction as F

import pytest

from pepstep import cli, kernel
from pepstep.certificate import Certificate
from pepstep.cyclic import certify_pattern
from pepstep.errors import CertificateFormatError

HANG_GUARD_SECONDS = 120  # a guard against hangs, not a speed assertion


def one_step() -> dict:
    """Drori & Teboulle's N = 1 proof of f(x_1) - f* <= L R^2 / 6 (h = 1)."""
    lam = {("*", 0): F(1, 2), ("*", 1): F(1, 2), (0, 1): F(1, 2)}
    cert = Certificate("convex", F(1), F(0), "fgap", "dist", F(1), (F(1),), F(1, 6), F(1, 6), lam)
    return json.loads(cert.to_json())


@functools.cache
def _t3() -> str:
    return json.dumps(certify_pattern([F(3, 2), F(49, 10), F(3, 2)]).to_json())


def t3() -> dict:
    return json.loads(_t3())


BAD_VALUES = [None, True, 1, 1.5, -1, "1e5", "x", "", " 1", "1/0", "2/4", "-0", "\u0663", [], {}, "1" * 4001]


def _bulk_cases():
    for kind, base in (("worst-case", one_step), ("cyclic", t3)):
        keys = sorted(base())
        for key in keys:
            yield pytest.param(kind, key, "delete", id=f"{kind}-{key}-delete")
            for i, value in enumerate(BAD_VALUES):
                if type(value) is type(base()[key]) and value == base()[key]:
                    continue  # not an edit
                if key == "bounds" and value == []:
                    continue  # no stated bound: a weaker claim, rightly accepted
                yield pytest.param(kind, key, value, id=f"{kind}-{key}-bad{i}")
        other = one_step() if kind == "cyclic" else t3()
        for key in sorted(set(other) - set(keys)):
            yield pytest.param(kind, key, other[key], id=f"{kind}-add-{key}-of-other-kind")


@pytest.mark.parametrize("kind,key,value", list(_bulk_cases()))
def test_bulk_corpus_is_refused_or_rejected(kind, key, value):
    obj = one_step() if kind == "worst-case" else t3()
    if value == "delete":
        del obj[key]
    else:
        obj[key] = value
    try:
        verdict = kernel.verify_text(json.dumps(obj))
    except CertificateFormatError as exc:
        msg = str(exc)
        assert "\n" not in msg and msg.startswith("Malformed certificate: ")
        assert repr(key)[1:-1] in msg or key in ("kind",) or "JSON" in msg or "format_version" in msg, msg
        return
    # a well-formed edit: must not be accepted (every edit here changes a stated or checked value)
    assert not verdict.valid, (key, value, verdict.message)


def _write(tmp_path, name: str, data) -> str:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return str(path)


def _finite_with_cyclic_keys() -> str:
    obj = one_step() | {k: v for k, v in t3().items() if k in ("delta", "q", "lambda", "gamma")}
    obj["rate"] = "1/1000"
    return json.dumps(obj)


def _cyclic_false_average() -> str:
    obj = t3()
    obj["average"] = "100"
    return json.dumps(obj)


def _steps(n: int, kind: str) -> str:
    obj = one_step() if kind == "worst-case" else t3()
    obj["steps"] = ["1"] * n
    return json.dumps(obj)


def _replace(base: dict, **changes) -> str:
    return json.dumps(base | changes)


CRAFTED = {
    # the review's files
    "finite-with-cyclic-keys-rate-1/1000": (_finite_with_cyclic_keys, 2),
    "cyclic-false-average": (_cyclic_false_average, 1),
    "cyclic-valid-false": (lambda: _replace(t3(), valid=False), 2),
    "q-1e400": (lambda: _replace(t3(), q="1" + "0" * 400), 1),
    "400-digit-multiplier": (
        lambda: _replace(one_step(), multipliers={"*,0": "7" * 400, "*,1": "1/2", "0,1": "1/2"}),
        1,
    ),
    "json-1e999-number": (lambda: json.dumps(one_step()).replace('"1/6"', "1e999", 1), 2),
    "json-1e999-pair-index": (lambda: _t3().replace("[-1, ", "[1e999, ", 1), 2),
    "json-nan": (lambda: json.dumps(one_step()).replace('"1/6"', "NaN", 1), 2),
    "json-minus-infinity": (lambda: json.dumps(one_step()).replace('"1/6"', "-Infinity", 1), 2),
    "rational-5000-digits": (lambda: _replace(one_step(), tau="1/" + "3" * 5000), 2),
    "rational-4300-digits-numerator": (lambda: _replace(one_step(), R="9" * 4300), 2),
    "deep-array-100000": (lambda: "[" * 100_000 + "]" * 100_000, 2),
    "deep-object-in-multipliers": (
        lambda: _replace(one_step(), multipliers={"*,0": {"a": {"b": [[[]]]}}}),
        2,
    ),
    "delta-exponent": (lambda: _replace(t3(), delta="1e999999999"), 2),
    "cyclic-6000-steps": (lambda: _steps(6000, "cyclic"), 2),
    "finite-4096-steps": (lambda: _steps(4096, "worst-case"), 2),
    "duplicate-top-key": (lambda: json.dumps(one_step())[:-1] + ', "tau": "1/6"}', 2),
    "duplicate-multiplier-key": (lambda: json.dumps(one_step()).replace('"0,1"', '"*,1"'), 2),
    "cyclic-duplicate-pair": (lambda: _replace(t3(), **{"lambda": t3()["lambda"] + t3()["lambda"][:1]}), 2),
    "cyclic-bool-index": (lambda: _t3().replace("[-1, ", "[true, ", 1), 2),
    "cyclic-8-digit-index": (lambda: _t3().replace("[-1, ", "[12345678, ", 1), 2),
    "cyclic-4-element-entry": (lambda: _replace(t3(), gamma=[[-1, 0, "1", "x"]]), 2),
    "cyclic-float-index": (lambda: _t3().replace("[-1, ", "[-1.0, ", 1), 2),
    "cyclic-pair-out-of-range": (lambda: _replace(t3(), gamma=[[-1, 9, "1"]]), 2),
    "cyclic-self-pair": (lambda: _replace(t3(), **{"lambda": [[1, 1, "1"]]}), 2),
    "cyclic-negative-delta": (lambda: _replace(t3(), delta="-1/8"), 2),
    "cyclic-zero-step": (lambda: _replace(t3(), steps=["3/2", "0", "3/2"]), 2),
    "cyclic-q-lowered": (lambda: _replace(t3(), q=str(F(t3()["q"]) / 2)), 1),
    "finite-nonconvex-with-star": (
        lambda: _replace(one_step(), **{"class": "nonconvex", "init": "fgap", "measure": "gradnorm"}),
        2,
    ),
    "finite-mu-for-convex": (lambda: _replace(one_step(), mu="1/2"), 2),
    "finite-mu-equals-L": (lambda: _replace(one_step(), **{"class": "strongly-convex", "mu": "1"}), 2),
    "finite-L-zero": (lambda: _replace(one_step(), L="0"), 2),
    "finite-negative-R": (lambda: _replace(one_step(), R="-1"), 2),
    "finite-dist-under-fgap": (lambda: _replace(one_step(), measure="dist", init="fgap"), 2),
    "finite-nu-without-mingradnorm": (lambda: _replace(one_step(), nu={"0": "1"}), 2),
    "finite-wrong-normalization": (lambda: _replace(one_step(), normalization="trust me"), 2),
    "finite-wrong-scale": (lambda: _replace(one_step(), scale="2"), 2),
    "finite-rate-lowered": (lambda: _replace(one_step(), rate="1/7"), 1),
    "finite-tau-and-rate-lowered": (lambda: _replace(one_step(), rate="1/7", tau="1/7"), 1),
    "finite-negative-multiplier": (
        lambda: _replace(one_step(), multipliers={"*,0": "-1/2", "*,1": "1/2", "0,1": "1/2"}),
        1,
    ),
    "finite-support-unknown": (lambda: _replace(one_step(), support="dyadic"), 2),
    "finite-format-version-1": (lambda: _replace(one_step(), format_version=1), 2),
    "finite-format-version-string": (lambda: _replace(one_step(), format_version="2"), 2),
    "kind-unknown": (lambda: _replace(one_step(), kind="theorem"), 2),
    "kind-list": (lambda: _replace(one_step(), kind=["worst-case"]), 2),
    "top-level-array": (lambda: "[]", 2),
    "top-level-string": (lambda: '"valid"', 2),
    "top-level-number": (lambda: "42", 2),
    "empty-file": (lambda: "", 2),
    "bom": (lambda: b"\xef\xbb\xbf" + json.dumps(one_step()).encode(), 2),
    "not-utf8": (lambda: b"\xff\xfe{}", 2),
    "truncated": (lambda: json.dumps(one_step())[:40], 2),
    "trailing-garbage": (lambda: json.dumps(one_step()) + " x", 2),
    "two-objects": (lambda: json.dumps(one_step()) * 2, 2),
    "long-key": (lambda: _replace(one_step(), **{"k" * 100_000: "1"}), 2),
    "non-ascii-key": (lambda: _replace(one_step(), **{"t\u0430u": "1/6"}), 2),
    "fullwidth-digits": (lambda: _replace(one_step(), tau="\uff11/6"), 2),
    "plus-sign": (lambda: _replace(one_step(), tau="+1/6"), 2),
    "leading-zero": (lambda: _replace(one_step(), tau="01/6"), 2),
    "decimal-point": (lambda: _replace(one_step(), tau="0.1666"), 2),
    "spaces-in-rational": (lambda: _replace(one_step(), tau="1 / 6"), 2),
    "null-byte": (lambda: json.dumps(one_step()).replace('"1/6"', '"1/6\\u0000"', 1), 2),
}


@pytest.fixture
def guard():
    def alarm(*_):
        raise TimeoutError("hang guard")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(HANG_GUARD_SECONDS)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _run_cli(argv, tmp_path, capsys):
    before = sorted(p.name for p in tmp_path.iterdir())
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "a file was left behind"
    return code, out, err


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_files_exit_1_or_2_with_one_line(name, tmp_path, capsys, guard):
    make, expected = CRAFTED[name]
    path = _write(tmp_path, "cert.json", make())
    code, out, err = _run_cli(["verify", path], tmp_path, capsys)
    assert code == expected, err
    assert out == "" and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(
    "argv_tail,expected,match",
    [
        (["--proof", "{tmp}"], 2, "--proof"),
        (["--proof", "/no/such/dir/p.md"], 2, "/no/such/dir"),
        (["--proof", "{tmp}/p.md", "--proof-extra"], 2, "unrecognized"),
    ],
)
def test_bad_proof_paths_are_refused_before_checking(argv_tail, expected, match, tmp_path, capsys, guard):
    path = _write(tmp_path, "cert.json", json.dumps(one_step()))
    argv = ["verify", path] + [a.replace("{tmp}", str(tmp_path)) for a in argv_tail]
    code, out, err = _run_cli(argv, tmp_path, capsys)
    assert code == expected and match in err and len(err.strip().splitlines()) == 1


def test_missing_file_and_folder(tmp_path, capsys, guard):
    for target in (str(tmp_path / "missing.json"), str(tmp_path)):
        code, out, err = _run_cli(["verify", target], tmp_path, capsys)
        assert code == 2 and "Cannot read the certificate" in err and len(err.strip().splitlines()) == 1


def test_proof_of_a_cyclic_certificate_is_refused_and_no_proof_of_an_invalid_one(tmp_path, capsys, guard):
    cyc = _write(tmp_path, "t3.json", _t3())
    bad = _write(tmp_path, "bad.json", _replace(one_step(), rate="1/7"))
    code, _, err = _run_cli(["verify", cyc, "--proof", str(tmp_path / "p.md")], tmp_path, capsys)
    assert code == 2 and "cyclic" in err
    code, _, err = _run_cli(["verify", bad, "--proof", str(tmp_path / "p.md")], tmp_path, capsys)
    assert code == 1 and "invalid: rate" in err


def test_huge_R_in_a_correct_certificate_is_proved_and_printed(tmp_path, capsys, guard):
    """R = 10^200: scale and rate are 10^400-sized rationals; no float overflow anywhere."""
    R = F(10**200)
    obj = _replace(one_step(), R=str(R), scale=str(R * R), rate=str(F(1, 6) * R * R))
    path = _write(tmp_path, "big.json", obj)
    code, out, err = _run_cli(["verify", path, "--json"], tmp_path, capsys)
    assert code == 0, err
    verdict = json.loads(out)
    assert verdict["valid"] is True and F(verdict["rate"]) == R * R / 6
    assert "1.666666667E+399" in verdict["message"]


def test_reserialized_certificates_verify_and_json_states_the_claim(tmp_path, capsys, guard):
    obj = one_step()
    text = json.dumps(dict(sorted(obj.items(), reverse=True)), indent=3, separators=(" ,", " :  "))
    path = _write(tmp_path, "c.json", text)
    code, out, _ = _run_cli(["verify", path, "--json"], tmp_path, capsys)
    verdict = json.loads(out)
    assert code == 0 and verdict["valid"] is True and verdict["failed_check"] is None
    assert (verdict["kind"], verdict["class"], verdict["measure"], verdict["init"]) == (
        "worst-case",
        "convex",
        "fgap",
        "dist",
    )
    assert (verdict["L"], verdict["R"], verdict["steps"], verdict["rate"]) == ("1", "1", ["1"], "1/6")
    path = _write(tmp_path, "t3.json", json.dumps(t3(), indent=None))
    code, out, _ = _run_cli(["verify", path, "--json"], tmp_path, capsys)
    verdict = json.loads(out)
    steps = [F(s) for s in verdict["steps"]]
    assert code == 0 and verdict["kind"] == "grimmer-straightforward" and verdict["length"] == 3
    assert F(verdict["average"]) == (2 * sum(steps) - F(verdict["q"])) / 3


def test_kernel_imports_only_the_standard_library_and_flint():
    """The acceptance path: the kernel module's imports, and a fresh process that verifies a file."""
    import ast
    import subprocess
    import sys
    from pathlib import Path

    tree = ast.parse(Path(kernel.__file__).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or "").split(".")[0])
    assert names - set(sys.stdlib_module_names) <= {"flint", ".errors"}, names
    code = (
        "import sys, pepstep.kernel as k; v = k.verify_text(sys.stdin.read()); "
        "print(v.valid, sorted(m for m in ('numpy', 'scipy', 'cvxpy', 'clarabel') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(one_step()), capture_output=True, text=True
    )
    assert out.stdout.strip() == "True []", out.stderr


def test_kernel_is_small_enough_to_audit():
    from pathlib import Path

    lines = [ln for ln in Path(kernel.__file__).read_text().splitlines() if ln.strip()]
    assert len(lines) < 600, len(lines)
