"""Stacks of hyperoptimizers: every hypergradient against central finite differences of the
one-step loss, the reparametrizations, the grammar, and the hypergradient runner as a special case."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pepstep import InputError
from pepstep.practice import load_problem, run_hypergradient, run_stack_on
from pepstep.stacks import (
    OPTIMIZERS,
    Optimizer,
    Stack,
    StackState,
    hypergradients,
    parse_stack,
    stack_step,
)

#: Central differences with step DELTA have truncation error O(DELTA^2 f''') and rounding error
#: O(eps_machine |f| / DELTA): about 1e-9 relative here; 1e-6 leaves room for curvature.
DELTA = 1e-6
RTOL_FD = 1e-6
#: Absolute floor of the comparison (hypergradients that vanish by structure, e.g. at k = 1).
ATOL_FD = 1e-9
#: Two implementations of the same recursion in floating point (different operation order).
RTOL_SAME = 1e-9


def _objective(seed: int = 0, m: int = 30, n: int = 6):
    """A smooth nonquadratic test function: logistic loss plus a small ridge (no special structure)."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    b = rng.standard_normal(m)

    def f(x):
        return float(np.mean(np.logaddexp(0.0, A @ x - b))) + 0.05 * float(x @ x)

    def grad(x):
        s = np.exp(-np.logaddexp(0.0, -(A @ x - b)))
        return A.T @ s / m + 0.1 * x

    return f, grad, rng.standard_normal(n)


#: Small initial values so that every level moves without diverging within K iterations.
INIT = {
    "sgd": {"alpha": 0.3},
    "momentum": {"alpha": 0.2, "mu": 0.6},
    "adam": {"alpha": 0.05, "beta1": 0.8, "beta2": 0.9},
    "adagrad": {"alpha": 0.2},
    "rmsprop": {"alpha": 0.02, "gamma": 0.8},
}
HYPER = {
    "sgd": {"alpha": 1e-2},
    "momentum": {"alpha": 1e-2, "mu": 0.5},
    "adam": {"alpha": 1e-3},
    "adagrad": {"alpha": 1e-3},
    "rmsprop": {"alpha": 1e-3, "gamma": 0.9},
}


def _stack(names) -> Stack:
    levels = [Optimizer.make(names[0], **INIT[names[0]])]
    levels += [Optimizer.make(nm, **HYPER[nm]) for nm in names[1:]]
    return Stack(tuple(levels))


def _check_one_step_hypergradients(stack: Stack, k: int, seed: int = 0) -> None:
    """d f(x_k) / d theta_i(k-1), analytic (the stack's) against central differences."""
    f, grad, x = _objective(seed)
    state = StackState.start(stack, x.size)
    for j in range(k - 1):
        x, _ = stack_step(stack, state, x, grad(x), j)
    before, x_prev = state.copy(), x.copy()
    x_k, _ = stack_step(stack, state, x, grad(x), k - 1)
    analytic = hypergradients(state, grad(x_k))
    for i, level in enumerate(stack.levels):
        for j, key in enumerate(level.keys):
            e = np.zeros(before.thetas[i].size)
            e[j] = DELTA
            vals = []
            for sign in (1.0, -1.0):
                trial = before.copy()
                xp, _ = stack_step(stack, trial, x_prev, grad(x_prev), k - 1, perturb=(i, sign * e))
                vals.append(f(xp))
            fd = (vals[0] - vals[1]) / (2 * DELTA)
            got = analytic[i][j]
            assert abs(got - fd) <= RTOL_FD * abs(fd) + ATOL_FD, (
                f"{stack.label} k={k}: level {i} ({level.name}) d/d {key}: analytic {got!r}, "
                f"finite differences {fd!r}"
            )


@pytest.mark.parametrize("bottom,hyper", list(itertools.product(OPTIMIZERS, OPTIMIZERS)))
def test_hypergradients_of_every_pair_match_finite_differences(bottom, hyper):
    # each optimizer as the optimizer of the parameters and as the hyperoptimizer, both levels
    for k in (1, 2, 7):
        _check_one_step_hypergradients(_stack([bottom, hyper]), k)


@pytest.mark.parametrize(
    "names",
    [
        ("sgd", "sgd", "sgd", "sgd"),
        ("adam", "adam", "adam", "sgd"),
        ("momentum", "rmsprop", "adagrad", "adam"),
        ("rmsprop", "momentum", "adam", "adagrad", "sgd"),
        ("adagrad",),
        ("adam",),
    ],
)
def test_hypergradients_of_tall_stacks_match_finite_differences(names):
    for k in (1, 3, 9):
        _check_one_step_hypergradients(_stack(names), k, seed=1)


def test_sgd_stack_hypergradient_is_the_product_of_gradient_inner_products():
    # Baydin et al.: d f(x_k) / d alpha_{k-1} = -g_k . g_{k-1}; one level up, the chain rule
    # through alpha_{k-1} = alpha_{k-2} - kappa d_0(k-1) gives -d_0(k) d_0(k-1).
    f, grad, x = _objective(2)
    stack = parse_stack("stack:sgd(0.3)/sgd(0.01)/sgd(0.001)")
    state = StackState.start(stack, x.size)
    gs, d0 = [], []
    for k in range(5):
        g = grad(x)
        d = hypergradients(state, g)
        if gs:
            assert abs(d[0][0] - (-g @ gs[-1])) <= 1e-14 * abs(g @ gs[-1])
        if len(d0) >= 2:
            assert abs(d[1][0] - (-d[0][0] * d0[-1])) <= 1e-14 * abs(d[0][0] * d0[-1])
        gs.append(g)
        d0.append(d[0][0])
        x, _ = stack_step(stack, state, x, g, k)


def test_reparametrized_hyperparameters_stay_in_the_unit_interval():
    # a hyperoptimizer far too aggressive for the betas: z runs off, beta = (1 + tanh z)/2 stays in (0, 1)
    f, grad, x = _objective(3)
    stack = parse_stack("stack:adam(0.05,0.5,0.5)/sgd(1000)")
    state = StackState.start(stack, x.size)
    zs = []
    for k in range(30):
        x, _ = stack_step(stack, state, x, grad(x), k)
        v = stack.levels[0].values(state.thetas[0])
        assert 0.0 <= v["beta1"] <= 1.0 and 0.0 <= v["beta2"] <= 1.0
        zs.append(state.thetas[0][1:].copy())
    assert np.max(np.abs(np.array(zs) - np.array(zs)[0])) > 1.0, "the betas' logits never moved"
    # and the inverse map: theta0 -> values recovers the user's betas
    assert stack.levels[0].values(stack.levels[0].theta0())["beta1"] == pytest.approx(0.5, abs=1e-15)


@pytest.mark.parametrize("depth", [0, 1, 2, 3])
def test_hypergradient_method_is_a_normalized_sgd_stack(depth):
    p = load_problem("least_squares:diabetes")
    ref = run_hypergradient(p, depth, 300, alpha0=0.05, hyper_step=0.02)
    text = "stack:" + "/".join(["sgd(0.02)"] if depth == 0 else ["sgd(0.05)"] + ["sgd(0.02)"] * depth)
    t = run_stack_on(p, parse_stack(text), 300, normalized=True)
    np.testing.assert_allclose(t.steps, ref.steps, rtol=RTOL_SAME, atol=0)
    np.testing.assert_allclose(t.f_gap, ref.f_gap, rtol=1e-7, atol=1e-13)
    assert t.is_schedule


# ------------------------------------------------------------------ the grammar


def test_grammar_positional_keyword_and_defaults():
    s = parse_stack("stack: Adam(0.01, beta2=0.99) / SGD(1e-5)")
    assert [o.name for o in s.levels] == ["adam", "sgd"]
    assert s.levels[0].values() == {"alpha": 0.01, "beta1": 0.9, "beta2": 0.99}
    assert s.levels[1].values() == {"alpha": 1e-5}
    assert parse_stack(s.label) == s  # the label is itself a valid spec of the same stack
    assert parse_stack("stack:momentum").levels[0].values() == {"alpha": 0.01, "mu": 0.9}
    assert parse_stack("stack:rmsprop()/adagrad").height == 1


@pytest.mark.parametrize(
    "text,needle",
    [
        ("stack:", "names no optimizer"),
        ("stack:adam//sgd", "Bad stack level ''"),
        ("stack:lion", "Unknown optimizer 'lion'"),
        ("stack:sgd(0.1", "Unbalanced parentheses"),
        ("stack:sgd((0.1))", "Bad stack level"),
        ("stack:sgd(-0.1)", "'alpha' must be finite and > 0. Got alpha=-0.1"),
        ("stack:sgd(0)", "'alpha' must be finite and > 0"),
        ("stack:sgd(nan)", "must be finite"),
        ("stack:sgd(1e400)", "must be finite"),
        ("stack:sgd(abc)", "Not a number: 'abc'"),
        ("stack:adam(0.1,1.0)", "'beta1' must be in (0, 1). Got beta1=1.0"),
        ("stack:adam(beta2=0)", "'beta2' must be in (0, 1)"),
        ("stack:momentum(0.1,mu=1)", "'mu' must be in [0, 1)"),
        ("stack:rmsprop(gamma=1.5)", "'gamma' must be in (0, 1)"),
        ("stack:sgd(0.1,0.2)", "at most 1 values"),
        ("stack:sgd(alpha=0.1,alpha=0.2)", "given twice"),
        ("stack:adam(alpha=0.1,0.9)", "positional value after a keyword"),
        ("stack:sgd(beta=0.1)", "no hyperparameter 'beta'"),
        ("stack:adam(0.1,1-1e-17)", "Not a number"),
        ("stack:adam(0.1,0.99999999999999999)", "'beta1' must be in (0, 1)"),
        ("stack:" + "/".join(["sgd"] * 60), "at most 50 levels"),
    ],
)
def test_bad_stacks_are_refused_with_the_bad_value_named(text, needle):
    with pytest.raises(InputError) as exc:
        parse_stack(text)
    assert needle in str(exc.value), str(exc.value)
    assert "\n" not in str(exc.value)
