"""Schedules in practice: real problems, runners, hypergradients, and the PEP bound as a theory check."""

from __future__ import annotations

import dataclasses
import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from pepstep import InputError, constant, silver
from pepstep.cli import main
from pepstep.practice import (
    GTOL_REFERENCE,
    LOGISTIC_REG,
    PROBLEMS,
    least_squares,
    load_problem,
    parse_method,
    pep_value,
    plot_practice,
    run_hypergradient,
    run_schedule,
    schedule_bounds,
)
from pepstep.schedules import load_pattern
from tests.conftest import RHO, RTOL_CLOSED_FORM, assert_rel

PATTERNS = Path(__file__).resolve().parents[2] / "problems" / "patterns"

#: The PEP value is solved to a relative duality gap <= 1e-6 (pepstep.solve.RTOL_GAP).
RTOL_PEP = 1e-6
#: f* is computed to |grad f(x*)| <= 1e-12 |grad f(x0)|; gaps below this are rounding noise.
ATOL_FSTAR = 1e-12
#: A finite-difference curvature along one direction (central difference of the gradient).
RTOL_FD = 1e-6
#: scikit-learn's Newton-Cholesky logistic solve, run to tol 1e-12, against our reference.
RTOL_SKLEARN = 1e-10

CERTIFIED = {
    "constant:1:10": constant("1", 10),
    "constant:1.5:10": constant("3/2", 10),
    "silver:7": silver(7),
    "silver:15": silver(15),
    "silver:31": silver(31),
    "grimmer_t3": load_pattern(PATTERNS / "grimmer2023_t3.json"),
    "grimmer_t7": load_pattern(PATTERNS / "grimmer2023_t7.json"),
}


@pytest.fixture(scope="module")
def problems():
    return {name: load_problem(name) for name in PROBLEMS}


@pytest.fixture(scope="module")
def pep_values():
    """One PEP solve per certified schedule (N = its length) for the whole module."""
    return {name: pep_value(s.steps) for name, s in CERTIFIED.items()}


# ------------------------------------------------------------------ PEP values against closed forms


@pytest.mark.parametrize("k", [3, 4, 5])
def test_silver_pep_matches_closed_form(pep_values, k):
    # Altschuler & Parrilo (2023), Theorem 1.1: w = 1 / (4 rho^k - 2) for N = 2^k - 1.
    assert_rel(pep_values[f"silver:{2**k - 1}"], 1 / (4 * RHO**k - 2), RTOL_CLOSED_FORM, "silver")


def test_constant_pep_matches_closed_form(pep_values):
    # (1/2) max(1/(2Nh+1), (1-h)^(2N)) (Drori & Teboulle 2014; Rotaru, Glineur & Patrinos 2024).
    assert_rel(pep_values["constant:1:10"], 1 / 42, RTOL_CLOSED_FORM, "h = 1")
    assert_rel(pep_values["constant:1.5:10"], 0.5 / 31, RTOL_CLOSED_FORM, "h = 1.5")


# ------------------------------------------------------------------ theory against data


@pytest.mark.parametrize("schedule", list(CERTIFIED))
@pytest.mark.parametrize("name", list(PROBLEMS))
def test_observed_gap_never_exceeds_pep_bound(problems, pep_values, name, schedule):
    p, s = problems[name], CERTIFIED[schedule]
    N = len(s)
    observed = run_schedule(p, s, N).f_gap[N]
    bound = pep_values[schedule] * p.L * p.R**2
    assert observed <= bound * (1 + RTOL_PEP) + ATOL_FSTAR * max(1.0, abs(p.f_star)), (
        f"{name}, {schedule}: f(x_N) - f* = {observed:.6e} > PEP bound {bound:.6e}"
    )


def test_schedule_bounds_scale_the_pep_value(problems):
    p = problems["least_squares:diabetes"]
    (b,) = schedule_bounds(p, silver(7), max_n=7)
    assert b.N == 7
    assert_rel(b.value, p.L * p.R**2 / (4 * RHO**3 - 2), RTOL_CLOSED_FORM, "scaled bound")


# ------------------------------------------------------------------ the problems are what they claim


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_reference_solution_is_stationary(problems, name):
    p = problems[name]
    g = np.linalg.norm(p.grad(p.x_star))
    assert g <= GTOL_REFERENCE * max(1.0, np.linalg.norm(p.grad(p.x0)))
    assert p.f(p.x_star) == p.f_star


def _fd_hessian(p, x, t=1e-4):
    """Hessian from central differences of the gradient (independent of the stated L)."""
    E = np.eye(p.dim) * t
    H = np.array([p.grad(x + e) - p.grad(x - e) for e in E]) / (2 * t)
    return (H + H.T) / 2


#: Where the largest curvature is attained: anywhere for quadratics; at x = 0 = x0 for logistic
#: (sigmoid' is largest at 0); for Huber wherever every residual is in the quadratic region,
#: which holds at x* for the shipped data.
ATTAINED_AT = {"least_squares": "x0", "quadratic": "x0", "logistic": "x0", "huber": "x_star"}


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_L_is_attained_and_never_exceeded(problems, name):
    p = problems[name]
    where = getattr(p, ATTAINED_AT[name.split(":")[0]])
    assert_rel(np.linalg.eigvalsh(_fd_hessian(p, where))[-1], p.L, RTOL_FD, f"{name}: top curvature")
    rng = np.random.default_rng(7)
    for _ in range(3):
        x = p.x_star + rng.standard_normal(p.dim)
        assert np.linalg.eigvalsh(_fd_hessian(p, x))[-1] <= p.L * (1 + RTOL_FD)


@pytest.mark.parametrize("dataset", ["breast_cancer", "digits"])
def test_logistic_f_star_matches_scikit_learn(problems, dataset):
    from sklearn.linear_model import LogisticRegression

    from pepstep.practice import _sklearn_data, _standardize

    p = problems[f"logistic:{dataset}"]
    X, t = _sklearn_data(dataset)
    A = np.hstack([_standardize(X), np.ones((X.shape[0], 1))])
    y = 2 * t - 1 if dataset == "breast_cancer" else np.where(t % 2 == 1, 1.0, -1.0)
    # sklearn minimizes |w|^2 / 2 + C sum log(1 + exp(-y a.w)): C = 1 / (reg m) is our f times C m.
    clf = LogisticRegression(
        C=1 / (LOGISTIC_REG * len(y)), fit_intercept=False, solver="newton-cholesky", tol=1e-12, max_iter=200
    ).fit(A, y)
    assert_rel(p.f(clf.coef_.ravel()), p.f_star, RTOL_SKLEARN, "f* against scikit-learn")


def test_least_squares_closed_form():
    p = least_squares(np.diag([2.0, 1.0]), np.array([2.0, 3.0]))  # m = 2: L = 4 / 2
    assert p.L == 2.0 and p.f_star == 0.0 and p.x_star.tolist() == [1.0, 3.0]


# ------------------------------------------------------------------ runners


def test_schedule_is_cycled(problems):
    p = problems["least_squares:diabetes"]
    t = run_schedule(p, load_pattern(PATTERNS / "grimmer2023_t3.json"), 7)
    assert t.steps.tolist() == [1.5, 4.9, 1.5, 1.5, 4.9, 1.5, 1.5]
    assert t.f_gap.shape == (8,) and t.grad_norm.shape == (8,)


def test_trace_is_frozen(problems):
    t = run_schedule(problems["quadratic:spectrum"], silver(3), 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.seconds = 0.0
    with pytest.raises(ValueError, match="read-only"):
        t.f_gap[0] = 0.0


def test_gradient_descent_on_a_quadratic_matches_closed_form(problems):
    # f = (1/2) sum lambda_i x_i^2: x_N,i = prod_k (1 - h_k lambda_i / L) x_0,i exactly.
    p = problems["quadratic:spectrum"]
    s = silver(7)
    lam = np.array([p.grad(e)[i] for i, e in enumerate(np.eye(p.dim))])
    xN = p.x0 * np.prod([1 - h * lam / p.L for h in s.steps], axis=0)
    assert_rel(run_schedule(p, s, 7).final_gap, 0.5 * float(lam @ xN**2), 1e-12, "quadratic")


def test_hypergradient_is_the_derivative_of_the_next_value(problems):
    # Baydin et al. (2018): d f(x_k - alpha g_k) / d alpha = -grad f(x_{k+1}) . g_k.
    p = problems["logistic:breast_cancer"]
    x = p.x0 + 0.1
    g, alpha, eps = p.grad(x), 0.5 / p.L, 1e-6 / p.L
    fd = (p.f(x - (alpha + eps) * g) - p.f(x - (alpha - eps) * g)) / (2 * eps)
    assert_rel(-float(p.grad(x - alpha * g) @ g), fd, 1e-6, "hypergradient")


def test_depth_zero_is_gradient_descent_with_the_top_constant(problems):
    p = problems["logistic:digits"]
    a = run_hypergradient(p, 0, 50, alpha0=0.01, hyper_step=0.7)
    b = run_schedule(p, constant(0.7, 1), 50)
    assert np.array_equal(a.f_gap, b.f_gap)


KAPPAS = np.logspace(-2, 0, 5)  # the top-level constant, over two orders of magnitude
ITERS_HD = 500
ALPHA_POOR = 0.01  # initial step in units of 1/L


def _final_gaps(p, depth):
    return np.array([run_hypergradient(p, depth, ITERS_HD, ALPHA_POOR, k).final_gap for k in KAPPAS])


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_hypergradient_beats_the_poor_step_and_depth_lowers_sensitivity(problems, name):
    p = problems[name]
    gd_poor = run_schedule(p, constant(ALPHA_POOR, 1), ITERS_HD).final_gap
    gaps = {d: _final_gaps(p, d) for d in (0, 1, 2)}
    for d in (1, 2):
        assert np.all(gaps[d] < gd_poor), f"{name}: depth {d} gaps {gaps[d]} vs GD at h=0.01 {gd_poor:.3e}"
    spread = {d: math.log10(g.max() / g.min()) for d, g in gaps.items()}  # decades
    assert spread[2] < spread[0], f"{name}: spread of final gaps (decades) by depth {spread}"


# ------------------------------------------------------------------ parsing and CLI


def test_parse_method_forms():
    m = parse_method("constant:1.5")
    assert (m.schedule.steps, m.schedule.exact, m.label) == ((1.5,), (Fraction(3, 2),), "constant:1.5")
    assert parse_method("constant:1:4").schedule.steps == (1.0,) * 4
    assert parse_method("hypergradient:depth=3").depth == 3
    assert (
        parse_method("pattern:" + str(PATTERNS / "grimmer2023_t3.json") + ":2").label
        == "pattern:grimmer2023_t3:2"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--problem", "nope", "--schedule", "silver:7"], "Unknown problem 'nope'"),
        (["--problem", "least_squares:diabetes", "--schedule", "fast:3"], "Unknown schedule 'fast'"),
        (
            ["--problem", "least_squares:diabetes", "--schedule", "silver:7", "--iters", "0"],
            "argument --iters: must be an integer >= 1; got '0'",
        ),
        (
            ["--problem", "least_squares:diabetes", "--schedule", "silver:7", "--iters", "-5"],
            "argument --iters: must be an integer >= 1; got '-5'",
        ),
        (
            ["--problem", "least_squares:diabetes", "--schedule", "hypergradient:alpha=1"],
            "A hypergradient method is written",
        ),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    assert main(["run", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_run_schedule_rejects_bad_iters(problems):
    with pytest.raises(InputError, match=r"The 'iters' must be a positive integer. Got iters=0."):
        run_schedule(problems["quadratic:spectrum"], silver(3), 0)


def test_cli_json_and_plot(capsys, tmp_path):
    png = tmp_path / "c.png"
    argv = [
        "run",
        "--problem",
        "least_squares:diabetes",
        "--schedule",
        "silver:15",
        "--schedule",
        "hypergradient:depth=1",
        "--iters",
        "64",
        "--bound-max-n",
        "15",
        "--json",
        "--plot",
        str(png),
    ]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # no progress bar with --json
    out = json.loads(captured.out)
    (b,) = out["methods"][0]["bounds"]
    assert b["N"] == 15 and b["observed"] <= b["value"]
    assert_rel(b["normalized"], 1 / (4 * RHO**4 - 2), RTOL_CLOSED_FORM, "silver 15 in JSON")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_bounds(problems, tmp_path):
    p = problems["quadratic:spectrum"]
    plot_practice(p, [run_hypergradient(p, 1, 20)], {}, tmp_path / "h.png")
    assert (tmp_path / "h.png").stat().st_size > 10_000
