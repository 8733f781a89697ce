"""Certificates from the low-rank Schur route: the 127-step certificate, and agreement with Clarabel."""

from __future__ import annotations

import dataclasses
from fractions import Fraction as F

import pytest

from pepstep import FunctionClass, InputError, Problem, constant
from pepstep.certify import certify, verify
from pepstep.classes import InitialCondition, Measure

#: The issue's tolerance on a certified rate against the exact value.
RTOL_CERT = F(1, 10**6)
#: Two solvers' certificates of the same PEP: each is the PEP value plus a margin below 2e-6.
RTOL_ROUTES = 3e-6


def test_constant_n127_certificate_within_1e6_of_closed_form():
    # Drori & Teboulle (2014): w = 1 / (4 N h + 2) for h = 3/2 (the (1 - h)^{2N} / 2 branch is
    # 2^-255 here); N = 127 uses the Schur route on the working set of constraint generation.
    exact = F(1, 4 * 127 * F(3, 2) + 2)
    cert = certify(Problem(constant("1.5", 127)))
    assert cert.steps == (F(3, 2),) * 127
    assert verify(cert).valid
    assert exact <= cert.rate <= exact * (1 + RTOL_CERT)
    # nothing about the route is trusted: a tau below the proved one is rejected
    low = dataclasses.replace(cert, tau=cert.tau * (1 - RTOL_CERT), rate=cert.rate * (1 - RTOL_CERT))
    assert not verify(low).valid


CASES = [
    ("convex", 0.0, "fgap", "dist"),
    ("convex", 0.0, "fgap", "fgap"),
    ("convex", 0.0, "gradnorm", "dist"),
    ("convex", 0.0, "mingradnorm", "fgap"),
    ("strongly-convex", 0.1, "dist", "dist"),
    ("nonconvex", 0.0, "mingradnorm", "fgap"),
]


@pytest.mark.parametrize("kind,mu,measure,init", CASES)
@pytest.mark.parametrize("support", ["full", "consecutive"])
def test_schur_certificates_agree_with_clarabel(kind, mu, measure, init, support):
    h = "1.0" if kind == "nonconvex" else "1.2"
    problem = Problem(constant(h, 12), FunctionClass(kind, mu=mu), Measure(measure), InitialCondition(init))
    ref = certify(problem, support=support, solver="clarabel")
    cert = certify(problem, support=support, solver="schur")
    assert verify(cert).valid and verify(ref).valid
    assert abs(float(cert.rate) - float(ref.rate)) <= RTOL_ROUTES * float(ref.rate), (cert.rate, ref.rate)


def test_unknown_solver_is_named():
    with pytest.raises(InputError, match="'bogus'"):
        certify(Problem(constant("1", 3)), solver="bogus")
