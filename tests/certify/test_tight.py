"""Exact tight certificates: the certified rate equals the worst case exactly.

Closed forms (DESIGN.md section 1): constant h in (0, 2) from |x_0 - x*| <= R has the worst case
max(1/(2(2Nh + 1)), (1 - h)^(2N)/2) L R^2 (Drori & Teboulle 2014; Rotaru, Glineur & Patrinos
2024), attained by a Huber function or the quadratic; the strongly convex distance rate of h = 1
is (1 - mu/L)^(2N). Each certificate is compared exactly (no tolerance) and re-verified by the kernel.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from pepstep import FunctionClass, Problem, cli, constant, kernel
from pepstep.certify import certify, exact_lower_bound


def closed_form(h: F, n: int) -> F:
    return max(F(1, 2) / (2 * n * h + 1), (1 - h) ** (2 * n) / 2)


@pytest.mark.parametrize("n", range(1, 21))
def test_constant_h1_is_certified_at_exactly_1_over_4n_plus_2(n):
    problem = Problem(constant("1", n))
    cert = certify(problem, rate=F(1, 4 * n + 2))
    assert cert.rate == F(1, 4 * n + 2) == closed_form(F(1), n)
    assert kernel.verify_text(cert.to_json()).valid
    assert exact_lower_bound(problem) == (F(1, 4 * n + 2), "a Huber function")
    assert len(cert.multipliers) == 2 * n + 1  # Drori & Teboulle's sparsity: (k, k+1) and (*, k)


@pytest.mark.parametrize("n", [1, 2, 7, 20])
def test_constant_h_three_halves_is_tight(n):
    cert = certify(Problem(constant("1.5", n)), rate=closed_form(F(3, 2), n))
    assert cert.rate == closed_form(F(3, 2), n) and kernel.verify_text(cert.to_json()).valid


@pytest.mark.parametrize("n", [1, 5, 10])
def test_strongly_convex_distance_rate_is_tight(n):
    problem = Problem(constant("1", n), FunctionClass("strongly-convex", mu=0.1), "dist", "dist")
    cert = certify(problem, rate=F(9, 10) ** (2 * n))
    assert cert.rate == F(9, 10) ** (2 * n) and kernel.verify_text(cert.to_json()).valid
    assert exact_lower_bound(problem)[0] == F(9, 10) ** (2 * n)


def test_a_claim_just_below_the_worst_case_is_still_refused():
    from pepstep.errors import SolverError

    with pytest.raises(SolverError, match="Cannot"):
        certify(Problem(constant("1", 10)), rate=F(1, 42) - F(1, 10**12))


def test_cli_states_the_exact_worst_case(tmp_path, capsys):
    out = tmp_path / "h1.json"
    assert cli.main(["certify", "--schedule", "constant:1:10", "--rate", "1/42", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "tight: the worst case equals 1/42 exactly (a Huber function attains it)" in text
    assert kernel.verify_file(out).valid
