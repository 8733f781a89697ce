"""Worst-case functions: gradient descent on the exported interpolant retraces the worst case.

Each random problem's :class:`~pepstep.worstfunction.WorstFunction` is run through gradient
descent from its ``x_0``; the measure of that run must equal the PEP value, and the exported
points must satisfy every interpolation inequality of the class, recomputed here from the
formulas of DESIGN.md section 1 (independently of ``pepstep.pep``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from pepstep import FunctionClass, Problem, Schedule, constant, silver, worst_case
from pepstep.errors import InputError
from pepstep.worstfunction import WorstFunction, run_gradient_descent, worst_function

#: The value is held at (1 - 1e-7) by the rank-reducing solve; the solver adds about 1e-9.
RTOL_VALUE = 1e-6
#: Interpolation inequalities on the exported data, relative to the data's size (f_unit).
TOL_INTERP = 1e-9
NUM_CASES = 30

MEASURES = {
    "convex": {
        "dist": ["fgap", "gradnorm", "dist", "mingradnorm"],
        "fgap": ["fgap", "gradnorm", "mingradnorm"],
    },
    "strongly-convex": {
        "dist": ["fgap", "gradnorm", "dist", "mingradnorm"],
        "fgap": ["fgap", "gradnorm", "dist", "mingradnorm"],
    },
    "nonconvex": {"fgap": ["gradnorm", "mingradnorm"]},
}


def random_problems(count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    kinds = list(MEASURES)
    out = []
    for case in range(count):
        kind = kinds[case % 3]
        L = float(rng.uniform(0.5, 2.0))
        mu = float(rng.uniform(0.05, 0.5)) * L if kind == "strongly-convex" else 0.0
        init = str(rng.choice(list(MEASURES[kind])))
        measure = str(rng.choice(MEASURES[kind][init]))
        n = int(rng.integers(1, 5))
        steps = tuple(float(h) for h in rng.uniform(0.2, 1.8, n))
        R = float(rng.uniform(0.5, 2.0))
        out.append(Problem(Schedule(steps), FunctionClass(kind, L=L, mu=mu), measure, init, R))
    return out


def interpolation_violation(wf: WorstFunction) -> float:
    """Largest violation of f_i >= f_j + <g_j, x_i - x_j> + ... over ordered pairs (DESIGN.md 1)."""
    X = np.asarray(wf.points, float)
    Gr = np.asarray(wf.gradients, float)
    F = np.asarray(wf.values, float)
    if wf.x_star is not None:
        X = np.vstack([wf.x_star, X])
        Gr = np.vstack([np.zeros(wf.dimension), Gr])
        F = np.concatenate([[wf.f_star], F])
    L = wf.L
    mu = -L if wf.function_class == "nonconvex" else wf.mu
    worst = -np.inf
    for i in range(len(F)):
        for j in range(len(F)):
            if i == j:
                continue
            dx, dg = X[i] - X[j], Gr[i] - Gr[j]
            if wf.function_class == "nonconvex":
                # L-smooth: f_i - f_j >= 1/2 <g_i + g_j, x_i - x_j> + |g_i - g_j|^2/(4L) - L |x_i - x_j|^2/4
                rhs = F[j] + 0.5 * (Gr[i] + Gr[j]) @ dx + dg @ dg / (4 * L) - L * (dx @ dx) / 4
            else:
                rhs = (
                    F[j]
                    + Gr[j] @ dx
                    + (dg @ dg / L + mu * (dx @ dx) - 2 * (mu / L) * ((Gr[j] - Gr[i]) @ (X[j] - X[i])))
                    / (2 * (1 - mu / L))
                )
            worst = max(worst, rhs - F[i])
    return worst


CASES = random_problems(NUM_CASES)


@pytest.mark.parametrize(
    "problem", CASES, ids=lambda p: f"{p.function_class.kind}-{p.measure.value}-{p.init.value}-N{p.num_steps}"
)
def test_gradient_descent_on_the_worst_function_retraces_the_worst_case(problem):
    wc = worst_case(problem)
    wf = worst_function(wc)
    run = run_gradient_descent(wf)
    assert abs(run.measure_value - wc.value) <= RTOL_VALUE * abs(wc.value)
    assert abs(wf.value - wc.value) <= RTOL_VALUE * abs(wc.value)
    scale = wf.f_unit * (1 + np.abs(wf.values).max() / wf.f_unit)
    assert interpolation_violation(wf) <= TOL_INTERP * scale
    size = max(wf.x_unit, float(np.abs(wf.points).max()))  # fgap from fgap: points far out (1e3)
    np.testing.assert_allclose(run.points, np.asarray(wf.points), atol=1e-6 * size)


def test_a_huber_worst_case_is_one_dimensional_and_reads_back_from_json():
    wf = worst_function(worst_case(Problem(constant(1.0, 3))))
    assert wf.dimension == 1 and wf.x_star == [0.0]
    back = WorstFunction.from_json(wf.to_json())
    doc = json.loads(wf.to_json())
    for key in (
        "dimension",
        "L",
        "mu",
        "steps",
        "points",
        "x_star",
        "gradients",
        "values",
        "f_star",
        "measure",
        "value",
        "class",
        "init",
    ):
        assert key in doc
    v, g = back(wf.points[2])
    assert abs(v - wf.values[2]) < 1e-12 and abs(g[0] - wf.gradients[2][0]) < 1e-9


def test_bad_inputs_are_refused_with_their_value():
    wc = worst_case(Problem(constant(1.0, 1)))
    with pytest.raises(InputError, match="reduce='rank'"):
        worst_function(wc, reduce="rank")
    wf = worst_function(wc)
    with pytest.raises(InputError, match="must be 1 finite numbers"):
        wf([1.0, 2.0])


def test_rate_writes_the_worst_function_and_its_plot(tmp_path, capsys):
    from pepstep.cli import main

    out, png = tmp_path / "sub" / "w.json", tmp_path / "w.png"
    args = ["rate", "--steps", "1,1.5", "--quiet", "--worst-function", str(out), "--plot", str(png)]
    assert main(args) == 0
    assert "worst function written to" in capsys.readouterr().out
    wf = WorstFunction.from_json(out.read_text())
    assert wf.dimension == 1 and abs(wf.value - 1 / 12) < 1e-7  # Huber: 1 / (2 (2 * 2.5 + 1))
    assert png.stat().st_size > 10_000


def test_rate_checks_the_worst_function_paths_before_solving(tmp_path, capsys):
    from pepstep.cli import main

    code = main(["rate", "--steps", "1", "--worst-function", str(tmp_path), "--quiet"])
    err = capsys.readouterr()
    assert code == 2 and "--worst-function" in err.err and err.out == ""
    code = main(["rate", "--schedule", "constant:1:65", "--plot", str(tmp_path / "a.png"), "--quiet"])
    err = capsys.readouterr()
    assert code == 2 and "at most 64 steps" in err.err and err.out == ""


def test_silver_is_drawn_as_a_one_dimensional_huber_function_by_both_reductions():
    wc = worst_case(Problem(silver(7)))
    for reduce in ("trace", "logdet"):
        wf = worst_function(wc, reduce=reduce)
        assert wf.dimension == 1 and abs(wf.value - wc.value) <= RTOL_VALUE * wc.value
        g = np.asarray(wf.gradients)[:, 0]
        np.testing.assert_allclose(g, g[0], rtol=1e-9)  # every iterate on the linear piece
    assert "dimension       1" in wf.summary()
