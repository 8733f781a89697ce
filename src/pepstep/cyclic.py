r"""Grimmer's "straightforward" cyclic stepsize patterns: the SDP criterion and its exact check.

Setting (L = 1 after normalization). Gradient descent repeats a pattern ``h = (h_0, ..., h_{t-1})``:
``x_{k+1} = x_k - h_k g_k``, ``g_k = grad f(x_k)``. Points are ``{*, 0, ..., t}``; for a pair
``(i, j)`` the interpolation inequality of smooth convex functions (Taylor, Hendrickx & Glineur 2017)

.. math::  Q_{ij} = f_i - f_j - \langle g_j, x_i - x_j \rangle - \tfrac12 |g_i - g_j|^2 \ge 0

is written ``-Q_ij = (f_j - f_i) + tr(Z_ij G)`` with ``G`` the Gram matrix of
``(u, g_0, ..., g_t)``, ``u = x_0 - x*``, ``Z_ij = sym(g_j (x_i - x_j)^T) + (g_i - g_j)(g_i - g_j)^T / 2``.
For multipliers ``c``, ``Z(c) = sum c_ij Z_ij`` has the block form ``[[0, m(c)^T], [m(c), M(c)]]``
(``M`` the gradient block, ``m`` the ``u``-row; ``m`` only involves the pairs ``(*, k)``).

**The certificate** (Grimmer 2024, Definition 2.1 and Theorem 2.2, in the form his published exact
certificates check: bgrimmer/LongStepCertificates, ``certification_t{2,...,127}.nb``, functions
``checkEquality``, ``checkPSD``, ``Delta`` and ``computeEpsilon``). Multipliers ``lambda`` on pairs of
``{0..t}`` and ``gamma`` on pairs of ``{*, 0..t}``, a step ``Delta > 0`` and a number ``q`` with

(C1) ``sum lambda_ij (f_j - f_i) = f_t - f_0``             (function values, identically)
(C2) ``sum gamma_ij (f_j - f_i) = 2 sum(h) (f_0 - f_*)``
(C3) ``lambda >= 0`` and ``lambda + Delta gamma >= 0``       (``gamma`` may be negative)
(C4) ``[[q, m(gamma)^T], [m(gamma), M(lambda + theta gamma)]] >= 0`` (PSD) for ``theta = 0`` and ``theta = Delta``.

**Why it gives the rate.** For ``delta in [0, Delta]`` sum ``(lambda + delta gamma)_ij Q_ij >= 0``: by
(C1), (C2), ``f_t - f_* <= (1 - 2 delta sum h)(f_0 - f_*) - 2 delta m^T g u - g^T M g`` with
``M = M(lambda + delta gamma)`` (PSD by (C4), linear in ``delta``). Since ``M -> m^T M^+ m`` is
convex, (C4) at both ends gives ``-2 delta m^T g u - g^T M g <= delta^2 q |u|^2`` on the whole segment:

.. math::  f(x_t) - f^* \le (1 - 2 \delta \textstyle\sum h)(f(x_0) - f^*) + \delta^2 q |x_0 - x^*|^2 .

``delta = 0`` gives ``f(x_t) <= f(x_0)``, so every cycle start stays in the initial sublevel set and
``|x_{nt} - x*| <= D``. With ``e = f(x_{nt}) - f*`` and ``delta = e / D^2`` (allowed once
``e <= Delta D^2``; before that ``delta = Delta`` gives a geometric decrease),
``e_+ <= e - s e^2 / D^2`` with the *certified sum* ``s = 2 sum(h) - q``; telescoping,
``f(x_T) - f* <= L D^2 / (avg T) + O(1/T^2)`` with the *certified average* ``avg = s / t``.

The Huber direction ``(1/delta, 1, ..., 1)`` forces ``q >= sum(h)`` (Grimmer's "straightforward" is
``q = sum(h)``, i.e. ``avg = mean(h)``). His notebooks certify ``avg = mean(h) - epsilon`` with a
small ``epsilon > 0`` (``2.5e-12`` for ``t = 31``, ``1.5e-5`` for ``t = 127``): the exact ``q`` is the
larger Schur complement ``m^T M^{-1} m`` of (C4), never exactly ``sum(h)`` after rounding. We do the
same: a pattern is **certified** when an exact certificate has ``q <= (1 + RATE_RTOL) sum(h)``.

**Computation.** The float SDP is Grimmer's with ``Delta -> 0``: minimize ``q`` subject to (C1),
(C2), ``lambda >= 0``, ``gamma_{*k} >= 0`` and (C4) at ``theta = 0`` (a single PSD block of size
``t + 2``). The exact certificate rounds ``lambda``, ``gamma`` to rationals, repairs (C1), (C2)
exactly along the chain pairs, takes the largest ``Delta`` of (C3) (halved until (C4) holds at
``theta = Delta``), sets ``q`` to the larger exact Schur complement rounded up, and checks (C1)-(C4)
in rational arithmetic (PSD by exact ``LDL^T``). Multipliers live on a *dyadic* support by default:
``(i, j)`` with ``|i - j| <= 2^(l+1)``, ``l`` the larger level of ``i``, ``j`` (the level of point
``k < t`` is the 2-adic valuation of ``k + 1``; point ``t`` connects to all), O(t log t) pairs.

References
----------
B. Grimmer, "Provably faster gradient descent via long steps", SIAM J. Optim. 34(3) (2024),
arXiv:2307.06324, Section 2 (Definition 2.1, Theorem 2.2) and Table 1; exact certificates in the
repository bgrimmer/LongStepCertificates. A. Taylor, J. Hendrickx, F. Glineur, "Smooth strongly convex
interpolation and exact worst-case performance of first-order methods", Math. Program. 161 (2017).

Examples
--------
>>> check_pattern([1.5, 4.9, 1.5]).straightforward
True
>>> check_pattern([1.5, 5.5, 1.5]).straightforward
False
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np

from . import kernel as _kernel
from .errors import InputError, SolverError

__all__ = [
    "DELTA_CAP",
    "RATE_RTOL",
    "PatternCheck",
    "PatternCertificate",
    "check_pattern",
    "certify_pattern",
    "verify_pattern",
    "pattern_pairs",
    "is_psd_exact",
]

#: :func:`widest_delta` may lower the certified average by this relative amount for a larger
#: ``Delta`` (the searched t = 127 pattern: ``Delta`` 2^-43 -> 2^-29 costs 6e-8 of the average).
AVERAGE_RTOL = 1e-7
#: Largest ``Delta`` a certificate uses, as a fraction of ``1 / sum(h)`` (Grimmer caps at 1/10000).
DELTA_CAP = Fraction(1, 1000)
#: Certified when ``q <= (1 + RATE_RTOL) sum(h)``: the rate is proved for an average step within a
#: relative 1e-6 of ``mean(h)`` (Grimmer's own t = 127 certificate loses 2.6e-6).
RATE_RTOL = _kernel.RATE_RTOL
#: The float SDP calls a pattern straightforward when ``(q - sum h) / sum h`` is below this
#: (Clarabel reaches about 1e-8 here; infeasible patterns have no ``q`` at all).
FLOAT_RTOL = 1e-6
STAR = -1
#: Margins ``M(lambda) >= margin I`` tried in turn by :func:`certify_pattern` while the rounded
#: certificate fails. Without a margin, a pattern at the edge of the straightforward set (as the
#: search finds them) can get multipliers with ``M(lambda)`` singular to 1e-7, which no rounding
#: keeps PSD (the search's t = 127 pattern: smallest eigenvalue -2e-7 after rounding); with 1e-6 it
#: certifies with ``q`` 1.5e-7 above ``sum(h)``; 1e-5 is infeasible there.
CERTIFY_MARGINS = (0.0, 1e-6, 1e-7)
#: Supports tried in turn by ``certify_pattern(support="auto")``, smallest first (pairs at t = 127:
#: 890, 1,369, 2,582; see :func:`pattern_pairs`).
AUTO_SUPPORTS = ("horizon", "wide", "dyadic")
#: From this length on, each criterion SDP costs minutes (t = 255, wide support: about 100 s by
#: the Schur route), so ``certify_pattern`` tries only what was measured to work there:
#: ``LARGE_SUPPORTS`` with ``LARGE_MARGINS``. At t = 255 (pepstep's searched pattern) the horizon
#: support's SDP never passes the Schur route's accuracy test (3 margins, 120 s each), and
#: without a margin the rounded ``M(lambda)`` is not PSD (the kernel refuses it after 90 s).
#: (Pairs at t = 255: horizon 2,041, wide 3,028, dyadic 6,168; the Schur route's cost grows like
#: the cube, so the dyadic SDP would take about 10 minutes and is not tried.)
LARGE_PATTERN = 255
LARGE_SUPPORTS = ("wide",)
LARGE_MARGINS = (1e-6, 1e-7)


# --------------------------------------------------------------------------- assembly
def _as_steps(steps) -> tuple[Fraction, ...]:
    try:
        exact = tuple(Fraction(str(s)) if isinstance(s, float) else Fraction(s) for s in steps)
    except (TypeError, ValueError) as exc:
        raise InputError(f"The 'steps' must be numbers. Got steps={list(steps)!r}.") from exc
    if not exact:
        raise InputError("The 'steps' must be a non-empty pattern. Got steps=[].")
    bad = [s for s in exact if s <= 0]
    if bad:
        raise InputError(f"The 'steps' must be > 0. Got step={float(bad[0])!r}.")
    return exact


def _level(k: int, t: int) -> int:
    return t.bit_length() + 1 if k >= t else ((k + 1) & -(k + 1)).bit_length() - 1


def pattern_pairs(t: int, support: str = "dyadic", steps=None) -> tuple[list, list]:
    """Pairs for ``lambda`` (points ``0..t``) and ``gamma`` (points ``*, 0..t``); ``-1`` is ``*``.

    ``support="all"``: every ordered pair. ``support="dyadic"``: ``(i, j)`` with
    ``|i - j| <= 2^(l+1)``, ``l = max(level(i), level(j))``, ``level(k)`` the 2-adic valuation of
    ``k + 1`` (point ``t`` pairs with all). ``support="horizon"`` (needs ``steps``): the
    consecutive pairs and each point's step horizon (:func:`pepstep.pep.horizon_pairs`), about a
    third of the dyadic pairs (890 against 2,582 at t = 127); Grimmer's t = 15, 63 and 127
    patterns are straightforward on it, his t = 31 pattern is not. ``support="wide"`` (needs
    ``steps``): the horizon widened by two points each way (``widen=2``; 1,369 pairs at t = 127),
    on which every published pattern is straightforward. ``gamma`` adds every ``(*, k)``.

    Examples
    --------
    >>> [len(pattern_pairs(31, s)[0]) for s in ("all", "dyadic")]
    [992, 402]
    """
    pts = range(t + 1)
    if support == "all":
        lam = [(i, j) for i in pts for j in pts if i != j]
    elif support in ("horizon", "wide"):
        if steps is None or len(steps) != t:
            raise InputError(f"The {support!r} support needs the {t} steps of the pattern.")
        from .pep import horizon_pairs

        widen = 2 if support == "wide" else 0
        pairs = horizon_pairs([float(x) for x in steps], has_minimizer=False, widen=widen)
        lam = [(int(i), int(j)) for i, j in pairs]
    elif support == "dyadic":
        lam = [
            (i, j)
            for i in pts
            for j in pts
            if i != j and abs(i - j) <= 2 ** (max(_level(i, t), _level(j, t)) + 1)
        ]
    else:
        raise InputError(
            f"The 'support' must be 'all', 'dyadic', 'horizon' or 'wide'. Got support={support!r}."
        )
    return lam, lam + [(STAR, k) for k in pts]


def _pair_terms(steps, i: int, j: int, one):
    """Entries ``(a, b, coefficient)`` of ``Z_ij`` (basis ``u, g_0..g_t``; index 0 is ``u``)."""
    half = one / 2
    dx = {}  # x_i - x_j
    if i == STAR:
        dx[0] = -one
        for k in range(j):
            dx[k + 1] = steps[k]
    else:
        lo, hi, sgn = (i, j, one) if i < j else (j, i, -one)
        for k in range(lo, hi):
            dx[k + 1] = sgn * steps[k]
    out = []
    if j != STAR:
        gj = j + 1
        for a, c in dx.items():
            out.append((gj, a, c * half))
            out.append((a, gj, c * half))
    gi = None if i == STAR else i + 1
    gj = None if j == STAR else j + 1
    for a, sa in ((gi, one), (gj, -one)):
        for b, sb in ((gi, one), (gj, -one)):
            if a is not None and b is not None:
                out.append((a, b, sa * sb * half))
    return out


def _sparse_Z(steps, pairs, d: int):
    """CSR matrix (d*d, len(pairs)): column m is vec(Z_pairs[m]) (row-major)."""
    from scipy.sparse import csr_matrix

    rows, cols, vals = [], [], []
    for m, (i, j) in enumerate(pairs):
        for a, b, c in _pair_terms(steps, i, j, 1.0):
            rows.append(a * d + b)
            cols.append(m)
            vals.append(float(c))
    return csr_matrix((vals, (rows, cols)), shape=(d * d, len(pairs)))


def _divergence(mult: dict, t: int) -> list:
    """``sum c_ij (f_j - f_i)`` as coefficients of ``f_0..f_t`` (``f_* = 0``)."""
    div = [Fraction(0)] * (t + 1)
    for (i, j), v in mult.items():
        if j != STAR:
            div[j] += v
        if i != STAR:
            div[i] -= v
    return div


def _f_matrix(pairs, t: int) -> np.ndarray:
    F = np.zeros((t + 1, len(pairs)))
    for m, (i, j) in enumerate(pairs):
        if j != STAR:
            F[j, m] += 1.0
        if i != STAR:
            F[i, m] -= 1.0
    return F


# --------------------------------------------------------------------------- float check
#: The ``schur`` route's answer stands when the slack of (C4) has no eigenvalue below
#: ``-SCHUR_PSD_RTOL * sum(h)`` and (C1), (C2) hold to ``SCHUR_EQ_TOL`` (relative, per row); otherwise the
#: pattern goes to Clarabel. Measured at t = 127 (horizon support): smallest slack eigenvalue +7e-11.
#: CVXOPT ends these degenerate SDPs with (C1), (C2) residuals up to about 2e-7 (t = 127 patterns at
#: the flip bound of :func:`pepstep.search.corner`); the exact certificate repairs them anyway.
SCHUR_PSD_RTOL = 1e-8
SCHUR_EQ_TOL = 1e-6
#: ``solver="auto"`` takes the ``schur`` route from this pattern length on and Clarabel below it.
#: Measured per check (one BLAS thread), Clarabel against schur: t = 31 dyadic 276 / 361 ms,
#: wide 108 / 209 ms; t = 63 dyadic 6.2 / 2.3 s, wide 0.88 / 0.90 s; t = 127 horizon 22.5 / 3.0 s.
#: Below, CVXOPT's Python-level iterations cost more than Clarabel's whole solve.
AUTO_SCHUR_FROM = 63


def _solve_schur(h: list, lam_pairs: list, options: dict | None, margin: float = 0.0):
    """The criterion SDP by CVXOPT with pepstep's low-rank Schur KKT solver.

    Every ``Z_ij`` is ``A_k = Z_k^T C_k Z_k`` on four point vectors (the structure of
    :mod:`pepstep.generation`, with ``kappa = 0``); ``gamma_{*k}`` enters through
    ``-sym(u g_k^T)`` and ``q`` through ``u u^T`` (``u = x_0 - x*`` is the point vector of
    ``x_0``); ``margin`` asks for ``M(lambda) >= margin I`` (see :func:`check_pattern`). The
    ``q`` column is scaled by ``sum(h)`` so that its variable is about 1: unscaled, CVXOPT stops
    at a singular KKT matrix with (C4) violated by 2e-4 at t = 127.

    Returns ``(status, q, lambda, gamma_star)`` with status ``"optimal"`` or
    ``"infeasible"`` (CVXOPT's certificate that no multipliers satisfy (C1) with
    ``M(lambda) >= 0``), or None when the answer is not accurate enough to stand.
    """
    from .generation import _Basis, _LowRankSDP, _pair_structure

    t, total = len(h), float(sum(h))
    basis = _Basis(np.asarray(h, dtype=float), has_minimizer=True)
    P, x0 = basis.P, basis.off
    pairs = np.ascontiguousarray(np.array(lam_pairs, dtype=np.int64).reshape(-1, 2))
    idx, coef = _pair_structure(pairs.tobytes(), basis.off, P, 0.0)
    m = pairs.shape[0]
    g_pts = P + basis.off + np.arange(t + 1)  # point-vector rows of g_0..g_t
    gidx = np.stack([np.full(t + 1, x0), np.full(t + 1, x0), g_pts, g_pts], axis=1)
    gcoef = np.zeros((t + 1, 4, 4))
    gcoef[:, 0, 2] = gcoef[:, 2, 0] = -0.5
    qcoef = np.zeros((1, 4, 4))
    qcoef[0, 0, 0] = total
    idx = np.concatenate([idx, gidx, np.full((1, 4), x0)])
    coef = np.concatenate([coef, gcoef, qcoef])
    K = idx.shape[0]
    # (C1) at nodes 0..t-1 (the node-t row is their negated sum) and (C2) as sum_k gamma_*k
    A = np.zeros((t + 1, K))
    for col, sign in ((1, 1.0), (0, -1.0)):
        keep = pairs[:, col] < t
        np.add.at(A, (pairs[keep, col], np.nonzero(keep)[0]), sign)
    A[t, m : m + t + 1] = 1.0
    b = np.zeros(t + 1)
    b[0], b[t] = -1.0, 2.0 * total
    c = np.zeros(K)
    c[-1] = 1.0
    shift = np.zeros((basis.d, basis.d))
    shift[basis.g_cols, basis.g_cols] = margin
    sdp = _LowRankSDP(basis, idx, coef, A, b, c, shift)
    out = sdp.conelp(options)
    if out["raw"] == "primal infeasible":
        return "infeasible", float("nan"), None, None
    if "x" not in out:
        return None
    x = out["x"]
    if out["slack_min_eig"] < -SCHUR_PSD_RTOL * total or np.any(
        np.abs(A @ x - b) > SCHUR_EQ_TOL * (1 + np.abs(b))
    ):
        return None
    return "optimal", float(x[-1]) * total, x[:m], x[m : m + t + 1]


@dataclass(frozen=True)
class PatternCheck:
    """Result of the float SDP test of Grimmer's criterion.

    Attributes
    ----------
    steps : tuple of float
        The pattern ``h`` (normalized by ``1/L``).
    straightforward : bool
        The SDP is solved and ``deficit <= FLOAT_RTOL``.
    q : float
        Optimal ``q`` of ``min q`` subject to (C1), (C2), (C4) at ``theta = 0``; ``nan`` if infeasible.
    deficit : float
        ``(q - sum h) / sum h`` (about 0 for a straightforward pattern; ``nan`` if infeasible).
    multipliers : dict
        ``{("lambda", i, j): value, ("gamma", i, j): value}`` (``-1`` is ``*``).
    status : str
        Solver status.
    support : str
        Multiplier support (see :func:`pattern_pairs`).
    seconds : float
        Wall time.

    Examples
    --------
    >>> chk = check_pattern([1.5, 4.9, 1.5])
    >>> chk  # doctest: +ELLIPSIS
    PatternCheck(t=3, straightforward=True, deficit=..., status='optimal', support='dyadic', ... s)
    >>> print(chk.summary())  # doctest: +ELLIPSIS
    pattern          t = 3, average step 2.6333333333
    ...
    """

    steps: tuple
    straightforward: bool
    q: float
    deficit: float
    multipliers: dict = field(repr=False)
    status: str
    support: str
    seconds: float

    def __repr__(self) -> str:
        return (
            f"PatternCheck(t={len(self.steps)}, straightforward={self.straightforward}, "
            f"deficit={self.deficit:.2g}, status={self.status!r}, support={self.support!r}, "
            f"{self.seconds:.2g} s)"
        )

    def summary(self) -> str:
        """The check on several lines: the pattern, the verdict, ``q`` against ``sum(h)``."""
        t, total = len(self.steps), float(sum(self.steps))
        return "\n".join(
            [
                f"pattern          t = {t}, average step {total / t:.11g}",
                f"steps            {', '.join(f'{h:.6g}' for h in self.steps)}",
                f"straightforward  {self.straightforward} (deficit (q - sum h) / sum h = {self.deficit:.3g})",
                f"q                {self.q:.12g} (sum h = {total:.12g})",
                f"solver status    {self.status}",
                f"support          {self.support}, {len(self.multipliers)} multipliers",
                f"seconds          {self.seconds:.3g}",
            ]
        )


def check_pattern(
    steps: Sequence,
    solver: str = "auto",
    *,
    support: str = "dyadic",
    options: dict | None = None,
    fallback: bool = True,
    margin: float = 0.0,
) -> PatternCheck:
    """Test Grimmer's straightforward criterion numerically (see the module docstring).

    Solves ``min q`` s.t. (C1), (C2), ``lambda >= 0``, ``gamma_{*k} >= 0`` and
    ``[[q, m(gamma)^T], [m(gamma), M(lambda)]] >= 0``.

    Parameters
    ----------
    steps : sequence of numbers
        The pattern, normalized steps ``h_k`` (> 0).
    solver : str
        ``"schur"``: CVXOPT with a Schur-complement KKT solver of order the number of
        multipliers (:func:`_solve_schur`); when its answer is not accurate enough Clarabel
        decides instead (``status`` then ends in ``"(clarabel)"``). Measured at t = 127 on the
        horizon support: 3 s against 22 s for Clarabel, whose KKT matrix holds the PSD cone as a
        dense block of order ``(t + 2)(t + 3) / 2``. ``"auto"`` (default): ``schur`` from
        ``t = AUTO_SCHUR_FROM`` on, Clarabel below (and ``schur`` when Clarabel fails). Or a
        cvxpy solver name (``"clarabel"``, ``"scs"``, ``"cvxopt"``).
    support : {"dyadic", "horizon", "wide", "all"}
        Multiplier support (see :func:`pattern_pairs`).
    options : dict, optional
        Solver options, passed to CVXOPT (``schur``) or cvxpy.
    fallback : bool
        When the ``schur`` route's answer does not stand, let Clarabel decide (default). With
        ``False`` the pattern is reported not straightforward (status ``"inaccurate (schur)"``)
        instead: the search does this, where a pattern near the boundary costs Clarabel 30 s
        at t = 127 and only certified patterns matter.
    margin : float
        Ask for ``M(lambda) >= margin I`` in (C4), so that the multipliers survive rounding (see
        :func:`certify_pattern`); 0 by default.

    Returns
    -------
    PatternCheck

    References
    ----------
    Grimmer (2024), Definition 2.1 and Theorem 2.2.

    Examples
    --------
    >>> abs(check_pattern([1.0]).deficit) < 1e-6
    True
    """
    import cvxpy as cp  # lazily: only the solve layer needs it at import time

    start = time.perf_counter()
    exact = _as_steps(steps)
    h = [float(s) for s in exact]
    t, d = len(h), len(h) + 2
    total = float(sum(exact))
    lam_pairs, _ = pattern_pairs(t, support, h)
    star_pairs = [(STAR, k) for k in range(t + 1)]
    if solver == "auto":
        if t >= AUTO_SCHUR_FROM:
            solver = "schur"
        else:  # a Clarabel failure is no verdict: the Schur route answers instead
            try:
                return check_pattern(exact, "clarabel", support=support, options=options, margin=margin)
            except SolverError:
                solver, options = "schur", None
    if solver == "schur":
        fast = _solve_schur(h, lam_pairs, options, margin)
        if fast is not None:
            status, qv, lam_v, gam_v = fast
            ok = status == "optimal"
            return _result(h, support, start, status, qv, lam_pairs, lam_v if ok else None, gam_v)
        if not fallback:
            return _result(h, support, start, "inaccurate (schur)", float("nan"), lam_pairs, None, None)
        solver, options, suffix = "clarabel", None, " (clarabel)"
    else:
        suffix = ""
    Zl, Zg = _sparse_Z(h, lam_pairs, d), _sparse_Z(h, star_pairs, d)
    # only the u-row/column of Z(gamma) enters (C4) at theta = 0, and only the pairs (*, k) reach it;
    # the other gamma_ij only have to satisfy (C2), which free-sign chain flows always do once
    # sum_k gamma_{*k} = 2 sum(h) (they are added exactly by certify_pattern)
    urow = np.array([(r // d == 0) != (r % d == 0) for r in range(d * d)])
    Zg = Zg.multiply(urow[:, None]).tocsr()
    lam = cp.Variable(len(lam_pairs), nonneg=True)
    gam = cp.Variable(t + 1, nonneg=True)
    q = cp.Variable()
    e00 = np.zeros(d * d)
    e00[0] = 1.0
    B = cp.reshape(Zl @ lam + Zg @ gam + e00 * q, (d, d), order="C")
    target_l = np.zeros(t + 1)
    target_l[t], target_l[0] = 1.0, -1.0
    cons = [
        _f_matrix(lam_pairs, t) @ lam == target_l,
        cp.sum(gam) == 2.0 * total,
        (B + B.T) / 2 >> np.diag(np.r_[0.0, np.full(t + 1, margin)]),
    ]
    prob = cp.Problem(cp.Minimize(q), cons)
    try:
        with warnings.catch_warnings():  # "inaccurate" is recorded in `status` instead
            warnings.simplefilter("ignore", UserWarning)
            prob.solve(solver=solver.upper(), **(options or {}))
    except cp.error.SolverError as exc:
        raise SolverError(f"The solver {solver!r} failed on steps={h}: {exc}") from exc
    status = str(prob.status)
    ok = status in ("optimal", "optimal_inaccurate") and q.value is not None
    qv = float(q.value) if ok else float("nan")
    return _result(h, support, start, status + suffix, qv, lam_pairs, lam.value if ok else None, gam.value)


def _result(h, support, start, status, qv, lam_pairs, lam_v, gam_v) -> PatternCheck:
    """A :class:`PatternCheck`; ``lam_v is None`` when the SDP gave no multipliers."""
    total = float(sum(h))
    deficit = (qv - total) / total
    mult = {}
    if lam_v is not None:
        mult.update({("lambda", i, j): float(v) for (i, j), v in zip(lam_pairs, lam_v)})
        mult.update({("gamma", STAR, k): float(v) for k, v in enumerate(gam_v)})
    return PatternCheck(
        steps=tuple(h),
        straightforward=bool(lam_v is not None and deficit <= FLOAT_RTOL),
        q=qv,
        deficit=deficit,
        multipliers=mult,
        status=status,
        support=support,
        seconds=time.perf_counter() - start,
    )


# --------------------------------------------------------------------------- exact arithmetic
def _to_field(x):
    from flint import fmpq

    if isinstance(x, fmpq):
        return x
    x = Fraction(x)
    return fmpq(x.numerator, x.denominator)


def is_psd_exact(A) -> bool:
    """Exact PSD test of a symmetric rational matrix (:func:`pepstep.kernel.psd`).

    Examples
    --------
    >>> from fractions import Fraction as Fr
    >>> is_psd_exact([[Fr(1), Fr(1)], [Fr(1), Fr(1)]]), is_psd_exact([[Fr(0), Fr(1)], [Fr(1), Fr(0)]])
    (True, False)
    """
    from flint import fmpq_mat

    from .kernel import psd

    return psd(fmpq_mat([[_to_field(x) for x in row] for row in A]))[0]


def _assemble(steps, mult: dict, d: int):
    """Exact ``Z(mult)`` as a dense list of lists of ``fmpq`` (the kernel's assembly)."""
    from .kernel import _pattern_matrix

    return _pattern_matrix(list(steps), mult, d).tolist()


@dataclass(frozen=True)
class PatternCertificate:
    """An exact certificate of Grimmer's rate for a pattern (conditions (C1)-(C4)).

    Attributes
    ----------
    steps : tuple of Fraction
        The pattern.
    delta : Fraction
        ``Delta`` of (C3), (C4).
    q : Fraction
        The corner of (C4); the certified sum is ``2 sum(h) - q``.
    lam : dict
        ``{(i, j): Fraction}`` on points ``0..t``.
    gamma : dict
        ``{(i, j): Fraction}`` on points ``*, 0..t`` (``-1`` is ``*``).
    valid : bool
        :func:`verify_pattern` holds and ``q <= (1 + RATE_RTOL) sum(h)``.
    average : Fraction
        Certified average step ``(2 sum(h) - q) / t`` (meaningful when the data verify).
    support : str
        Multiplier support of the SDP it was rounded from.
    seconds : float
        Wall time (SDP + rounding + exact check).
    bounds : tuple of (int, Fraction)
        ``(T, B(T))``: ``f(x_T) - f* <= B(T) L D^2`` at these cycle ends, from the certified
        ``(q, Delta, sum h)`` (:func:`pepstep.kernel.cycle_bounds`, recomputed by the verifier).

    Examples
    --------
    >>> cert = certify_pattern([1.5, 4.9, 1.5])
    >>> cert  # doctest: +ELLIPSIS
    PatternCertificate(t=3, valid=True, average=2.63..., support='horizon', ... s)
    >>> print(cert.summary())  # doctest: +ELLIPSIS
    pattern        t = 3, mean step 2.6333333333
    ...
    """

    steps: tuple
    delta: Fraction
    q: Fraction
    lam: dict = field(repr=False)
    gamma: dict = field(repr=False)
    valid: bool
    average: Fraction
    support: str
    seconds: float
    bounds: tuple = ()

    def __repr__(self) -> str:
        return (
            f"PatternCertificate(t={len(self.steps)}, valid={self.valid}, average={float(self.average):.10g}, "
            f"support={self.support!r}, {self.seconds:.1f} s)"
        )

    def summary(self) -> str:
        """The certificate on several lines: pattern, verdict, certified average, ``Delta``, ``q``."""
        t, total = len(self.steps), sum(self.steps)
        return "\n".join(
            [
                f"pattern        t = {t}, mean step {float(total) / t:.11g}",
                f"steps          {', '.join(f'{float(h):.6g}' for h in self.steps)}",
                f"valid          {self.valid} (exact check of (C1)-(C4))",
                f"average        {float(self.average):.11g} (certified: (2 sum h - q) / t)",
                f"q              {float(self.q):.12g} (sum h = {float(total):.12g})",
                f"Delta          {float(self.delta):.6g}",
                f"multipliers    {len(self.lam)} lambda, {len(self.gamma)} gamma on the {self.support} support",
                f"seconds        {self.seconds:.3g}",
            ]
        )

    def to_json(self) -> dict:
        """The certificate file's JSON object (kind ``grimmer-straightforward``, every number an
        exact "p/q" string), as :mod:`pepstep.kernel` reads it."""
        form = _json_form(self.steps, self.delta, self.q, self.average, self.lam, self.gamma, self.valid)
        return form | {"bounds": [[T, str(b)] for T, b in self.bounds]}


def certificate_from_json(data) -> tuple:
    """``(steps, delta, q, lam, gamma)`` of a cyclic certificate (JSON object or text), read by the
    kernel's parser.

    Raises
    ------
    pepstep.errors.CertificateFormatError
        When the certificate is malformed (see :mod:`pepstep.kernel`).
    """
    import json

    from . import kernel
    from .errors import CertificateFormatError

    kind, c = kernel.parse(data if isinstance(data, (str, bytes)) else json.dumps(data))
    if kind != kernel.KIND_CYCLIC:
        raise CertificateFormatError(
            f"Malformed certificate: expected kind {kernel.KIND_CYCLIC!r}, got {kind!r}."
        )
    return c["steps"], c["delta"], c["q"], c["lam"], c["gamma"]


def verify_pattern(steps, delta, q, lam: dict, gamma: dict) -> bool:
    """The verifier kernel's verdict on these multipliers: (C1)-(C4) hold exactly and
    ``q <= (1 + RATE_RTOL) sum(h)`` (:mod:`pepstep.kernel`, kind ``grimmer-straightforward``).

    Parameters
    ----------
    steps : sequence of rationals
    delta : rational, > 0
    q : rational, the corner of (C4)
    lam : dict ``{(i, j): rational}`` on points ``0..t``
    gamma : dict ``{(i, j): rational}`` on points ``-1 (*), 0..t``

    References
    ----------
    Grimmer (2024), Definition 2.1; the module docstring states (C1)-(C4).
    """
    import json

    from . import kernel
    from .errors import CertificateFormatError

    h = _as_steps(steps)
    q = Fraction(q)
    data = _json_form(h, Fraction(delta), q, (2 * sum(h) - q) / len(h), lam, gamma, True)
    try:
        return kernel.verify_text(json.dumps(data)).valid
    except CertificateFormatError:
        return False


def _json_form(h, delta, q, average, lam, gamma, valid) -> dict:
    return {
        "kind": "grimmer-straightforward",
        "format_version": 2,
        "steps": [str(Fraction(s)) for s in h],
        "delta": str(delta),
        "q": str(q),
        "average": str(average),
        "lambda": [[i, j, str(Fraction(v))] for (i, j), v in sorted(lam.items())],
        "gamma": [[i, j, str(Fraction(v))] for (i, j), v in sorted(gamma.items())],
        "valid": valid,
        "bounds": [],
    }


def _round(x: float, den: int) -> Fraction:
    return Fraction(round(x * den), den)


def _fix_divergence(mult: dict, t: int, target: list) -> None:
    """Exact forward sweep along the chain: afterwards ``div(mult) == target``.

    Requires ``sum(target) == sum(div(mult))``; only adds nonnegative amounts to ``(k, k+1)`` or
    ``(k+1, k)``.
    """
    div = _divergence(mult, t)
    excess = Fraction(0)
    for k in range(t):
        excess += div[k] - target[k]  # surplus accumulated at nodes 0..k moves to k+1
        key = (k, k + 1) if excess > 0 else (k + 1, k)
        if excess:
            mult[key] = mult.get(key, Fraction(0)) + abs(excess)


def _gradient_block(Zl, Zg, theta):
    """``M(lambda) + theta M(gamma)`` exactly, as an ``fmpq_mat`` (the ``g`` block of (C4))."""
    import flint

    d, th = len(Zl), _to_field(theta)
    return flint.fmpq_mat([[Zl[a][b] + th * Zg[a][b] for b in range(1, d)] for a in range(1, d)])


def _schur(Zl, Zg, theta) -> Fraction | None:
    """``m^T M^{-1} m`` with ``m = m(gamma)``, ``M = M(lambda) + theta M(gamma)``, exactly (None if singular)."""
    import flint

    M = _gradient_block(Zl, Zg, theta)
    m = flint.fmpq_mat([[Zg[a][0]] for a in range(1, len(Zl))])
    try:
        x = M.solve(m)
    except ZeroDivisionError:
        return None
    val = (m.transpose() * x)[0, 0]
    return Fraction(int(val.p), int(val.q))


def _worth_verifying(t: int, Zl, Zg, *thetas) -> bool:
    """Whether the certifier hands a rounding to the kernel: always below ``LARGE_PATTERN``;
    from it on only when the kernel's rounded Cholesky test (:func:`pepstep.kernel._dominance`)
    proves ``M(lambda + theta gamma)`` positive definite at every ``theta``.

    Where that test fails the kernel falls back to a Bareiss ``LDL^T`` in Python, which at
    t = 511 (order 512) did not end in 15 minutes, for a rounding that is then refused or dropped
    anyway. Below ``LARGE_PATTERN`` the fallback takes seconds and can prove what the test cannot
    (a singular ``M``). The verdict itself stays the kernel's.
    """
    from .kernel import _dominance

    return t < LARGE_PATTERN or all(_dominance(_gradient_block(Zl, Zg, th)) for th in thetas)


def _float_M(Zl, Zg, theta):
    d, th = len(Zl), float(theta)
    A = np.array([[float(Zl[a][b]) + th * float(Zg[a][b]) for b in range(1, d)] for a in range(1, d)])
    m = np.array([float(Zg[a][0]) for a in range(1, d)])
    return A, m


def certify_pattern(
    steps: Sequence,
    solver: str = "auto",
    *,
    support: str = "auto",
    check: PatternCheck | None = None,
    grids=(10**10, 10**12, 10**14),
    at: Sequence | None = None,
    average_rtol: float = AVERAGE_RTOL,
) -> PatternCertificate:
    """An exact certificate of Grimmer's rate for ``steps`` (see :func:`_certify`), with the largest
    ``Delta`` its multipliers allow (:func:`widest_delta`) and the explicit bounds ``B(T)`` at the
    cycle ends ``at`` (default ``10 t, 100 t, 1000 t, 10^4 t``; :func:`pepstep.kernel.cycle_bounds`).
    ``average_rtol`` is the share of the certified average a larger ``Delta`` may cost (0: keep
    the rounded certificate's ``q``, as Grimmer's own certificates do).

    Examples
    --------
    >>> cert = certify_pattern([1.5, 4.9, 1.5], at=[30, 30000])
    >>> cert.valid, [(T, round(float(B), 6)) for T, B in cert.bounds]   # f(x_T) - f* <= B L D^2
    (True, [(30, 0.495199), (30000, 6.3e-05)])
    """
    start = time.perf_counter()
    cert = _certify(steps, solver, support=support, check=check, grids=grids)
    if not cert.valid:
        return cert
    t = len(cert.steps)
    delta, q = widest_delta(cert.steps, cert.delta, cert.q, cert.lam, cert.gamma, average_rtol=average_rtol)
    cert = replace(cert, delta=delta, q=q, average=(2 * sum(cert.steps) - q) / t)
    ends = sorted({int(T) for T in (at if at is not None else (10 * t, 100 * t, 1000 * t, 10**4 * t))})
    if any(T <= 0 or T % t for T in ends):
        raise InputError(f"The bound times 'at' must be positive multiples of the length {t}. Got at={ends}.")
    B = _kernel.cycle_bounds(sum(cert.steps), q, delta, max(ends, default=0) // t)
    bounds = tuple((T, B[T // t - 1]) for T in ends)
    return replace(cert, bounds=bounds, seconds=cert.seconds + time.perf_counter() - start)


def widest_delta(steps, delta, q, lam: dict, gamma: dict, *, average_rtol=AVERAGE_RTOL) -> tuple:
    """``(Delta, q)``: the largest power of two ``Delta >= delta`` for which (C1)-(C4) hold exactly
    with a corner ``q`` that lowers the certified average by at most ``average_rtol`` (relative).

    A larger ``Delta`` shortens the warm-up before the ``1 / (avg T)`` regime (about
    ``ln(1 / (2 Delta)) / (Delta s)`` cycles) but raises the Schur complement of (C4) at
    ``theta = Delta``, so ``q`` may grow a little. For a fixed ``q`` the conditions hold on an
    interval of ``Delta`` containing 0 ((C3) and the corner of (C4) are affine in ``theta``, and
    PSD matrices form a convex cone), so a bisection over the exponents finds it; ``Delta`` is
    capped by (C3) and by ``1 / (2 sum h)``, past which the cycle bound gains nothing. Each trial
    is a kernel verification.
    """
    h = _as_steps(steps)
    total, d = sum(h), len(h) + 2
    cap = min([lam.get(k, 0) / -v for k, v in gamma.items() if v < 0] + [1 / (2 * total)])
    q_max = min(q + Fraction(average_rtol) * (2 * total - q), (1 + RATE_RTOL) * total)
    Zl, Zg = _assemble(h, lam, d), _assemble(h, gamma, d)
    trials, x = [], Fraction(delta) * 2
    while x <= cap:
        trials.append(x)
        x *= 2

    def corner(theta):  # the q this Delta needs (ceil on q's grid), or None
        s = _schur(Zl, Zg, theta)
        if s is None:
            return None
        den = q.denominator
        need = max(q, Fraction(-((-s.numerator * den) // s.denominator), den))
        ok = need <= q_max and _worth_verifying(len(h), Zl, Zg, theta)
        return need if ok and verify_pattern(h, theta, need, lam, gamma) else None

    best, lo, hi = (Fraction(delta), Fraction(q)), 0, len(trials) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        need = corner(trials[mid])
        if need is not None:
            best, lo = (trials[mid], need), mid + 1
        else:
            hi = mid - 1
    return best


def _bound_phases(cert: PatternCertificate):
    """``(n1, e1, c)`` of the bound recursion of :func:`pepstep.kernel.cycle_bounds` (``L = D = 1``):
    while ``e > Delta q / sum h`` it is affine, ``e_n = e_s + (e_0 - e_s) r^n`` with
    ``r = 1 - 2 Delta sum h``, until cycle ``n1`` where it is ``e1``; after that ``1 / e`` grows by
    at least ``c = (sum h)^2 / q`` per cycle."""
    S, q = float(sum(cert.steps)), float(cert.q)
    cap = min(float(cert.delta), 1 / (2 * S))
    e0, switch = 0.5, cap * q / S
    if e0 <= switch:
        return 0, e0, S * S / q
    r, es = 1 - 2 * cap * S, cap * q / (2 * S)
    n1 = math.ceil(math.log((switch - es) / (e0 - es)) / math.log(r))
    return n1, es + (e0 - es) * r**n1, S * S / q


def cycle_bound_estimate(cert: PatternCertificate, cycles) -> list:
    """An upper estimate of ``B`` after each of ``cycles`` (floats, any size): the affine phase
    exactly, then ``1 / (1 / e1 + c (n - n1))`` (see :func:`_bound_phases`)."""
    n1, e1, c = _bound_phases(cert)
    S, q = float(sum(cert.steps)), float(cert.q)
    cap = min(float(cert.delta), 1 / (2 * S))
    r, es = 1 - 2 * cap * S, cap * q / (2 * S)
    return [es + (0.5 - es) * r**n if n < n1 else 1 / (1 / e1 + c * (n - n1)) for n in cycles]


def warmup_cycles_T0(cert: PatternCertificate, rtol: float = 0.01) -> int | None:
    """The first cycle end ``T`` from which ``T B(T) <= (1 + rtol) / avg`` (conservative: where
    the upper estimate of :func:`cycle_bound_estimate` meets the target, so the exact ``B`` of
    :func:`pepstep.kernel.cycle_bounds` meets it no later). None when it is out of reach."""
    t, S, q = len(cert.steps), float(sum(cert.steps)), float(cert.q)
    n1, e1, c = _bound_phases(cert)
    target = (1 + rtol) * t / (2 * S - q)
    k = target * c - t
    if not k > 0:
        return None
    return t * max(n1, math.ceil(target * (c * n1 - 1 / e1) / k), 1)


def _certify(
    steps: Sequence,
    solver: str = "auto",
    *,
    support: str = "auto",
    check: PatternCheck | None = None,
    grids=(10**10, 10**12, 10**14),
) -> PatternCertificate:
    """Round a float certificate to rationals and verify (C1)-(C4) exactly.

    Rounds ``lambda`` and ``gamma`` on a grid ``1/den``, repairs (C1), (C2) along the chain, takes
    ``Delta = min(DELTA_CAP / sum h, max{Delta : lambda + Delta gamma >= 0})`` (halved while
    ``M(lambda + Delta gamma)`` is not positive definite in floats or its Schur complement exceeds
    that of ``M(lambda)`` by more than a relative 1e-12), sets ``q`` to the larger exact Schur
    complement rounded up to ``1/den``, and runs :func:`verify_pattern`.

    ``support="auto"`` (default) rounds from the SDP on each of ``AUTO_SUPPORTS`` in turn (see
    :func:`pattern_pairs`) until one certifies: Grimmer's t = 15, 63 and 127 patterns certify on
    the ``horizon`` support, his t = 31 pattern on the ``wide`` one. On each support the SDP is
    solved with the margins ``CERTIFY_MARGINS`` in turn (``M(lambda) >= margin I``) until the
    rounded multipliers verify. From ``t = LARGE_PATTERN`` on, ``LARGE_SUPPORTS`` and
    ``LARGE_MARGINS`` replace them, and the Schur route's answer is not handed to Clarabel.

    Returns
    -------
    PatternCertificate
        ``valid`` is the exact verdict (False if no grid verified or the SDP was infeasible).

    References
    ----------
    Grimmer (2024), Theorem 2.2; bgrimmer/LongStepCertificates (the same rounding and ``Delta`` rule).

    Examples
    --------
    >>> cert = certify_pattern([1.5, 4.9, 1.5])
    >>> cert.valid, float(cert.average) > 2.633
    (True, True)
    """
    start = time.perf_counter()
    h = _as_steps(steps)
    large = len(h) >= LARGE_PATTERN
    if support == "auto" and check is None:
        for sup in LARGE_SUPPORTS if large else AUTO_SUPPORTS:
            cert = _certify(h, solver, support=sup, grids=grids)
            if cert.valid:
                break
        return replace(cert, seconds=time.perf_counter() - start)
    if support == "auto":
        support = check.support
    if check is not None:
        return _certificate_from_check(h, check, grids, start)
    for margin in LARGE_MARGINS if large else CERTIFY_MARGINS:
        # at this size a Clarabel fallback would not finish (a PSD block of order 33k at t = 255)
        chk = check_pattern(h, solver, support=support, margin=margin, fallback=not large)
        cert = _certificate_from_check(h, chk, grids, start)
        if cert.valid or chk.q != chk.q:  # certified, or infeasible (a margin cannot help)
            break
    return cert


def _certificate_from_check(h, chk: PatternCheck, grids, start) -> PatternCertificate:
    """The rounding and exact check of :func:`certify_pattern` for one float solution."""
    t, d = len(h), len(h) + 2
    total = sum(h)
    best = None
    if chk.q == chk.q:
        lam_f = {(i, j): v for (kind, i, j), v in chk.multipliers.items() if kind == "lambda"}
        gam_f = {(i, j): v for (kind, i, j), v in chk.multipliers.items() if kind == "gamma"}
        tl = [Fraction(0)] * (t + 1)
        tl[t], tl[0] = Fraction(1), Fraction(-1)
        tg = [Fraction(0)] * (t + 1)
        tg[0] = 2 * total
        for den in grids:
            lam = {k: _round(v, den) for k, v in lam_f.items() if v > 0}
            lam = {k: v for k, v in lam.items() if v > 0}
            _fix_divergence(lam, t, tl)
            gam = {}
            for k, v in gam_f.items():
                r = _round(v, den)
                if r < 0 and (k[0] == STAR or lam.get(k, 0) <= 0):
                    r = Fraction(0)  # (C3) needs lambda > 0 wherever gamma < 0
                if r:
                    gam[k] = r
            star_sum = sum(v for (i, _), v in gam.items() if i == STAR)
            kmax = max((k for k in gam if k[0] == STAR), key=lambda k: gam[k], default=(STAR, t))
            gam[kmax] = gam.get(kmax, Fraction(0)) + (tg[0] - star_sum)
            _fix_divergence(gam, t, tg)
            if gam[kmax] < 0:
                continue
            neg = [lam[k] / -v for k, v in gam.items() if v < 0]
            raw = min([DELTA_CAP / total] + neg)
            delta = Fraction(1)
            while delta > raw:  # a power of 2: short numerators in M(lambda + Delta gamma)
                delta /= 2
            Zl, Zg = _assemble(h, lam, d), _assemble(h, gam, d)
            A0, m = _float_M(Zl, Zg, 0)
            try:
                q0f = m @ np.linalg.solve(A0, m)
            except np.linalg.LinAlgError:
                continue
            for _ in range(60):
                A1, _m = _float_M(Zl, Zg, delta)
                ev = np.linalg.eigvalsh(A1).min()
                if ev > 0 and m @ np.linalg.solve(A1, m) <= q0f * (1 + 1e-12):
                    break
                delta /= 2
            q0, q1 = _schur(Zl, Zg, 0), _schur(Zl, Zg, delta)
            if q0 is None or q1 is None:
                continue
            qmax = max(q0, q1)
            q = Fraction(-((-qmax.numerator * den) // qmax.denominator), den)  # ceil to the grid
            ok = _worth_verifying(t, Zl, Zg, 0, delta) and verify_pattern(h, delta, q, lam, gam)
            best = (delta, q, lam, gam, ok)
            if ok and q <= (1 + RATE_RTOL) * total:
                break
    if best is None:
        delta, q, lam, gam, ok = Fraction(0), Fraction(0), {}, {}, False
    else:
        delta, q, lam, gam, ok = best
    valid = bool(ok and q <= (1 + RATE_RTOL) * total)
    return PatternCertificate(
        steps=h,
        delta=delta,
        q=q,
        lam=lam,
        gamma=gam,
        valid=valid,
        average=(2 * total - q) / t,
        support=chk.support,
        seconds=time.perf_counter() - start,
    )
