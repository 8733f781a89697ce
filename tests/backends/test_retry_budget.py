"""solve_full retries only after a first solve shorter than RETRY_BELOW_SECONDS.

The solves are real (Clarabel on 5 constant steps, value 1/22 by Drori & Teboulle's closed
form); their status is forced to ``inaccurate`` and a fake clock says how long each took.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import pepstep.solve as solve_mod
from pepstep import Problem, constant
from pepstep.solve import RETRY_BELOW_SECONDS, Status, solve_full


def _run(monkeypatch, seconds_per_solve: float):
    real = solve_mod.solve_pep
    clock = [0.0]
    calls = []

    def slow_inaccurate(data, solver, **kwargs):
        calls.append(kwargs.get("interface", "direct"))
        out = real(data, solver, **kwargs)
        clock[0] += seconds_per_solve
        return {**out, "status": Status.INACCURATE}

    monkeypatch.setattr(solve_mod, "solve_pep", slow_inaccurate)
    monkeypatch.setattr(solve_mod, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    wc = solve_full(Problem(constant(1.0, 5)), throw=False)
    return wc, calls


def test_a_slow_first_solve_is_answered_at_once(monkeypatch):
    wc, calls = _run(monkeypatch, 1.5 * RETRY_BELOW_SECONDS)
    assert calls == ["direct"]
    assert wc.status is Status.INACCURATE  # reported as such: no number shown for it
    assert wc.normalized_value == pytest.approx(1 / 22, rel=1e-6)  # the solve itself was real


def test_a_fast_first_solve_gets_the_retries(monkeypatch):
    wc, calls = _run(monkeypatch, 0.5 * RETRY_BELOW_SECONDS / 10)
    # the backend's three retry settings (and the rescaled objective: 1/22 < RESCALE_BELOW),
    # then cvxpy's formulation twice
    assert calls.count("direct") == 2 + len(solve_mod.get_backend("clarabel").retry_options)
    assert calls.count("cvxpy") == 2
    assert wc.status is Status.INACCURATE
