"""Exact rational certificates of worst-case rates: how pepstep builds them.

A certificate of ``measure <= rate`` for gradient descent is a dual feasible point of the
normalized PEP (``L = 1``, ``R = 1``): multipliers ``lambda_ij >= 0`` (one per interpolation
inequality ``f_j - f_i + tr(A_ij G) <= 0``), ``tau >= 0`` (initial condition) and, for
``mingradnorm``, ``nu_k >= 0`` with ``sum_k nu_k = 1`` (the epigraph ``t <= |g_k|^2``), such that

.. math::

    S = \\tau B + \\sum_{ij} \\lambda_{ij} A_{ij} - C - \\sum_k \\nu_k g_k g_k^T \\succeq 0,
    \\qquad c_F = \\sum_{ij} \\lambda_{ij} (e_j - e_i) + \\tau b_F ,

where ``C, c_F`` are the measure's Gram and function-value parts and ``B, b_F`` the initial
condition's. Summing the inequalities with these weights leaves
``tau R^2 - measure = <S, G> + (nonnegative terms) >= 0`` for every function of the class
(DESIGN.md section 2), so the rate in user units is ``tau * scale`` with the homogeneity
factor ``scale`` (``L R^2`` for fgap under the distance initial condition, see
:func:`exact_scale`).

This module only *builds* certificates; the record and its file format live in
:mod:`pepstep.certificate`, and acceptance is decided by the verifier kernel
(:mod:`pepstep.kernel`) alone, which rebuilds ``S`` and the identity from the class, measure,
initial condition and rational steps in exact arithmetic. :func:`certify` returns a certificate
only after the kernel accepted it.

**From a float dual to an exact one** (:func:`certify`). (1) Steps are made rational: exact
steps are kept (``parse_steps("1.5")`` is ``3/2``); irrational ones (silver) are rounded with
``Fraction.limit_denominator(MAX_STEP_DENOMINATOR)``, and the certificate proves the rate of
those rational steps. (2) The PEP is solved once, then again with its PSD constraint tightened
to ``S >= delta I`` (the objective gains ``delta tr(G)``), which costs about
``delta tr(G*)`` in the value and leaves a margin ``delta`` for rounding. (3) ``lambda`` is
rounded to a common decimal denominator; tiny ones are dropped. (4) The identity is restored
exactly by adding nonnegative amounts: with a minimizer, node k's residual goes to
``lambda_{*,k}`` (coefficient ``+e_k``) or ``lambda_{k,*}`` (``-e_k``); without one, it is
carried along the path ``0 - 1 - ... - N`` through ``lambda_{k,k+1}`` or ``lambda_{k+1,k}``.
(5) ``tau`` is the float value rounded up to 12 significant digits (or the claimed rate); a
claimed ``tau`` above the proved one is reached by adding to ``lambda_{0,*}`` (init fgap, whose
``A_{0,*}`` is PSD), for free (init dist: ``+ (tau' - tau) E_00``), or by scaling
``(lambda, nu... )`` (nonconvex; ``C`` is PSD). (6) The result is verified exactly; if ``S`` is
not PSD the margin ``delta`` grows tenfold and the steps repeat.

References
----------
Y. Drori and M. Teboulle, "Performance of first-order methods for smooth convex minimization:
a novel approach", Math. Program. 145, 2014.
A. B. Taylor, J. M. Hendrickx and F. Glineur, "Smooth strongly convex interpolation and exact
worst-case performance of first-order methods", Math. Program. 161, 2017 (Theorem 4; the
L-smooth case is their weakly convex condition with ``mu = -L``).

Examples
--------
>>> from pepstep import Problem, constant
>>> cert = certify(Problem(constant("1", 2)))
>>> verify(cert).valid, abs(float(cert.rate) - 0.1) < 1e-8     # 1 / (4N + 2)
(True, True)
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import scipy.sparse as sp

from .certificate import (  # noqa: F401 - re-exported: the certify API of earlier versions
    FORMAT_VERSION,
    Certificate,
    LDLFactors,
    VerifyReport,
    _q,
    certificate_from_json,
    exact_scale,
    identity_residual,
    load_certificate,
    proof_markdown,
    slack_matrix,
    verify,
)
from .classes import FunctionClass, InitialCondition
from .errors import InputError, SolverError
from .pep import STAR, Problem, all_pairs, build_pep, consecutive_pairs
from .schedules import Schedule
from .solve import BACKENDS

__all__ = [
    "FORMAT_VERSION",
    "MAX_STEP_DENOMINATOR",
    "Certificate",
    "VerifyReport",
    "LDLFactors",
    "certify",
    "verify",
    "load_certificate",
    "certificate_from_json",
    "exact_scale",
    "rational_steps",
    "slack_matrix",
    "identity_residual",
    "proof_markdown",
    "exact_lower_bound",
    "ChainBound",
    "chain_bound",
    "chain_of_claims",
]

#: Irrational steps (silver) are rounded to rationals with at most this denominator; the
#: rounding error of a step is at most ``1 / (q * MAX_STEP_DENOMINATOR)``, about 1e-12.
MAX_STEP_DENOMINATOR = 10**6

#: ``solver="auto"`` certifies with the low-rank Schur route from this many steps on, Clarabel
#: below. With the full support it works on the working set of constraint generation; when
#: that is every pair (silver), Clarabel on the dense PEP (measured at silver N = 63: 229 s by
#: the Schur route on 4160 pairs).
SCHUR_FROM = 48
#: Relative PSD margins tried in turn (``delta tr(G*) = rel * value``).
MARGINS = (1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5)
#: A claimed rate within this relative distance of the float PEP value leaves no room for a PSD
#: margin: :func:`certify` then solves for multipliers proving exactly that rate.
TIGHT_RTOL = 1e-7
#: Clarabel settings of that solve: the float multipliers and worst-case Gram matrix are only
#: rounded to small fractions, which needs them to about 1e-10.
TIGHT_OPTIONS = {"tol_gap_abs": 1e-13, "tol_gap_rel": 1e-13, "tol_feas": 1e-13, "max_iter": 800}
#: The exact solve for a tight certificate is tried on at most this many active pairs per step
#: (the consecutive support has 4; Drori & Teboulle's certificates use 2).
TIGHT_MAX_PAIRS_PER_STEP = 6
#: Significant digits of ``tau`` (rounded up) and of the multipliers (rounded to nearest).
TAU_DIGITS = 12
LAMBDA_DIGITS = 15

_SUPPORTS = ("full", "consecutive")


# --------------------------------------------------------------------------- rationals


def _exact_param(x) -> Fraction:
    """A float parameter as the rational of its shortest decimal spelling (0.1 -> 1/10)."""
    if isinstance(x, (Fraction, int)) and not isinstance(x, bool):
        return Fraction(x)
    return Fraction(repr(float(x)))


def parse_rate(text) -> Fraction:
    """A claimed rate as an exact positive rational: ``"1/42"``, ``"0.0238096"``, Fraction."""
    if isinstance(text, float):
        q = _exact_param(text)
    else:
        try:
            q = Fraction(str(text).strip())
        except (ValueError, ZeroDivisionError):
            raise InputError(
                f"The 'rate' must be a positive rational such as 1/42. Got rate={text!r}."
            ) from None
    if q <= 0:
        raise InputError(f"The 'rate' must be > 0. Got rate={str(text)!r}.")
    return q


def rational_steps(schedule: Schedule, max_denominator: int = MAX_STEP_DENOMINATOR) -> tuple:
    """The exact steps of ``schedule``, or its float steps rounded to rationals.

    ``Fraction(h).limit_denominator(max_denominator)`` is the closest rational with
    denominator at most ``max_denominator`` (error at most ``1 / (q max_denominator)``).

    Examples
    --------
    >>> from pepstep import silver, parse_steps
    >>> rational_steps(parse_steps("1.5,4.9"))
    (Fraction(3, 2), Fraction(49, 10))
    >>> rational_steps(silver(2))
    (Fraction(665857, 470832), Fraction(2, 1))
    """
    if schedule.exact is not None:
        return tuple(schedule.exact)
    return tuple(Fraction(h).limit_denominator(max_denominator) for h in schedule.steps)


# --------------------------------------------------------------------------- certify


def _support_pairs(support: str, n: int, has_min: bool) -> np.ndarray:
    if support == "full":
        return all_pairs(n, has_min)
    if support == "consecutive":
        return consecutive_pairs(n, has_min)
    raise InputError(f"Unknown support {support!r}; choose one of: full, consecutive.")


def _with_epigraph(data):
    """Write ``mingradnorm``'s epigraph ``t <= |g_k|^2`` as extra rows of the interpolation
    block, with ``t`` an extra function value, so that the solver returns ``nu`` as the
    multipliers of those rows: ``f_t - tr(Q_k G) <= 0`` and the objective ``f_t``."""
    if data.min_G is None:
        return data, 0
    m, n1 = data.interp_G.shape[0], data.num_f
    k = data.min_G.shape[0]
    interp_G = sp.vstack([data.interp_G, -data.min_G]).tocsr()
    fpad = sp.csr_matrix((m, 1))
    epi_F = sp.hstack([sp.csr_matrix((k, n1)), sp.csr_matrix(np.ones((k, 1)))])
    interp_F = sp.vstack([sp.hstack([data.interp_F, fpad]), epi_F]).tocsr()
    pairs = np.vstack([data.pairs, np.full((k, 2), -2)])
    return (
        dataclasses.replace(
            data,
            num_f=n1 + 1,
            pairs=pairs,
            interp_G=interp_G,
            interp_F=interp_F,
            init_F=np.append(data.init_F, 0.0),
            obj_F=np.append(data.obj_F, 1.0),
            min_G=None,
        ),
        k,
    )


def _shifted(data, delta: float, skip_first: bool):
    """The PEP data with ``S >= delta I`` (objective ``+ delta tr(G)``); with ``skip_first`` the
    ``x_0 - x*`` direction is left out (its row of ``S`` vanishes, see :func:`_fix_mode`)."""
    d = data.dim
    idx = np.arange(1 if skip_first else 0, d)
    eye = sp.csr_matrix(
        (np.full(idx.size, delta), (np.zeros(idx.size, int), idx * (d + 1))), shape=(1, d * d)
    )
    return dataclasses.replace(data, obj_G=(data.obj_G + eye).tocsr())


def _fix_mode(problem: Problem) -> str:
    """How :func:`_fix_identity` restores the identity for this problem.

    For a convex class (``mu = 0``) under init ``fgap`` nothing in ``B``, ``C`` or any
    ``A_ij`` touches ``S_00``, while ``lambda_{*,k}`` puts ``-lambda_{*,k}/2`` at
    ``S_{0,k+1}``: every ``lambda_{*,k}`` must vanish, and the identity is restored along the
    path ending at ``x*`` instead.
    """
    fc = problem.function_class
    if not fc.has_minimizer:
        return "path"
    if fc.kind == "convex" and problem.init is InitialCondition.FGAP:
        return "path-star"
    return "star"


def _round_up(x: float, digits: int) -> Fraction:
    e = digits - 1 - math.floor(math.log10(x))
    num = math.ceil(Fraction(x) * Fraction(10) ** e)
    return Fraction(num) / Fraction(10) ** e


def _rationalize(values, unit: float) -> list:
    e = LAMBDA_DIGITS - 1 - math.floor(math.log10(unit))
    den = 10**e if e >= 0 else 1
    out = []
    for v in values:
        num = round(Fraction(float(v)) * den)
        out.append(Fraction(num, den) if num > 0 else Fraction(0))
    return out


def _fix_identity(lam: dict, res: list, mode: str) -> None:
    """Add nonnegative amounts to ``lam`` (pair -> Fraction) so the identity residual vanishes.

    ``lambda_ij`` adds ``e_j - e_i`` (``e_* = 0``). Mode ``star``: node k's residual goes to
    ``lambda_{*,k}`` or ``lambda_{k,*}``. Mode ``path``: it is carried along ``0 - 1 - ... - N``
    through ``lambda_{k,k+1}`` or ``lambda_{k+1,k}`` (the total must vanish); mode
    ``path-star`` ends the path with ``lambda_{N,*}`` (the total must be <= 0).
    """
    n = len(res) - 1
    if mode == "star":
        for k, r in enumerate(res):
            if r > 0:
                lam[("*", k)] = lam.get(("*", k), Fraction(0)) + r
            elif r < 0:
                lam[(k, "*")] = lam.get((k, "*"), Fraction(0)) - r
        return
    carry = Fraction(0)
    for k in range(n):
        r = res[k] + carry
        if r < 0:
            lam[(k, k + 1)] = lam.get((k, k + 1), Fraction(0)) - r
        elif r > 0:
            lam[(k + 1, k)] = lam.get((k + 1, k), Fraction(0)) + r
        carry = r
    last = res[n] + carry
    if mode == "path-star" and last < 0:
        lam[(n, "*")] = lam.get((n, "*"), Fraction(0)) - last


def _rate_text(q: Fraction) -> str:
    """A claimed rate for a message: exact when short, else 10 significant digits."""
    from .kernel import approx

    return _q(q) if len(_q(q)) <= 40 else approx(q)


def _refuse_unbounded(status) -> None:
    from .solve import Status

    if status is Status.UNBOUNDED:
        raise SolverError("The worst case is unbounded: no finite rate can be certified.")


def _solve(data, solver, scale):
    from .solve import Status, solve_pep

    res = solve_pep(data, solver, objective_scale=scale)
    _refuse_unbounded(res["status"])
    if res["status"] not in (Status.OPTIMAL, Status.INACCURATE) or not res["value"] > 0:
        return None
    return res


def _dense_route(data, solver: str, skip_first: bool):
    """``run(delta, scale)`` on the assembled PEP (cvxpy backends), and its pairs."""

    def run(delta, scale):
        return _solve(data if delta is None else _shifted(data, delta, skip_first), solver, scale)

    return run, data.pairs


def _working_set(problem: Problem) -> np.ndarray | None:
    """The pairs on which constraint generation proved the full PEP's value (every other
    multiplier of an optimal dual is zero), or None if it needed all of them."""
    from .generation import worst_case_generated

    gen = worst_case_generated(problem, "auto", throw=False)
    if not gen.info.exact:
        raise SolverError(
            f"Constraint generation did not reach the full PEP of {problem.schedule.name} "
            f"(status {gen.status.value}); no certificate."
        )
    if gen.info.pairs_used == gen.info.total_pairs:
        return None
    keys = gen.worst_case.multipliers
    return np.array([[STAR if i == "*" else i, STAR if j == "*" else j] for i, j in keys], dtype=np.int64)


def _schur_route(problem: Problem, pairs: np.ndarray, skip_first: bool):
    """``run(delta, scale)`` on ``pairs`` by the low-rank Schur route of :mod:`pepstep.generation`.

    The returned ``lambda`` lists the pairs' multipliers, then ``nu`` (mingradnorm), as the
    dense route's.
    """
    from .generation import _Basis, _SchurSDP
    from .solve import Status

    fc = problem.function_class
    basis = _Basis(np.asarray(problem.schedule.steps, dtype=float), fc.has_minimizer)

    def run(delta, scale):
        shift = np.zeros(basis.d)
        if delta is not None:
            shift[1 if skip_first else 0 :] = delta
        out = _SchurSDP(problem, pairs, basis, scale, shift=shift).solve()
        _refuse_unbounded(out["status"])
        if out["status"] not in (Status.OPTIMAL, Status.INACCURATE) or not out["value"] > 0:
            return None
        nu = out["nu"] if out["nu"] is not None else np.zeros(0)
        return {
            "value": out["value"],
            "tau": out["tau"],
            "lambda": np.concatenate([out["lambda"], nu]),
            "gram": out["gram"],
        }

    return run


def certify(
    problem: Problem,
    *,
    rate=None,
    support: str = "full",
    solver: str = "auto",
    max_denominator: int = MAX_STEP_DENOMINATOR,
) -> Certificate:
    """An exact certificate of ``measure <= rate`` for ``problem``, verified before return.

    Parameters
    ----------
    problem : Problem
        The question; its steps are made rational with :func:`rational_steps`.
    rate : str, Fraction or float, optional
        The bound to prove (user units), e.g. ``"1/42"``. Without it: the exact worst case when an
        explicit function (:func:`exact_lower_bound`) attains the PEP value and a certificate of it
        is found, else the tightest bound the
        procedure of the module notes reaches (about the PEP value times ``1 + 1e-9``).
    support : {"full", "consecutive"}
        Pairs the certificate may use: all, or ``(k, k+1)``, ``(k+1, k)``, ``(*, k)``, ``(k, *)``.
    solver : str
        Backend for the float dual: ``auto`` (``schur`` from ``SCHUR_FROM`` steps on, else
        ``clarabel``, and ``schur`` when Clarabel's solve fails), ``schur`` (pepstep's
        low-rank route; with the full support, on the working set of constraint generation),
        or a cvxpy backend.
    max_denominator : int
        Bound on the denominators of irrational steps made rational.

    Returns
    -------
    Certificate

    Raises
    ------
    InputError
        Bad ``rate`` or ``support``.
    SolverError
        The solver failed, or no certificate of the claimed rate was found (for example, a
        claim below the PEP value on that support).
    """
    claimed = None if rate is None else parse_rate(rate)
    if support not in _SUPPORTS:
        raise InputError(f"Unknown support {support!r}; choose one of: full, consecutive.")
    fc = problem.function_class
    steps = rational_steps(problem.schedule, max_denominator)
    L, mu, R = _exact_param(fc.L), _exact_param(fc.mu), _exact_param(problem.R)
    rproblem = Problem(
        Schedule.from_rationals(steps, name=problem.schedule.name),
        FunctionClass(fc.kind, L=fc.L, mu=fc.mu),
        problem.measure,
        problem.init,
        problem.R,
    )
    has_min = fc.has_minimizer
    mode = _fix_mode(problem)
    n = problem.num_steps
    measure, init = problem.measure.value, problem.init.value
    scale = exact_scale(measure, init, L, R)
    solver = str(solver).lower()
    if solver not in ("auto", "schur") + tuple(BACKENDS):
        raise InputError(f"Unknown solver {solver!r}; choose one of: auto, schur, {', '.join(BACKENDS)}.")
    pairs = _support_pairs(support, n, has_min)
    if solver in ("auto", "schur") and n >= SCHUR_FROM and support == "full":
        working = _working_set(rproblem)
        if working is not None:
            pairs = working
        elif solver == "auto":  # a dense certificate: the Schur route has no edge there
            solver = "clarabel"
    auto = solver == "auto"
    if auto:
        solver = "schur" if n >= SCHUR_FROM else "clarabel"

    def route(name: str, pairs):
        """``(run, pairs, epigraph multipliers)`` of the float dual by ``name``."""
        if name == "schur":
            return (
                _schur_route(rproblem, pairs, mode == "path-star"),
                pairs,
                (n + 1 if measure == "mingradnorm" else 0),
            )
        data, num_epi = _with_epigraph(build_pep(rproblem, pairs))
        run, pairs = _dense_route(data, name, mode == "path-star")
        return run, pairs, num_epi

    def from_float_dual(base, run, pairs, num_epi):
        """``(certificate or None, tightest rounded tau, float value)`` from one route's float dual."""
        tau0, best = base["value"], None
        trace_g = max(float(np.trace(base["gram"])), 1.0)
        tau_c = None if claimed is None else claimed / scale
        if tau_c is not None and tau_c <= Fraction(tau0) * (1 - Fraction(1, 10**5)):
            raise SolverError(
                f"Cannot prove rate={_rate_text(claimed)}: it is below the PEP value {tau0 * float(scale):.10g} "
                f"on the {support} support."
            )
        target = tau_c
        if target is None:  # an explicit function attains the value: try to prove exactly that
            lower = exact_lower_bound(rproblem)
            if lower is not None and abs(float(lower[0] / scale) / tau0 - 1) <= TIGHT_RTOL:
                target = lower[0] / scale
        if (
            target is not None
            and measure != "mingradnorm"
            and n < SCHUR_FROM
            and float(target) <= tau0 * (1 + TIGHT_RTOL)
        ):
            # no room for a PSD margin: the claim is the worst case itself; solve for it exactly
            # the consecutive pairs first: fewer free multipliers, shorter fractions (exact for h <= 1)
            for cand in (_support_pairs("consecutive", n, has_min), pairs) if support == "full" else (pairs,):
                cert = _tight_certificate(rproblem, cand, (L, mu, R), steps, target, support)
                if cert is not None:
                    return cert, best, tau0
        margins = [rel * tau0 / trace_g for rel in MARGINS]
        if tau_c is not None:
            room = float(tau_c) - tau0
            margins = [d for d in margins if d * trace_g <= room / 2] or [max(room / (2 * trace_g), 1e-15)]
        for delta in margins:
            res = run(delta, tau0)
            if res is None:
                continue
            tau_r = _round_up(res["tau"], TAU_DIGITS)
            if tau_c is not None and tau_r > tau_c:
                best = best or tau_r
                break
            lam_all = _rationalize(res["lambda"], tau0)
            m = len(lam_all) - num_epi
            lam = {}
            for (i, j), v in zip(pairs[:m], lam_all[:m]):
                if v > 0:
                    lam[("*" if i == STAR else int(i), "*" if j == STAR else int(j))] = v
            nu = {}
            if num_epi:
                nu_f = _rationalize(res["lambda"][m:], 1.0)
                total = sum(nu_f)
                if total <= 0:
                    continue
                nu = {k: v / total for k, v in enumerate(nu_f) if v > 0}
            tau = tau_r if (tau_c is None or not has_min) else tau_c
            if mode == "path-star":
                lam = {k: v for k, v in lam.items() if k[0] != "*"}
            cert = Certificate(fc.kind, L, mu, measure, init, R, steps, tau * scale, tau, lam, nu, support)
            res = identity_residual(cert)
            if mode == "path-star" and sum(res) > 0:
                if tau_c is not None:  # the claimed tau is fixed; only the solve's tau may grow
                    continue
                tau += sum(res)  # raising tau lowers the residual at f_0 (b_F = e_0)
                tau = _round_up(tau, TAU_DIGITS) if tau > 0 else tau
                cert = dataclasses.replace(cert, tau=tau, rate=tau * scale)
                res = identity_residual(cert)
            _fix_identity(lam, res, mode)
            if tau_c is not None and not has_min and tau_c != tau_r:
                ratio = tau_c / tau_r  # nonconvex: (c lambda, c tau) stays feasible for c >= 1
                lam = {k: v * ratio for k, v in lam.items()}
                tau = tau_c
            cert = dataclasses.replace(
                cert, multipliers=dict(sorted(lam.items(), key=_sort_key)), tau=tau, rate=tau * scale
            )
            if verify(cert).valid:
                return cert, best, tau0
        return None, best, tau0

    support_pairs = pairs
    run, pairs, num_epi = route(solver, pairs)
    base = run(None, 1.0)  # the value only sets the margins and the scale below
    if base is None and auto and solver != "schur":
        # Clarabel's dense solve fails on some strongly convex PEPs with small values (the
        # optimizer's 25-step f-gap schedule, mu/L = 0.1, value 2.6e-7); the Schur route on
        # the same pairs certifies it (measured: 702 multipliers, 11 s, 3.2e-5 above the value)
        solver = "schur"
        run, pairs, num_epi = route(solver, support_pairs)
        base = run(None, 1.0)
    if base is None:
        raise SolverError(f"The {solver} solve of the PEP failed; no certificate.")
    cert, best, tau0 = from_float_dual(base, run, pairs, num_epi)
    if cert is None and auto and solver != "schur":
        # Clarabel's dense solve succeeds, but none of its roundings verifies (the optimizer's
        # 25-step distance schedule, mu/L = 0.1, value 2.9e-6: every margin fails, 22 s); the
        # Schur route on the same pairs certifies it (measured: 702 multipliers, 3.8 s, the PEP
        # value to 1e-11)
        run, pairs, num_epi = route("schur", support_pairs)
        base = run(None, 1.0)
        if base is not None:
            cert, best_schur, _ = from_float_dual(base, run, pairs, num_epi)
            best = best or best_schur
    if cert is not None:
        return cert
    what = f"rate={_rate_text(claimed)}" if claimed is not None else "a rate"
    extra = f"; the tightest certificate reached proves {float(best * scale):.10g}" if best else ""
    raise SolverError(
        f"Cannot certify {what} for {problem.schedule.name} on the {support} support: "
        f"no exact certificate found (PEP value {tau0 * float(scale):.10g}){extra}."
    )


def exact_lower_bound(problem: Problem) -> tuple[Fraction, str] | None:
    """An exact value attained by an explicit function of the class, in user units, and its name.

    Convex, ``fgap`` from ``|x_0 - x*| <= R``: the Huber function gives ``L R^2 / (2 (2 sum h +
    1))`` and the quadratic ``(L/2) |x|^2`` gives ``L R^2 prod (1 - h_k)^2 / 2`` (DESIGN.md
    section 1). Convex or strongly convex, ``dist`` from ``dist``: the quadratics of curvature
    ``mu`` and ``L`` give ``R^2 prod (1 - h_k c / L)^2``. None for other problems or irrational
    steps. A certificate whose rate equals this value proves the worst case exactly.

    Examples
    --------
    >>> from pepstep import constant
    >>> exact_lower_bound(Problem(constant("1", 10)))
    (Fraction(1, 42), 'a Huber function')
    """
    found = _explicit_worst(problem)
    return None if found is None else found[:2]


def _explicit_worst(problem: Problem):
    """``(value, name, curvature)`` of :func:`exact_lower_bound`; ``curvature`` is the normalized
    ``c / L`` of the quadratic (None for the Huber function)."""
    steps = problem.schedule.exact
    fc, m, i = problem.function_class, problem.measure.value, problem.init.value
    if steps is None or i != "dist":
        return None
    L, mu, R = _exact_param(fc.L), _exact_param(fc.mu), _exact_param(problem.R)
    if fc.kind == "convex" and m == "fgap":
        huber = L * R * R / (2 * (2 * sum(steps) + 1))
        quad = L * R * R * math.prod((1 - h) ** 2 for h in steps) / 2
        return (huber, "a Huber function", None) if huber >= quad else (quad, "the quadratic (L/2) |x|^2", 1)
    if fc.kind in ("convex", "strongly-convex") and m == "dist":
        value, c = max((R * R * math.prod((1 - h * c / L) ** 2 for h in steps), c) for c in (mu, L))
        return value, f"the quadratic with curvature {_q(c)}", c / L
    return None


def _rational_range(G: np.ndarray, den: int) -> list:
    """A rational basis of the range of a float PSD matrix: the reduced row echelon form of its
    leading eigenvectors, entries rounded to fractions with denominators up to ``den``."""
    w, V = np.linalg.eigh(0.5 * (G + G.T))
    A = V[:, w > 1e-7 * max(w.max(), 1e-300)].T.copy()
    row = 0
    for col in range(A.shape[1]):
        if row == A.shape[0]:
            break
        p = row + int(np.argmax(np.abs(A[row:, col])))
        if abs(A[p, col]) < 1e-6:
            continue
        A[[row, p]] = A[[p, row]]
        A[row] /= A[row, col]
        for k in range(A.shape[0]):
            if k != row:
                A[k] -= A[k, col] * A[row]
        row += 1
    return [[Fraction(float(x)).limit_denominator(den) for x in r] for r in A[:row]]


def _tight_certificate(problem, pairs, constants, steps, tau, support) -> Certificate | None:
    """A certificate of exactly ``tau`` (the worst case itself), or None.

    The float PEP, solved to 1e-13, gives the active pairs and the range of the worst-case Gram
    matrix ``G*`` (made rational), which must lie in the kernel of ``S``. The conditions
    ``S(lambda, tau) u = 0`` for ``u`` in that range and the function-value identity are linear in
    ``lambda``: they are solved exactly (``fmpq_mat.rref``), free multipliers taken at 0 or as
    small fractions near the float ones, and the kernel decides whether the singular ``S`` is PSD.
    """
    from flint import fmpq_mat

    from . import kernel
    from .solve import Status, solve_pep

    data = build_pep(problem, pairs)
    res = solve_pep(data, "clarabel", options=TIGHT_OPTIONS)
    if res["status"] not in (Status.OPTIMAL, Status.INACCURATE):
        return None
    L, mu, R = constants
    fc, measure, init = problem.function_class, problem.measure.value, problem.init.value

    def record(lam, t):
        scale = exact_scale(measure, init, L, R)
        return Certificate(fc.kind, L, mu, measure, init, R, steps, t * scale, t, lam, {}, support)

    keys = [("*" if i == STAR else int(i), "*" if j == STAR else int(j)) for i, j in data.pairs]
    lam_f = dict(zip(keys, res["lambda"]))
    active = [k for k in keys if lam_f[k] > 1e-9 * max(1.0, res["value"])]
    if len(active) > TIGHT_MAX_PAIRS_PER_STEP * (len(steps) + 2):
        return None  # a dense optimal face: the exact solve would take minutes (silver N = 31: 4 min)
    # pairs late in the list become the free multipliers (tried at 0 first): backward ones last
    active.sort(key=lambda k: "*" not in k and k[0] > k[1])
    empty = kernel.slack(record({}, Fraction(0))._fields())
    columns = [kernel.slack(record({k: Fraction(1)}, Fraction(0))._fields()) - empty for k in active]
    ranges = [_rational_range(res["gram"], den) for den in (10**4, 10**7, 10**10)]
    quad = _quadratic_point(problem, steps)
    for rows in ([quad] if quad else []) + ranges:
        U = [fmpq_mat([[kernel._fmpq(x)] for x in u]) for u in rows]
        lam = _solve_tight(U, active, columns, lam_f, record, tau)
        if lam is not None:
            return record(lam, tau)
    return None


def _quadratic_point(problem, steps) -> list | None:
    """The Gram vector of the quadratic of :func:`exact_lower_bound` when it is the worst case:
    in one dimension, ``x_0 - x* = 1`` and ``g_k = c prod_{i<k} (1 - h_i c)`` (normalized,
    ``L = 1``), exactly."""
    found = _explicit_worst(problem)
    if found is None or found[2] is None:
        return None
    c = Fraction(found[2])
    u, r = [Fraction(1)], Fraction(1)
    for h in list(steps) + [0]:
        u.append(c * r)
        r *= 1 - h * c
    return [u]


def _solve_tight(U, active, columns, lam_f, record, tau) -> dict | None:
    """Multipliers on ``active`` with ``S u = 0`` (``u`` in ``U``) and the identity, exactly,
    accepted only when the kernel verifies them; see :func:`_tight_certificate`."""
    from flint import fmpq, fmpq_mat

    from . import kernel

    n = len(record({}, tau).steps)
    cols = []
    for key, Z in zip(active, columns):
        e = [fmpq(0)] * (n + 1)
        if key[1] != "*":
            e[key[1]] += 1
        if key[0] != "*":
            e[key[0]] -= 1
        cols.append([x for u in U for x in (Z * u).entries()] + e)
    rhs = [-x for u in U for x in (kernel.slack(record({}, tau)._fields()) * u).entries()]
    rhs += [kernel._fmpq(r) for r in kernel.residual(record({}, tau)._fields())]
    E, rank = fmpq_mat([[col[r] for col in cols] + [rhs[r]] for r in range(len(rhs))]).rref()
    m, pivots, r = len(cols), [], 0
    for c in range(m + 1):
        if r < rank and E[r, c] != 0:
            pivots.append(c)
            r += 1
    if m in pivots:
        return None  # no multipliers on these pairs prove exactly tau
    free = [c for c in range(m) if c not in pivots]
    for den in (0, 10, 100, 10**4):  # free multipliers at 0 first: the sparsest proof
        x = {
            c: Fraction(float(lam_f[active[c]])).limit_denominator(den) if den else Fraction(0) for c in free
        }
        for row, c in enumerate(pivots):
            x[c] = kernel._frac(E[row, m]) - sum(kernel._frac(E[row, f]) * x[f] for f in free)
        lam = dict(sorted(((active[c], v) for c, v in x.items() if v != 0), key=_sort_key))
        if all(v > 0 for v in lam.values()) and verify(record(lam, tau)).valid:
            return lam
    return None


def _sort_key(item):
    (i, j), _ = item
    return (-1 if i == "*" else i, -1 if j == "*" else j)


@dataclasses.dataclass(frozen=True)
class ChainBound:
    """A bound for a schedule made of pieces, each with its own exact certificate.

    Attributes
    ----------
    function_class : str
        The class every piece is certified on (one with a minimizer).
    L, mu : Fraction
    measure : str
        The last piece's measure; every earlier piece bounds ``|x - x*|^2``.
    R : Fraction
        The radius of ``|x_0 - x*| <= R`` the bound is stated for (the first piece's).
    steps : tuple of Fraction
        The pieces' steps, in order.
    rate : Fraction
        ``measure <= rate`` for gradient descent with ``steps`` on every function of the class.
    piece_rates : tuple of Fraction
        Each piece's own rate, normalized to a unit radius.
    """

    function_class: str
    L: Fraction
    mu: Fraction
    measure: str
    R: Fraction
    steps: tuple
    rate: Fraction
    piece_rates: tuple

    @property
    def num_steps(self) -> int:
        return len(self.steps)


def chain_bound(certificates) -> ChainBound:
    """The bound the certificates of consecutive pieces of a schedule give for the whole.

    Every piece is checked by the verifier kernel. Each piece but the last proves
    ``|x_end - x*|^2 <= r_k |x_start - x*|^2`` (measure ``dist`` from ``dist``, normalized to a
    unit radius), the last ``measure <= r_last |x_start - x*|^2``; the class, ``L`` and ``mu``
    are the same. Then, for every function of the class and ``|x_0 - x*| <= R``, gradient
    descent with the pieces' steps in order has ``measure <= R^2 prod_k r_k``: the pieces run on
    the same function, each from where the previous one stopped, and a certificate for radius
    ``R_k`` holds for every radius with the factor ``(r / R_k)^2`` (the class is closed under
    ``f -> s^2 f(. / s)``, which scales the iterates by ``s`` and every measure by ``s^2``).

    The bound is proved but not the whole schedule's exact worst case, which can lie below the
    product. Strongly convex worst cases of 50 steps and more lie below what a
    double-precision PEP resolves (about 1e-11 at N = 50), while each 25-step piece is
    certified exactly.

    Raises
    ------
    InputError
        No certificate, a piece the kernel rejects, or pieces that do not chain.

    Examples
    --------
    >>> from pepstep import FunctionClass, Problem, constant
    >>> fc = FunctionClass("strongly-convex", L=1, mu=0.5)
    >>> piece = certify(Problem(constant("4/3", 2), fc, "dist"))   # (1/3)^4: quadratics
    >>> b = chain_bound([piece, piece])
    >>> b.num_steps, b.rate == Fraction(1, 3) ** 8
    (4, True)
    """
    from . import kernel
    from .errors import CertificateFormatError

    certificates = list(certificates)
    claims = []
    for k, cert in enumerate(certificates):
        try:
            verdict = kernel.verify_text(cert.to_json())
        except CertificateFormatError as exc:
            raise InputError(f"The verifier refuses piece {k + 1} of {len(certificates)}: {exc}") from None
        if not verdict.valid:
            raise InputError(f"The verifier rejects piece {k + 1} of {len(certificates)}: {verdict.message}")
        claims.append(verdict.claim)  # the kernel's record of what it proved, as the CLI gets it
    return chain_of_claims(claims)


def chain_of_claims(claims) -> ChainBound:
    """:func:`chain_bound` from the claims of pieces the kernel has accepted already (the keys of
    its ``claim`` record: ``class``, ``L``, ``mu``, ``measure``, ``init``, ``R``, ``rate``,
    ``steps``; numbers as Fractions or ``"p/q"`` strings). ``pepstep verify --chain`` runs the
    kernel on each file in its own process and chains the claims here."""
    claims = list(claims)
    if not claims:
        raise InputError("A chain needs at least one certificate. Got none.")
    first = claims[0]
    rate, pieces, steps = Fraction(1), [], []
    for k, c in enumerate(claims):
        where = f"piece {k + 1} of {len(claims)}"
        if (c["class"], Fraction(c["L"]), Fraction(c["mu"])) != (
            first["class"],
            Fraction(first["L"]),
            Fraction(first["mu"]),
        ):
            raise InputError(
                f"The pieces must share the class, L and mu; {where} is {c['class']} with L={c['L']}, "
                f"mu={c['mu']}, the first {first['class']} with L={first['L']}, mu={first['mu']}."
            )
        if c["class"] == "nonconvex":
            raise InputError(f"Chaining needs a class with a minimizer; {where} is nonconvex.")
        if c["init"] != "dist":
            raise InputError(f"Each piece must start from |x_0 - x*| <= R; {where} has init={c['init']!r}.")
        if k < len(claims) - 1 and c["measure"] != "dist":
            raise InputError(
                f"Every piece but the last must bound |x_N - x*|^2; {where} has measure={c['measure']!r}."
            )
        r = Fraction(c["rate"]) / Fraction(c["R"]) ** 2
        pieces.append(r)
        rate *= r
        steps.extend(Fraction(h) for h in c["steps"])
    R = Fraction(first["R"])
    return ChainBound(
        first["class"],
        Fraction(first["L"]),
        Fraction(first["mu"]),
        claims[-1]["measure"],
        R,
        tuple(steps),
        rate * R * R,
        tuple(pieces),
    )
