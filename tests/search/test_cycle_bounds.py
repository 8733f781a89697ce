"""The explicit bound B(T) of a cyclic certificate against gradient descent on explicit functions.

``f(x_T) - f* <= B(T) L D^2`` at every cycle end T, with D the radius of the initial sublevel set
(DESIGN.md section 7). Checked on 1-D functions whose D is known exactly: the Huber function
(``f = x^2 / 2`` for ``|x| <= 1``, ``|x| - 1/2`` beyond; D = |x_0|) and a piecewise quadratic
(``a x^2 / 2`` for ``x >= 0``, ``b x^2 / 2`` below, ``a / b`` a perfect square so that
``D = |x_0| max(1, sqrt(a / b))`` or its mirror is rational).
"""

from __future__ import annotations

import json
from fractions import Fraction as F
from pathlib import Path

import pytest

from pepstep import kernel
from pepstep.cyclic import certify_pattern, warmup_cycles_T0

ROOT = Path(__file__).resolve().parents[2]
CYCLES = 3000  # cycle ends checked per run
RTOL_FLOAT = 1e-9  # float gradient descent against the exact bound


def huber(x):
    return (x * x / 2, x) if abs(x) <= 1 else (abs(x) - 0.5, 1.0 if x > 0 else -1.0)


def piecewise(a, b):
    return lambda x: (a * x * x / 2, a * x) if x >= 0 else (b * x * x / 2, b * x)


def _runs():
    for x0 in (0.5, 3.0, 40.0, 2000.0):
        yield f"huber x0={x0}", huber, x0, abs(x0)
    for a, b, x0 in ((1.0, 1 / 25, 1.0), (1 / 25, 1.0, 1.0), (1.0, 1 / 4, -7.0)):
        f = piecewise(a, b)
        # {f <= f(x0)}: on the other side of 0 the curvature ratio scales the radius
        c0, c1 = (a, b) if x0 >= 0 else (b, a)
        yield f"quadratic a={a} b={b} x0={x0}", f, x0, abs(x0) * max(1.0, (c0 / c1) ** 0.5)


def _certificates():
    cert3 = certify_pattern([F(3, 2), F(49, 10), F(3, 2)], at=[3])
    yield "grimmer t=3", cert3.steps, cert3.q, cert3.delta
    data = json.loads((ROOT / "results" / "search_t127_certificate.json").read_text())
    yield "search t=127", [F(s) for s in data["steps"]], F(data["q"]), F(data["delta"])
    data = json.loads((ROOT / "results" / "search_t255_certificate.json").read_text())
    yield "search t=255", [F(s) for s in data["steps"]], F(data["q"]), F(data["delta"])


CERTS = list(_certificates())


@pytest.mark.parametrize("name,steps,q,delta", CERTS, ids=[c[0] for c in CERTS])
@pytest.mark.parametrize("label,f,x0,D", list(_runs()), ids=[r[0] for r in _runs()])
def test_bound_is_never_below_gradient_descent(name, steps, q, delta, label, f, x0, D):
    B = kernel.cycle_bounds(sum(steps), q, delta, CYCLES)
    h = [float(s) for s in steps]
    x, worst = x0, 0.0
    for n in range(CYCLES):
        for hk in h:
            x -= hk * f(x)[1]
        gap, bound = f(x)[0], float(B[n]) * D * D
        assert gap <= bound * (1 + RTOL_FLOAT) + 1e-300, (label, n + 1, gap, bound)
        worst = max(worst, gap / bound if bound else 0.0)
    assert worst <= 1.0


def test_stored_bounds_are_the_recursion_and_the_warmup_is_reported():
    data = json.loads((ROOT / "results" / "search_t127_certificate.json").read_text())
    assert kernel.verify_text(json.dumps(data)).valid
    assert F(data["delta"]) >= F(1, 10**9)  # the widened Delta (was 2^-43)
    steps, q, delta = [F(s) for s in data["steps"]], F(data["q"]), F(data["delta"])
    B = kernel.cycle_bounds(sum(steps), q, delta, 10**4)
    assert [[T, str(B[T // 127 - 1])] for T, _ in data["bounds"]] == data["bounds"]
    cert = certify_pattern([F(3, 2), F(49, 10), F(3, 2)], at=[3, 30])
    T0 = warmup_cycles_T0(cert)
    B = kernel.cycle_bounds(sum(cert.steps), cert.q, cert.delta, T0 // 3)
    assert T0 * float(B[-1]) <= 1.01 / float(cert.average)  # conservative: reached by T0
