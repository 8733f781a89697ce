"""Solve the PEP through cvxpy; backends as data; re-check every answer.

Only this module imports cvxpy. A backend is a small record (name, module, cvxpy name,
default options); the cvxpy status table maps every status pepstep knows, and an
unknown status is an error. There is no fallback to another solver: the caller's
choice runs or the call fails with a message naming why.

After every solve pepstep re-checks the answer itself (scipy.optimize's habit): the
primal Gram matrix and constraints, the dual multipliers' signs, the dual slack
``S = tau B + sum lambda_ij A_ij - C`` (its least eigenvalue), the function-value
identity and the duality gap. The primal violations are also weighted by their
multipliers (``sum lambda_m max(viol_m, 0) / tau``, ``weighted_primal``): that is what an
infeasible primal point adds to its objective, so a point within the absolute ``TOL_FEAS``
on every row cannot pass with a value lifted past ``RTOL_GAP``. Any residual above
tolerance downgrades ``optimal`` to ``inaccurate``; it never upgrades a status.
"""

from __future__ import annotations

import importlib
import sys
import time
import warnings
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from .errors import InputError, SolverError, SolverUnavailableError
from .pep import PEPData, Problem, build_pep, pair_key, value_scale

__all__ = [
    "Status",
    "Backend",
    "BACKENDS",
    "WorstCase",
    "problem_brief",
    "solve_pep",
    "solve_full",
    "RTOL_GAP",
    "TOL_FEAS",
    "TOL_DUAL",
    "RESCALE_BELOW",
    "failure_message",
    "a_priori_bound",
    "honest_status",
    "get_backend",
    "residuals_ok",
    "TIME_LIMIT_OPTION",
    "DENSE_MAX_ENTRIES",
    "dense_fits",
    "dense_row",
]

#: Largest relative duality gap accepted as ``optimal`` (the tests ask for 1e-6 against
#: closed forms; interior-point solvers reach about 1e-9 on these problems).
RTOL_GAP = 1e-6
#: Largest primal residual accepted as ``optimal`` (absolute: the normalized constraints
#: are of order 1).
TOL_FEAS = 1e-7
#: Largest dual residual (least eigenvalue of the slack, identity, signs), relative to the
#: value tau, accepted as ``optimal``: it moves the bound by about that relative amount.
TOL_DUAL = 1e-6
#: A normalized worst case below this whose solve failed the re-check is solved a second
#: time with the objective divided by the first value, so that the solver's absolute
#: tolerances do not dominate.
RESCALE_BELOW = 0.05


class Status(str, Enum):
    """Outcome of a solve, after pepstep's own re-check.

    A ``str`` enum: a member equals its value, prints as it (``str``, ``format`` and
    f-strings give ``"optimal"``), and :attr:`message` says what it means.

    Examples
    --------
    >>> Status.OPTIMAL == "optimal", str(Status.OPTIMAL), f"{Status.INACCURATE}"
    (True, 'optimal', 'inaccurate')
    >>> Status("unbounded").message
    'the worst case is unbounded: the solver reports the dual PEP infeasible, so no finite rate holds'
    """

    OPTIMAL = "optimal"
    INACCURATE = "inaccurate"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    BOUNDED = "bounded"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def message(self) -> str:
        """One line for the user: what the status means."""
        return {
            "optimal": "solved to the requested accuracy",
            "inaccurate": "the solver's answer did not pass the accuracy re-check",
            "infeasible": "the solver reports the PEP infeasible (its dual unbounded)",
            "unbounded": "the worst case is unbounded: the solver reports the dual PEP infeasible, "
            "so no finite rate holds",
            "bounded": "the time limit came before the exact value: the worst case lies in the "
            "interval reported (an upper bound from a dual-feasible solve, a lower bound from "
            "an explicit function)",
            "failed": "the solver failed",
        }[self.value]


#: cvxpy's statuses of the *dual* model (minimize tau, :func:`dual_model`), mapped to the
#: status of the worst case (the primal PEP, a maximization). A dual that is infeasible has
#: no finite bound tau: the worst case is unbounded (nonconvex functions with a step above
#: 2, for example); an unbounded dual would mean an infeasible PEP. Anything else raises.
CVXPY_STATUS = {
    "optimal": Status.OPTIMAL,
    "optimal_inaccurate": Status.INACCURATE,
    "infeasible": Status.UNBOUNDED,
    "infeasible_inaccurate": Status.UNBOUNDED,
    "unbounded": Status.INFEASIBLE,
    "unbounded_inaccurate": Status.INFEASIBLE,
    "user_limit": Status.FAILED,
    "solver_error": Status.FAILED,
    "infeasible_or_unbounded": Status.FAILED,
}


@dataclass(frozen=True)
class Backend:
    """A solver reachable through cvxpy.

    Attributes
    ----------
    name : str
        pepstep's name (``--solver`` value).
    module : str
        The Python module that must import for the backend to run.
    cvxpy_name : str
        cvxpy's solver constant.
    options : dict
        Default solver options (tolerances tight enough for ``RTOL_GAP``).
    status_table : dict
        cvxpy status -> :class:`Status`; a status not in it is an error.
    retry_options : tuple of dict
        Settings of the same solver tried, in order, when a solve fails or does not pass
        the re-check (never another solver).
    """

    name: str
    module: str
    cvxpy_name: str
    options: dict = field(default_factory=dict)
    status_table: dict = field(default_factory=lambda: dict(CVXPY_STATUS))
    retry_options: tuple = ()

    def version(self) -> str:
        loaded = sys.modules.get(self.module)
        own = getattr(loaded, "__version__", None)
        if isinstance(own, str) and own:
            return own  # the module's own record: no importlib.metadata import (0.03 s)
        import importlib.metadata

        try:
            return importlib.metadata.version(self.module)
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    def ensure_available(self) -> None:
        """Raise :class:`SolverUnavailableError` unless this backend can run here."""
        try:
            mod = importlib.import_module(self.module)
        except ImportError:
            raise SolverUnavailableError(
                f"The solver {self.name!r} is not installed (module {self.module!r}); "
                "install it or use --solver clarabel."
            ) from None
        if self.name == "mosek":
            _check_mosek_license(mod)


def _check_mosek_license(mosek) -> None:
    try:
        with mosek.Env() as env:
            env.checkoutlicense(mosek.feature.pts)
    except mosek.Error as exc:
        detail = " ".join(str(exc).split())[:160]
        raise SolverUnavailableError(
            f"MOSEK is installed but has no license: {detail}; use --solver clarabel."
        ) from None


BACKENDS: dict[str, Backend] = {
    "clarabel": Backend(
        "clarabel",
        "clarabel",
        "CLARABEL",
        # The supernodal "faer" factorization handles the dense PSD block of the KKT system
        # 2.3x faster than the default QDLDL at N = 50 (measured, see the benchmarks).
        # Clarabel reports "almost solved" (cvxpy: optimal_inaccurate) when it stops between
        # its full and reduced tolerances; the reduced ones are set to 1e-7, tighter than
        # pepstep's acceptance (RTOL_GAP, TOL_FEAS), so that status counts as solved here,
        # subject like any other to pepstep's own re-check.
        {
            "tol_gap_abs": 1e-9,
            "tol_gap_rel": 1e-9,
            "tol_feas": 1e-9,
            "reduced_tol_gap_abs": 1e-7,
            "reduced_tol_gap_rel": 1e-7,
            "reduced_tol_feas": 1e-7,
            "max_iter": 400,
            "direct_solve_method": "faer",
        },
        status_table=CVXPY_STATUS | {"optimal_inaccurate": Status.OPTIMAL},
        # Near degenerate points (two worst-case functions tie) Clarabel can overshoot its
        # best iterate and stop on insufficient progress; stopping earlier avoids that.
        retry_options=(
            {"tol_gap_abs": 1e-8, "tol_gap_rel": 1e-8, "tol_feas": 1e-8},
            {"tol_gap_abs": 1e-8, "tol_gap_rel": 1e-8, "tol_feas": 1e-8, "direct_solve_method": "qdldl"},
            # A worst case approached at infinity (a Gram trace of 1e6, e.g. fgap from f(x_0) - f*
            # <= Delta with a short last step) needs the slack's eigenvalue to 1e-12 before the
            # trace-weighted re-check trusts 6 digits: measured on steps (1, 1/4), 1.3e-6 -> 5.4e-7.
            {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12, "max_iter": 800},
        ),
    ),
    "cvxopt": Backend(
        # The default Cholesky KKT solver meets singular KKT systems near the optimum of
        # these degenerate SDPs; the LDL ("robust") one does not.
        "cvxopt",
        "cvxopt",
        "CVXOPT",
        {"abstol": 1e-9, "reltol": 1e-9, "feastol": 1e-9, "max_iters": 200, "kktsolver": "robust"},
    ),
    "scs": Backend("scs", "scs", "SCS", {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 500_000}),
    "mosek": Backend("mosek", "mosek", "MOSEK", {}),
}


#: The option that bounds a backend's wall time, in seconds (CVXOPT and MOSEK have none wired:
#: they run to the end).
TIME_LIMIT_OPTION = {"clarabel": "time_limit", "scs": "time_limit_secs"}


def get_backend(name: str) -> Backend:
    try:
        return BACKENDS[str(name).lower()]
    except KeyError:
        raise InputError(f"Unknown solver {name!r}; choose one of: {', '.join(BACKENDS)}.") from None


@dataclass(frozen=True)
class WorstCase:
    """The worst case of gradient descent for one problem.

    Attributes
    ----------
    problem : Problem
        The question answered.
    value : float
        The worst case in user units (``L``, ``R``/``Delta`` included); meaningful only
        when ``status`` is ``optimal``.
    normalized_value : float
        The same with ``L = 1`` and ``R = 1`` (``Delta = 1``).
    status : Status
        After pepstep's re-check.
    solver, solver_version : str
        Which backend ran.
    seconds : float
        Wall time of assembly plus solve.
    multipliers : dict
        ``lambda_ij`` of the normalized problem keyed by pair ``(i, j)`` (``"*"`` for x*).
    tau : float
        Multiplier of the initial condition (normalized); the dual value is ``tau``.
    gram : ndarray
        Worst-case Gram matrix (normalized) in the basis ``(x_0 - x*, g_0, ..., g_N)``
        (``(g_0, ..., g_N)`` for the nonconvex class).
    function_values : ndarray
        ``f_k - f*`` for k = 0..N (normalized; for the nonconvex class relative to ``f_N``-free
        anchoring, i.e. only differences are meaningful).
    residuals : dict
        ``gap`` (relative), ``primal`` and ``dual`` (largest violation), ``min_eig_slack``.
    pairs_used : int
        Number of interpolation pairs in the SDP.
    bounds : tuple of float, optional
        ``(lower, upper)`` in user units when ``status`` is ``bounded`` (a time limit stopped
        the computation before the exact value); ``None`` otherwise.

    Notes
    -----
    ``repr`` is one short line (value, status, N, problem, solver); :meth:`summary` gives
    every scalar field on its own line.

    Examples
    --------
    >>> from pepstep.schedules import constant
    >>> wc = solve_full(Problem(constant(1.0, 2)))
    >>> wc.ok, round(wc.value, 6), wc.status
    (True, 0.1, <Status.OPTIMAL: 'optimal'>)
    >>> wc  # doctest: +ELLIPSIS
    WorstCase(value=0.1, optimal, N=2, convex fgap from dist, clarabel, 12 pairs, ... s)
    >>> print(wc.summary())  # doctest: +ELLIPSIS
    worst case      0.0999999... (optimal: solved to the requested accuracy)
    ...
    """

    problem: Problem
    value: float
    normalized_value: float
    status: Status
    solver: str
    solver_version: str
    seconds: float
    multipliers: dict
    tau: float
    gram: np.ndarray
    function_values: np.ndarray
    residuals: dict
    pairs_used: int
    bounds: tuple | None = None

    @property
    def ok(self) -> bool:
        """Whether the status is ``optimal`` (the value passed pepstep's re-check)."""
        return self.status is Status.OPTIMAL

    def __repr__(self) -> str:
        if self.bounds is not None:
            lo, up = self.bounds
            return (
                f"WorstCase(bounds=[{lo:.7g}, {up:.7g}], {self.status}, N={self.problem.num_steps}, "
                f"{problem_brief(self.problem)}, {self.solver}, {self.pairs_used} pairs, {self.seconds:.2g} s)"
            )
        return (
            f"WorstCase(value={self.value:.7g}, {self.status}, N={self.problem.num_steps}, "
            f"{problem_brief(self.problem)}, {self.solver}, {self.pairs_used} pairs, {self.seconds:.2g} s)"
        )

    def summary(self) -> str:
        """Every scalar field on its own line (the long form of ``repr``)."""
        p = self.problem
        res = ", ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.residuals.items()
        )
        head = (
            f"worst case in   [{self.bounds[0]:.12g}, {self.bounds[1]:.12g}] ({self.status}: {self.status.message})"
            if self.bounds is not None
            else f"worst case      {self.value:.12g} ({self.status}: {self.status.message})"
        )
        return "\n".join(
            [
                head,
                f"normalized      {self.normalized_value:.12g} (L = 1, R = 1)",
                f"problem         {problem_brief(p)}",
                f"schedule        {p.schedule.name}, N = {p.num_steps}",
                f"solver          {self.solver} {self.solver_version}",
                f"seconds         {self.seconds:.3g}",
                f"pairs used      {self.pairs_used}",
                f"tau             {self.tau:.12g}",
                f"residuals       {res}",
            ]
        )


def problem_brief(problem: Problem) -> str:
    """A short description of ``problem``'s question: class, constants, measure, initial condition.

    Examples
    --------
    >>> from pepstep.schedules import constant
    >>> problem_brief(Problem(constant(1.0, 3), R=2.0))
    'convex fgap from dist R=2'
    """
    fc = problem.function_class
    consts = [f"L={fc.L:g}"] if fc.L != 1 else []
    if fc.mu:
        consts.append(f"mu={fc.mu:g}")
    head = " ".join([fc.kind, *consts])
    tail = f" R={problem.R:g}" if problem.R != 1 else ""
    return f"{head} {problem.measure.value} from {problem.init.value}{tail}"


#: :func:`solve_full` retries (other settings, scales, interfaces: up to seven more solves) only
#: after a first solve shorter than this many seconds. Past it each retry costs about as much
#: again, and QDLDL's single-threaded one more (measured: perturbed silver at N = 127, all 16,512
#: pairs, Clarabel: the first two solves did not pass the re-check, and 24 minutes after the first
#: began the third was still in QDLDL's factorization); the answer then comes after one solve, and
#: ``method="auto"`` bounds the value by its dual when that holds. The full PEP takes about 15 s
#: at N = 63 and 70 s at N = 80 (:func:`pepstep.compute.full_seconds`), so those keep their retries.
RETRY_BELOW_SECONDS = 120.0


def solve_full(
    problem: Problem,
    solver: str = "clarabel",
    *,
    pairs: np.ndarray | None = None,
    throw: bool = True,
    options: dict | None = None,
    deadline: float | None = None,
    retry: bool = True,
) -> WorstCase:
    """The worst case of ``problem`` by one SDP over all interpolation pairs (or ``pairs``).

    :func:`pepstep.compute.worst_case` is the entry point (it chooses between this and
    constraint generation); this is its ``method="full"``. The backend's retry settings,
    a rescaled objective for small values and the a priori bound's scale for long steps are
    tried, in that order, while the solve does not pass the re-check. With ``deadline`` (a
    ``time.perf_counter()`` time; Clarabel and SCS) each solve gets the time that remains and
    no retry starts after it; a solve it stops has status ``failed`` and ``residuals``
    ``{"stopped": "time limit"}``. With ``retry=False`` only the first solve runs (a caller with
    another route to try, such as the optimizer's inner evaluations), and also when the first
    solve took longer than :data:`RETRY_BELOW_SECONDS`: each retry would cost as much again.

    Examples
    --------
    >>> from pepstep.schedules import constant
    >>> round(solve_full(Problem(constant(1.0, 2))).value, 6)   # 1 / (4N + 2)
    0.1
    """
    start = time.perf_counter()
    dense = get_backend(solver).name == "clarabel" and dense_fits(problem, pairs)
    data = build_pep(problem, pairs, dense=dense)
    sparse = {}

    def solve(extra=None, objective_scale=1.0, interface="direct"):
        opts = {**(extra or {}), **(options or {})}
        if deadline is not None and solver in TIME_LIMIT_OPTION:
            opts[TIME_LIMIT_OPTION[solver]] = max(deadline - time.perf_counter(), 1e-3)
        model_data = data
        if dense and interface != "direct":  # cvxpy's model takes the sparse data, built once
            if "data" not in sparse:
                sparse["data"] = build_pep(problem, pairs)
            model_data = sparse["data"]
        return solve_pep(
            model_data, solver, options=opts, objective_scale=objective_scale, interface=interface
        )

    def out_of_time() -> bool:
        return deadline is not None and time.perf_counter() >= deadline

    allow_retry = retry

    def no_retry() -> bool:
        return not allow_retry or out_of_time() or first_seconds > RETRY_BELOW_SECONDS

    result = solve()
    first_seconds = time.perf_counter() - start
    for extra in get_backend(solver).retry_options:
        if result["status"] is Status.OPTIMAL or no_retry():
            break
        retry = solve(extra)
        if retry["status"] is Status.OPTIMAL or result["status"] is not Status.INACCURATE:
            result = retry
    v = result["value"]
    if result["status"] is Status.INACCURATE and 0 < v < RESCALE_BELOW and not no_retry():
        retry = solve(objective_scale=v)
        if retry["status"] is Status.OPTIMAL:
            result = retry
    bound = a_priori_bound(problem)
    if (
        result["status"] is not Status.OPTIMAL
        and problem.function_class.has_minimizer
        and 1.0 < bound < np.inf
        and not no_retry()
    ):
        # Long steps: the value can be far above 1, where the solver's absolute tolerances
        # and infeasibility tests misjudge it; solve at the scale of the a priori bound.
        retry = solve(objective_scale=bound)
        if retry["status"] is Status.OPTIMAL:
            result = retry
    if result["status"] is not Status.OPTIMAL and get_backend(solver).name == "clarabel" and not no_retry():
        # The same solver on cvxpy's formulation of the same SDP, last: measured to pass the
        # re-check where the direct one did not (steps (0.226, 1.501), fgap from f(x_0) - f*:
        # dual residual 1.3e-6 directly at every setting).
        for extra in ({}, get_backend(solver).retry_options[-1]):
            retry = solve(extra, interface="cvxpy")
            if retry["status"] is Status.OPTIMAL:
                result = retry
                break
    seconds = time.perf_counter() - start
    scale = value_scale(problem)
    status, residuals = honest_status(problem, result["status"], result["residuals"], result["value"] * scale)
    if status is not Status.OPTIMAL and out_of_time():
        residuals["stopped"] = "time limit"
    wc = WorstCase(
        problem=problem,
        value=result["value"] * scale,
        normalized_value=result["value"],
        status=status,
        solver=result["solver"],
        solver_version=result["solver_version"],
        seconds=seconds,
        multipliers={pair_key(i, j): float(v) for (i, j), v in zip(data.pairs, result["lambda"])},
        tau=result["tau"],
        gram=result["gram"],
        function_values=result["F"],
        residuals=residuals,
        pairs_used=int(data.pairs.shape[0]),
    )
    if throw and not wc.ok:
        raise SolverError(failure_message(wc))
    return wc


#: Largest ``M d^2`` (pairs times the Gram matrix's entries) whose PEP is assembled as dense
#: numpy arrays for Clarabel's direct route (N <= 50 with all pairs: 7.2e6 numbers, 58 MB),
#: so that a small worst case imports no scipy (:func:`pepstep.pep.build_pep`).
DENSE_MAX_ENTRIES = 8_000_000


def dense_fits(problem: Problem, pairs: np.ndarray | None = None) -> bool:
    """Whether :func:`solve_full` assembles ``problem`` densely (see :data:`DENSE_MAX_ENTRIES`)."""
    d = problem.num_steps + (2 if problem.function_class.has_minimizer else 1)  # points = Gram order
    m = d * (d - 1) if pairs is None else int(np.asarray(pairs).size // 2)
    return m * d * d <= DENSE_MAX_ENTRIES


def a_priori_bound(problem: Problem) -> float:
    """An upper bound on the normalized worst case of a class with a minimizer.

    The gradient step ``x - (h/L) grad f`` of an L-smooth convex function is Lipschitz with
    constant ``max(1, h - 1)`` (``grad f / L`` is firmly nonexpansive), so
    ``|x_N - x*| <= prod_k max(1, h_k - 1) R``; ``f(x_N) - f* <= L |x_N - x*|^2 / 2`` and
    ``|grad f(x_N)| <= L |x_N - x*|``. Under the ``fgap`` initial condition the descent
    lemma gives ``f_{k+1} - f* <= (1 + 2 h_k max(0, h_k / 2 - 1)) (f_k - f*)``. ``inf`` for
    the nonconvex class (its worst case can be unbounded) or when the product overflows.
    """
    if not problem.function_class.has_minimizer:
        return float("inf")
    steps = np.asarray(problem.schedule.steps, dtype=float)
    with np.errstate(over="ignore"):
        if problem.init.value == "dist":
            growth = float(np.prod(np.maximum(1.0, steps - 1.0) ** 2))
            return growth * (0.5 if problem.measure.value == "fgap" else 1.0)
        growth = float(np.prod(1.0 + 2.0 * steps * np.maximum(0.0, steps / 2.0 - 1.0)))
        return growth * (1.0 if problem.measure.value == "fgap" else 2.0)


def honest_status(problem: Problem, status: Status, residuals: dict, value: float) -> tuple[Status, dict]:
    """The status a worst case may claim, with a ``reason`` in the residuals when downgraded.

    For a class with a minimizer the worst case is finite (:func:`a_priori_bound`), so a
    solver's claim of an unbounded (or infeasible) PEP is a numerical failure: the status
    becomes ``inaccurate``. A value that overflows in user units is never ``optimal``.
    """
    residuals = dict(residuals)
    if status in (Status.UNBOUNDED, Status.INFEASIBLE) and problem.function_class.has_minimizer:
        h = max(problem.schedule.steps)
        residuals["reason"] = (
            f"the solver reports the worst case {status.value}, but for this class it is finite "
            f"(at most {a_priori_bound(problem):.3g} in normalized units); the solve failed "
            f"numerically" + (f", likely from the long steps (largest h = {h:.3g})" if h > 100 else "")
        )
        return Status.INACCURATE, residuals
    if status is Status.OPTIMAL and not np.isfinite(value):
        residuals["reason"] = "the value overflows a float in user units (L and R too large)"
        return Status.INACCURATE, residuals
    return status, residuals


def failure_message(wc: WorstCase) -> str:
    r = wc.residuals
    if wc.status is Status.UNBOUNDED:
        return f"The worst case is unbounded: the {wc.solver} solver reports the dual PEP infeasible, so no finite rate holds."
    reason = f"; {r['reason']}" if r.get("reason") else ""
    weighted = f", weighted primal {r['weighted_primal']:.1e}" if "weighted_primal" in r else ""
    checked = (
        f" (gap {r['gap']:.1e}, primal {r.get('primal', float('nan')):.1e}{weighted}, "
        f"dual {r.get('dual', float('nan')):.1e})"
        if "gap" in r
        else ""
    )
    return f"The {wc.solver} solve is {wc.status.value}: {wc.status.message}{checked}{reason}; no value is reported."


def solve_pep(
    data: PEPData,
    solver: str = "clarabel",
    *,
    options: dict | None = None,
    objective_scale: float = 1.0,
    interface: str = "direct",
) -> dict:
    """Solve the normalized PEP; return value, status, duals by row, Gram matrix, residuals.

    Clarabel is called through its own API (:mod:`pepstep.clarabel_direct`) unless
    ``interface="cvxpy"``; the other backends always run through cvxpy.

    ``objective_scale`` divides the objective before the solve (and the duals are scaled
    back after it): interior-point tolerances are partly absolute, so a worst case of
    1e-6 is solved as a problem of value about 1 to keep its relative accuracy.
    """
    backend = get_backend(solver)
    backend.ensure_available()
    if interface not in ("direct", "cvxpy"):
        raise InputError(f"The 'interface' must be direct or cvxpy. Got interface={interface!r}.")
    d = data.dim
    sc = objective_scale
    direct = backend.name == "clarabel" and interface == "direct"
    if direct:
        from .clarabel_direct import solve_dual

        raw_status, parts = solve_dual(data, {**backend.options, **(options or {})}, objective_scale)
        detail = parts["detail"]
    else:
        model = dual_model(data, objective_scale)
        raw_status, detail = run_model(model.problem, backend, options)
    if raw_status not in backend.status_table:
        raise SolverError(f"The {backend.name} solver returned an unknown status {raw_status!r}.")
    status = backend.status_table[raw_status]
    out = {
        "solver": backend.name,
        "solver_version": backend.version(),
        "status": status,
        "detail": detail,
        "value": float("nan"),
        "tau": float("nan"),
        "lambda": np.full(data.pairs.shape[0], np.nan),
        "gram": np.full((d, d), np.nan),
        "F": np.full(data.num_f, np.nan),
        "residuals": {},
    }
    if status not in (Status.OPTIMAL, Status.INACCURATE):
        return out
    if direct:
        Gv, Fv = parts["gram"], parts["F"]
        lam_v, tau_v = sc * parts["lam"], sc * parts["tau"]
        nu_v = None if parts["nu"] is None else sc * parts["nu"]
    else:
        Gv = np.asarray(model.psd.dual_value, dtype=float)
        Fv = -np.asarray(model.identity.dual_value, dtype=float).ravel()
        lam_v = sc * np.asarray(model.lam.value, dtype=float).ravel()
        tau_v = sc * float(model.tau.value)
        nu_v = None if model.nu is None else sc * np.asarray(model.nu.value, dtype=float).ravel()
    tv = None
    if nu_v is not None:
        tv = float(np.min(data.min_G @ Gv.reshape(-1)))
    residuals = recheck(data, Gv, Fv, tv, lam_v, tau_v, nu_v)
    if status is Status.OPTIMAL and not residuals_ok(residuals):
        status = Status.INACCURATE
    out.update(
        status=status,
        value=tau_v,
        tau=tau_v,
        **{"lambda": lam_v},
        gram=Gv,
        F=Fv,
        residuals=residuals,
    )
    return out


@dataclass(frozen=True)
class DualModel:
    """The cvxpy model of the dual PEP and its named parts (see :func:`dual_model`)."""

    problem: object
    lam: object
    tau: object
    nu: object | None
    identity: object
    psd: object


def dual_model(data: PEPData, objective_scale: float = 1.0, *, slack_term=None, constraints=()) -> DualModel:
    """The dual PEP as a cvxpy model: minimize ``tau`` subject to

    ``S = tau B + sum_m lambda_m A_m - C/s (- sum_k nu_k Q_k) (+ slack_term) >= 0``, the
    function-value identity ``sum_m lambda_m (e_j - e_i) + tau b = c/s``, ``lambda, tau >= 0``
    (``s`` the objective scale). ``slack_term`` (a cvxpy expression over ``vec(S)``) and
    ``constraints`` let callers extend the model, e.g. a linearized step in the schedule.
    """
    import cvxpy as cp

    d, m = data.dim, data.pairs.shape[0]
    sc = objective_scale
    lam = cp.Variable(m, nonneg=True)
    tau = cp.Variable(nonneg=True)
    vec = data.interp_G.T @ lam + tau * dense_row(data.init_G) - dense_row(data.obj_G) / sc
    nu = None
    cons = list(constraints)
    if data.min_G is not None:
        nu = cp.Variable(data.min_G.shape[0], nonneg=True)
        vec = vec - data.min_G.T @ nu
        cons.append(cp.sum(nu) == 1.0 / sc)
    if slack_term is not None:
        vec = vec + slack_term
    S = cp.reshape(vec, (d, d), order="C")
    identity = data.interp_F.T @ lam + tau * data.init_F == data.obj_F / sc
    psd = (S + S.T) / 2 >> 0
    cons += [identity, psd]
    return DualModel(cp.Problem(cp.Minimize(tau), cons), lam, tau, nu, identity, psd)


def solve_linearized_step(data: PEPData, D, h, radius, lo, hi, solver: str, *, objective_scale: float = 1.0):
    """One trust-region step of schedule optimization: the dual PEP with its slack
    linearized in the steps, ``S(lambda, tau) + D dh``, over ``|dh| <= radius`` and
    ``lo <= h + dh <= hi``. Returns ``(dh, model value)`` or ``(None, inf)`` on failure.
    """
    import cvxpy as cp

    scale = max(objective_scale, 1e-300)
    dh = cp.Variable(np.asarray(h).size)
    model = dual_model(
        data, scale, slack_term=D @ dh / scale, constraints=[cp.abs(dh) <= radius, h + dh >= lo, h + dh <= hi]
    )
    backend = get_backend(solver)
    # The backend's retry settings when its defaults fail (Clarabel stops with a solver error
    # on every step at N = 50 with its default tolerances).
    for options in ({},) + tuple(backend.retry_options):
        status, _ = run_model(model.problem, backend, options)
        if status in ("optimal", "optimal_inaccurate") and dh.value is not None:
            return np.asarray(dh.value, dtype=float), float(model.tau.value) * scale
    return None, float("inf")


def dense_row(mat) -> np.ndarray:
    """A one-row coefficient matrix (sparse, or dense from ``build_pep(..., dense=True)``) as a vector."""
    return np.asarray(mat.todense() if hasattr(mat, "todense") else mat, dtype=float).ravel()


def run_model(problem, backend: Backend, options: dict | None = None) -> tuple[str, str]:
    """Solve a cvxpy problem with ``backend``'s defaults (overridden by ``options``).

    Returns cvxpy's status string (``"solver_error"`` when the solver raised) and a detail.
    """
    import cvxpy as cp

    opts = dict(backend.options)
    opts.update(options or {})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            problem.solve(solver=backend.cvxpy_name, **opts)
    except cp.error.SolverError as exc:
        return "solver_error", str(exc)
    return problem.status, ""


def residuals_ok(residuals: dict) -> bool:
    return (
        residuals["gap"] <= RTOL_GAP
        and residuals["primal"] <= TOL_FEAS
        and residuals.get("weighted_primal", 0.0) <= RTOL_GAP
        and residuals["dual"] <= TOL_DUAL
    )


def dual_slack(data: PEPData, lam: np.ndarray, tau: float, nu: np.ndarray | None) -> np.ndarray:
    """``S = tau B + sum_m lambda_m A_m - C (- sum_k nu_k Q_k)`` as a dense symmetric matrix."""
    d = data.dim
    vec = data.interp_G.T @ lam + tau * dense_row(data.init_G) - dense_row(data.obj_G)
    if nu is not None and data.min_G is not None:
        vec = vec - data.min_G.T @ nu
    S = np.asarray(vec).reshape(d, d)
    return 0.5 * (S + S.T)


def recheck(data, Gv, Fv, tv, lam, tau, nu) -> dict:
    """Residuals of a claimed primal-dual pair of the normalized PEP (see module docs)."""
    g = Gv.reshape(-1)
    primal = [0.0, -float(np.linalg.eigvalsh(0.5 * (Gv + Gv.T))[0])]
    # Each violated constraint, weighted by its multiplier, is what the primal objective gains
    # from the violation (the Lagrangian): an absolute 1e-8 on every row can lift a small value
    # by a relative 3e-5 (OBS-F at N = 25: sum(lambda) = 21, value 3.4e-3).
    weighted = 0.0
    if data.interp_G.shape[0]:
        viol = data.interp_G @ g + data.interp_F @ Fv
        primal.append(float(np.max(viol)))
        if lam.size:
            weighted += float(np.maximum(lam, 0.0) @ np.maximum(viol, 0.0))
    init_viol = float((data.init_G @ g)[0] + data.init_F @ Fv - 1.0)
    primal.append(init_viol)
    weighted += abs(float(tau)) * max(init_viol, 0.0)
    primal_obj = float((data.obj_G @ g)[0] + data.obj_F @ Fv)
    if data.min_G is not None:
        min_viol = tv - data.min_G @ g
        primal.append(float(np.max(min_viol)))
        if nu is not None:
            weighted += float(np.maximum(nu, 0.0) @ np.maximum(min_viol, 0.0))
        primal_obj += tv
    S = dual_slack(data, lam, tau, nu)
    min_eig = float(np.linalg.eigvalsh(S)[0])
    ident = data.obj_F - data.interp_F.T @ lam - tau * data.init_F
    # A slack S >= -e I moves the bound by at most e trace(G) (weak duality): weighting by the
    # worst case's trace, not by 1, keeps long steps (trace about h^2) from passing as optimal
    # with digits they lack (h = 1000: 4e-8 relative off, once reported with 9 digits).
    weight = max(1.0, float(np.trace(Gv)))
    dual = [0.0, -min_eig * weight, float(np.max(np.abs(ident))), -tau]
    if lam.size:
        dual.append(-float(lam.min()))
    if nu is not None:
        dual += [abs(float(nu.sum()) - 1.0) * abs(tau), -float(nu.min())]
    size = max(abs(tau), 1e-300)
    gap = abs(primal_obj - tau) / size
    return {
        "gap": gap,
        "primal": max(primal),
        "weighted_primal": weighted / size,
        "dual": max(dual) / size,
        "min_eig_slack": min_eig,
        "primal_value": primal_obj,
    }
