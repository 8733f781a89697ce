"""The method dispatch: the cost model's choice, anytime bounds, and the import layering."""

from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pepstep import Problem, Schedule, SolverError, Status, constant, silver, worst_case
from pepstep.compute import AUTO_FULL_BELOW, choose_method, full_seconds
from pepstep.lower import lower_bound
from pepstep.solve import solve_full

SRC = Path(__file__).resolve().parents[2] / "src" / "pepstep"


def perturbed_silver(n: int) -> Schedule:
    """Silver steps times a seeded factor in [0.9, 1.1], rounded to 4 decimals (issue 20's case)."""
    factors = np.random.default_rng(0).uniform(0.9, 1.1, n)
    return Schedule(np.round(np.asarray(silver(n).steps) * factors, 4))


def test_full_below_the_floor_and_generation_far_above():
    import scipy.linalg  # noqa: F401  (what Clarabel loads its LAPACK from: the full route's import paid)

    assert choose_method(Problem(constant(1.0, AUTO_FULL_BELOW - 1))) == "full"
    assert choose_method(Problem(silver(127))) == "generate"
    # the full solve's predicted cost grows like t^3, t = (N + 2)(N + 3) / 2
    assert full_seconds(63) / full_seconds(31) > 20


def test_fresh_process_counts_the_full_routes_import(monkeypatch):
    """Without scipy.linalg loaded, the full PEP at N = 10 is predicted to cost its 0.45 s import
    (against 0.03 s for the solve), more than generation's first round on 42 pairs."""
    from pepstep.compute import FULL_IMPORT_SECONDS, generation_seconds

    monkeypatch.delitem(sys.modules, "scipy.linalg", raising=False)
    problem = Problem(constant(1.0, 10))
    assert full_seconds(10, imports=True) == pytest.approx(full_seconds(10) + FULL_IMPORT_SECONDS)
    assert generation_seconds(problem) < full_seconds(10, imports=True)
    assert choose_method(problem) == "generate"


def test_full_pep_is_not_solved_twice_where_a_solve_is_long():
    """Generation's last round was the full PEP by Clarabel: repeated only while one more solve
    is predicted under FULL_AGAIN_BELOW_SECONDS (N = 20: 0.05 s; N = 63: 20 s)."""
    from types import SimpleNamespace

    from pepstep.compute import FULL_AGAIN_BELOW_SECONDS, _solved_in_full

    def info(n, solver, pairs_used=None):
        total = (n + 2) * (n + 1)
        return SimpleNamespace(
            pairs_used=pairs_used or total, total_pairs=total, round_solvers=("schur", solver)
        )

    assert full_seconds(20) < FULL_AGAIN_BELOW_SECONDS < full_seconds(63)
    assert _solved_in_full(info(63, "clarabel"), 63, True)
    assert not _solved_in_full(info(20, "clarabel"), 20, True)
    assert not _solved_in_full(info(63, "scs"), 63, True)
    assert not _solved_in_full(info(63, "clarabel", pairs_used=507), 63, True)


def test_auto_equals_full_where_generation_does_not_close():
    """Perturbed silver, N = 31: auto's value is the full PEP's, to the re-check's 1e-6."""
    problem = Problem(perturbed_silver(31))
    auto, full = worst_case(problem), solve_full(problem)
    assert auto.ok and full.ok
    assert abs(auto.value - full.value) <= 2e-6 * full.value


def test_time_limit_gives_a_certified_interval():
    """Generation stopped after its first round: lower <= exact <= upper, no value reported.

    The exact value is the full PEP's (solved here); the lower end is the best explicit
    function's value (recomputed here), the upper end the working set's dual bound.
    """
    problem = Problem(perturbed_silver(31))
    wc = worst_case(problem, method="generate", time_limit=1e-3, throw=False)
    assert wc.status is Status.BOUNDED
    assert math.isnan(wc.value) and math.isnan(wc.normalized_value)
    lo, up = wc.bounds
    exact = solve_full(problem).value
    assert lo <= exact * (1 + 1e-9) and exact <= up * (1 + 1e-6)
    assert lo == pytest.approx(lower_bound(problem).value, rel=1e-12)
    assert up < 10 * exact  # a real bound: the first working set's value, not the a priori one
    with pytest.raises(SolverError, match="bounded"):
        worst_case(problem, method="generate", time_limit=1e-3)


def test_time_limit_does_not_change_an_exact_answer():
    """Constant steps close in the first round: the limit changes nothing (1 / (4N + 2))."""
    wc = worst_case(Problem(constant(1.0, 40)), time_limit=1e-3)
    assert wc.ok and wc.bounds is None
    assert abs(wc.value * 162 - 1) <= 1e-6


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf")])
def test_time_limit_must_be_positive_seconds(bad):
    with pytest.raises(Exception, match="time_limit"):
        worst_case(Problem(constant(1.0, 2)), time_limit=bad)


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "pepstep.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_cli_bounded_json():
    steps = ",".join(f"{h:g}" for h in perturbed_silver(31).steps)
    run = _cli("rate", "--steps", steps, "--method", "generate", "--time-limit", "0.001", "--json", "--quiet")
    assert run.returncode == 1, run.stderr
    out = json.loads(run.stdout)
    assert out["status"] == "bounded" and out["value"] is None
    lo, up = out["bounds"]
    assert 0 < lo < up


@pytest.mark.parametrize("bad", ["0", "-5", "nan", "inf", "soon"])
def test_cli_bad_time_limit(bad):
    run = _cli("rate", "--schedule", "constant:1:5", "--time-limit", bad)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "--time-limit" in run.stderr and "Traceback" not in run.stderr


def test_help_imports_no_numerical_library():
    """``pepstep --help`` reads the commands' one-line help without importing them."""
    code = (
        "import sys, contextlib, io\n"
        "from pepstep.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out: main(['--help'])\n"
        "assert 'rate' in out.getvalue() and 'verify' in out.getvalue()\n"
        "print(sorted(m for m in ('numpy', 'scipy', 'cvxpy', 'clarabel') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names.add(node.module or "")
    return names


def test_solve_and_generation_do_not_import_the_dispatch():
    """The method dispatch (compute.py) sits above both; neither imports it, solve not generation."""
    solve, generation = _imports(SRC / "solve.py"), _imports(SRC / "generation.py")
    assert "compute" not in solve and "compute" not in generation
    assert "generation" not in solve


def _obs_f(n: int) -> tuple[Schedule, float]:
    """OBS-F steps and their worst case 1 / (2 (2 S_N + 1)) (Grimmer, Shu & Wang 2024), computed
    here from the recursion h = 1 + sqrt(1 + 4 S_k) ... by the optimizer's closed form."""
    from pepstep.optimize import composed_schedule

    steps, closed = composed_schedule(n)
    assert closed == pytest.approx(1 / (2 * (2 * sum(steps) + 1)), rel=1e-12)
    return Schedule(steps), closed


def test_full_solve_whose_primal_point_lifts_the_value_is_not_optimal():
    """OBS-F at N = 25: Clarabel's full solve stops with every interpolation row violated by at
    most 1.4e-8, gap 8e-7 and dual residual 7e-7, yet its value is 2.75e-5 above the closed form.
    The violations weighted by their multipliers (sum 21) lift the primal value by 3e-5 of it:
    the re-check must refuse the number, and auto must reach the closed form by another route."""
    schedule, closed = _obs_f(25)
    problem = Problem(schedule)
    full = solve_full(problem, throw=False)
    if full.ok:  # a solver version that gets there is welcome, but then it must be right
        assert full.value == pytest.approx(closed, rel=1e-6)
    else:
        assert full.status is Status.INACCURATE
        assert full.residuals["weighted_primal"] > 1e-6
    auto = worst_case(problem)
    assert auto.ok and auto.value == pytest.approx(closed, rel=1e-6)


@pytest.mark.parametrize("n", [10, 16, 20])
def test_default_method_reaches_obs_f_to_the_stated_accuracy(n):
    """Every value printed as optimal is within the re-check's 1e-6 of the closed form (before the
    weighted primal residual, N = 10, 16, 20 were reported optimal 2.5e-6 to 2.7e-6 above it)."""
    schedule, closed = _obs_f(n)
    wc = worst_case(Problem(schedule))
    assert wc.ok and wc.value == pytest.approx(closed, rel=1e-6)


def test_no_route_passing_the_recheck_gives_a_certified_interval_not_a_number():
    """Silver's first 25 steps: every route ends with a primal point whose violations, weighted by
    their multipliers, are 2e-5 of the value, so no value is certified to 1e-6. The default method
    answers ``bounded``: the Huber function's value 1 / (4 sum(h) + 2) (Drori & Teboulle 2014,
    recomputed here) below, a re-checked dual bound above, and no value."""
    schedule = silver(25)
    problem = Problem(schedule)
    wc = worst_case(problem, throw=False)
    if wc.ok:  # a solver that reaches the accuracy is welcome; its value must sit in the interval
        assert wc.value >= 1 / (4 * sum(schedule.steps) + 2)
        return
    assert wc.status is Status.BOUNDED and math.isnan(wc.value)
    lo, up = wc.bounds
    assert lo == pytest.approx(1 / (4 * sum(schedule.steps) + 2), rel=1e-9)
    assert lo <= up <= 1.08 * lo  # the dual bound: about 7.4% above the Huber value here
    full = solve_full(problem, throw=False)
    assert full.tau * (1 - 1e-6) <= up * (1 + 1e-6)  # the full solve's own dual bound agrees
    with pytest.raises(SolverError, match="bounded"):
        worst_case(problem)


@pytest.mark.parametrize("which", ["silver", "composed"])
def test_fifty_steps_close_at_the_explicit_bound(which):
    """The demo's long-step schedules at N = 50: the Schur route's first round lands within 1e-6 of
    the explicit lower bound at some objective scale (its dual bound's last digits depend on the
    path; measured 1.2e-6 to 1.5e-6 at the guessed scale), so generation closes in one round."""
    from pepstep.optimize import composed_schedule

    steps = silver(50).steps if which == "silver" else composed_schedule(50)[0]
    problem = Problem(Schedule(list(steps)))
    wc = worst_case(problem)
    lb = lower_bound(problem).value
    assert wc.ok and wc.residuals["closed_by"] == "lower bound" and wc.residuals["rounds"] == 1
    assert lb <= wc.normalized_value <= lb * (1 + 1e-6)
    if which == "composed":  # OBS-F: the Huber bound 1 / (2 (2 sum h + 1)) is the worst case
        assert abs(lb * 2 * (2 * sum(steps) + 1) - 1.0) <= 1e-9
