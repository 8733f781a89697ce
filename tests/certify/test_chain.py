"""Chains of certificates (pepstep.certify.chain_bound), and certify's fallback to the Schur route.

The strongly convex rows of 50 steps (results/optimized_classes.csv) are chains of the
optimizer's certified 25-step winners: their worst cases (about 1e-11) lie below what a
double-precision PEP resolves, so each bound is checked here by exact arithmetic only.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import sys
from fractions import Fraction as F
from pathlib import Path

import pytest
from scipy.optimize import brentq

from pepstep import FunctionClass, Problem, Schedule, cli, constant
from pepstep.certify import certify, chain_bound, load_certificate
from pepstep.errors import InputError
from pepstep.lower import lower_bound
from pepstep.schedules import load_pattern

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results"
PATTERNS = ROOT / "problems" / "patterns"
SC = FunctionClass("strongly-convex", L=1.0, mu=0.1)
#: The table prints 10 significant digits.
RTOL_TABLE = 1e-9


def _piece(name: str):
    return load_certificate(RESULTS / f"optimized_{name}_n25_certificate.json")


def _file_rate(name: str) -> F:
    """The rate as written in the certificate file, parsed here (not by pepstep)."""
    return F(json.loads((RESULTS / f"optimized_{name}_n25_certificate.json").read_text())["rate"])


def _table_row(criterion: str, n: int) -> dict:
    with open(RESULTS / "optimized_classes.csv", newline="") as fh:
        return next(r for r in csv.DictReader(fh) if r["criterion"] == criterion and int(r["N"]) == n)


def test_constant_steps_chain_to_the_closed_form():
    # h = 2 / (L + mu) = 20/11 contracts |x - x*| by (1 - mu) / (1 + mu) = 9/11 per step, tight on
    # quadratics (Polyak 1987): pieces of 3 and 2 steps chain to the 5-step worst case exactly
    fc = FunctionClass("strongly-convex", L=1, mu=F(1, 10))
    three, two = (certify(Problem(constant("20/11", n), fc, "dist")) for n in (3, 2))
    assert three.rate == F(9, 11) ** 6 and two.rate == F(9, 11) ** 4
    b = chain_bound([three, two])
    assert b.rate == F(9, 11) ** 10
    assert b.steps == (F(20, 11),) * 5 and b.measure == "dist" and b.piece_rates == (three.rate, two.rate)


def test_radius_enters_squared():
    # a piece proved for R = 2 bounds |x_N - x*|^2 <= rate (r / 2)^2 from radius r
    fc = FunctionClass("strongly-convex", L=1, mu=F(1, 10))
    piece = certify(Problem(constant("20/11", 2), fc, "dist", R=2.0))
    assert piece.rate == 4 * F(9, 11) ** 4
    assert chain_bound([piece, piece]).rate == 4 * F(9, 11) ** 8  # stated for the first radius, 2


@pytest.mark.parametrize(
    "criterion,pieces",
    [
        ("strongly-convex-dist", ("strongly-convex-dist", "strongly-convex-dist")),
        ("strongly-convex-fgap", ("strongly-convex-dist", "strongly-convex-fgap")),
    ],
)
def test_fifty_step_chains_beat_every_constant_step(criterion, pieces):
    b = chain_bound([_piece(p) for p in pieces])  # each piece checked by the kernel
    assert b.rate == _file_rate(pieces[0]) * _file_rate(pieces[1])
    mu, n = 0.1, 50
    if criterion == "strongly-convex-dist":
        # max over the quadratics c = mu, L of (1 - h c)^(2N) is smallest at h = 2 / (1 + mu)
        floor = F(9, 11) ** (2 * n)
    else:
        # f(x_N) - f* on the same quadratics: c/2 (1 - h c)^(2N); the larger is smallest where they cross
        h = brentq(lambda h: 0.5 * mu * (1 - h * mu) ** (2 * n) - 0.5 * (h - 1) ** (2 * n), 1.0, 1.0 / mu)
        floor = F(0.5 * mu * (1 - h * mu) ** (2 * n))
    assert b.rate < floor / 100  # more than 100 times below every constant step's worst case
    # a proved bound is never below what an explicit function attains on the same 50 steps
    steps = load_pattern(PATTERNS / f"optimized_{criterion}_n50.json").steps
    assert tuple(float(h) for h in b.steps) == steps
    measure = "dist" if criterion.endswith("dist") else "fgap"
    assert lower_bound(Problem(Schedule(steps), SC, measure)).value <= float(b.rate)
    row = _table_row(criterion, n)
    assert math.isclose(float(row["certified_upper_bound"]), float(b.rate), rel_tol=RTOL_TABLE)
    assert math.isclose(float(row["best_constant_value"]), float(floor), rel_tol=1e-6)


def test_refuses_pieces_that_do_not_chain():
    dist, fgap = _piece("strongly-convex-dist"), _piece("strongly-convex-fgap")
    with pytest.raises(InputError, match="at least one"):
        chain_bound([])
    with pytest.raises(InputError, match="piece 1 of 2 has measure='fgap'"):
        chain_bound([fgap, dist])
    other = dataclasses.replace(dist, mu=F(1, 5))
    with pytest.raises(InputError, match="share the class"):
        chain_bound([dist, other])
    convex = certify(Problem(constant("1", 3), FunctionClass("convex"), "fgap", "fgap"))
    with pytest.raises(InputError, match="init='fgap'"):
        chain_bound([convex])


def test_refuses_a_piece_the_kernel_rejects():
    dist = _piece("strongly-convex-dist")
    # a rate lowered by a tenth (multipliers and tau unchanged) is a false claim
    forged = dataclasses.replace(dist, rate=dist.rate * F(9, 10), tau=dist.tau * F(9, 10))
    with pytest.raises(InputError, match="verifier rejects piece 2 of 2"):
        chain_bound([dist, forged])


def test_auto_certifies_when_no_dense_rounding_verifies():
    # Clarabel's dense solve of the optimizer's 25-step distance schedule succeeds, but none of
    # its roundings verifies; the Schur route then certifies the PEP value
    problem = Problem(load_pattern(PATTERNS / "optimized_strongly-convex-dist_n25.json"), SC, "dist")
    cert = certify(problem)
    value = float(_table_row("strongly-convex-dist", 25)["recheck_full_pep"])  # independent solve
    assert value * (1 - 1e-6) <= float(cert.rate) <= value * (1 + 1e-6)


def test_cli_verify_chain(tmp_path, capsys):
    dist = str(RESULTS / "optimized_strongly-convex-dist_n25_certificate.json")
    fgap = str(RESULTS / "optimized_strongly-convex-fgap_n25_certificate.json")
    assert cli.main(["verify", "--chain", dist, fgap, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] and out["num_steps"] == 50 and out["measure"] == "fgap"
    assert F(out["rate"]) == _file_rate("strongly-convex-dist") * _file_rate("strongly-convex-fgap")
    # several files without --chain, pieces in the wrong order, --proof with --chain: exit 2
    assert cli.main(["verify", dist, fgap]) == 2
    assert cli.main(["verify", "--chain", fgap, dist]) == 2
    assert cli.main(["verify", "--chain", dist, fgap, "--proof", str(tmp_path / "p.md")]) == 2
    assert not (tmp_path / "p.md").exists()
    # a cyclic certificate is not a piece
    assert cli.main(["verify", "--chain", dist, str(RESULTS / "search_t127_certificate.json")]) == 2
    # a forged piece (rate and tau lowered by a tenth): the kernel rejects it, exit 1
    forged = json.loads(Path(dist).read_text())
    for key in ("rate", "tau"):
        forged[key] = str(F(forged[key]) * F(9, 10))
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged))
    capsys.readouterr()
    assert cli.main(["verify", "--chain", str(path), fgap]) == 1
    assert "invalid chain" in capsys.readouterr().err


def test_chain_text_of_any_size():
    # two pieces with 4,000-digit integers (the kernel's limit per integer) multiply past Python's
    # default limit on printing integers (4,300 digits); the exact text is still printed
    from pepstep.commands.verify import exact_text
    from pepstep.kernel import approx

    q = F(3**8000, 7**4500)  # 3,817 and 3,803 digits
    text = exact_text(q * q)
    num, den = text.split("/")
    assert len(num) == 7634 and len(den) == 7606
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # to read the text back here
    try:
        assert F(int(num), int(den)) == q * q
    finally:
        sys.set_int_max_str_digits(limit)
    assert sys.get_int_max_str_digits() == limit  # exact_text restored it too
    assert approx(F(10**400)) == "1.000000000E+400"  # beyond the float range, no overflow
    assert approx(F(1, 3)) == "0.3333333333"
