"""Grimmer's criterion: published patterns certify exactly, raised ones do not."""

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from pepstep.cyclic import (
    FLOAT_RTOL,
    RATE_RTOL,
    certificate_from_json,
    certify_pattern,
    check_pattern,
    is_psd_exact,
    verify_pattern,
    verify_pattern_json,
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


@pytest.mark.slow
@pytest.mark.parametrize("t", [63, 127])
def test_long_published_pattern_certifies_exactly(t):
    cert = assert_certified(published(t))
    if t == 127:
        assert cert.average >= GRIMMER_T127_CERTIFIED_AVERAGE


@pytest.mark.parametrize("t", [2, 3, 7, 15, 31])
def test_raised_middle_step_is_rejected(t):
    chk = check_pattern(raised(published(t)))
    assert chk.straightforward is False
    assert certify_pattern(raised(published(t)), check=chk).valid is False


def test_t31_matches_grimmers_certified_average():
    cert = certify_pattern(published(31))
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
    assert verify_pattern_json(cert.to_json())[0] is True
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
    assert bad.returncode == 1 and "do not hold" in bad.stderr


def test_exact_psd():
    F = Fraction
    assert is_psd_exact([[F(2), F(1)], [F(1), F(2)]]) is True
    assert is_psd_exact([[F(1), F(2)], [F(2), F(1)]]) is False
    assert is_psd_exact([[F(0), F(0)], [F(0), F(3)]]) is True


def test_bad_steps():
    with pytest.raises(InputError, match=r"The 'steps' must be > 0. Got step=-1.0."):
        check_pattern([1.5, -1])
