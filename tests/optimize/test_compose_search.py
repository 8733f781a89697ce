"""The composition search (a dynamic program over joins) from scratch, against closed forms.

The references are the closed forms of the composed schedules, never used by the search:
OBS-F ``f(x_N) - f* <= L R^2 / (2 (2 S_N + 1))`` (Grimmer, Shu & Wang 2024) with ``S_N`` the
sum of the composed schedule (:func:`pepstep.optimize.composed_schedule`), and OBS-G
``|g_N|^2 <= 2 L Delta / (1 + 2 S_N)`` (the same sum: OBS-G is OBS-F reversed).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pepstep import FunctionClass, InputError, Problem, Schedule, constant
from pepstep.cli import main
from pepstep.optimize import (
    CompositionState,
    compose_search,
    composed_schedule,
    exact_worst_case,
    optimize,
    read_checkpoint,
)
from tests.conftest import assert_rel

TIE_RTOL = 1e-6  # pepstep.optimize.TIE_RTOL: joins this close tie

#: The issue's tolerance against OBS-F / OBS-G (the values found agree to about 1e-7).
RTOL_OBS = 1e-6


def obs_f(n: int) -> float:
    return 1.0 / (2.0 * (2.0 * sum(composed_schedule(n)[0]) + 1.0))


def obs_g(n: int) -> float:
    return 2.0 / (1.0 + 2.0 * sum(composed_schedule(n)[0]))


def exact(steps, measure="fgap", init="dist") -> float:
    wc = exact_worst_case(Problem(Schedule(tuple(steps)), FunctionClass(), measure, init))
    assert wc.ok, wc
    return wc.normalized_value


@pytest.fixture(scope="module")
def fgap_6():
    return compose_search(Problem(constant(1.5, 6)))


@pytest.mark.parametrize("n", range(1, 7))
def test_rediscovers_obs_f(n, fgap_6):
    """From scratch, every length up to 6: the exact worst case of the schedule found is the
    OBS-F value within 1e-6 (an independent exact solve of the steps found)."""
    piece = fgap_6.pieces["fgap/dist"][n]
    assert_rel(exact(piece.steps), obs_f(n), RTOL_OBS, f"N={n}")


def test_the_winning_joins_are_f_and_s_joins(fgap_6):
    """The pairs that win are |g|^2-from-dist pieces (s) joined to f-gap pieces or to each
    other: the f- and s-joins of the composition theory, found, not given."""
    assert fgap_6.pieces["fgap/dist"][6].how == "gradnorm/dist[3] + h + fgap/dist[2]"
    assert fgap_6.pieces["gradnorm/dist"][3].how == "gradnorm/dist[1] + h + gradnorm/dist[1]"
    # the s-piece of length 2^k - 1 is the silver schedule: |g_N|^2 <= R^2 / rho^(2k)
    rho = 1 + math.sqrt(2)
    assert_rel(exact(fgap_6.pieces["gradnorm/dist"][3].steps, "gradnorm", "dist"), rho**-4, RTOL_OBS, "s3")


@pytest.mark.parametrize("n", [4])
def test_rediscovers_obs_g(n):
    """|g_N|^2 from f(x_0) - f* <= Delta: the OBS-G value 2/(1 + 2 S_N) within 1e-6."""
    st = compose_search(Problem(constant(1.5, n), FunctionClass(), "gradnorm", "fgap"))
    assert_rel(exact(st.pieces["gradnorm/fgap"][n].steps, "gradnorm", "fgap"), obs_g(n), RTOL_OBS, f"N={n}")


@pytest.mark.slow  # about 5 minutes on two busy cores
def test_rediscovers_obs_f_to_25():
    st = compose_search(Problem(constant(1.5, 25)))
    for n in (10, 15, 20, 25):
        assert_rel(exact(st.pieces["fgap/dist"][n].steps), obs_f(n), RTOL_OBS, f"N={n}")


@pytest.mark.slow  # about 5 minutes on two busy cores
def test_rediscovers_obs_g_to_25():
    st = compose_search(Problem(constant(1.5, 25), FunctionClass(), "gradnorm", "fgap"))
    for n in (10, 25):
        got = exact(st.pieces["gradnorm/fgap"][n].steps, "gradnorm", "fgap")
        assert_rel(got, obs_g(n), RTOL_OBS, f"N={n}")


def test_same_answer_on_a_loopback_dask_cluster():
    """A fixed problem gives the same pieces, bit for bit, in one process and on Dask."""
    distributed = pytest.importorskip("distributed")
    template = Problem(constant(1.5, 3))
    alone = compose_search(template)
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None) as c:
        spread = compose_search(template, executor=c.get_executor())
    assert spread.to_json() == alone.to_json()


def test_checkpoint_resumes_without_new_work(tmp_path):
    path = tmp_path / "c.json"
    template = Problem(constant(1.5, 2))
    first = compose_search(template, checkpoint=path)
    again = compose_search(template, checkpoint=path)
    assert again.tasks == first.tasks and again.to_json() == first.to_json()
    longer = compose_search(Problem(constant(1.5, 3)), checkpoint=path)  # resumes at length 3
    assert longer.pieces["fgap/dist"][2] == first.pieces["fgap/dist"][2]
    assert_rel(exact(longer.pieces["fgap/dist"][3].steps), obs_f(3), RTOL_OBS, "N=3 resumed")
    with pytest.raises(InputError, match="another problem"):
        read_checkpoint(path, Problem(constant(1.5, 3), FunctionClass(), "gradnorm", "dist"))
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(InputError, match="not an optimize checkpoint"):
        read_checkpoint(bad, template)
    assert isinstance(CompositionState.from_json(first.to_json()), CompositionState)


def test_time_limit_reports_the_best_so_far_exactly():
    """A time limit far below the search's needs: the best schedule found in time (here the
    best constant step), stopped says so, and the value is that schedule's exact worst case."""
    r = optimize(Problem(constant(1.5, 12)), time_limit=0.5, kinds=("compose",))
    assert r.stopped == "time limit" and r.ok
    assert_rel(exact(r.steps), r.value, 1e-7, "re-check")
    # h = 1 (always evaluated, whatever the limit): 1/(4N+2) bounds the best constant step's value
    assert r.value <= 1 / (4 * 12 + 2) * (1 + RTOL_OBS)


def test_optimize_reports_anchors_and_how_found():
    r = optimize(Problem(constant(1.5, 3)), kinds=("compose",))
    assert r.ok and r.found_by.startswith("compose: gradnorm/dist[1] + h + fgap/dist[1]")
    assert_rel(r.value, obs_f(3), RTOL_OBS, "N=3")
    anchors = r.to_json()["anchors"]
    assert set(anchors) == {"constant", "silver", "composed"}
    assert_rel(anchors["composed"]["value"], obs_f(3), RTOL_OBS, "composed anchor")
    assert r.value <= anchors["silver"]["value"] and r.value <= anchors["constant"]["value"]


def test_unbounded_silver_start_is_skipped_with_the_reason():
    """Nonconvex class: silver's step 2 + sqrt 2 makes the worst case unbounded."""
    r = optimize(
        Problem(constant(1.5, 7), FunctionClass("nonconvex"), "gradnorm", "fgap"),
        kinds=("silver",),
        explore=False,
        restarts=0,
    )
    silver_start = next(s for s in r.starts if s.kind == "silver")
    assert silver_start.message.startswith("skipped") and "radius" not in silver_start.message
    assert r.to_json()["anchors"]["silver"]["value"] is None
    assert r.to_json()["anchors"]["silver"]["status"] in ("unbounded", "infeasible", "failed")


@pytest.mark.parametrize(
    "argv, word",
    [
        (["--num-steps", "3", "--time-limit", "-1"], "-1"),
        (["--num-steps", "3", "--time-limit", "nan"], "nan"),
        (["--num-steps", "128"], "128"),
        (["--num-steps", "80"], "--time-limit"),
        (["--num-steps", "3", "--workers", "1", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
        (["--num-steps", "3", "--no-explore", "--checkpoint", "c.json"], "--checkpoint"),
        (["--num-steps", "3", "--kinds", "neutral,bogus"], "bogus"),
        (["--num-steps", "3", "--scheduler", "nonsense"], "nonsense"),
    ],
)
def test_cli_refuses_before_any_computation(argv, word, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["optimize", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert word in err and len(err.splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_a_foreign_checkpoint(tmp_path, capsys):
    path = tmp_path / "c.json"
    path.write_text(
        '{"problem": {}, "composition": {"families": [], "pieces": {}, "combos": {}, "evals": 0, "tasks": 0}}'
    )
    assert main(["optimize", "--num-steps", "3", "--checkpoint", str(path)]) == 2
    assert "another problem" in capsys.readouterr().err


def test_gradient_of_a_joining_step_is_the_pep_slope():
    """The joining-step search uses the dual gradient; compare it with a central difference."""
    from pepstep.optimize import _evaluate

    steps = [math.sqrt(2), 2.2, 1.5]
    w, g, _ = _evaluate(FunctionClass(), "fgap/dist", steps, "clarabel", "full")
    eps = 1e-5
    up = _evaluate(FunctionClass(), "fgap/dist", [steps[0], 2.2 + eps, 1.5], "clarabel", "full")[0]
    down = _evaluate(FunctionClass(), "fgap/dist", [steps[0], 2.2 - eps, 1.5], "clarabel", "full")[0]
    np.testing.assert_allclose(g[1], (up - down) / (2 * eps), rtol=1e-3)


def test_ctrl_c_reports_the_best_so_far_exactly(monkeypatch):
    """A KeyboardInterrupt inside the composition search: the best schedule found before it
    (the best constant step here) is evaluated exactly and reported as interrupted."""
    import importlib

    opt = importlib.import_module("pepstep.optimize")  # the module (pepstep.optimize is also a function)
    real = opt._extend_length

    def interrupted(state, *args, **kwargs):
        if state.length >= 1:
            raise KeyboardInterrupt
        return real(state, *args, **kwargs)

    monkeypatch.setattr(opt, "_extend_length", interrupted)
    r = optimize(Problem(constant(1.5, 3)), kinds=("compose",))
    assert r.stopped == "interrupted" and r.ok
    assert_rel(exact(r.steps), r.value, 1e-7, "re-check")
    assert r.value <= 1 / (4 * 3 + 2)  # below h = 1's 1/(4N + 2)


def _crossing(n: int) -> float:
    """The constant step where 1/(2 N h + 1) = (1 - h)^(2N) on (1, 2), by bisection."""
    lo, hi = 1.0, 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if 1 / (2 * n * mid + 1) > (1 - mid) ** (2 * n) else (lo, mid)
    return 0.5 * (lo + hi)


@pytest.mark.parametrize(
    ("problem", "step", "value"),
    [
        # convex f-gap: w(h) = (1/2) max(1/(2Nh+1), (1-h)^(2N)) (Rotaru, Glineur & Patrinos
        # 2024), smallest where the two cross
        (Problem(constant(1.5, 50)), _crossing(50), 0.5 / (100 * _crossing(50) + 1)),
        # strongly convex distance: max(|1 - h mu|, |1 - h|)^(2N), smallest at h = 2/(1 + mu)
        (
            Problem(constant(1.5, 10), FunctionClass("strongly-convex", 1.0, 0.1), "dist"),
            2 / 1.1,
            (9 / 11) ** 20,
        ),
    ],
)
def test_best_constant_step_from_one_exact_solve(problem, step, value):
    """The explicit lower bound, minimized over h without an SDP, meets the exact worst case
    at its minimizer: one exact solve decides the best constant step (it took 35 at N = 50,
    158 s, before the screen)."""
    from pepstep.optimize import _Objective, best_constant_step

    counter = _Objective(problem, "clarabel")
    h, w = best_constant_step(problem, 100.0, counter=counter)
    assert counter.solves == 1
    assert_rel(h, step, 1e-6, "step")
    assert_rel(w, value, RTOL_OBS, "value")


def test_lower_screen_bounds_the_best_join():
    """The screen of the OBS-F join at N = 13 (silver's 7 steps, h, the best f-piece of 5):
    its value is below the exact optimum of the join (the composed value, closed form), and
    the exact worst case at its step is above it."""
    from pepstep.optimize import _join_lower, lower_screen

    steps = composed_schedule(13)[0]
    left, right = steps[:7], steps[8:]
    h, v = lower_screen(_join_lower(FunctionClass(), "fgap/dist", left, right), 1e-3, 60.0)
    assert v <= obs_f(13)
    assert_rel(v, obs_f(13), 1e-4, "screen")  # measured 5e-5 below: a third function at the kink
    assert exact((*left, h, *right)) >= v


def test_a_join_search_stops_at_the_wall_deadline():
    """The time limit reaches inside a join's search (tasks may run in other processes): past
    the deadline it stops within its first evaluation, and the length is not finished."""
    import importlib
    import time

    opt = importlib.import_module("pepstep.optimize")
    task = {
        "function_class": FunctionClass(),
        "family": "fgap/dist",
        "left": (math.sqrt(2),),
        "right": (1.5,),
        "lo": 1e-3,
        "hi": 10.0,
        "guess": 1.0,  # far from the optimum 1 + sqrt 2: the search needs several solves
        "screen": -math.inf,
        "screen_step": math.nan,
        "solver": "clarabel",
        "route": "generate",
    }
    free = opt._join_task(task)
    assert not free.get("stopped") and free["evals"] > 1
    assert_rel(free["h"], 1 + math.sqrt(2), 1e-6, "joining step")
    stopped = opt._join_task({**task, "wall_deadline": time.time() - 1.0})
    assert stopped["stopped"] and stopped["evals"] == 0  # its first evaluation ran one round
    state = CompositionState.empty(("fgap/dist",))
    with pytest.raises(opt._Deadline):
        opt._round(state, None, [task], deadline=time.perf_counter() - 1.0)


@pytest.mark.parametrize("side", [-1.0, 1.0])
def test_a_join_search_brackets_the_kink_next_to_the_screens_step(side):
    """A kink 3e-7 (relative) away from the screen's step, as in the joins at N = 27-35: the
    search probes downhill from the screen's step and never goes to the previous length's
    step (2% away), and it finds the kink of two linear branches to 1e-8."""
    import importlib

    opt = importlib.import_module("pepstep.optimize")
    kink, seen = 20.5, []

    def value_slope(h):
        seen.append(h)
        return (1.0 + 3.0 * (h - kink), 3.0) if h > kink else (1.0 - 0.4 * (h - kink), -0.4)

    first = kink * (1.0 - side * 3e-7)
    h, w, evals = opt._join_search(value_slope, 1e-3, 60.0, kink * 1.02, done_below=0.5, first=first)
    assert abs(h - kink) <= 1e-8 * kink and abs(w - 1.0) <= 1e-8
    assert evals == len(seen) <= 4 and kink * 1.02 not in seen


def test_inner_evaluations_keep_a_closed_generation_that_ended_inaccurate(monkeypatch):
    """The optimizer's inner evaluation keeps a generation that closed with an inaccurate last
    solve (the fallbacks cost 6-20 s at N = 36 for values no closer); the final evaluation
    still falls back. Constant step 1.5, N = 33: f-gap 1 / (2 (2 N h + 1)) = 1/200."""
    import dataclasses
    import importlib

    from pepstep import generation
    from pepstep.solve import Status

    opt = importlib.import_module("pepstep.optimize")
    problem = Problem(constant(1.5, 33))
    real = generation.worst_case_generated(problem, "schur")
    assert real.info.exact
    inaccurate = dataclasses.replace(real.worst_case, status=Status.INACCURATE)
    monkeypatch.setattr(
        generation, "worst_case_generated", lambda *a, **k: dataclasses.replace(real, worst_case=inaccurate)
    )
    fallbacks = []
    monkeypatch.setattr(opt, "worst_case", lambda p, *a, **k: fallbacks.append(k) or real.worst_case)
    wc = opt.exact_worst_case(problem, inner=True)
    assert wc.status is Status.INACCURATE and not fallbacks
    assert_rel(wc.normalized_value, 1 / 200, 1e-6, "kept value")
    opt.exact_worst_case(problem)
    assert fallbacks and fallbacks[0]["method"] == "generate" and fallbacks[0]["time_limit"] is None
    # with a deadline the fallback gets the time left (a full Clarabel solve at N = 50 ran
    # minutes past a ten-minute limit in the best constant step's search)
    import time

    opt.exact_worst_case(problem, deadline=time.perf_counter() + 100.0)
    assert 90.0 < fallbacks[-1]["time_limit"] <= 100.0


def test_an_evaluation_adds_no_generation_round_past_its_deadline():
    """Random steps in [0.5, 2.5] (seed 0), N = 10: constraint generation needs 5 rounds; with a
    deadline already past it stops after the first, without a fallback, and is not ok (the
    composition search then stops the length: a time limit overran by 7-14 s at N = 50)."""
    import importlib
    import time

    from pepstep.generation import worst_case_generated

    opt = importlib.import_module("pepstep.optimize")
    steps = tuple(float(x) for x in np.round(np.random.default_rng(0).uniform(0.5, 2.5, 10), 4))
    problem = Problem(Schedule(steps))
    full = worst_case_generated(problem, "schur")
    assert full.info.rounds > 1
    assert_rel(full.worst_case.normalized_value, exact(steps), 1e-6, "generation against the full PEP")
    cut = opt.exact_worst_case(problem, deadline=time.perf_counter())
    assert cut.solver == "schur" and cut.residuals["rounds"] == 1 and not cut.ok


def test_the_constant_anchor_reports_its_solver_status(monkeypatch):
    """An inner evaluation may keep an inaccurate value: the best constant step's anchor then
    says so and shows no value, while the winner is evaluated again (optimal). N = 3: the best
    constant step solves 1/(2 N h + 1) = (1 - h)^(2N)."""
    import dataclasses
    import importlib

    from pepstep.solve import Status

    opt = importlib.import_module("pepstep.optimize")
    real = opt.exact_worst_case

    def inner_inaccurate(problem, *a, **k):
        wc = real(problem, *a, **k)
        return dataclasses.replace(wc, status=Status.INACCURATE) if k.get("inner") else wc

    monkeypatch.setattr(opt, "exact_worst_case", inner_inaccurate)
    r = opt.optimize(Problem(constant(1.5, 3)), kinds=("neutral",), restarts=0, max_iter=1, seed=0)
    out = r.to_json()
    assert (
        out["anchors"]["constant"]["status"] == "inaccurate" and out["anchors"]["constant"]["value"] is None
    )
    assert out["best_constant"]["status"] == "inaccurate" and out["best_constant"]["value"] is None
    lo, hi = 1.0, 2.0  # 1/(2Nh+1) - (1-h)^(2N) changes sign once on [1, 2]
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if 1 / (6 * mid + 1) > (1 - mid) ** 6 else (lo, mid)
    assert_rel(out["best_constant"]["step"], lo, 1e-5, "best constant step")
    assert r.status is Status.OPTIMAL


def _closed_form_joins(monkeypatch):
    """Joins valued by the composition theory's closed forms instead of the PEP: an s-join
    of two |g|^2-from-distance pieces (sizes 1 + sum) has |g|^2 = 1 / size^2, an f-join of
    one with an f-gap piece (size 1 + 2 sum) has f-gap 1 / (2 size), at the middle step of
    :func:`_join_s` / :func:`_join_f`; every other pair is useless (value 1)."""
    import importlib

    opt = importlib.import_module("pepstep.optimize")
    real_task = opt._task

    def task(state, fc, family, left, right, a, n, *args):
        return {**real_task(state, fc, family, left, right, a, n, *args), "pair": (left, right)}

    def join(t):
        lf, rf = t["pair"]
        s_left = not t["left"] or lf == "gradnorm/dist"
        value, h = 1.0, 1.5
        if t["family"] == "gradnorm/dist" and s_left and (not t["right"] or rf == "gradnorm/dist"):
            size, h = opt._join_s(1 + sum(t["left"]), 1 + sum(t["right"]))
            value = 1 / size**2
        elif t["family"] == "fgap/dist" and s_left and (not t["right"] or rf == "fgap/dist"):
            size, h = opt._join_f(1 + sum(t["left"]), 1 + 2 * sum(t["right"]))
            value = 1 / (2 * size)
        return {"h": h, "value": value, "evals": 1, "statuses": []}

    monkeypatch.setattr(opt, "_task", task)
    monkeypatch.setattr(opt, "_join_task", join)
    monkeypatch.setattr(opt, "_join_lower", lambda *args: None)  # no screen: every join runs
    return opt


def test_auxiliary_families_are_built_only_as_far_as_the_joins_reach(monkeypatch):
    """With closed-form joins standing in for the PEP, N = 130: the f-gap pieces are the same,
    bit for bit, as when every family is built at every length, while the |g|^2 pieces are
    built only one step beyond the longest one the f-gap joins use (86 of 130 steps, 878
    joins against 1,011). Both reach the best composition (:func:`composed_schedule`'s
    dynamic program over every split) within 1e-6: ties within TIE_RTOL go to the first
    pair tried, which leaves N = 65 3.1e-7 above it."""
    opt = _closed_form_joins(monkeypatch)
    n = 130
    st = compose_search(Problem(constant(1.5, n)))
    every = CompositionState.empty(st.families)
    for k in range(1, n + 1):
        want = {"fgap/dist": k, "gradnorm/dist": k}
        opt._build(every, FunctionClass(), want, None, "clarabel", "generate", 260.0, None)
    assert every.pieces["fgap/dist"] == st.pieces["fgap/dist"] and st.tasks < every.tasks
    for k in range(1, n + 1):
        assert_rel(st.pieces["fgap/dist"][k].value, composed_schedule(k)[1], TIE_RTOL, f"N={k}")
    longest = max(p.split for p in st.pieces["fgap/dist"][1:])
    assert opt._built(st, "gradnorm/dist") == longest + 1 < 0.7 * n
    assert opt._built(every, "gradnorm/dist") == n


def test_an_older_checkpoint_with_unbuilt_pieces_resumes(tmp_path, monkeypatch):
    """Checkpoints written when every family was built to every length mark the unused ones
    "not built"; they load up to that mark and the search goes on from there, to the same
    closed-form values."""
    _closed_form_joins(monkeypatch)
    st = compose_search(Problem(constant(1.5, 12)))
    data = st.to_json()
    fams = data["pieces"]
    fams["gradnorm/fgap"] += [{"steps": [], "value": None, "how": "not built", "split": -2}] * 3
    fams["fgap/dist"] = fams["fgap/dist"][:10]
    old = CompositionState.from_json(data)
    assert len(old.pieces["gradnorm/fgap"]) == len(st.pieces["gradnorm/fgap"]) and old.length == 9
    more = compose_search(Problem(constant(1.5, 16)), state=old)
    for k in range(1, 17):
        assert_rel(more.pieces["fgap/dist"][k].value, composed_schedule(k)[1], 1e-12, f"N={k}")


def test_an_inner_generation_stops_when_its_value_stalls():
    """The stall rule on round values measured here (normalized worst cases, one per
    generation round): an f-gap join at N = 45 whose generation ran 11 rounds (31 s) with
    values moving by the solves' noise stops after its 6th; the composed schedule at N = 100
    rises by 3e-6 in its 2nd round and must go on (its 3rd closes at the explicit bound), as
    must random steps at N = 10 that stay 2.3e-6 above the full PEP for one round."""
    import importlib

    opt = importlib.import_module("pepstep.optimize")
    n45 = [0.001641761863, 0.001641761282, 0.001641761468, 0.001641760883, 0.001641763527]
    n45 += [0.001641763853, 0.00164176311, 0.00164176281, 0.001641760726, 0.001641760939, 0.001641761977]
    assert [k for k in range(1, 12) if opt._stalled(n45[:k])][0] == 6
    assert not opt._stalled([0.000600197336784, 0.000600199066008])
    full = 0.01  # seed 0's rounds relative to the full PEP: 2e-1, 4.8e-2, 2.3e-6, 2.3e-6
    assert not any(
        opt._stalled([full * (1 + e) for e in (2e-1, 4.8e-2, 2.3e-6, 2.3e-6)][:k]) for k in range(5)
    )


def test_the_stall_rule_applies_to_inner_evaluations_beyond_inner_full_until(monkeypatch):
    """Wiring: an inner evaluation of more than INNER_FULL_UNTIL steps passes the rule to
    constraint generation, the final one does not; the values are exact either way
    (constant 1.5, N = 33, which closes in one round: f-gap 1 / (2 (2 N h + 1)))."""
    import importlib

    from pepstep import generation

    opt = importlib.import_module("pepstep.optimize")
    seen = []
    real = generation.worst_case_generated

    def spy(*a, progress=None, stop=None, **k):
        for v in (1.0, 1.0, 1.0):  # three rounds at the same value: stalled
            progress(1, 10, v)
        seen.append(stop(3, 0.0, 10))
        return real(*a, **k)

    monkeypatch.setattr(generation, "worst_case_generated", spy)
    n = opt.INNER_FULL_UNTIL + 1
    for inner in (True, False):
        wc = opt.exact_worst_case(Problem(constant(1.5, n)), inner=inner)
        assert_rel(wc.normalized_value, 1 / (2 * (3 * n + 1)), 1e-6, f"inner={inner}")
    assert seen == [True, False]
