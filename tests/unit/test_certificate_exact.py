"""Exact certificate checks without a solver: assembly, LDL^T over Q, tampering, file format.

The hand-made certificate is the closed-form proof of ``f(x_1) - f* <= L R^2 / 6`` for one
step h = 1 (Drori & Teboulle 2014, N = 1 of ``1 / (4N + 2)``): ``lambda_{0,1} = lambda_{*,0} =
lambda_{*,1} = 1/2`` and ``tau = 1/6``, with
``S = [[1/6, -1/4, -1/4], [-1/4, 1/2, 1/4], [-1/4, 1/4, 1/2]]`` (PSD and singular).
"""

from __future__ import annotations

import dataclasses
import json
import random
from fractions import Fraction as F

import pytest

from pepstep import cli, kernel
from pepstep.certificate import (
    Certificate,
    certificate_from_json,
    identity_residual,
    load_certificate,
    proof_markdown,
    slack_matrix,
    verify,
)
from pepstep.errors import CertificateFormatError
from tests.kernel import reference

HALF = F(1, 2)


def one_step() -> Certificate:
    lam = {("*", 0): HALF, ("*", 1): HALF, (0, 1): HALF}
    return Certificate("convex", F(1), F(0), "fgap", "dist", F(1), (F(1),), F(1, 6), F(1, 6), lam)


def _frac_matrix(M):
    return [[F(int(x.p), int(x.q)) for x in row] for row in M.tolist()]


# ----------------------------------------------------------------- independent per-pair assembly


def _reference_slack(c: Certificate):
    """``S`` pair by pair with Python fractions, straight from the interpolation inequality
    (DESIGN.md section 1; :mod:`tests.kernel.reference`), as an independent cross-check of the
    kernel's matrix-form assembly."""
    return reference.worst_case_parts(json.loads(c.to_json()))[0]


CASES = [
    ("convex", F(0), "fgap", "dist"),
    ("convex", F(0), "gradnorm", "fgap"),
    ("strongly-convex", F(1, 10), "dist", "dist"),
    ("strongly-convex", F(1, 3), "fgap", "fgap"),
    ("nonconvex", F(0), "gradnorm", "fgap"),
    ("nonconvex", F(0), "mingradnorm", "fgap"),
    ("convex", F(0), "mingradnorm", "dist"),
]


@pytest.mark.parametrize("kind,mu,measure,init", CASES)
def test_matrix_assembly_equals_per_pair_assembly(kind, mu, measure, init):
    rng = random.Random(7)
    n = 4
    pts = (["*"] if kind != "nonconvex" else []) + list(range(n + 1))
    lam = {(i, j): F(rng.randint(0, 9), rng.randint(1, 7)) for i in pts for j in pts if i != j}
    nu = {k: F(1, n + 1) for k in range(n + 1)} if measure == "mingradnorm" else {}
    steps = tuple(F(rng.randint(1, 30), 10) for _ in range(n))
    c = Certificate(kind, F(2), mu * 2, measure, init, F(3), steps, F(1), F(5, 7), lam, nu)
    assert _frac_matrix(slack_matrix(c)) == _reference_slack(c)


# ----------------------------------------------------------------- LDL^T


def ldl_reference(rows):
    """Independent LDL^T with symmetric pivoting over Python fractions: ``(psd, order, pivots)``.

    The first positive remaining diagonal is the pivot; a negative one disproves PSD; a zero one
    needs its remaining row to vanish.
    """
    M = [list(r) for r in rows]
    active, order, pivots = list(range(len(M))), [], []
    while active:
        if any(M[a][a] < 0 for a in active):
            return False, order, pivots
        for a in [a for a in active if M[a][a] == 0]:
            if any(M[a][b] != 0 for b in active):
                return False, order, pivots
            active.remove(a)
            order.append(a)
            pivots.append(F(0))
        if not active:
            break
        p = next(a for a in active if M[a][a] > 0)
        active.remove(p)
        for a in active:
            c = M[a][p] / M[p][p]
            for b in active:
                M[a][b] -= c * M[p][b]
        order.append(p)
        pivots.append(M[p][p])
    return True, order, pivots


def test_kernel_ldl_and_psd_agree_with_the_fraction_reference_on_random_matrices():
    from flint import fmpq, fmpq_mat

    rng = random.Random(2024)
    for trial in range(90):
        n, r = rng.randint(1, 14), rng.randint(0, 14)
        B = [[F(rng.randint(-5, 5), rng.randint(1, 4)) for _ in range(r)] for _ in range(n)]
        M = [[sum((B[a][k] * B[b][k] for k in range(r)), F(0)) for b in range(n)] for a in range(n)]
        if trial % 3 == 0:  # perturb: often indefinite
            a = rng.randrange(n)
            M[a][a] -= F(rng.randint(0, 3), 5)
        ok_ref, order_ref, piv_ref = ldl_reference(M)
        Q = fmpq_mat([[fmpq(x.numerator, x.denominator) for x in row] for row in M])
        ok, order, pivots, _, _ = kernel.ldl_factor(Q)
        assert ok == ok_ref == kernel.psd(Q)[0]
        assert order == order_ref and [F(int(p.p), int(p.q)) for p in pivots] == piv_ref
        if trial % 3:
            assert ok, "B B^T must be PSD"


def test_ldl_reconstructs_the_matrix():
    M = _frac_matrix(slack_matrix(one_step()))
    ok, order, pivots, columns, _ = kernel.ldl_factor(slack_matrix(one_step()))
    pivots = [F(int(p.p), int(p.q)) for p in pivots]
    assert ok and pivots == [F(1, 6), F(1, 8), F(0)]
    n = len(M)
    Lm = {(a, a): F(1) for a in range(n)}
    for a, col in zip(order, columns):
        Lm.update({(b, a): F(int(v.p), int(v.q)) for b, v in col.items()})
    rebuilt = [
        [
            sum((Lm.get((r, a), F(0)) * d * Lm.get((s, a), F(0)) for a, d in zip(order, pivots)), F(0))
            for s in range(n)
        ]
        for r in range(n)
    ]
    assert rebuilt == M


@pytest.mark.parametrize(
    "M,reason",
    [
        ([[0, 1], [1, 1]], "zero diagonal at index 0 with a nonzero entry in its row"),
        ([[1, 2], [2, 1]], "negative pivot -3 at index 1"),
        ([[1, 0], [1, 1]], "the matrix is not symmetric"),
        ([[1, 0], [0, -1]], "negative diagonal entry at index 1"),
    ],
)
def test_psd_rejects_with_the_reason(M, reason):
    from flint import fmpq_mat

    assert kernel.psd(fmpq_mat(M)) == (False, reason)


# ----------------------------------------------------------------- the closed-form certificate


def test_closed_form_one_step_certificate_is_valid():
    c = one_step()
    assert _frac_matrix(slack_matrix(c)) == [
        [F(1, 6), F(-1, 4), F(-1, 4)],
        [F(-1, 4), HALF, F(1, 4)],
        [F(-1, 4), F(1, 4), HALF],
    ]
    assert identity_residual(c) == [0, 0]
    report = verify(c)
    assert report == dataclasses.replace(report, valid=True, rate=F(1, 6), failed_check=None)
    assert report.message == "valid: f(x_N) - f* <= 1/6 (about 0.1666666667)"
    # user units: L = 2, R = 3 scale the rate by L R^2 = 18
    big = dataclasses.replace(c, L=F(2), R=F(3), rate=F(3))
    assert verify(big).valid and big.scale == 18


TAMPERS = {
    "tau lowered": (
        lambda c: dataclasses.replace(c, tau=F(1, 6) - F(1, 10**30), rate=F(1, 6) - F(1, 10**30)),
        "psd",
    ),
    "rate lowered": (lambda c: dataclasses.replace(c, rate=F(1, 7)), "rate"),
    "lambda raised": (
        lambda c: dataclasses.replace(c, multipliers={**c.multipliers, (0, 1): F(1, 2) + F(1, 10**30)}),
        "identity",
    ),
    "lambda negated": (
        lambda c: dataclasses.replace(c, multipliers={**c.multipliers, ("*", 0): -HALF}),
        "multipliers",
    ),
    "extra lambda": (
        lambda c: dataclasses.replace(c, multipliers={**c.multipliers, (1, 0): F(1, 10**30)}),
        "identity",
    ),
    # A shorter step makes the claim false (1 / (2 (2h + 1)) > 1/6); a longer one keeps it true.
    "step shortened": (lambda c: dataclasses.replace(c, steps=(F(1) - F(1, 10**30),)), "psd"),
    # Widening the class must fail (narrowing it, e.g. to strongly convex, can keep a true bound).
    "class changed": (lambda c: dataclasses.replace(c, function_class="nonconvex"), "format"),
    "measure changed": (lambda c: dataclasses.replace(c, measure="gradnorm"), "identity"),
    "init changed": (lambda c: dataclasses.replace(c, init="fgap"), "identity"),
    "tau negated": (lambda c: dataclasses.replace(c, tau=F(-1, 6)), "tau"),
    "pair out of range": (
        lambda c: dataclasses.replace(c, multipliers={**c.multipliers, (0, 2): F(0)}),
        "format",
    ),
}


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_tampered_closed_form_certificate_is_rejected(name):
    tamper, check = TAMPERS[name]
    report = verify(tamper(one_step()))
    assert (report.valid, report.failed_check) == (False, check), report.message
    assert report.message.startswith(f"invalid: {check}: ")


# ----------------------------------------------------------------- file format


def test_json_round_trip_and_reserialization():
    text = one_step().to_json()
    obj = json.loads(text)
    assert obj["rate"] == "1/6" and obj["multipliers"] == {"*,0": "1/2", "*,1": "1/2", "0,1": "1/2"}
    assert obj["scale"] == "1" and obj["kind"] == "worst-case" and obj["format_version"] == 2
    assert certificate_from_json(text) == one_step()
    # the same content re-serialized by a JSON tool (other key order, white space) gets the same verdict
    for other in (
        json.dumps(obj),
        json.dumps(dict(reversed(list(obj.items()))), indent=4),
        text.replace("\n", "\r\n"),
    ):
        assert kernel.verify_text(other).valid


def _edit(**changes):
    obj = json.loads(one_step().to_json())
    for key, val in changes.items():
        if val is None:
            del obj[key]
        else:
            obj[key] = val
    return json.dumps(obj, indent=1, sort_keys=True) + "\n"


@pytest.mark.parametrize(
    "text,match",
    [
        (_edit(tau=None), "missing key 'tau'"),
        (_edit(extra="1"), "unknown key 'extra' in a 'worst-case' certificate"),
        (
            _edit(delta="1/8"),
            "unknown key 'delta' in a 'worst-case' certificate \\(a key of the 'grimmer-straightforward' kind\\)",
        ),
        (_edit(kind=None), "'kind' must be"),
        (_edit(tau=0.5), "JSON floats '0.5' are not allowed"),
        (_edit(tau=1), "'tau' must be a rational string such as \"3/2\"; got int"),
        (_edit(tau="1/-6"), "'tau' must be an integer or \"p/q\" in ASCII digits"),
        (_edit(tau="1/0"), "'tau' must be an integer or \"p/q\""),
        (_edit(tau="2/12"), "'tau' must be written in lowest terms"),
        (_edit(tau="1e-3"), "'tau' must be an integer or \"p/q\""),
        (_edit(tau="\u0661/6"), "'tau' must be an integer or \"p/q\" in ASCII digits"),
        (_edit(tau="1" * 4001), "'tau' has more than 4000 digits"),
        (_edit(**{"class": "concave"}), "'class' must be one of convex, strongly-convex, nonconvex"),
        (_edit(measure="fval"), "'measure' must be one of"),
        (_edit(steps=["0"]), "'steps\\[0\\]' must be > 0"),
        (_edit(steps=[]), "'steps' must be a list of 1 to 512 rationals"),
        (_edit(steps=["1"] * 513), "'steps' must be a list of 1 to 512 rationals; got 513"),
        (_edit(format_version=1), "'format_version' must be 2"),
        (_edit(scale="2"), "'scale' must be 1 for this measure"),
        (_edit(multipliers={"0,x": "1"}), "multiplier key '0,x' is not a pair"),
        (_edit(multipliers={"00,1": "1"}), "multiplier key '00,1' is not a pair"),
        (_edit(multipliers={"0,2": "1"}), "multiplier '0,2' names a point outside"),
        (_edit(multipliers={"1,1": "1"}), "multiplier '1,1' joins a point to itself"),
        (one_step().to_json().replace('"0,1"', '"*,1"'), "duplicate key '\\*,1'"),
        (one_step().to_json().replace('"1/6"', "Infinity", 1), "JSON constants 'Infinity' are not allowed"),
        (one_step().to_json().replace('"1/6"', "1e999", 1), "JSON floats '1e999' are not allowed"),
        ("[" * 100_000 + "]" * 100_000, "the JSON is nested deeper than the certificate schema allows"),
        ("[1]", "the top level must be a JSON object"),
        ("{", "not JSON"),
    ],
)
def test_malformed_certificates_raise_format_errors(text, match):
    with pytest.raises(CertificateFormatError, match=f"Malformed certificate: {match}"):
        certificate_from_json(text)


def test_huge_and_unreadable_files(tmp_path, monkeypatch):
    path = tmp_path / "c.json"
    path.write_text(one_step().to_json())
    monkeypatch.setitem(kernel.LIMITS, "file_bytes", 100)
    with pytest.raises(
        CertificateFormatError, match=r"Malformed certificate: the file has \d+ bytes, over the limit of 100"
    ):
        load_certificate(path)
    with pytest.raises(CertificateFormatError, match="Cannot read the certificate"):
        load_certificate(tmp_path / "missing.json")
    path.write_bytes(b"\xff\xfe")
    monkeypatch.setitem(kernel.LIMITS, "file_bytes", 10**6)
    with pytest.raises(CertificateFormatError, match="not UTF-8"):
        load_certificate(path)


def test_cli_verify_exit_codes(tmp_path, capsys):
    good, bad, broken = tmp_path / "good.json", tmp_path / "bad.json", tmp_path / "broken.json"
    good.write_text(one_step().to_json())
    bad.write_text(dataclasses.replace(one_step(), rate=F(1, 7)).to_json())
    broken.write_text("{")
    proof = tmp_path / "proof.md"
    assert cli.main(["verify", str(good), "--proof", str(proof)]) == 0
    assert capsys.readouterr().out == "valid: f(x_N) - f* <= 1/6 (about 0.1666666667)\n"
    assert "| * | 0 | 1/2 |" in proof.read_text() and "pivot x_0 - x*: D = 1/6" in proof.read_text()
    assert cli.main(["verify", str(bad)]) == 1
    assert "invalid: rate: stated rate 1/7 != tau * scale = 1/6" in capsys.readouterr().err
    assert cli.main(["verify", str(broken)]) == 2


def test_every_single_byte_corruption_is_rejected():
    """Every position of the file, three replacement bytes each: refused, unless only the JSON
    layout changed (white space), which keeps the content and so the (true) claim."""
    raw = one_step().to_json().encode()
    rng = random.Random(11)
    tried = accepted = 0
    for pos in range(len(raw)):
        for new in rng.sample([b for b in range(256) if b != raw[pos]], 3):
            data = raw[:pos] + bytes([new]) + raw[pos + 1 :]
            tried += 1
            try:
                cert = certificate_from_json(data)
            except CertificateFormatError:
                continue
            if verify(cert).valid:
                accepted += 1
                assert json.loads(data) == json.loads(raw), data
    assert tried == 3 * len(raw) and accepted <= 3 * raw.count(b"\n")


def test_proof_lists_weights_and_factors():
    text = proof_markdown(one_step())
    assert text.startswith("# Certificate: fgap <= 1/6")
    assert "3. pivot g_1: D = 0" in text
