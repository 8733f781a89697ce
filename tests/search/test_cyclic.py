"""Grimmer's straightforward criterion: published patterns certify exactly, raised ones do not."""

import json
from fractions import Fraction
from pathlib import Path

import pytest

from pepstep.cyclic import MARGIN_TOL, certify_pattern, check_pattern, is_psd_exact, verify_pattern
from pepstep.errors import InputError

PATTERNS = Path(__file__).resolve().parents[2] / "problems" / "patterns"
RAISE = Fraction(11, 10)  # the test: middle step raised by 10%


def published(t):
    return [Fraction(str(s)) for s in json.loads((PATTERNS / f"grimmer2023_t{t}.json").read_text())["steps"]]


def raised(steps):
    out = list(steps)
    out[len(out) // 2] *= RAISE
    return out


@pytest.mark.parametrize("t", [2, 3, 7, 15])
def test_published_pattern_certifies_exactly(t):
    cert = certify_pattern(published(t))
    assert cert.valid is True
    # an independent re-check of the same rational data (exact, no tolerance)
    assert verify_pattern(cert.steps, cert.delta0, cert.lam, cert.nu) is True


@pytest.mark.parametrize("t", [2, 3, 7, 15])
def test_raised_middle_step_is_rejected(t):
    chk = check_pattern(raised(published(t)))
    assert chk.straightforward is False
    assert certify_pattern(raised(published(t)), check=chk).valid is False


def test_t2_boundary_three_minus_eta():
    # Grimmer's Table 1: (3 - eta, 1.5) is straightforward for every eta > 0
    assert check_pattern([Fraction(299, 100), Fraction(3, 2)]).straightforward is True
    # and one cycle must not increase f: (h_1, 1.5) fails beyond h_1 = 3 (exact PEP, DESIGN.md section 4)
    assert check_pattern([Fraction(31, 10), Fraction(3, 2)]).straightforward is False


def test_cycle_descent_boundary_for_t3():
    # f(x_3) <= f(x_0) fails for (1.5, m, 1.5) with m > 5 (exact PEP): the criterion must reject m = 5.05
    assert check_pattern([1.5, 5.05, 1.5]).straightforward is False
    assert check_pattern([1.5, 4.9, 1.5]).margin > MARGIN_TOL


def test_tampered_certificate_fails():
    cert = certify_pattern([Fraction(3, 2), Fraction(49, 10), Fraction(3, 2)])
    lam = dict(cert.lam)
    key = next(iter(lam))
    lam[key] += Fraction(1, 10**9)  # breaks the function-value identity (C1)
    assert verify_pattern(cert.steps, cert.delta0, lam, cert.nu) is False
    assert verify_pattern(cert.steps, -cert.delta0, cert.lam, cert.nu) is False


def test_exact_psd():
    F = Fraction
    assert is_psd_exact([[F(2), F(1)], [F(1), F(2)]]) is True
    assert is_psd_exact([[F(1), F(2)], [F(2), F(1)]]) is False
    assert is_psd_exact([[F(0), F(0)], [F(0), F(3)]]) is True


def test_bad_steps():
    with pytest.raises(InputError, match=r"The 'steps' must be > 0. Got step=-1.0."):
        check_pattern([1.5, -1])
