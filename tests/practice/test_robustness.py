"""The robustness experiment: its spread, its stacks, its certified references, and what it found."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from pepstep.optimize import composed_schedule
from pepstep.practice import learned_bounds, load_problem, pep_value, run_stack_on, schedule_lower_bound
from pepstep.robustness import (
    family_stack,
    reference_schedules,
    reference_worst_cases,
    robustness,
    spread_decades,
)
from pepstep.schedules import silver
from pepstep.stacks import parse_stack
from tests.conftest import RHO, assert_rel

RESULTS = Path(__file__).resolve().parents[2] / "results" / "robustness.json"
#: The PEP value is solved to a relative duality gap <= 1e-6 (pepstep.solve.RTOL_GAP).
RTOL_PEP = 1e-6


def test_spread_counts_decades_of_the_runs_that_did_not_diverge():
    assert spread_decades([1e-3, 1e-1, 1e-5], 1e-15) == (pytest.approx(4.0), 0)
    # below the floor counts as the floor; inf and above the initial loss are divergences
    assert spread_decades([1e-20, 1e-3, math.inf, 5.0], 1e-12, initial=1.0) == (pytest.approx(9.0), 2)
    spread, div = spread_decades([math.inf], 1e-12)
    assert math.isnan(spread) and div == 1


def test_family_stacks_are_the_same_family_at_every_level():
    s = family_stack("adam", 3, 0.5, 1e-3)
    assert (
        s.label
        == "stack:adam(alpha=0.5,beta1=0.9,beta2=0.999)" + "/adam(alpha=0.001,beta1=0.9,beta2=0.999)" * 3
    )
    assert family_stack("sgd", 0, 0.2).label == "stack:sgd(alpha=0.2)"


def test_reference_schedules_are_silver_obsf_and_constant():
    refs = reference_schedules(7)
    assert refs["silver"].steps == silver(7).steps
    assert refs["OBS-F"].steps == composed_schedule(7)[0]
    assert refs["constant 1"].steps == (1.0,) * 7
    wc = reference_worst_cases([7])[7]
    # silver: 1 / (4 rho^3 - 2) (Altschuler & Parrilo); OBS-F: 1 / (2F) (Grimmer, Shu & Wang); h = 1: 1/30
    assert_rel(wc["silver"][1], 1 / (4 * RHO**3 - 2), RTOL_PEP, "silver 7")
    assert_rel(wc["OBS-F"][1], composed_schedule(7)[1], RTOL_PEP, "OBS-F 7")
    assert_rel(wc["constant 1"][1], 1 / 30, RTOL_PEP, "constant 7")


@pytest.mark.parametrize("seed", range(4))
def test_the_lower_bound_never_exceeds_the_worst_case(seed):
    h = tuple(np.random.default_rng(seed).uniform(0.2, 3.0, 4))
    assert schedule_lower_bound(h) <= pep_value(h) * (1 + RTOL_PEP)


def test_a_schedule_worse_than_not_moving_is_not_solved():
    # alpha = 1 on diabetes (L = 4.02): h = 4.02 every step; (1/2) prod (1 - h)^2 > 1/2
    p = load_problem("least_squares:diabetes")
    t = run_stack_on(p, parse_stack("stack:sgd(1.0)"), 7)
    (b,) = learned_bounds(p, t, [7])
    assert b.status == "no guarantee" and b.value is None
    assert b.lower == pytest.approx(0.5 * (1 - p.L) ** 14, rel=1e-12)


def test_a_small_experiment_finds_taller_adam_stacks_more_robust():
    # the claim on a convex problem, recomputed here at a size a test can afford
    res = robustness(
        ["least_squares:diabetes"], heights=(0, 3), alphas=np.logspace(-4, 0, 5), iters=100, certify_n=(7,)
    )
    by = {(r.family, r.height): r for r in res.rows}
    assert by["adam", 3].spread < by["adam", 0].spread - 1.0, (by["adam", 0].spread, by["adam", 3].spread)
    assert by["adam", 3].diverged == by["adam", 0].diverged == 0
    for r in res.rows:  # every learned worst case was optimal, and never below the run
        for run in r.learned:
            for b in run:
                if b.status == "optimal":
                    assert b.observed <= b.value * (1 + RTOL_PEP) + 1e-12


@pytest.mark.skipif(not RESULTS.exists(), reason="results/robustness.json not generated")
def test_the_committed_results_state_what_they_found():
    data = json.loads(RESULTS.read_text())
    for key, c in data["claim"].items():
        spreads = {int(h): v for h, v in c["spread_by_height"].items()}
        div = {int(h): v for h, v in c["diverged_by_height"].items()}
        low, top = min(spreads), max(spreads)
        expected = spreads[top] is not None and spreads[low] is not None and spreads[top] < spreads[low]
        assert c["taller_more_robust"] == (expected and div[top] <= div[low]), key
    for row in data["learned"]:
        if row["worst_case"] is not None:
            assert row["status"] == "optimal"
            assert row["observed"] <= row["worst_case"] * (1 + RTOL_PEP) + 1e-12
            assert row["lower"] <= row["worst_case"] * (1 + RTOL_PEP)


#: Re-running a committed row: the same code, seed-free and single-threaded, gives the same
#: numbers up to the order of floating-point operations.
RTOL_RERUN = 1e-6


@pytest.mark.slow
@pytest.mark.skipif(not RESULTS.exists(), reason="results/robustness.json not generated")
def test_mlp_rows_rerun_and_the_finding_on_mlp():
    # four of the grid's alpha0 over five decades, heights 0 and 3: the committed numbers again,
    # and what they say: SGD stacks reproduce the claim on mlp:digits, Adam stacks refute it
    data = json.loads(RESULTS.read_text())
    grid = data["alphas"]
    pick = [0, 4, 8, 10]
    res = robustness(["mlp:digits"], heights=(0, 3), alphas=[grid[i] for i in pick], iters=1000, certify_n=())
    for r in res.rows:
        (row,) = [
            x
            for x in data["rows"]
            if (x["problem"], x["family"], x["height"]) == (r.problem, r.family, r.height)
        ]
        np.testing.assert_allclose(r.finals, [row["finals"][i] for i in pick], rtol=RTOL_RERUN)
    by = {(r.family, r.height): r.spread for r in res.rows}
    assert by["sgd", 3] < by["sgd", 0] - 2.0, by
    assert by["adam", 3] > by["adam", 0], by
