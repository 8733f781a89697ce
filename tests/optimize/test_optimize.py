"""Schedule optimization against closed forms, the BnB-PEP literature values and the best constant step."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from pepstep import FunctionClass, InputError, Problem, Schedule, worst_case
from pepstep.cli import main
from pepstep.optimize import optimize_schedule, worst_case_gradient
from tests.conftest import assert_rel

ROOT = Path(__file__).resolve().parents[2]
#: The optimizer stops when the model predicts a relative decrease below 1e-11; steps are then
#: accurate to about the square root of the solver's accuracy (1e-9), values to about 1e-8.
RTOL_VALUE = 1e-6
ATOL_STEP = 1e-4
#: The issue's tolerance against the literature values (vectors printed to 6-16 digits).
RTOL_LITERATURE = 1e-5
#: Central differences of the PEP value with step 1e-5: error O(1e-10 / 1e-5) from the solver.
ATOL_GRADIENT = 1e-4


def literature_values() -> dict:
    data = tomllib.loads((ROOT / "problems" / "literature_optimal_values.toml").read_text())
    return {int(r["label"].split("=")[1]): r["published"] for r in data["rows"]}


@pytest.mark.parametrize(
    "fc, measure",
    [
        (FunctionClass(), "fgap"),
        (FunctionClass("strongly-convex", 1.0, 0.1), "dist"),
        (FunctionClass(), "gradnorm"),
        (FunctionClass("nonconvex"), "gradnorm"),
    ],
)
def test_gradient_matches_central_differences(fc, measure):
    """Envelope-theorem gradient vs central differences of the PEP value (independent: 8 solves)."""
    h = 1.0 + np.random.default_rng(0).random(4)
    init = "dist" if fc.has_minimizer else "fgap"

    def w(x):
        return worst_case(Problem(Schedule(tuple(x)), fc, measure, init), throw=False).normalized_value

    grad = worst_case_gradient(worst_case(Problem(Schedule(tuple(h)), fc, measure, init), throw=False))
    eps = 1e-5
    fd = [(w(h + eps * e) - w(h - eps * e)) / (2 * eps) for e in np.eye(4)]
    np.testing.assert_allclose(grad, fd, atol=ATOL_GRADIENT * max(1.0, np.max(np.abs(fd))))


def test_one_step():
    """N = 1: h = 3/2 and w = 1/8 (Drori & Teboulle 2014; Rotaru, Glineur & Patrinos 2024)."""
    r = optimize_schedule(1, starts=1)
    assert abs(r.steps[0] - 1.5) <= ATOL_STEP
    assert_rel(r.value, 1 / 8, RTOL_VALUE, "N=1")


def test_three_steps_from_neutral_start():
    """N = 3: w = 1/(12 + 8 sqrt 2) with steps (sqrt 2, 1 + sqrt 2, 3/2) (Das Gupta et al. 2024)."""
    r = optimize_schedule(3, starts=1, restarts=0, explore=False)
    assert r.starts[r.winning_start].kind == "neutral"
    assert_rel(r.value, 1 / (12 + 8 * math.sqrt(2)), 1e-5, "N=3")
    expected = [math.sqrt(2), 1 + math.sqrt(2), 1.5]
    if not np.allclose(r.steps, expected, atol=ATOL_STEP):  # a reordering with the same value
        np.testing.assert_allclose(sorted(r.steps), sorted(expected), atol=ATOL_STEP)


@pytest.fixture(scope="module")
def optimized_2_to_10():
    known: dict = {}
    return {
        n: optimize_schedule(n, starts=6, restarts=1, seed=0, known=known, explore=False)
        for n in range(2, 11)
    }


@pytest.mark.slow  # about 4 minutes under CPU contention (recursive multistart for N = 2..10)
@pytest.mark.parametrize("n", range(2, 11))
def test_matches_literature_and_beats_constant(n, optimized_2_to_10):
    """Never worse than the best constant step; within 1e-5 of (or below) the BnB-PEP value."""
    r = optimized_2_to_10[n]
    assert r.ok
    assert r.value <= r.best_constant_value
    best = literature_values()[n]
    assert r.value <= best * (1 + RTOL_LITERATURE), f"N={n}: {r.value} vs literature {best}"
    # Universal lower bound (Huber function): w >= 1/(2(2 sum h + 1)).
    assert r.value >= 1 / (2 * (2 * sum(r.steps) + 1)) * (1 - RTOL_VALUE)


@pytest.mark.parametrize(
    "fc, measure",
    [(FunctionClass("strongly-convex", 1.0, 0.1), "fgap"), (FunctionClass(), "gradnorm")],
    ids=["strongly-convex-fgap", "convex-gradnorm"],
)
def test_other_classes_beat_the_best_constant(fc, measure):
    """The optimized value, checked by a fresh PEP solve, is below the best constant schedule's."""
    r = optimize_schedule(4, function_class=fc, measure=measure, starts=2, restarts=0, explore=False)
    check = worst_case(Problem(r.schedule, fc, measure)).value
    assert_rel(check, r.value, RTOL_VALUE, "re-check")
    assert check < r.best_constant_value * (1 - 1e-3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_steps": 0}, "num_steps=0"),
        ({"num_steps": 3, "max_step": -1.0}, "max_step=-1.0"),
        ({"num_steps": 3, "starts": 0}, "starts=0"),
    ],
)
def test_bad_input(kwargs, message):
    n = kwargs.pop("num_steps")
    with pytest.raises(InputError, match=message):
        optimize_schedule(n, **kwargs)


@pytest.mark.parametrize(
    "argv",
    [["--num-steps", "0"], ["--num-steps", "2", "--max-step", "-1"], ["--num-steps", "2", "--starts", "0"]],
)
def test_cli_bad_input_exits_2(argv, capsys):
    assert main(["optimize", *argv]) == 2
    err = capsys.readouterr().err
    assert "got" in err.lower() and argv[-1] in err and len(err.strip().splitlines()) == 1
