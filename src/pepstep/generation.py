"""Exact worst cases at large N by constraint generation.

The full PEP of N steps has ``(N+2)(N+1)`` interpolation inequalities (16,512 at
N = 127), yet the certificates of good schedules use few of them. Constraint
generation solves the PEP on a small working set of pairs, checks the primal answer
(Gram matrix ``G`` and function values ``F``) against *every* inequality, adds the
violated pairs (most violated first, a batch per round) and solves again, until no
inequality is violated by more than ``tol`` times the value.

**Why the answer is exact.** Dropping inequalities from the primal (a maximization)
can only raise its value, so each round's value ``w_S`` is an upper bound on the full
PEP's value ``w``; its dual (``tau`` and the multipliers on the working set, zero
elsewhere) is a certificate of that bound for the full problem. When the working
set's primal optimum ``(G, F)`` satisfies all ``(N+2)(N+1)`` inequalities, it is
feasible for the full PEP, so ``w >= w_S``: the two are equal. With floating point
the check passes up to ``tol`` (relative to the value); :class:`GenerationInfo`
reports the largest violation found (``max_violation``).

**The check** costs O(N^2) memory: with the coordinates ``X`` of the points ``x_k`` and
``E`` of the gradients in the Gram basis, the inner products ``<x_a, g_b> = (X G E^T)_ab``,
``<g_a, g_b> = (E G E^T)_ab`` and ``<x_a, x_b> = (X G X^T)_ab`` give every inequality::

    f_j - f_i + <g_j, x_i - x_j> + 1/(2(1-kappa)) (|g_i - g_j|^2 + kappa |x_i - x_j|^2
                                             - 2 kappa <g_j - g_i, x_j - x_i>)  <=  0

at once (``kappa = mu / L``; ``-1`` for the nonconvex class), without forming the
constraint matrix.

**Solvers.** The working-set SDPs are solved either through
:func:`pepstep.solve.solve_pep` (``clarabel``, ``cvxopt``, ``scs``, ``mosek`` via cvxpy)
or by ``schur``, pepstep's own route through CVXOPT's cone solver with a custom KKT
solver. Clarabel keeps the PSD cone inside its KKT matrix, a dense block of order
``d(d+1)/2`` (d = N + 2), which is what makes it slow past N of about 60. ``schur``
instead factors the Schur complement, of order the number of multipliers ``K``, and
exploits that every interpolation matrix is ``A_k = Z_k^T C_k Z_k`` with ``Z_k`` four
point vectors (``x_i, x_j, g_i, g_j``) and ``C_k`` a 4 x 4 matrix that depends only on
``kappa``. With ``Y = Z W Z^T`` (Z all point vectors, W the scaling of the PSD cone)
the Schur entries are ``tr(C_k Y_kl C_l Y_kl^T)``, ``Y_kl = Y[I_k, I_l]`` (4 x 4), and
products with ``X`` are cumulative sums over the steps, so an iteration costs
O(d^3 + K^2 + K^3) with no matrix of size ``d^2 x K``. The pair structure
(``I_k``, ``C_k``) is cached per (pairs, kappa); only ``X`` depends on the steps.

References
----------
Taylor, Hendrickx & Glineur (2017), "Smooth strongly convex interpolation and exact
worst-case performance of first-order methods", Math. Program. 161, Theorem 4
(interpolation conditions). Vandenberghe (2010), "The CVXOPT linear and quadratic cone
program solvers", Section 8 (custom KKT solvers).
"""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from threadpoolctl import threadpool_limits

from .classes import InitialCondition, Measure
from .errors import InputError, SolverError
from .lower import lower_bound, trajectory_gradients
from .pep import STAR, Problem, build_pep, consecutive_pairs, horizon_pairs, pair_key, value_scale
from .solve import (
    DENSE_MAX_ENTRIES,
    RESCALE_BELOW,
    TIME_LIMIT_OPTION,
    TOL_DUAL,
    Status,
    WorstCase,
    a_priori_bound,
    dense_row,
    failure_message,
    get_backend,
    honest_status,
    residuals_ok,
    solve_pep,
)

__all__ = [
    "GENERATION_SOLVERS",
    "GeneratedWorstCase",
    "GenerationInfo",
    "RTOL_VIOLATION",
    "choose_solver",
    "interpolation_violations",
    "worst_case_generated",
]

#: Largest violation of an interpolation inequality, relative to the value, accepted
#: as "feasible for the full PEP". Measured noise of the primal Gram matrix: about 1e-7
#: of the value with Clarabel at N = 31, 1.4e-6 with ``schur`` at N = 127 (constant
#: steps, where the consecutive pairs are exact), so a smaller tolerance adds pairs
#: for noise. The value itself (the dual bound) is accurate to about 3e-7 there.
RTOL_VIOLATION = 1e-5
#: Largest relative gap between a working set's dual bound and the lower bound of an
#: explicit function (:func:`pepstep.lower.lower_bound`) accepted as "the full PEP's value":
#: the accuracy asked of every value (the tests compare with closed forms at 1e-6).
RTOL_SANDWICH = 1e-6
#: A Schur round whose dual bound is this close to the explicit lower bound, but not within
#: ``RTOL_SANDWICH``, is solved again at other objective scales before pairs are added.
RTOL_NEAR_LOWER = 1e-4
#: Below this explicit lower bound (normalized) a Schur round that does not pass the
#: re-check is also solved at the scales ``lower ** (1/4, 1/2, 3/4)`` between the value and
#: 1. Strongly convex PEPs at N = 50 have values near 1e-9, where CVXOPT stops at a singular
#: KKT matrix at scale 1 and at the lower bound alike (measured, mu/L = 0.1, distance,
#: constant steps 1.81 and 2/(L + mu): dual residuals 1e-2 at scale 1, CVXOPT's "primal
#: infeasible" at the lower bound; at scales 1e-3 to 1e-2 the dual bound is re-checked to
#: 2e-7 and within 2e-7 of the quadratic's value). ``pepstep rate`` failed there after 4.5
#: minutes of fallbacks.
TINY_VALUE = 1e-6
#: CVXOPT settings of the ``schur`` route. The Schur matrix squares the conditioning of
#: the KKT system; three steps of iterative refinement with the exact operators keep the
#: Gram matrix accurate (measured at silver N = 7, all pairs: largest violation 3e-5 of
#: the value with CVXOPT's default of one step, 1e-8 with three). Six cost 35% more time
#: (constant 1.5, N = 255: 17.5 s against 13.0 s) for the same values to 1e-12.
SCHUR_OPTIONS = {
    "abstol": 1e-9,
    "reltol": 1e-9,
    "feastol": 1e-9,
    "maxiters": 100,
    "refinement": 3,
    "show_progress": False,
}
#: BLAS threads of the ``schur`` route. Its products are of order N, where threads cost more
#: than they give: constant 1.5 at N = 127 takes 3.6 s with one thread, 9.0 s with two on this
#: 2-core machine (idle), and 76 s with two while another process holds a core.
BLAS_THREADS = 1
#: From this many pairs the Schur route applies its rank-3 factors as a scipy.sparse matrix
#: (faster at large K), below it by numpy gathers (no scipy import; as fast at K = 508).
SPARSE_FACTORS_FROM = 1000
#: Solvers for the working-set SDPs: pepstep's Schur route plus the cvxpy backends.
GENERATION_SOLVERS = ("auto", "schur", "clarabel", "cvxopt", "scs", "mosek")
#: ``auto`` chooses per round: ``schur`` while the working set has at most this fraction
#: of ``d(d+1)/2`` pairs (d = N + 2, the order of Clarabel's dense PSD block), ``clarabel``
#: beyond. An interior-point iteration costs about K^3 / 3 flops with ``schur`` (K pairs)
#: and (d(d+1)/2)^3 / 3 with Clarabel (measured: benchmarks/bench_scale.py).
AUTO_SCHUR_RATIO = 0.5
#: ``auto`` also uses ``schur`` up to this many pairs while scipy.linalg is not loaded: Clarabel
#: takes its LAPACK from there, an import of 0.45 s, which is what a Schur solve on 400 pairs costs.
SCHUR_BEFORE_IMPORT = 400
#: ``auto`` stops generating once the working set would pass this fraction of all pairs
#: and solves the full PEP with :func:`full_solver` instead: schedules like silver need
#: O(N^2) pairs (measured: 2171 of 4160 at N = 63, 145 s in 7 rounds, where SCS on the
#: full PEP took 12 s to a relative error of 1e-10).
AUTO_FULL_FRACTION = 0.1
#: The full PEP is solved by Clarabel below this many steps and by SCS from it on. Long-step
#: patterns are badly conditioned for SCS: Grimmer's t = 2 pattern repeated to N = 62 did not
#: finish in 10 minutes with SCS and takes 8 s with Clarabel. Only schedules whose worst case is
#: far from one-dimensional get here (constant, silver and OBS-F close at the explicit bound in
#: their first rounds), and at N = 127 SCS gives them nothing in 10 minutes (perturbed silver),
#: while Clarabel's dense solve ends in 2.5 to 7.5 minutes (random steps 146 s; one cycle of
#: Grimmer's t = 127 pattern 432 s, its dual bound re-checked to 3e-9; perturbed silver 449 s).
#: Clarabel's dense PSD block of order d(d+1)/2 (4 GB of memory at N = 127) rules it out beyond.
AUTO_FULL_SCS_FROM = 150


def full_solver(num_steps: int) -> str:
    """The solver ``auto`` uses for the full PEP of ``num_steps`` steps (see ``AUTO_FULL_SCS_FROM``)."""
    return "scs" if num_steps >= AUTO_FULL_SCS_FROM else "clarabel"


@dataclass(frozen=True)
class GenerationInfo:
    """How a generated worst case was reached.

    Attributes
    ----------
    solver : str
        The working-set solver asked for (``auto``, ``schur`` or a cvxpy backend).
    round_solvers : tuple of str
        The solver that ran in each round.
    pairs_used : int
        Interpolation pairs in the final working set (of ``total_pairs``).
    total_pairs : int
        Inequalities of the full PEP: ``(N+2)(N+1)`` (``(N+1)N`` without a minimizer).
    rounds : int
        Working-set solves until no inequality was violated beyond ``tol``.
    max_violation : float
        Largest ``(f_j - f_i + tr(A_ij G)) / value`` over the pairs outside the final
        working set, at its primal solution (0 if none is violated); ``<= tol`` means the
        value is the full PEP's. Inside the working set the violation is the solver's
        primal residual, checked with the other residuals.
    tol : float
        The tolerance used.
    exact : bool
        The value is the full PEP's: ``closed_by`` says how.
    closed_by : str
        ``"feasibility"`` (``max_violation <= tol``: the relaxation's optimum is feasible
        for the full PEP), ``"lower bound"`` (the dual bound is within ``RTOL_SANDWICH`` of
        ``lower_bound``, the value of an explicit function of the class), or ``""``.
    lower_bound : float
        Normalized worst-case lower bound of :func:`pepstep.lower.lower_bound` (NaN when
        not used), attained by the function ``lower_family``.
    lower_family : str
        ``"huber"``, ``"quadratic"`` or ``""``.
    stopped : str
        ``"time limit"`` (the deadline came first), ``"stopped"`` (the caller's ``stop``
        asked) or ``""``.
    upper_bound : float
        The smallest normalized dual bound of a round whose dual passed the re-check (its
        multipliers, zero on the other pairs, are dual-feasible for the full PEP), widened by
        that round's dual residual; ``inf`` if no round passed.
    round_seconds : tuple of float
        Wall time of each round (solve plus check).
    round_pairs : tuple of int
        Working-set size of each round.
    round_values : tuple of float
        Normalized value of each round (non-increasing up to solver accuracy).
    """

    solver: str
    pairs_used: int
    total_pairs: int
    rounds: int
    max_violation: float
    tol: float
    exact: bool
    round_seconds: tuple
    round_pairs: tuple
    round_values: tuple
    round_solvers: tuple
    closed_by: str = ""
    lower_bound: float = float("nan")
    lower_family: str = ""
    stopped: str = ""
    upper_bound: float = float("inf")

    def __repr__(self) -> str:
        return (
            f"GenerationInfo(exact={self.exact}, closed_by={self.closed_by!r}, rounds={self.rounds}, "
            f"pairs={self.pairs_used}/{self.total_pairs}, max_violation={self.max_violation:.2g}, "
            f"solver={self.solver!r}, {sum(self.round_seconds):.3g} s)"
        )

    def summary(self) -> str:
        """The rounds on several lines: the verdict, then one line per round."""
        head = [
            f"exact          {self.exact}" + (f" (closed by {self.closed_by})" if self.closed_by else ""),
            f"pairs          {self.pairs_used} of {self.total_pairs}",
            f"max violation  {self.max_violation:.3g} (tol {self.tol:.3g})",
            f"lower bound    {self.lower_bound:.12g} ({self.lower_family or 'none'})",
        ]
        rounds = zip(self.round_solvers, self.round_pairs, self.round_values, self.round_seconds)
        body = [
            f"round {k:<8d} {solver}, {pairs} pairs, value {value:.12g}, {secs:.3g} s"
            for k, (solver, pairs, value, secs) in enumerate(rounds, 1)
        ]
        return "\n".join(head + body)


@dataclass(frozen=True)
class GeneratedWorstCase:
    """A worst case computed by constraint generation, with how it was reached.

    ``worst_case`` is an ordinary :class:`pepstep.solve.WorstCase` (its ``pairs_used`` is
    the final working set, its ``multipliers`` the working set's, its ``residuals``
    include ``max_violation`` and ``rounds``); ``info`` records the rounds.
    """

    worst_case: WorstCase
    info: GenerationInfo

    def __repr__(self) -> str:
        wc, info = self.worst_case, self.info
        return (
            f"GeneratedWorstCase(value={wc.value:.7g}, {wc.status}, N={wc.problem.num_steps}, "
            f"exact={info.exact}, rounds={info.rounds}, pairs={info.pairs_used}/{info.total_pairs}, "
            f"{wc.solver})"
        )

    def summary(self) -> str:
        """The worst case's :meth:`~pepstep.solve.WorstCase.summary`, then the rounds'."""
        return self.worst_case.summary() + "\n" + self.info.summary()

    @property
    def value(self) -> float:
        return self.worst_case.value

    @property
    def status(self) -> Status:
        return self.worst_case.status


def choose_solver(num_steps: int, num_pairs: int, has_minimizer: bool = True) -> str:
    """The working-set solver ``auto`` uses for ``num_pairs`` pairs at ``num_steps`` steps.

    ``schur`` when ``num_pairs <= AUTO_SCHUR_RATIO * d (d + 1) / 2`` (d the Gram order), or
    when ``num_pairs <= SCHUR_BEFORE_IMPORT`` in a process that has not imported scipy.linalg
    (which Clarabel's PSD cone needs), else ``clarabel``.

    Examples
    --------
    >>> choose_solver(127, 4 * 127), choose_solver(31, 900)
    ('schur', 'clarabel')
    """
    d = num_steps + (2 if has_minimizer else 1)
    if num_pairs <= AUTO_SCHUR_RATIO * d * (d + 1) / 2:
        return "schur"
    if num_pairs <= SCHUR_BEFORE_IMPORT and "scipy.linalg" not in sys.modules:
        return "schur"  # Clarabel would first import scipy.linalg (its LAPACK): 0.45 s
    return "clarabel"


# --------------------------------------------------------------------------- geometry


class _Basis:
    """Coordinates of the points in the Gram basis, applied through cumulative sums.

    Points are indexed ``p = 0..P-1``: ``*`` first (if the class has a minimizer), then
    iterates ``0..N``. ``x_k - x* = e_0 - sum_{l<k} h_l e_{l+1}`` and ``g_k = e_{k+1}``
    (without a minimizer: ``x_k - x_0 = -sum_{l<k} h_l e_l``, ``g_k = e_k``).
    """

    def __init__(self, steps: np.ndarray, has_minimizer: bool):
        self.steps = np.asarray(steps, dtype=float)
        self.n = n = self.steps.size
        self.has_min = has_minimizer
        self.off = 1 if has_minimizer else 0  # point index of iterate 0
        self.goff = 1 if has_minimizer else 0  # basis index of g_0
        self.P = n + 1 + self.off
        self.d = n + 1 + self.goff
        self.g_rows = np.arange(self.off, self.P)  # points with a gradient vector
        self.g_cols = np.arange(self.goff, self.d)

    def X(self, U: np.ndarray) -> np.ndarray:
        """``X U`` (P x c) for U of shape (d, c): row p holds the x-coordinates of point p."""
        h = self.steps[:, None]
        partial = np.cumsum(h * U[self.goff : self.goff + self.n], axis=0)
        out = np.zeros((self.P, U.shape[1]))
        body = out[self.off :]
        if self.has_min:
            body[:] = U[0]
        body[1:] -= partial
        return out

    def Xt(self, M: np.ndarray) -> np.ndarray:
        """``X^T M`` (d x c) for M of shape (P, c)."""
        Mi = M[self.off :]
        out = np.zeros((self.d, M.shape[1]))
        if self.has_min:
            out[0] = Mi.sum(axis=0)
        tail = np.cumsum(Mi[::-1], axis=0)[::-1]  # tail[k] = sum_{k' >= k} Mi[k']
        out[self.goff : self.goff + self.n] = -self.steps[:, None] * tail[1:]
        return out

    def E(self, U: np.ndarray) -> np.ndarray:
        """``E U`` (P x c): row p holds the gradient coordinates of point p."""
        out = np.zeros((self.P, U.shape[1]))
        out[self.g_rows] = U[self.g_cols]
        return out

    def Et(self, M: np.ndarray) -> np.ndarray:
        out = np.zeros((self.d, M.shape[1]))
        out[self.g_cols] = M[self.g_rows]
        return out

    def inner_products(self, U: np.ndarray):
        """``X U X^T``, ``X U E^T``, ``E U E^T`` for a symmetric (d, d) U."""
        XU = self.X(U)
        XUX = self.X(XU.T)
        XUE = self.E(XU.T).T
        EUE = self.E(self.E(U).T).T
        return XUX, XUE, EUE

    def lift(self, M: np.ndarray) -> np.ndarray:
        """``Z^T M Z`` (d x d) for a symmetric (2P, 2P) M in the point vectors ``Z = [X; E]``."""
        P = self.P
        Mxx, Mxg, Mgg = M[:P, :P], M[:P, P:], M[P:, P:]
        left = self.Xt(Mxx) + self.Et(Mxg.T)  # (d, P): X^T Mxx + E^T Mgx
        out = self.Xt(left.T).T  # (X^T Mxx + E^T Mgx) X
        right = self.Xt(Mxg) + self.Et(Mgg)  # (d, P): X^T Mxg + E^T Mgg
        out += self.Et(right.T).T
        return out

    def gram_products(self, U: np.ndarray) -> np.ndarray:
        """``Z U Z^T`` (2P x 2P), ``Z = [X; E]``."""
        XUX, XUE, EUE = self.inner_products(U)
        return np.block([[XUX, XUE], [XUE.T, EUE]])

    def congruence(self) -> np.ndarray | None:
        """``sigma`` such that a Gram matrix in these coordinates is ``G / (sigma sigma^T)`` of the
        unscaled basis's, and a Gram-part objective ``C`` is ``C sigma sigma^T``; None here."""
        return None


class _ScaledBasis(_Basis):
    """:class:`_Basis` with its vectors scaled, ``e_i -> sigma_i e_i``: the Gram matrix in these
    coordinates is ``G_ij / (sigma_i sigma_j)``, the same points and the same SDP up to a
    diagonal congruence, but other rounding in the Schur route (:data:`RTOL_SANDWICH`'s retries).

    Long steps make the gradients far shorter than ``x_0 - x*`` (OBS-F at N = 100: ``|g_k|`` is
    ``1 / (2 S_N + 1) = 1.2e-3``), and with ``sigma`` about the gradients' length the Gram
    block of the gradients is of order one like the rest.
    """

    def __init__(self, steps: np.ndarray, has_minimizer: bool, sigma: np.ndarray):
        super().__init__(steps, has_minimizer)
        self.sigma = np.asarray(sigma, dtype=float)
        if self.sigma.shape != (self.d,) or not np.all(self.sigma > 0):
            raise ValueError(f"sigma must be {self.d} positive numbers")

    def X(self, U: np.ndarray) -> np.ndarray:
        return super().X(self.sigma[:, None] * U)

    def Xt(self, M: np.ndarray) -> np.ndarray:
        return self.sigma[:, None] * super().Xt(M)

    def E(self, U: np.ndarray) -> np.ndarray:
        return super().E(self.sigma[:, None] * U)

    def Et(self, M: np.ndarray) -> np.ndarray:
        return self.sigma[:, None] * super().Et(M)

    def congruence(self) -> np.ndarray:
        return self.sigma


def interpolation_violations(problem: Problem, gram: np.ndarray, function_values: np.ndarray) -> np.ndarray:
    """Left-hand sides of every interpolation inequality at a primal point (normalized units).

    Entry ``[p, q]`` is ``f_j - f_i + tr(A_ij G)`` for the points ``i = p - off``,
    ``j = q - off`` (``off = 1`` with a minimizer, whose index is 0; ``-inf`` on the
    diagonal), i.e.::

        f_j - f_i + <g_j, x_i - x_j> + c (|g_i - g_j|^2 + kappa |x_i - x_j|^2
                                          - 2 kappa <g_j - g_i, x_j - x_i>),  c = 1 / (2 (1 - kappa)).

    A feasible point has every entry ``<= 0``. Memory and time are O(N^2) plus two
    products with the Gram matrix.

    References
    ----------
    Taylor, Hendrickx & Glineur (2017), Math. Program. 161, Theorem 4.

    Examples
    --------
    >>> from pepstep import Problem, constant, worst_case
    >>> wc = worst_case(Problem(constant(1.0, 2)))
    >>> V = interpolation_violations(wc.problem, wc.gram, wc.function_values)
    >>> V.shape, bool(V.max() < 1e-7)
    ((4, 4), True)
    """
    fc = problem.function_class
    basis = _Basis(np.asarray(problem.schedule.steps, dtype=float), fc.has_minimizer)
    G = 0.5 * (np.asarray(gram, dtype=float) + np.asarray(gram, dtype=float).T)
    if G.shape != (basis.d, basis.d):
        raise InputError(f"The Gram matrix must be {basis.d} x {basis.d}. Got shape {G.shape}.")
    F = np.zeros(basis.P)
    F[basis.off :] = np.asarray(function_values, dtype=float)
    return _violations(basis, fc.kappa, G, F)


def _violations(basis: _Basis, kappa: float, G: np.ndarray, F: np.ndarray) -> np.ndarray:
    Gx, Gxg, Gg = basis.inner_products(G)
    c = 1.0 / (2.0 * (1.0 - kappa))
    dxg, dg = np.diag(Gxg), np.diag(Gg)
    V = F[None, :] - F[:, None] + Gxg - dxg[None, :]
    V += c * (dg[:, None] + dg[None, :] - 2.0 * Gg)
    if kappa != 0.0:
        dx = np.diag(Gx)
        V += c * kappa * (dx[:, None] + dx[None, :] - 2.0 * Gx)
        V -= 2.0 * c * kappa * (dxg[None, :] + dxg[:, None] - Gxg - Gxg.T)
    np.fill_diagonal(V, -np.inf)
    return V


# ----------------------------------------------------------------- pair structure


@lru_cache(maxsize=32)
def _pair_structure(pairs_bytes: bytes, off: int, P: int, kappa: float):
    """Point-vector indices ``I_k`` (m x 4) and coefficients ``C_k`` (m x 4 x 4) of the pairs.

    ``A_ij = sum_ab C[a, b] z_a z_b^T`` over ``(z_0..z_3) = (x_i, x_j, g_i, g_j)``; ``x_*``
    and ``g_*`` are zero vectors. Depends on the pairs and ``kappa`` only, not on the steps.
    """
    pairs = np.frombuffer(pairs_bytes, dtype=np.int64).reshape(-1, 2)
    pi, pj = pairs[:, 0] + off, pairs[:, 1] + off
    idx = np.stack([pi, pj, P + pi, P + pj], axis=1)
    u = np.array([0.0, 0.0, 0.0, 1.0])  # g_j
    v = np.array([1.0, -1.0, 0.0, 0.0])  # x_i - x_j
    dg = np.array([0.0, 0.0, 1.0, -1.0])  # g_i - g_j
    c = 1.0 / (2.0 * (1.0 - kappa))
    sym = lambda a, b: 0.5 * (np.outer(a, b) + np.outer(b, a))  # noqa: E731
    C = sym(u, v) + c * np.outer(dg, dg) + c * kappa * np.outer(v, v) - 2.0 * c * kappa * sym(dg, v)
    coef = np.broadcast_to(C, (pairs.shape[0], 4, 4)).copy()
    return idx, coef


# ------------------------------------------------------------------ Schur route


class _LowRankSDP:
    """``min c^T x`` s.t. ``A x = b``, ``x >= 0``, ``S(x) = sum_k x_k A_k - C  PSD``, by CVXOPT.

    Every ``A_k = Z_k^T C_k Z_k`` is given by four point-vector indices ``I_k`` (into the
    rows of ``Z = [X; E]`` of ``basis``) and a 4 x 4 ``C_k``; the KKT systems are solved by
    the Schur complement of order ``K`` (see the module notes). The PSD cone's dual is a
    Gram matrix, the equalities' dual ``y``.
    """

    def __init__(self, basis: _Basis, idx, coef, A, b, c, C):
        self.basis = basis
        self.idx = np.asarray(idx, dtype=np.int64)
        self.coef = np.asarray(coef, dtype=float)
        self.K = self.idx.shape[0]
        twoP = 2 * basis.P
        self.flat = (self.idx[:, :, None] * twoP + self.idx[:, None, :]).ravel()
        self.A = np.asarray(A, dtype=float)
        self.b = np.asarray(b, dtype=float)
        self.p = self.A.shape[0]
        self.c = np.asarray(c, dtype=float)
        self.C = np.asarray(C, dtype=float)

    # operators -----------------------------------------------------------------
    def combine(self, w: np.ndarray) -> np.ndarray:
        """``sum_k w_k A_k`` (d x d)."""
        twoP = 2 * self.basis.P
        weights = (w[:, None, None] * self.coef).ravel()
        M = np.bincount(self.flat, weights=weights, minlength=twoP * twoP).reshape(twoP, twoP)
        M = 0.5 * (M + M.T)
        return self.basis.lift(M)

    def inner(self, U: np.ndarray) -> np.ndarray:
        """``<A_k, U>`` for every k, U symmetric (d x d)."""
        Y = self.basis.gram_products(U)
        sub = Y[self.idx[:, :, None], self.idx[:, None, :]]
        return np.einsum("kab,kab->k", self.coef, sub)

    def _factors(self):
        """``C_k = W_k diag(s_k) W_k^T`` (rank <= 3): ``W`` (K, 4, 3) and ``s`` (K, 3).

        ``y_kr = Z_k^T W_k[:, r]`` is the vector of the k-th pair's r-th factor, with
        coordinates ``W[k, a, r]`` on the point vectors ``Z[idx[k, a]]``; ``Wd`` is the
        matrix of those coordinates, row ``r K + k`` holding ``y_kr``.
        """
        if getattr(self, "_fac", None) is None:
            vals, vecs = np.linalg.eigh(self.coef)  # (K, 4), (K, 4, 4)
            order = np.argsort(-np.abs(vals), axis=1)[:, :3]
            s = np.take_along_axis(vals, order, axis=1)
            W = np.take_along_axis(vecs, order[:, None, :], axis=2)  # (K, 4, 3)
            self._fac = (np.ascontiguousarray(W), s)
        return self._fac

    def _factor_rows(self):
        """``Wd`` as a CSR matrix (scipy.sparse), for large working sets (:data:`SPARSE_FACTORS_FROM`)."""
        if getattr(self, "_wd", None) is None:
            import scipy.sparse as sp

            W, _ = self._factors()
            K = self.K
            # Row r K + k holds y_kr: blocks of K rows per r keep the products contiguous.
            rows = np.repeat((np.arange(3)[:, None] * K + np.arange(K)[None, :]).ravel(), 4)
            cols = np.broadcast_to(self.idx[None, :, :], (3, K, 4)).ravel()
            data = W.transpose(2, 0, 1).ravel()
            Wd = sp.csr_matrix((data, (rows, cols)), shape=(3 * K, 2 * self.basis.P))
            Wd.sum_duplicates()
            self._wd = Wd
        return self._wd

    def schur(self, Y: np.ndarray) -> np.ndarray:
        """``H_kl = tr(A_k Pw A_l Pw) = sum_{r,r'} s_kr s_lr' (y_kr^T Pw y_lr')^2``.

        ``A_k = sum_r s_kr y_kr y_kr^T`` (rank <= 3), and ``y^T Pw y'`` for all vectors is
        ``Wd Y Wd^T`` with ``Y = Z Pw Z^T`` and ``Wd`` (4 nonzeros per row, :meth:`_factors`):
        about 36 K^2 flops, done in row blocks to bound the memory. ``Wd`` is applied by
        gathering rows with numpy below :data:`SPARSE_FACTORS_FROM` pairs (no scipy import:
        small solves are import-bound), and as a scipy.sparse matrix from there (measured at
        K = 2554: 0.63 s against 1.0 s by gathering).
        """
        W, s = self._factors()
        K, idx = self.K, self.idx
        Wd = self._factor_rows() if K >= SPARSE_FACTORS_FROM else None
        if Wd is None:
            # M1[:, r K + k] = Y y_kr, i.e. (Wd Y)^T
            M1 = np.matmul(W.transpose(0, 2, 1), Y[idx]).transpose(1, 0, 2).reshape(3 * K, -1).T.copy()
        else:
            M1 = np.ascontiguousarray((Wd @ Y).T)  # (2P, 3K); contiguous, or every product copies it
        H = np.empty((K, K))
        rows = max(1, min(K, 2_000_000 // (9 * K)))
        for a in range(0, K, rows):
            b = min(K, a + rows)
            Hb = np.zeros((b - a, K))
            if Wd is None:
                QQ = np.matmul(W[a:b].transpose(0, 2, 1), M1[idx[a:b]])  # (rows, 3, 3K)
            for r in range(3):
                Q = QQ[:, r] if Wd is None else np.asarray(Wd[r * K + a : r * K + b] @ M1)  # (rows, 3K)
                Q *= Q
                inner = Q[:, :K] * s[:, 0]
                inner += Q[:, K : 2 * K] * s[:, 1]
                inner += Q[:, 2 * K :] * s[:, 2]
                inner *= s[a:b, r, None]
                Hb += inner
            H[a:b] = Hb
        return 0.5 * (H + H.T)

    @staticmethod
    def _sym_lower(v: np.ndarray, d: int) -> np.ndarray:
        U = np.asarray(v).reshape(d, d, order="F")
        L = np.tril(U)
        return L + np.tril(U, -1).T

    def conelp(self, options: dict | None = None) -> dict:
        """Solve; a dict with ``status``, ``x``, ``y``, ``gram`` (the PSD dual), ``slack_min_eig``."""
        import cvxopt
        from cvxopt import solvers

        K, d = self.K, self.basis.d
        dims = {"l": K, "q": [], "s": [d]}
        h = np.concatenate([np.zeros(K), (-self.C).ravel(order="F")])
        sym = self._sym_lower

        def G(u, v, alpha=1.0, beta=0.0, trans="N"):
            u_np = np.asarray(u).ravel()
            if trans == "N":
                out = np.concatenate([-u_np, (-self.combine(u_np)).ravel(order="F")])
            else:
                out = -u_np[:K] - self.inner(sym(u_np[K:], d))
            v_np = np.asarray(v).ravel()
            v[:] = cvxopt.matrix(alpha * out + beta * v_np)

        A = self.A

        deadline = getattr(self, "deadline", None)

        def kktsolver(W):
            if deadline is not None and time.perf_counter() >= deadline:
                raise ArithmeticError("time limit")
            rti = np.asarray(W["rti"][0])
            di2 = np.asarray(W["di"]).ravel() ** 2
            Pw = rti @ rti.T
            Y = self.basis.gram_products(Pw)
            H = self.schur(Y)
            H[np.diag_indices(K)] += di2
            solve_H = _factor(H)
            HiAt = solve_H(A.T)
            solve_S2 = _factor(A @ HiAt)

            def f(x, y, z):
                bx = np.asarray(x).ravel()
                by = np.asarray(y).ravel()
                bz = np.asarray(z).ravel()
                bz_l, bz_s = bz[:K], sym(bz[K:], d)
                # G^T W^{-1} W^{-T} bz
                rhs = bx - di2 * bz_l - self.inner(Pw @ bz_s @ Pw)
                Hr = solve_H(rhs)
                uy = solve_S2(A @ Hr - by)
                ux = Hr - HiAt @ uy
                # W uz = W^{-T} (G ux - bz)
                wz_l = np.sqrt(di2) * (-ux - bz_l)
                Rs = -self.combine(ux) - bz_s
                wz_s = rti.T @ Rs @ rti
                x[:] = cvxopt.matrix(ux)
                y[:] = cvxopt.matrix(uy)
                z[:] = cvxopt.matrix(np.concatenate([wz_l, wz_s.ravel(order="F")]))

            return f

        opts = dict(SCHUR_OPTIONS)
        opts.update(options or {})
        with warnings.catch_warnings(), threadpool_limits(limits=BLAS_THREADS):
            warnings.simplefilter("ignore")
            try:
                sol = solvers.conelp(
                    cvxopt.matrix(self.c),
                    G,
                    cvxopt.matrix(h),
                    dims,
                    cvxopt.matrix(A),
                    cvxopt.matrix(self.b),
                    kktsolver=kktsolver,
                    options=opts,
                )
            except (ArithmeticError, ValueError) as exc:
                # CVXOPT's own scaling update can divide by a zero eigenvalue of the iterate
                # (measured: a 13-step join of the optimizer's composition search); no answer
                return {"status": Status.FAILED, "raw": f"cvxopt stopped: {exc}"}
        raw = sol["status"]
        # CVXOPT says 'unknown' when it stops at a singular KKT matrix, which is how these
        # degenerate SDPs end; the caller's re-check then decides.
        status = Status.OPTIMAL if raw in ("optimal", "unknown") else Status.INACCURATE
        if sol["x"] is None:
            # CVXOPT solves the dual PEP: a certificate of its primal infeasibility means no
            # finite bound tau, i.e. an unbounded worst case.
            table = {"primal infeasible": Status.UNBOUNDED, "dual infeasible": Status.INFEASIBLE}
            return {"status": table.get(raw, Status.FAILED), "raw": raw}
        xv = np.asarray(sol["x"]).ravel()
        S = self.combine(xv) - self.C
        return {
            "status": status,
            "raw": raw,
            "x": xv,
            "y": np.asarray(sol["y"]).ravel(),
            "gram": sym(np.asarray(sol["z"]).ravel()[K:], d),
            "slack_min_eig": float(np.linalg.eigvalsh(0.5 * (S + S.T))[0]),
            "iterations": int(sol["iterations"]),
        }


class _SchurSDP(_LowRankSDP):
    """The dual-form PEP on a working set, solved by CVXOPT's conelp with a Schur KKT solver.

    Variables ``x = (lambda (m), tau, nu (mingradnorm))`` >= 0; minimize ``tau`` subject to
    ``S = tau B + sum lambda_k A_k - sum nu_k Q_k - C / s  PSD`` and the function-value
    identity (``s`` the objective scale). The PSD cone's dual is the Gram matrix ``G`` and
    the identity's dual is ``-F``. ``shift`` asks for ``S >= shift I`` instead (the
    objective gains ``shift tr(G)``; certificates use it as a rounding margin).
    """

    def __init__(self, problem: Problem, pairs: np.ndarray, basis: _Basis, scale: float, shift: float = 0.0):
        fc = problem.function_class
        b = basis
        self.scale = scale
        self.m = m = pairs.shape[0]
        n, P, d = b.n, b.P, b.d
        idx, coef = _pair_structure(np.ascontiguousarray(pairs, dtype=np.int64).tobytes(), b.off, P, fc.kappa)
        x0 = b.off  # point index of iterate 0; its x-vector is e_0 (dist init)
        extra_idx = [np.full((1, 4), x0)]
        tau_coef = np.zeros((1, 4, 4))
        if problem.init is InitialCondition.DIST:
            tau_coef[0, 0, 0] = 1.0
        extra_coef = [tau_coef]
        # dense (no scipy import) unless min_G's (N + 1) d^2 entries would not fit
        small = problem.measure is not Measure.MINGRADNORM or (n + 1) * d * d <= DENSE_MAX_ENTRIES
        data0 = build_pep(problem, np.zeros((0, 2), dtype=np.int64), dense=small)
        self.num_nu = 0
        if data0.min_G is not None:
            self.num_nu = n + 1
            gi = P + b.g_rows
            extra_idx.append(np.repeat(gi[:, None], 4, axis=1))
            q = np.zeros((n + 1, 4, 4))
            q[:, 0, 0] = -1.0
            extra_coef.append(q)
        idx = np.concatenate([idx] + extra_idx)
        coef = np.concatenate([coef] + extra_coef)
        K = idx.shape[0]
        # Equality rows: the function-value identity (and sum nu = 1 / s).
        num_f = n + 1
        rows, cols, vals = [], [], []
        for col, sign in ((1, 1.0), (0, -1.0)):
            keep = pairs[:, col] != STAR
            rows.append(pairs[keep, col])
            cols.append(np.nonzero(keep)[0])
            vals.append(np.full(int(keep.sum()), sign))
        nzF = np.nonzero(data0.init_F)[0]
        rows.append(nzF)
        cols.append(np.full(nzF.size, m))
        vals.append(data0.init_F[nzF])
        p = num_f
        b_eq = list(data0.obj_F / scale)
        if self.num_nu:
            rows.append(np.full(self.num_nu, num_f))
            cols.append(m + 1 + np.arange(self.num_nu))
            vals.append(np.ones(self.num_nu))
            p += 1
            b_eq.append(1.0 / scale)
        A = np.zeros((p, K))
        np.add.at(A, (np.concatenate(rows), np.concatenate(cols)), np.concatenate(vals))
        b_eq = np.array(b_eq)
        # Without a minimizer only differences of F enter: the identity rows sum to zero,
        # so the row of f_0 is dropped (F is anchored at f_0 = 0).
        self.f_rows = np.arange(num_f) if fc.has_minimizer else np.arange(1, num_f)
        keep = np.concatenate([self.f_rows, np.arange(num_f, p)])
        C = dense_row(data0.obj_G).reshape(d, d)
        sigma = b.congruence()
        if sigma is not None:
            C = C * np.outer(sigma, sigma)  # the objective in the scaled coordinates
        C = 0.5 * (C + C.T) / scale + shift / scale * np.eye(d)
        cvec = np.zeros(K)
        cvec[m] = 1.0
        super().__init__(basis, idx, coef, A[keep], b_eq[keep], cvec, C)
        self.obj_F = data0.obj_F

    def solve(self, options: dict | None = None) -> dict:
        out = self.conelp(options)
        if "x" not in out:  # failed, or CVXOPT's certificate of an unbounded / infeasible PEP
            return out
        xv, yv = out.pop("x"), out.pop("y")
        sc = self.scale
        tau = sc * xv[self.m]
        F = np.zeros(self.basis.n + 1)
        F[self.f_rows] = -yv[: self.f_rows.size]
        out.update(
            value=tau,
            tau=tau,
            # multipliers of the shifted problem are the same; the slack is S - shift I
            **{"lambda": sc * xv[: self.m]},
            nu=sc * xv[self.m + 1 :] if self.num_nu else None,
            F=F,
            slack_min_eig=sc * out["slack_min_eig"],
        )
        return out


def _factor(H: np.ndarray):
    """A solver for ``H u = r`` by Cholesky, or ArithmeticError (CVXOPT then stops).

    Near the optimum the Schur matrix loses definiteness to rounding (it squares the
    conditioning of the KKT system); CVXOPT then returns its last iterate, which the
    re-check judges. Tried and rejected (measured at constant 1.5, N = 127): a diagonal
    shift (spoils the iterates) and LU with pivoting (100 iterations, violations 3e-4).

    LAPACK's Cholesky comes from CVXOPT below :data:`SPARSE_FACTORS_FROM` pairs (this route
    has loaded it already; importing scipy.linalg costs 0.45 s of a small run) and from
    scipy.linalg above (15-25% faster at K = 2000-4000; the solutions agreed to the last bit
    in every measured case).
    """
    K = H.shape[0]
    if K < SPARSE_FACTORS_FROM:
        from cvxopt import lapack, matrix

        L = matrix(H)
        try:
            lapack.potrf(L)
        except (ArithmeticError, ValueError) as exc:
            raise ArithmeticError(str(exc)) from None

        def solve(r):
            r = np.asarray(r, dtype=float)
            B = matrix(r.reshape(K, -1))
            lapack.potrs(L, B)
            return np.asarray(B).reshape(r.shape)

        return solve
    import scipy.linalg as sla  # lazily: only large Schur matrices

    try:
        cf = sla.cho_factor(H, lower=True, check_finite=False)
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise ArithmeticError(str(exc)) from None
    return lambda r: sla.cho_solve(cf, r, check_finite=False)


# ------------------------------------------------------------------ the loop


def _solve_round(problem, pairs, basis, solver, scale, options, deadline=None, sigma=None):
    """One working-set solve; a dict with status, value, gram, F, lambda, tau, residuals.

    With ``deadline`` the solve stops there: Clarabel and SCS by their own time limits, the Schur route
    by its KKT solver refusing to factor (CVXOPT then returns its last iterate, which the
    re-check judges). ``sigma`` (Schur route only) solves in the scaled coordinates of
    :class:`_ScaledBasis`; the re-check runs there and the Gram matrix is returned in ``basis``'s.
    """
    if solver == "schur":
        if sigma is not None:
            basis = _ScaledBasis(basis.steps, basis.has_min, sigma)
        sdp = _SchurSDP(problem, pairs, basis, scale)
        sdp.deadline = deadline
        out = sdp.solve(options)
        if out["status"] in (Status.OPTIMAL, Status.INACCURATE):
            out["residuals"] = _schur_residuals(problem, basis, sdp, out)
            if out["status"] is Status.OPTIMAL and not residuals_ok(out["residuals"]):
                out["status"] = Status.INACCURATE
            if sigma is not None:
                out["gram"] = out["gram"] * np.outer(sigma, sigma)
        out["solver_version"] = get_backend("cvxopt").version()
        return out
    data = build_pep(problem, pairs)
    if deadline is not None and solver in TIME_LIMIT_OPTION:
        remaining = max(deadline - time.perf_counter(), 1e-3)
        options = {**(options or {}), TIME_LIMIT_OPTION[solver]: remaining}
    out = solve_pep(data, solver, options=options, objective_scale=scale)
    return out


def _schur_residuals(problem, basis, sdp, out) -> dict:
    """The re-check of :func:`pepstep.solve.recheck`, computed without the constraint matrix."""
    G, F, tau = out["gram"], out["F"], out["tau"]
    Fp = np.zeros(basis.P)
    Fp[basis.off :] = F
    V = _violations(basis, problem.function_class.kappa, G, Fp)
    pairs_pts = sdp.idx[: sdp.m, :2]
    primal = [0.0, -float(np.linalg.eigvalsh(G)[0])]
    weighted = 0.0  # violations weighted by their multipliers (pepstep.solve.recheck)
    if sdp.m:
        viol = V[pairs_pts[:, 0], pairs_pts[:, 1]]
        primal.append(float(viol.max()))
        weighted += float(np.maximum(out["lambda"], 0.0) @ np.maximum(viol, 0.0))
    init_val = float(sdp.inner(G)[sdp.m] + _init_F(sdp) @ F)
    primal.append(init_val - 1.0)
    weighted += abs(float(tau)) * max(init_val - 1.0, 0.0)
    obj = float(np.sum(sdp.C * G) * sdp.scale + sdp.obj_F @ F)
    if sdp.num_nu:
        tv = float(np.min(-sdp.inner(G)[sdp.m + 1 :]))
        obj += tv
    size = max(abs(tau), 1e-300)
    weighted /= size
    x = np.concatenate([out["lambda"], [tau], out["nu"] if out["nu"] is not None else []])
    ident = sdp.A @ x - sdp.b * sdp.scale
    # The bound moves by at most |min eig S| trace(G) (weak duality), see pepstep.solve.recheck.
    weight = max(1.0, float(np.trace(G)))
    dual = [
        0.0,
        -out["slack_min_eig"] * weight,
        float(np.max(np.abs(ident))),
        -tau,
        -float(np.min(x, initial=0.0)),
    ]
    return {
        "gap": abs(obj - tau) / size,
        "primal": max(primal),
        "weighted_primal": weighted,
        "dual": max(dual) / size,
        "min_eig_slack": out["slack_min_eig"],
        "primal_value": obj,
    }


def _init_F(sdp: _SchurSDP) -> np.ndarray:
    """The initial condition's coefficients on F (the tau column of the identity)."""
    out = np.zeros(sdp.basis.n + 1)
    out[sdp.f_rows] = sdp.A[: sdp.f_rows.size, sdp.m]
    return out


def _scale_guess(problem: Problem) -> float:
    """A first objective scale near the value, so the first round is not solved twice.

    For ``f(x_N) - f*`` from ``|x_0 - x*| <= 1`` over smooth convex functions, the Huber
    function's value ``1 / (4 sum(h) + 2)`` (Drori & Teboulle 2014) is within a small
    factor of the worst case of constant and silver schedules; otherwise 1. The round
    re-solves at its own value when that is far below the guess, and with scale 1 when the
    guess makes it fail (a cycle of Grimmer's t = 127 pattern has a worst case near 1).
    """
    fc = problem.function_class
    if fc.kind == "convex" and problem.measure.value == "fgap" and problem.init is InitialCondition.DIST:
        return 1.0 / (4.0 * float(sum(problem.schedule.steps)) + 2.0)
    return 1.0


def _gradient_scaling(problem: Problem, basis: _Basis, lower) -> np.ndarray | None:
    """``sigma`` for :class:`_ScaledBasis`: ``x_0 - x*`` kept, every gradient vector scaled to the
    root mean square of the gradients of gradient descent on the explicit function ``lower``
    (:func:`pepstep.lower.trajectory_gradients`); ``None`` when they vanish (a flat quadratic)."""
    if lower is None or not basis.has_min:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        rms = float(np.sqrt(np.mean(trajectory_gradients(problem, lower) ** 2)))
    if not (np.isfinite(rms) and rms > 0):
        return None
    sigma = np.ones(basis.d)
    sigma[basis.g_cols] = rms
    return sigma


def _meets_lower(out: dict, lower, rtol: float = RTOL_SANDWICH) -> bool:
    """A round's dual bound (re-checked to ``TOL_DUAL``) within ``rtol`` of the explicit function's
    value ``lower``: with ``RTOL_SANDWICH`` the full PEP's value is then pinned between them."""
    return (
        lower is not None
        and lower.value > 0
        and abs(out.get("value", np.nan) - lower.value) <= rtol * lower.value
        and out.get("residuals", {}).get("dual", np.inf) <= TOL_DUAL
    )


def worst_case_generated(
    problem: Problem,
    solver: str = "auto",
    *,
    initial: str | np.ndarray = "horizon",
    tol: float = RTOL_VIOLATION,
    max_rounds: int = 50,
    batch: int | None = None,
    throw: bool = True,
    options: dict | None = None,
    sandwich: bool = True,
    progress=None,
    deadline: float | None = None,
    stop=None,
) -> GeneratedWorstCase:
    """Exact worst case of gradient descent by constraint generation.

    Solves the PEP on a working set of interpolation pairs, checks the primal solution
    against all ``(N+2)(N+1)`` inequalities (:func:`interpolation_violations`), adds the
    most violated pairs, and repeats until the largest violation is at most
    ``tol * value``, or until the working set's dual bound is within ``RTOL_SANDWICH``
    of the value of an explicit function of the class (:func:`pepstep.lower.lower_bound`).
    Either way the value is the full PEP's (see the module notes).

    Parameters
    ----------
    problem : Problem
    solver : str
        ``auto`` (per round, :func:`choose_solver`: ``schur`` for small working sets,
        ``clarabel`` for large ones; past ``AUTO_FULL_FRACTION`` of all pairs, one full
        solve with :func:`full_solver`),
        ``schur`` (CVXOPT with pepstep's low-rank Schur-complement KKT solver), or a
        cvxpy backend: ``clarabel``, ``cvxopt``, ``scs``, ``mosek``.
    initial : "horizon", "consecutive", "all" or array (M, 2)
        The first working set: the consecutive pairs plus each iterate's step horizon
        (:func:`pepstep.pep.horizon_pairs`; the consecutive pairs alone for constant
        steps), the pairs ``(k, k+1)``, ``(k+1, k)``, ``(*, k)``, ``(k, *)``
        (:func:`pepstep.pep.consecutive_pairs`), all pairs, or the given pairs.
    tol : float
        Largest violation accepted, relative to the value.
    max_rounds : int
        Solves before giving up (the result is then ``inaccurate``).
    batch : int, optional
        Pairs added per round, most violated first. By default ``max(N + 2, K / 2)`` for
        a working set of K pairs: the set grows geometrically, so schedules whose
        certificates use O(N^2) pairs (silver) need O(log N) rounds, not O(N).
    throw : bool
        Raise :class:`SolverError` unless the result is ``optimal`` and exact.
    options : dict, optional
        Options for the working-set solver.
    sandwich : bool
        Stop as soon as the dual bound meets the lower bound of the quadratic and
        Huber-type functions (classes with a minimizer). The good schedules (constant,
        silver, optimized) attain that bound, and their working sets reach it long before
        their primal answers are feasible for the full PEP.
    progress : callable, optional
        Called after each round with ``(rounds, pairs, value)``: the rounds so far, the
        working-set size of the last one and its normalized value (NaN if it failed).
        Nothing here prints; the CLI draws a bar with it.
    deadline : float, optional
        A ``time.perf_counter()`` time after which no new round starts; a round under way
        (after the first, which always finishes: it gives the first bound) is stopped within
        one interior-point iteration. The result is then not exact: its
        status is ``inaccurate`` and ``info.stopped`` is ``"time limit"``;
        ``info.upper_bound`` still bounds the full PEP above.
    stop : callable, optional
        Called after each round that did not close with ``(rounds, seconds, next_pairs)``:
        the rounds so far, the seconds since the start and the size of the next working set.
        Returning true stops (``info.stopped`` is ``"stopped"``); the method dispatch uses it
        to switch to the full PEP when that is predicted to be cheaper.

    Returns
    -------
    GeneratedWorstCase
        ``.worst_case`` (a :class:`WorstCase`) and ``.info`` (:class:`GenerationInfo`).

    References
    ----------
    Taylor, Hendrickx & Glineur (2017), Math. Program. 161 (the PEP and its interpolation
    conditions); Drori & Teboulle (2014), Math. Program. 145 (the PEP of gradient descent).

    Examples
    --------
    >>> from pepstep import Problem, silver
    >>> res = worst_case_generated(Problem(silver(7)), "clarabel")
    >>> round(res.value, 7), res.info.exact          # 1 / (4 rho^3 - 2)
    (0.0184215, True)
    """
    start = time.perf_counter()
    solver = str(solver).lower()
    if solver not in GENERATION_SOLVERS:
        raise InputError(
            f"Unknown solver {solver!r} for constraint generation; choose one of: {', '.join(GENERATION_SOLVERS)}."
        )
    if not (np.isfinite(tol) and tol > 0):
        raise InputError(f"The 'tol' must be finite and > 0. Got tol={tol!r}.")
    if int(max_rounds) != max_rounds or max_rounds < 1:
        raise InputError(f"The 'max_rounds' must be an integer >= 1. Got max_rounds={max_rounds!r}.")
    fc = problem.function_class
    n = problem.num_steps
    basis = _Basis(np.asarray(problem.schedule.steps, dtype=float), fc.has_minimizer)
    P = basis.P
    total = P * (P - 1)
    if isinstance(initial, str):
        if initial == "horizon":
            pairs = horizon_pairs(problem.schedule.steps, fc.has_minimizer)
        elif initial == "consecutive":
            pairs = consecutive_pairs(n, fc.has_minimizer)
        elif initial == "all":
            pts = np.arange(P) - basis.off
            ii, jj = np.meshgrid(pts, pts, indexing="ij")
            mask = ii != jj
            pairs = np.stack([ii[mask], jj[mask]], axis=1)
        else:
            raise InputError(
                f"The 'initial' working set must be 'horizon', 'consecutive', 'all' or an array. "
                f"Got initial={initial!r}."
            )
    else:
        pairs = np.asarray(initial, dtype=np.int64).reshape(-1, 2)
    in_set = np.zeros((P, P), dtype=bool)
    in_set[pairs[:, 0] + basis.off, pairs[:, 1] + basis.off] = True
    pts_all = np.argwhere(in_set)
    pairs = pts_all - basis.off  # unique, sorted
    fixed_batch = batch is not None
    batch = P if batch is None else int(batch)
    if batch < 1:
        raise InputError(f"The 'batch' must be >= 1. Got batch={batch!r}.")

    lower = lower_bound(problem) if sandwich else None
    closed_by = ""
    scale = _scale_guess(problem)
    if scale == 1.0 and lower is not None and 0 < lower.value < RESCALE_BELOW:
        # the explicit function's value is below the worst case and, for good schedules, at it:
        # solving at that scale saves the second solve of the first round (measured: N = 25
        # gradient norm from the distance, two CVXOPT solves of 0.47 s each before, one after)
        scale = float(lower.value)
    secs, sizes, values, solvers_used = [], [], [], []
    go_full = False
    out, max_rel = None, np.inf
    rounds = 0
    stopped = ""
    best_upper = np.inf
    for _ in range(int(max_rounds)):
        if rounds and deadline is not None and time.perf_counter() >= deadline:
            stopped = "time limit"
            break
        t0 = time.perf_counter()
        solved = pairs
        if go_full:
            used = full_solver(n)
        else:
            used = choose_solver(n, pairs.shape[0], fc.has_minimizer) if solver == "auto" else solver
        solvers_used.append(used)
        out = _solve_round(problem, pairs, basis, used, scale, options, deadline if rounds else None)
        if rounds == 0 and scale != 1.0 and out["status"] not in (Status.OPTIMAL, Status.INACCURATE):
            scale = 1.0  # the guess was far off (long steps: the value can exceed 1)
            out = _solve_round(problem, pairs, basis, used, scale, options, deadline if rounds else None)
        bound = a_priori_bound(problem)
        if rounds == 0 and out["status"] not in (Status.OPTIMAL, Status.INACCURATE) and 1.0 < bound < np.inf:
            retry = _solve_round(problem, pairs, basis, used, bound, options, None)  # very long steps
            if retry["status"] in (Status.OPTIMAL, Status.INACCURATE):
                scale, out = bound, retry
        v = out.get("value", np.nan)
        if out["status"] in (Status.OPTIMAL, Status.INACCURATE) and (
            0 < v < RESCALE_BELOW * scale
            or (out["status"] is Status.INACCURATE and v * RESCALE_BELOW > scale)
        ):
            scale = v
            out = _solve_round(problem, pairs, basis, used, scale, options, deadline if rounds else None)
        if (
            solver == "auto"
            and used != "schur"
            and not go_full
            and out["status"] in (Status.INACCURATE, Status.FAILED)
        ):
            # Clarabel failed or its point failed the re-check (OBS-F at N = 16, 20: its primal
            # point lifts the value by 2e-6 to 2e-5); the Schur route solves the same working set
            retry = _solve_round(problem, pairs, basis, "schur", scale, options, deadline if rounds else None)
            if retry["status"] is Status.OPTIMAL or (
                retry["status"] is Status.INACCURATE
                and (_meets_lower(retry, lower) or out["status"] is Status.FAILED)
            ):
                out, used = retry, "schur"
                solvers_used[-1] = used
        tiny = lower is not None and 0 < lower.value < TINY_VALUE and out["status"] is not Status.OPTIMAL
        if (
            used == "schur"
            and (tiny or _meets_lower(out, lower, RTOL_NEAR_LOWER))
            and not _meets_lower(out, lower)
        ):
            # The Schur route ends at a singular KKT matrix, where the last digits of its dual
            # bound depend on the path (measured: silver's and the composed 50 steps, 1.2e-6 to
            # 1.5e-6 above the Huber bound at the guessed scale, 4e-8 to 6e-7 at scale 1); each
            # re-checked dual bound is valid, so other scales are tried before more pairs; then
            # the basis scaled to the explicit function's gradients (_ScaledBasis; measured on
            # OBS-F at N = 100 and 127: 2.4e-6 and 6.9e-6 above the bound, scaled 8.6e-7 and
            # 2.3e-7, and the round closes instead of growing to the full PEP; where it does
            # not, one solve more); tiny values last: the scales between them and 1 (TINY_VALUE).
            between = tuple(lower.value**e for e in (0.25, 0.5, 0.75)) if tiny else ()
            sigma = _gradient_scaling(problem, basis, lower)
            tries = [(a, None) for a in (1.0, lower.value) if a != scale]
            if sigma is not None:
                tries.append((scale, sigma))
            tries += [(a, None) for a in between if a != scale]
            for alt, sig in tries:
                retry = _solve_round(
                    problem, pairs, basis, "schur", alt, options, deadline if rounds else None, sigma=sig
                )
                if _meets_lower(retry, lower):
                    out = retry
                    break
        rounds += 1
        sizes.append(int(pairs.shape[0]))
        if progress is not None:
            progress(rounds, int(pairs.shape[0]), float(out.get("value", np.nan)))
        if out["status"] not in (Status.OPTIMAL, Status.INACCURATE):
            secs.append(time.perf_counter() - t0)
            break
        value = out["value"]
        dual = out.get("residuals", {}).get("dual", np.inf)
        if dual <= TOL_DUAL and 0 <= value * (1 + dual) < best_upper:
            # a dual-feasible working set bounds the full PEP above (zero multipliers elsewhere)
            best_upper = value * (1 + max(dual, 0.0))
        scale = value
        Fp = np.zeros(P)
        Fp[basis.off :] = out["F"]
        V = _violations(basis, fc.kappa, 0.5 * (out["gram"] + out["gram"].T), Fp) / max(abs(value), 1e-300)
        values.append(float(value))
        # Inside the working set a violation is the solver's primal residual (reported in
        # ``residuals``); outside it, it decides exactness.
        V[in_set] = -np.inf
        max_rel = max(float(V.max()), 0.0)
        if _meets_lower(out, lower):
            closed_by = "lower bound"
            secs.append(time.perf_counter() - t0)
            break
        new = np.flatnonzero(V.ravel() > tol)
        secs.append(time.perf_counter() - t0)
        if new.size == 0:
            break
        take = batch if fixed_batch else max(P, pairs.shape[0] // 2)
        if stop is not None and stop(
            rounds, time.perf_counter() - start, pairs.shape[0] + min(take, new.size)
        ):
            stopped = "stopped"
            break
        if solver == "auto" and pairs.shape[0] + min(take, new.size) > AUTO_FULL_FRACTION * total:
            go_full = True
            in_set[:] = True
            np.fill_diagonal(in_set, False)
            pairs = np.argwhere(in_set) - basis.off
            continue
        if new.size > take:
            new = new[np.argpartition(V.ravel()[new], -take)[-take:]]
        in_set.ravel()[new] = True
        pairs = np.argwhere(in_set) - basis.off

    if not closed_by and max_rel <= tol:
        closed_by = "feasibility"
    exact = bool(closed_by)
    status = out["status"]
    if closed_by == "lower bound" and status is Status.INACCURATE:
        # The primal answer of the working set is not needed: the dual bound (checked
        # above) and the explicit function's value pin the full PEP's value.
        status = Status.OPTIMAL
    if status is Status.OPTIMAL and not exact:
        status = Status.INACCURATE
    d = basis.d
    pairs = solved
    ok = status in (Status.OPTIMAL, Status.INACCURATE)
    lam = out["lambda"] if ok else np.full(pairs.shape[0], np.nan)
    value = out["value"] if ok else np.nan
    status, residuals = honest_status(problem, status, out.get("residuals", {}), value * value_scale(problem))
    residuals.update(max_violation=max_rel, rounds=rounds, total_pairs=int(total))
    if lower is not None:
        residuals.update(lower_bound=lower.value)
    residuals.update(closed_by=closed_by)
    wc = WorstCase(
        problem=problem,
        value=(out["value"] if ok else np.nan) * value_scale(problem),
        normalized_value=out["value"] if ok else np.nan,
        status=status,
        solver=solvers_used[-1],
        solver_version=out.get("solver_version", ""),
        seconds=time.perf_counter() - start,
        multipliers={pair_key(i, j): float(x) for (i, j), x in zip(pairs, lam)},
        tau=out["tau"] if ok else np.nan,
        gram=out["gram"] if ok else np.full((d, d), np.nan),
        function_values=out["F"] if ok else np.full(n + 1, np.nan),
        residuals=residuals,
        pairs_used=int(pairs.shape[0]),
    )
    info = GenerationInfo(
        solver=solver,
        pairs_used=int(pairs.shape[0]),
        total_pairs=int(total),
        rounds=rounds,
        max_violation=max_rel,
        tol=float(tol),
        exact=exact,
        round_seconds=tuple(secs),
        round_pairs=tuple(sizes),
        round_values=tuple(values),
        round_solvers=tuple(solvers_used),
        closed_by=closed_by,
        lower_bound=float(lower.value) if lower is not None else float("nan"),
        lower_family=lower.family if lower is not None else "",
        stopped=stopped,
        upper_bound=float(best_upper),
    )
    if throw and status is not Status.OPTIMAL:
        msg = failure_message(wc)
        if ok and not exact:
            msg += f" Largest interpolation violation {max_rel:.1e} > tol {tol:.0e} after {rounds} rounds."
        raise SolverError(msg)
    return GeneratedWorstCase(wc, info)
