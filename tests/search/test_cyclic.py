"""Grimmer's criterion: published patterns certify exactly, raised ones do not."""

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from pepstep import kernel
from pepstep.cyclic import (
    FLOAT_RTOL,
    RATE_RTOL,
    certificate_from_json,
    certify_pattern,
    check_pattern,
    is_psd_exact,
    pattern_pairs,
    verify_pattern,
)
from pepstep.errors import InputError

PATTERNS = Path(__file__).resolve().parents[2] / "problems" / "patterns"
RAISE = Fraction(11, 10)  # the test: middle step raised by 10%
# Grimmer's exact certificate (bgrimmer/LongStepCertificates, certification_t31.nb, rateCoefficient)
GRIMMER_T31_CERTIFIED_AVERAGE = 4.6032258064491509
# certification_t127.nb, rateCoefficient (his epsilon is 1.53e-5); our certificate must not be weaker
GRIMMER_T127_CERTIFIED_AVERAGE = Fraction("5.83463035331820650612745706274759981446")
RTOL_PRINTED = 1e-9  # rateCoefficient is printed to 20 digits; ours differs only by the rounding grid


def published(t):
    return [Fraction(str(s)) for s in json.loads((PATTERNS / f"grimmer2023_t{t}.json").read_text())["steps"]]


def raised(steps):
    out = list(steps)
    out[len(out) // 2] *= RAISE
    return out


def assert_certified(steps):
    cert = certify_pattern(steps)
    assert cert.valid is True
    # an independent re-check of the same rational data (exact, no tolerance)
    assert verify_pattern(cert.steps, cert.delta, cert.q, cert.lam, cert.gamma) is True
    mean = sum(cert.steps) / len(cert.steps)
    assert mean * (1 - RATE_RTOL) <= cert.average <= mean  # exact comparison of rationals
    return cert


@pytest.mark.parametrize("t", [2, 3, 7, 15, 31])
def test_published_pattern_certifies_exactly(t):
    assert_certified(published(t))


@pytest.mark.parametrize("t", [63, 127])
def test_long_published_pattern_certifies_exactly(t):
    """About 2 s and 25 s: the horizon support (379 and 890 multiplier pairs)."""
    cert = assert_certified(published(t))
    assert cert.support == "horizon"
    if t == 127:
        assert cert.average >= GRIMMER_T127_CERTIFIED_AVERAGE


def test_auto_support_falls_back_to_wide():
    """Grimmer's t = 31 pattern has no certificate on the horizon support; the widened one has."""
    steps = published(31)
    assert check_pattern(steps, support="horizon").straightforward is False
    cert = assert_certified(steps)
    assert cert.support == "wide"
    assert len(pattern_pairs(31, "wide", steps)[0]) < len(pattern_pairs(31, "dyadic")[0])
    with pytest.raises(InputError, match=r"The 'horizon' support needs the 31 steps"):
        pattern_pairs(31, "horizon")


@pytest.mark.parametrize(
    "t, support", [(7, "dyadic"), (15, "dyadic"), (31, "wide"), (31, "dyadic"), (63, "horizon")]
)
def test_schur_route_matches_clarabel(t, support):
    """pepstep's Schur-complement route and Clarabel (an independent interior-point solver)
    agree on the optimal q of published patterns to 1e-6 relative; the raised ones are rejected."""
    steps = published(t)
    fast, dense = (
        check_pattern(steps, "schur", support=support),
        check_pattern(steps, "clarabel", support=support),
    )
    assert fast.status == "optimal" and dense.status == "optimal"
    assert abs(fast.q - dense.q) <= 1e-6 * dense.q
    assert fast.straightforward and dense.straightforward
    assert check_pattern(raised(steps), "schur", support=support).straightforward is False
    assert check_pattern(raised(steps), support=support).straightforward is False  # auto


def test_schur_answer_that_does_not_stand_goes_to_clarabel_unless_told(monkeypatch):
    """An inaccurate Schur answer is no verdict: Clarabel decides, or (``fallback=False``, the
    search) the pattern counts as not straightforward and says why."""
    import pepstep.cyclic as cyclic

    monkeypatch.setattr(cyclic, "_solve_schur", lambda *args: None)
    steps = published(15)
    decided = check_pattern(steps, "schur")
    assert decided.status == "optimal (clarabel)" and decided.straightforward
    assert abs(decided.deficit) <= FLOAT_RTOL
    refused = check_pattern(steps, "schur", fallback=False)
    assert refused.status == "inaccurate (schur)"
    assert refused.straightforward is False and refused.q != refused.q  # nan: no q was certified


def test_dominance_test_never_accepts_an_indefinite_matrix():
    """A - c v v^T is PSD exactly for c <= 1 / (v^T A^-1 v): at (1 - 1e-12) and 1 the fast
    Gershgorin test may prove it or defer to LDL^T; at (1 + 1e-12) both must reject."""
    flint = pytest.importorskip("flint")
    rng = np.random.default_rng(0)
    for n in (20, 40):
        B = flint.fmpq_mat([[int(x) for x in row] for row in rng.integers(-5, 6, (n, n))])
        A = B * B.transpose()
        v = flint.fmpq_mat([[int(x)] for x in rng.integers(-3, 4, n)])
        c0 = 1 / (v.transpose() * A.solve(v))[0, 0]
        for factor, psd in (
            (flint.fmpq(10**12 - 1, 10**12), True),
            (1, True),
            (flint.fmpq(10**12 + 1, 10**12), False),
        ):
            M = A - factor * c0 * v * v.transpose()
            assert is_psd_exact(M.tolist()) is psd and kernel.psd(M)[0] is psd
            if not psd:
                assert kernel._dominance(M) is False


def test_corner_test_is_exact_at_the_schur_complement():
    """[[q, m^T], [m, M]] >= 0 iff q >= m^T M^-1 m (M > 0): accepted at equality, rejected 1e-40 below,
    by the Schur-complement path (order > 8) and by exact LDL^T (order <= 8) alike."""
    flint = pytest.importorskip("flint")
    rng = np.random.default_rng(1)
    for n in (6, 40):
        B = flint.fmpq_mat([[int(x) for x in row] for row in rng.integers(-5, 6, (n, n))])
        M = B * B.transpose() + flint.fmpq_mat(n, n, [1 if i == j else 0 for i in range(n) for j in range(n)])
        m = flint.fmpq_mat([[int(x)] for x in rng.integers(-3, 4, n)])
        s = (m.transpose() * M.solve(m))[0, 0]
        q = Fraction(int(s.p), int(s.q))
        assert kernel._corner_psd(q, m, M) is True
        assert kernel._corner_psd(q - Fraction(1, 10**40), m, M) is False


@pytest.mark.parametrize("t", [2, 3, 7, 15, 31])
def test_raised_middle_step_is_rejected(t):
    chk = check_pattern(raised(published(t)))
    assert chk.straightforward is False
    assert certify_pattern(raised(published(t)), check=chk).valid is False


def test_t31_matches_grimmers_certified_average():
    cert = certify_pattern(published(31), average_rtol=0)  # Grimmer keeps the rounded q too
    assert (
        abs(float(cert.average) - GRIMMER_T31_CERTIFIED_AVERAGE)
        <= RTOL_PRINTED * GRIMMER_T31_CERTIFIED_AVERAGE
    )


def test_t2_boundary_three_minus_eta():
    # Grimmer's Table 1: (3 - eta, 1.5) is straightforward for every eta > 0
    assert check_pattern([Fraction(299, 100), Fraction(3, 2)]).straightforward is True
    # and one cycle must not increase f: (h_1, 1.5) fails beyond h_1 = 3 (exact PEP, DESIGN.md section 4)
    assert check_pattern([Fraction(31, 10), Fraction(3, 2)]).straightforward is False


def test_cycle_descent_boundary_for_t3():
    # f(x_3) <= f(x_0) fails for (1.5, m, 1.5) with m > 5 (exact PEP): the criterion must reject m = 5.05
    assert check_pattern([1.5, 5.05, 1.5]).straightforward is False
    assert abs(check_pattern([1.5, 4.9, 1.5]).deficit) <= FLOAT_RTOL


def test_tampered_certificate_fails():
    cert = certify_pattern([Fraction(3, 2), Fraction(49, 10), Fraction(3, 2)])
    lam = dict(cert.lam)
    key = next(iter(lam))
    lam[key] += Fraction(1, 10**9)  # breaks the function-value identity (C1)
    assert verify_pattern(cert.steps, cert.delta, cert.q, lam, cert.gamma) is False
    assert verify_pattern(cert.steps, -cert.delta, cert.q, cert.lam, cert.gamma) is False
    # q below the Schur complement: (C4) fails
    assert (
        verify_pattern(cert.steps, cert.delta, sum(cert.steps) * (1 - RATE_RTOL), cert.lam, cert.gamma)
        is False
    )


def test_json_round_trip_and_cli_verify(tmp_path):
    cert = certify_pattern([Fraction(3, 2), Fraction(49, 10), Fraction(3, 2)])
    steps, delta, q, lam, gamma = certificate_from_json(json.loads(json.dumps(cert.to_json())))
    assert verify_pattern(steps, delta, q, lam, gamma) is True
    assert kernel.verify_text(json.dumps(cert.to_json())).valid is True
    path = tmp_path / "t3.json"
    cli = [sys.executable, "-m", "pepstep.cli"]
    made = subprocess.run(
        cli + ["certify", "--cyclic", "--steps", "1.5,4.9,1.5", "--out", str(path)],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    ok = subprocess.run(cli + ["verify", str(path)], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("valid: pattern of length 3"), ok.stderr
    data = json.loads(path.read_text())
    data["q"] = str(Fraction(data["q"]) / 2)
    path.write_text(json.dumps(data))
    bad = subprocess.run(cli + ["verify", str(path)], capture_output=True, text=True)
    assert bad.returncode == 1 and "invalid: average: stated average" in bad.stderr
    data["average"] = str((2 * sum(Fraction(x) for x in data["steps"]) - Fraction(data["q"])) / 3)
    path.write_text(json.dumps(data))
    bad = subprocess.run(cli + ["verify", str(path)], capture_output=True, text=True)
    assert bad.returncode == 1 and "invalid: C4: the corner matrix is not PSD" in bad.stderr


def test_cli_rejected_pattern_prints_no_average(tmp_path):
    """(1.5, 5.5, 1.5) breaks f(x_3) <= f(x_0) (exact PEP): exit 1, no average step, no file."""
    path = tmp_path / "bad.json"
    cli = [sys.executable, "-m", "pepstep.cli", "certify", "--cyclic", "--steps", "1.5,5.5,1.5"]
    out = subprocess.run(cli + ["--out", str(path)], capture_output=True, text=True)
    assert out.returncode == 1
    assert "not certified" in out.stdout and "average" not in out.stdout
    assert not path.exists()


def test_exact_psd():
    F = Fraction
    assert is_psd_exact([[F(2), F(1)], [F(1), F(2)]]) is True
    assert is_psd_exact([[F(1), F(2)], [F(2), F(1)]]) is False
    assert is_psd_exact([[F(0), F(0)], [F(0), F(3)]]) is True


def test_bad_steps():
    with pytest.raises(InputError, match=r"The 'steps' must be > 0. Got step=-1.0."):
        check_pattern([1.5, -1])


def test_screen_before_the_kernel_agrees_with_the_exact_verdict_on_the_t255_certificate():
    """The certifier's screen before the kernel from t = 255 on (``_worth_verifying``): on the committed
    t = 255 certificate it proves ``M(lambda)`` and ``M(lambda + Delta gamma)`` positive definite
    (the kernel accepts the file); with one long-step chain multiplier lowered so that ``M``
    has a negative eigenvalue (numpy's, computed here) it refuses, in seconds."""
    from pepstep.cyclic import _assemble, _worth_verifying

    data = json.loads(
        (Path(__file__).resolve().parents[2] / "results" / "search_t255_certificate.json").read_text()
    )
    steps = [Fraction(x) for x in data["steps"]]
    lam = {(i, j): Fraction(v) for i, j, v in data["lambda"]}
    gam = {(i, j): Fraction(v) for i, j, v in data["gamma"]}
    d = len(steps) + 2
    Zl, Zg = _assemble(steps, lam, d), _assemble(steps, gam, d)
    assert _worth_verifying(255, Zl, Zg, 0, Fraction(data["delta"]))
    # the chain pair into the middle step, lowered by 1e-3 of the largest multiplier
    key = max(((i, j) for i, j in lam if j == i + 1), key=lambda k: steps[k[0]])
    lam[key] -= max(lam.values()) / 1000
    bad = _assemble(steps, lam, d)
    M = np.array([[float(bad[a][b]) for b in range(1, d)] for a in range(1, d)])
    assert np.linalg.eigvalsh(M)[0] < 0
    assert _worth_verifying(255, bad, Zg, 0) is False
    assert _worth_verifying(127, bad, Zg, 0) is True  # below LARGE_PATTERN the kernel decides alone
