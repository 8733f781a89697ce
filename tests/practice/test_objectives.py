"""mlp:digits and mini-batch problems: gradients against finite differences, batches that are what
they claim, statuses that tell the truth, and runs never above the worst case of their own steps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pepstep import InputError
from pepstep.practice import (
    MinibatchProblem,
    learned_bounds,
    load_objective,
    load_problem,
    parse_problem_spec,
    run_stack_on,
)
from pepstep.stacks import Optimizer, Stack, parse_stack
from tests.conftest import assert_rel

#: Central differences of the loss along a random direction, step 1e-5 (truncation ~1e-10).
RTOL_FD = 1e-6
#: The PEP value is solved to a relative duality gap <= 1e-6 (pepstep.solve.RTOL_GAP).
RTOL_PEP = 1e-6
#: f* is computed to |grad f(x*)| <= 1e-12 |grad f(x0)|; gaps below this are rounding noise.
ATOL_FSTAR = 1e-12


@pytest.fixture(scope="module")
def mlp():
    return load_objective("mlp:digits")


def test_mlp_gradient_matches_finite_differences(mlp):
    rng = np.random.default_rng(0)
    x = mlp.x0 + 0.1 * rng.standard_normal(mlp.dim)
    for rows in (None, rng.choice(mlp.num_samples, 50, replace=False)):
        g = mlp.grad(x) if rows is None else mlp.sample_grad(x, rows)
        for _ in range(3):
            u = rng.standard_normal(mlp.dim)
            t = 1e-5
            if rows is None:
                fd = (mlp.f(x + t * u) - mlp.f(x - t * u)) / (2 * t)
            else:  # the batch loss: the mean over the same rows, by the full loss of a masked copy
                sub = _batch_loss(mlp, rows)
                fd = (sub(x + t * u) - sub(x - t * u)) / (2 * t)
            assert_rel(
                float(g @ u), fd, RTOL_FD, f"directional derivative, rows={'all' if rows is None else 50}"
            )


def _batch_loss(mlp, rows):
    """Mean cross-entropy over ``rows``, written out here (independent of the problem's code)."""
    from pepstep.practice import _sklearn_data, _standardize

    X, t = _sklearn_data("digits")
    X = _standardize(X)[rows]
    y = t.astype(int)[rows]
    H, n = 32, X.shape[1]

    def f(x):
        W1 = x[: n * H].reshape(n, H)
        b1 = x[n * H : n * H + H]
        W2 = x[n * H + H : n * H + H + H * 10].reshape(H, 10)
        b2 = x[-10:]
        Z = np.tanh(X @ W1 + b1) @ W2 + b2
        return float(np.mean(np.log(np.exp(Z).sum(1)) - Z[np.arange(len(y)), y]))

    return f


def test_mlp_loss_is_the_mean_cross_entropy(mlp):
    # an independent forward pass over every row gives the problem's f
    rows = np.arange(mlp.num_samples)
    x = mlp.x0 + 0.05
    assert _batch_loss(mlp, rows)(x) == pytest.approx(mlp.f(x), rel=1e-12)


def test_mlp_has_no_pep_bound(mlp):
    assert mlp.L is None and mlp.f_star is None and mlp.x_star is None
    assert mlp.pep_note == "no PEP bound: nonconvex, L unknown"
    assert mlp.f(mlp.x0) == pytest.approx(math.log(10), rel=0.2)  # a random start predicts ~uniformly
    t = run_stack_on(mlp, parse_stack("stack:sgd(0.1)"), 3)
    assert not t.is_schedule
    with pytest.raises(InputError, match="no PEP bound: nonconvex, L unknown"):
        learned_bounds(mlp, t, [1])


def test_minibatch_of_every_row_is_the_full_gradient():
    p = load_problem("logistic:breast_cancer")
    mb = MinibatchProblem(p, p.num_samples, seed=5)
    x = p.x0 + 0.3
    np.testing.assert_allclose(mb.oracle()(x, 0), p.grad(x), rtol=1e-12, atol=1e-15)


def test_minibatch_runs_are_seeded_and_say_no_bound():
    a = load_objective("least_squares:diabetes@batch=16,seed=3")
    b = load_objective("least_squares:diabetes@batch=16,seed=4")
    s = parse_stack("stack:sgd(0.1)/sgd(0.001)")
    t1, t2, t3 = (run_stack_on(p, s, 50) for p in (a, a, b))
    np.testing.assert_array_equal(t1.f_gap, t2.f_gap)
    assert not np.array_equal(t1.f_gap, t3.f_gap)
    assert a.pep_note == "no PEP bound: stochastic gradients (mini-batches of 16)"
    assert not t1.is_schedule
    # the mean of the batch gradients over many draws approaches the full gradient
    x = a.x0 + 0.5
    draws = np.mean([a.oracle()(x, 0) for _ in range(1)] + [g for g in _draws(a, x, 4000)], axis=0)
    assert np.linalg.norm(draws - a.grad(x)) <= 0.05 * np.linalg.norm(a.grad(x))


def _draws(p, x, n):
    orc = p.oracle()
    return [orc(x, k) for k in range(n)]


@pytest.mark.parametrize(
    "spec,needle",
    [
        ("foo", "Unknown problem 'foo'"),
        ("mlp:digits@batch=0", "batch size must be in [1, 100000]"),
        ("mlp:digits@batch=x", "'batch' must be an integer"),
        ("mlp:digits@seed=1", "written NAME@batch=B"),
        ("mlp:digits@batch=4,batch=5", "Bad mini-batch option"),
        ("mlp:digits@batch=4,size=5", "Bad mini-batch option 'size=5'"),
        ("quadratic:spectrum@batch=4", "not a sum over samples"),
        ("logistic:digits@batch=4,seed=-1", "seed must be in"),
    ],
)
def test_bad_problem_specs(spec, needle):
    with pytest.raises(InputError) as exc:
        parse_problem_spec(spec)
    assert needle in str(exc.value)


def test_batch_larger_than_the_data_is_refused():
    with pytest.raises(InputError, match=r"batch size must be in \[1, 442\]"):
        load_objective("least_squares:diabetes@batch=443")


# ------------------------------------------------------------------ learned schedules, certified

STACKS = [
    "stack:sgd(0.1)/sgd(0.01)",
    "stack:sgd(0.01)/sgd(0.01)/sgd(0.01)",
    "stack:sgd(0.3)/sgd(0.001)/sgd(0.001)/sgd(0.001)",
]


@pytest.mark.parametrize("spec", STACKS)
@pytest.mark.parametrize("name", ["least_squares:diabetes", "logistic:breast_cancer", "huber:synthetic"])
def test_learned_run_never_exceeds_the_worst_case_of_its_own_steps(name, spec):
    p = load_problem(name)
    t = run_stack_on(p, parse_stack(spec), 15)
    assert t.is_schedule
    found = learned_bounds(p, t, [1, 3, 7, 15])
    assert [b.N for b in found] == [1, 3, 7, 15]
    for b in found:
        assert b.status == "optimal", b
        assert b.observed <= b.value * (1 + RTOL_PEP) + ATOL_FSTAR * max(1.0, abs(p.f_star)), (
            f"{name} {spec} N={b.N}: f(x_N) - f* = {b.observed:.6e} > worst case {b.value:.6e}"
        )
        # the bound's own steps: the trace's first N steps, h = L alpha
        assert b.max_step == pytest.approx(float(np.max(t.steps[: b.N])), rel=0, abs=0)


def test_learned_constant_schedule_has_the_closed_form_worst_case():
    # height 0 with alpha = 1/L is gradient descent with h = 1: w = 1/(4N + 2) (Drori & Teboulle 2014)
    p = load_problem("least_squares:diabetes")
    t = run_stack_on(p, Stack((Optimizer.make("sgd", alpha=1.0 / p.L),)), 7)
    (b,) = learned_bounds(p, t, [7])
    assert_rel(b.normalized, 1 / 30, 1e-6, "h = 1, N = 7")
    assert_rel(b.value, p.L * p.R**2 / 30, 1e-6, "scaled")


def test_nonpositive_learned_step_is_not_a_schedule():
    # a hyper-step so large that alpha turns negative: no PEP of gradient descent, no number
    p = load_problem("least_squares:diabetes")
    t = run_stack_on(p, parse_stack("stack:sgd(0.1)/sgd(100)"), 5)
    assert np.any(t.steps <= 0), t.steps
    found = learned_bounds(p, t, [5])
    assert found[0].status == "not a schedule" and found[0].value is None
