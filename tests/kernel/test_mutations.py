"""Property-based mutation tests of the verifier kernel, both certificate kinds.

Fresh certificates from the solvers are mutated (one to three field edits: scaled, zeroed or negated
rationals, coordinated edits that keep the stated results consistent, added or dropped multipliers,
changed steps, classes, measures and supports). Every mutant the kernel reads is re-checked by the
independent exact checker of :mod:`tests.kernel.reference`; the two verdicts must agree, so no
accepted file states a claim the independent recomputation refutes.
"""

from __future__ import annotations

import copy
import functools
import json
from fractions import Fraction as F

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pepstep import FunctionClass, Problem, Schedule, kernel
from pepstep.certify import certify
from pepstep.cyclic import certify_pattern
from pepstep.errors import CertificateFormatError
from tests.kernel import reference

FAST, SLOW = 160, 2000  # examples per kind in `make test` and in the slow suite

FINITE_SETUPS = [
    (("1", "1", "1"), FunctionClass("convex"), "fgap", "dist", "full"),
    (("3/2", "1/2"), FunctionClass("convex"), "gradnorm", "fgap", "full"),
    (("1", "3/2"), FunctionClass("strongly-convex", mu=0.25), "dist", "dist", "full"),
    (("1/2", "1"), FunctionClass("nonconvex"), "gradnorm", "fgap", "full"),
    (("1", "1"), FunctionClass("nonconvex"), "mingradnorm", "fgap", "full"),
    (("1", "1", "1"), FunctionClass("convex"), "fgap", "dist", "consecutive"),
]
CYCLIC_SETUPS = [(F(3, 2), F(49, 10), F(3, 2)), (F(299, 100), F(3, 2))]


@functools.cache
def finite_base(index: int) -> dict:
    steps, fc, measure, init, support = FINITE_SETUPS[index]
    problem = Problem(Schedule.from_rationals([F(s) for s in steps]), fc, measure, init)
    return json.loads(certify(problem, support=support).to_json())


@functools.cache
def cyclic_base(index: int) -> dict:
    cert = certify_pattern(CYCLIC_SETUPS[index], at=[len(CYCLIC_SETUPS[index]) * k for k in (1, 7, 40)])
    assert cert.valid
    return cert.to_json()


FACTORS = [F(0), F(-1), F(1, 2), F(999, 1000), F(1001, 1000), F(2), 1 + F(1, 10**12), 1 - F(1, 10**12)]


def _q(x: F) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def mutate_finite(obj: dict, draw) -> None:
    op = draw(st.sampled_from(["scale", "coordinated", "drop", "add", "step", "swap", "class", "support"]))
    lam = obj["multipliers"]
    if op == "scale":
        fields = (
            ["tau", "rate", "L", "R"] + [("m", k) for k in lam] + [("s", k) for k in range(len(obj["steps"]))]
        )
        if obj["class"] == "strongly-convex":
            fields.append("mu")
        if "nu" in obj:
            fields += [("nu", k) for k in obj["nu"]]
        f, factor = draw(st.sampled_from(fields)), draw(st.sampled_from(FACTORS))
        if isinstance(f, str):
            obj[f] = _q(F(obj[f]) * factor)
        elif f[0] == "m":
            lam[f[1]] = _q(F(lam[f[1]]) * factor)
        elif f[0] == "s":
            obj["steps"][f[1]] = _q(F(obj["steps"][f[1]]) * factor)
        else:
            obj["nu"][f[1]] = _q(F(obj["nu"][f[1]]) * factor)
    elif op == "coordinated":  # lower tau and the stated rate together: only the PSD check can object
        tau = F(obj["tau"]) * draw(st.sampled_from([F(999, 1000), 1 - F(1, 10**9), F(1, 2)]))
        obj["tau"], obj["rate"] = _q(tau), _q(tau * F(obj["scale"]))
    elif op == "drop" and lam:
        del lam[draw(st.sampled_from(sorted(lam)))]
    elif op == "add":
        pts = ["*"] * (obj["class"] != "nonconvex") + [str(k) for k in range(len(obj["steps"]) + 1)]
        i, j = draw(st.sampled_from(pts)), draw(st.sampled_from(pts))
        lam[f"{i},{j}"] = _q(F(draw(st.integers(-3, 9)), draw(st.integers(1, 7))))
    elif op == "step":
        obj["steps"][draw(st.integers(0, len(obj["steps"]) - 1))] = draw(
            st.sampled_from(["1/8", "1/3", "2", "3"])
        )
    elif op == "swap" and len(lam) >= 2:
        a, b = draw(st.sampled_from(sorted(lam))), draw(st.sampled_from(sorted(lam)))
        lam[a], lam[b] = lam[b], lam[a]
    elif op == "class":
        obj[draw(st.sampled_from(["class", "measure", "init"]))] = draw(
            st.sampled_from(
                ["convex", "strongly-convex", "nonconvex", "fgap", "gradnorm", "dist", "mingradnorm"]
            )
        )
    elif op == "support":
        obj["support"] = "consecutive" if obj["support"] == "full" else "full"


def mutate_cyclic(obj: dict, draw) -> None:
    op = draw(st.sampled_from(["scale", "coordinated", "drop", "add", "step", "delta", "bound"]))
    if op == "scale":
        name = draw(st.sampled_from(["lambda", "gamma", "q", "average", "steps"]))
        factor = draw(st.sampled_from(FACTORS))
        if name in ("q", "average"):
            obj[name] = _q(F(obj[name]) * factor)
        elif name == "steps":
            k = draw(st.integers(0, len(obj["steps"]) - 1))
            obj["steps"][k] = _q(F(obj["steps"][k]) * factor)
        elif obj[name]:
            entry = obj[name][draw(st.integers(0, len(obj[name]) - 1))]
            entry[2] = _q(F(entry[2]) * factor)
    elif op == "coordinated":  # a smaller q with the average that matches it
        q = F(obj["q"]) * draw(st.sampled_from([F(999, 1000), 1 - F(1, 10**12)]))
        obj["q"], obj["average"] = _q(q), _q((2 * sum(F(s) for s in obj["steps"]) - q) / len(obj["steps"]))
    elif op == "drop":
        name = draw(st.sampled_from(["lambda", "gamma"]))
        if obj[name]:
            del obj[name][draw(st.integers(0, len(obj[name]) - 1))]
    elif op == "add":
        t = len(obj["steps"])
        name = draw(st.sampled_from(["lambda", "gamma"]))
        i, j = draw(st.integers(-1, t)), draw(st.integers(0, t))
        obj[name].append([i, j, _q(F(draw(st.integers(-3, 9)), draw(st.integers(1, 7))))])
    elif op == "step":
        obj["steps"][draw(st.integers(0, len(obj["steps"]) - 1))] = draw(st.sampled_from(["1", "5", "49/10"]))
    elif op == "bound" and obj["bounds"]:
        entry = obj["bounds"][draw(st.integers(0, len(obj["bounds"]) - 1))]
        entry[1] = _q(
            F(entry[1]) * draw(st.sampled_from([1 - F(1, 10**30), F(1, 2), F(0), 1 + F(1, 10**30)]))
        )
    else:
        obj["delta"] = _q(F(obj["delta"]) * draw(st.sampled_from([F(2), F(10), F(1, 2), F(-1)])))


def check_agreement(obj: dict, independent) -> None:
    try:
        verdict = kernel.verify_text(json.dumps(obj))
    except CertificateFormatError:
        return  # refused as malformed: no claim accepted
    assert verdict.valid == independent(obj), (verdict.message, obj)


def _run(kind: str, data) -> None:
    if kind == "finite":
        obj = copy.deepcopy(finite_base(data.draw(st.integers(0, len(FINITE_SETUPS) - 1))))
        mutate, independent = mutate_finite, reference.worst_case_valid
    else:
        obj = copy.deepcopy(cyclic_base(data.draw(st.integers(0, len(CYCLIC_SETUPS) - 1))))
        mutate, independent = mutate_cyclic, reference.cyclic_valid
    for _ in range(data.draw(st.integers(1, 3))):
        mutate(obj, data.draw)
    check_agreement(obj, independent)


def _settings(n):
    return settings(max_examples=n, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("kind", ["finite", "cyclic"])
def test_fresh_certificates_are_valid_for_both_checkers(kind):
    setups = FINITE_SETUPS if kind == "finite" else CYCLIC_SETUPS
    for index in range(len(setups)):
        obj = finite_base(index) if kind == "finite" else cyclic_base(index)
        assert kernel.verify_text(json.dumps(obj)).valid
        assert (reference.worst_case_valid if kind == "finite" else reference.cyclic_valid)(obj)


@pytest.mark.parametrize("kind", ["finite", "cyclic"])
@_settings(FAST)
@given(data=st.data())
def test_mutants_get_the_independent_verdict(kind, data):
    _run(kind, data)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["finite", "cyclic"])
@_settings(SLOW)
@given(data=st.data())
def test_many_mutants_get_the_independent_verdict(kind, data):
    _run(kind, data)
