"""PEPit as the independent oracle: the same GD PEP, built with PEPit's own classes."""

from __future__ import annotations


def pepit_worst_case(
    steps, kind="convex", L=1.0, mu=0.0, measure="fgap", init="dist", R=1.0, solver="CLARABEL"
):
    from PEPit import PEP
    from PEPit.functions import SmoothConvexFunction, SmoothFunction, SmoothStronglyConvexFunction

    problem = PEP()
    if kind == "convex":
        func = problem.declare_function(SmoothConvexFunction, L=L)
    elif kind == "strongly-convex":
        func = problem.declare_function(SmoothStronglyConvexFunction, L=L, mu=mu)
    else:
        func = problem.declare_function(SmoothFunction, L=L)
    x0 = problem.set_initial_point()
    xs = fs = None
    if kind != "nonconvex":
        xs = func.stationary_point()
        fs = func(xs)
    xs_list, gs, fs_list = [x0], [], []
    x = x0
    for h in steps:
        g, f = func.oracle(x)
        gs.append(g)
        fs_list.append(f)
        x = x - (h / L) * g
        xs_list.append(x)
    gN, fN = func.oracle(x)
    gs.append(gN)
    fs_list.append(fN)
    if init == "dist":
        problem.set_initial_condition((x0 - xs) ** 2 <= R**2)
    elif kind == "nonconvex":
        problem.set_initial_condition(fs_list[0] - fN <= R)
    else:
        problem.set_initial_condition(fs_list[0] - fs <= R)
    if measure == "fgap":
        problem.set_performance_metric(fN - fs)
    elif measure == "gradnorm":
        problem.set_performance_metric(gN**2)
    elif measure == "dist":
        problem.set_performance_metric((x - xs) ** 2)
    else:
        for g in gs:
            problem.set_performance_metric(g**2)
    return problem.solve(wrapper="cvxpy", solver=solver, verbose=0)
