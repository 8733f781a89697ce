r"""Grimmer's "straightforward" cyclic stepsize patterns: the SDP criterion and its exact check.

Setting (L = 1 after normalization). Gradient descent repeats a pattern ``h = (h_0, ..., h_{t-1})``:
``x_{k+1} = x_k - h_k g_k``, ``g_k = grad f(x_k)``. Points are ``{*, 0, ..., t}``; for a pair
``(i, j)`` the interpolation inequality of smooth convex functions (Taylor, Hendrickx & Glineur 2017)

.. math::  Q_{ij} = f_i - f_j - \langle g_j, x_i - x_j \rangle - \tfrac12 |g_i - g_j|^2 \ge 0

is written ``-Q_ij = (f_j - f_i) + tr(Z_ij G)`` with ``G`` the Gram matrix of
``(u, g_0, ..., g_t)``, ``u = x_0 - x*``, ``Z_ij = sym(g_j (x_i - x_j)^T) + (g_i - g_j)(g_i - g_j)^T / 2``.
For multipliers ``mu >= 0``, ``Z(mu) = sum mu_ij Z_ij`` has the block form ``[[0, m(mu)^T], [m(mu), M(mu)]]``
(``M`` the gradient block, ``m`` the ``u``-row; ``m`` only involves the pairs ``(*, k)``).

**The criterion** (Grimmer 2024, Definition 2.1 and Theorem 2.2, in the form his published exact
certificates check, bgrimmer/LongStepCertificates ``certification_t{2,3}.nb``). A pattern is
*straightforward* if for some ``Delta0 > 0`` there are ``lambda >= 0`` on pairs of ``{0..t}`` (no ``*``)
and ``nu >= 0`` on pairs of ``{*, 0..t}`` (Grimmer's ``lambda + Delta gamma`` at ``Delta = Delta0``) with

(C1) ``sum lambda_ij (f_j - f_i) = f_t - f_0``                        (function values, identically)
(C2) ``sum nu_ij (f_j - f_i) = f_t - (1 - 2 Delta0 sum(h)) f_0``
(C3) ``B0 = [[Delta0^2 sum(h), m(nu)^T], [m(nu), M(lambda)]]  >= 0``  (PSD)
(C4) ``B1 = [[Delta0^2 sum(h), m(nu)^T], [m(nu), M(nu)]]       >= 0``  (PSD)

Grimmer writes ``nu = lambda + Delta0 gamma``; (C3) is his "first PSD condition"
``[[sum h, m(gamma)^T], [m(gamma), M(lambda)]] >= 0`` (congruent through ``diag(Delta0, I)``), (C4) the
second at ``Delta = Delta0``.

**Why it gives the rate.** For ``theta in [0, 1]`` let ``mu = (1 - theta) lambda + theta nu >= 0`` and
``Delta = theta Delta0``. Summing ``mu_ij Q_ij >= 0`` and using (C1), (C2):
``f_t <= (1 - 2 Delta sum h) f_0 - tr(Z(mu) G)``. With ``D_theta = diag(theta, I)``,
``D_theta ((1 - theta) B0 + theta B1) D_theta = [[Delta^2 sum h, m(mu)^T], [m(mu), M(mu)]] >= 0`` and
evaluating it at ``(u, g)`` gives ``- tr(Z(mu) G) <= Delta^2 sum(h) |u|^2``. Hence, for every
``Delta in [0, Delta0]``,

.. math::  f(x_t) - f^* \le (1 - 2 \Delta\, \textstyle\sum h)(f(x_0) - f^*) + \Delta^2 \textstyle\sum h\, |x_0 - x^*|^2 .

``Delta = 0`` gives ``f(x_t) <= f(x_0)`` (one cycle never increases f), so every cycle start stays in the
initial sublevel set and ``|x_{nt} - x*| <= D``. With ``delta = f(x_{nt}) - f*`` and
``Delta = delta / D^2`` (allowed once ``delta <= Delta0 D^2``; before that ``Delta = Delta0`` gives a
geometric decrease), ``delta_+ <= delta - sum(h) delta^2 / D^2``, i.e.
``1/delta_+ >= 1/delta + sum(h) / (L D^2)``; telescoping over cycles,
``f(x_T) - f* <= L D^2 / (avg(h) T) + O(1/T^2)`` (the remainder covers the first phase and a partial cycle).

Two facts make the check robust. Feasibility is monotone in ``Delta0`` (shrink ``nu`` toward ``lambda``).
The Huber direction ``(1/Delta0, 1, ..., 1)`` makes ``B0`` singular for every certificate: (C1) forces
``1^T M(lambda) 1 = sum(h)`` and (C2) forces ``sum_k nu_{*k} = 2 Delta0 sum(h)``, so (C3) holds iff
``nu_{*k} = 2 Delta0 (M(lambda) 1)_k`` (C3') and ``M(lambda) >= 0``. The float SDP therefore imposes (C3')
linearly and maximizes a margin ``s``: ``M(lambda) >= s I`` and ``[[sum h, m(nu)^T / Delta0], [., M(nu)]] >= s I``.
The exact check rebuilds (C3') in rationals, repairs (C1), (C2) exactly along the chain pairs, and
decides (C3), (C4) by exact ``LDL^T``.

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

import time
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Sequence

import numpy as np

from .errors import InputError, SolverError

__all__ = [
    "DELTA0",
    "MARGIN_TOL",
    "PatternCheck",
    "PatternCertificate",
    "check_pattern",
    "certify_pattern",
    "verify_pattern",
    "pattern_pairs",
]

#: Default ``Delta0`` as a fraction of ``1 / sum(h)`` (Grimmer's t = 3 certificate uses 1/10000).
DELTA0 = Fraction(1, 1000)
#: A float margin above this counts as strictly feasible (Clarabel reaches about 1e-8 here).
MARGIN_TOL = 1e-7
STAR = -1


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


def pattern_pairs(t: int, support: str = "all") -> tuple[list, list]:
    """Pairs for ``lambda`` (points ``0..t``) and ``nu`` (points ``*, 0..t``); ``-1`` is ``*``.

    ``support="all"``: every ordered pair. ``support="sparse"``: pairs ``(i, j)`` with ``j - i`` a
    power of two or ``i - j = 1``, plus all pairs with ``*`` (O(t log t) multipliers).
    """
    pts = list(range(t + 1))
    if support == "all":
        lam = [(i, j) for i in pts for j in pts if i != j]
    elif support == "sparse":
        lam = [(i, j) for i in pts for j in pts if i != j and ((j > i and ((j - i) & (j - i - 1)) == 0) or i - j == 1)]
    else:
        raise InputError(f"The 'support' must be 'all' or 'sparse'. Got support={support!r}.")
    nu = lam + [(STAR, k) for k in pts]
    return lam, nu


def _pair_data(steps, pairs, exact: bool = False):
    """Per pair: f-coefficients (len t+1) and the symmetric matrix Z_ij (size t+2), as arrays."""
    t = len(steps)
    d = t + 2
    zero = Fraction(0) if exact else 0.0
    one = Fraction(1) if exact else 1.0

    def xvec(p):
        v = [zero] * d
        if p == STAR:
            return v
        v[0] = one
        for k in range(p):
            v[k + 1] -= steps[k]
        return v

    def gvec(p):
        v = [zero] * d
        if p != STAR:
            v[p + 1] = one
        return v

    F, Z = [], []
    for i, j in pairs:
        f = [zero] * (t + 1)
        if j != STAR:
            f[j] += one
        if i != STAR:
            f[i] -= one
        dx = [a - b for a, b in zip(xvec(i), xvec(j))]
        gj = gvec(j)
        dg = [a - b for a, b in zip(gvec(i), gj)]
        z = [[(gj[a] * dx[b] + dx[a] * gj[b]) / 2 + dg[a] * dg[b] / 2 for b in range(d)] for a in range(d)]
        F.append(f)
        Z.append(z)
    if exact:
        return F, Z
    return np.array(F, dtype=float), np.array(Z, dtype=float)


# --------------------------------------------------------------------------- float check
@dataclass(frozen=True)
class PatternCheck:
    """Result of the float SDP test of Grimmer's criterion.

    Attributes
    ----------
    steps : tuple of float
        The pattern ``h`` (normalized by ``1/L``).
    straightforward : bool
        ``margin > MARGIN_TOL``: a strictly feasible certificate exists (numerically).
    margin : float
        Optimal ``s`` of ``max s : M(lambda) >= s I, [[sum h, m(nu)^T/Delta0], [., M(nu)]] >= s I``
        under (C1), (C2), (C3'); negative or ``nan`` when infeasible.
    delta0 : Fraction
        ``Delta0`` used.
    multipliers : dict
        ``{("lambda", i, j): value, ("nu", i, j): value}`` (``-1`` is ``*``), values > 1e-12.
    status : str
        Solver status.
    seconds : float
        Wall time.
    """

    steps: tuple
    straightforward: bool
    margin: float
    delta0: Fraction
    multipliers: dict = field(repr=False)
    status: str
    seconds: float


def _delta0(steps, delta0) -> Fraction:
    total = sum(steps)
    return Fraction(delta0) / total if delta0 is not None else DELTA0 / total


def check_pattern(steps: Sequence, solver: str = "clarabel", *, delta0=None, support: str = "all") -> PatternCheck:
    """Test Grimmer's straightforward criterion (C1)-(C4) numerically (see the module docstring).

    Parameters
    ----------
    steps : sequence of numbers
        The pattern, normalized steps ``h_k`` (> 0).
    solver : str
        cvxpy solver name ("clarabel", "scs").
    delta0 : number, optional
        ``Delta0 * sum(h)``; default ``DELTA0`` (1/1000).
    support : {"all", "sparse"}
        Multiplier support (see :func:`pattern_pairs`).

    Returns
    -------
    PatternCheck

    References
    ----------
    Grimmer (2024), Definition 2.1 and Theorem 2.2.

    Examples
    --------
    >>> round(check_pattern([1.0]).margin, 3) > 0
    True
    """
    import cvxpy as cp  # lazily: only the solve layer needs it at import time

    start = time.perf_counter()
    exact = _as_steps(steps)
    h = np.array([float(s) for s in exact])
    t, d = len(h), len(h) + 2
    total = float(sum(exact))
    dl = float(_delta0(exact, delta0))
    lam_pairs, nu_pairs = pattern_pairs(t, support)
    Fl, Zl = _pair_data(h, lam_pairs)
    Fn, Zn = _pair_data(h, nu_pairs)
    lam = cp.Variable(len(lam_pairs), nonneg=True)
    nu = cp.Variable(len(nu_pairs), nonneg=True)
    s = cp.Variable()
    e0, et = np.eye(t + 1)[0], np.eye(t + 1)[t]
    Ml = cp.reshape(Zl[:, 1:, 1:].reshape(len(lam_pairs), -1).T @ lam, (d - 1, d - 1), order="C")
    Zfull = cp.reshape(Zn.reshape(len(nu_pairs), -1).T @ nu, (d, d), order="C")
    star_idx = [n for n, (i, _) in enumerate(nu_pairs) if i == STAR]
    S = cp.bmat([[np.array([[total]]), Zfull[0:1, 1:] / dl], [Zfull[1:, 0:1] / dl, Zfull[1:, 1:]]])
    cons = [
        Fl.T @ lam == et - e0,
        Fn.T @ nu == et - (1 - 2 * dl * total) * e0,
        nu[star_idx] == 2 * dl * (Ml @ np.ones(d - 1)),
        (Ml + Ml.T) / 2 - s * np.eye(d - 1) >> 0,
        (S + S.T) / 2 - s * (np.eye(d) - np.ones((d, d)) / d) >> 0,
        s <= 1,
    ]
    prob = cp.Problem(cp.Maximize(s), cons)
    try:
        with warnings.catch_warnings():  # "inaccurate" is recorded in `status` instead
            warnings.simplefilter("ignore", UserWarning)
            prob.solve(solver=solver.upper())
    except cp.error.SolverError as exc:
        raise SolverError(f"The solver {solver!r} failed on steps={list(map(float, exact))}: {exc}") from exc
    status = str(prob.status)
    ok = status in ("optimal", "optimal_inaccurate") and s.value is not None
    margin = float(s.value) if ok else float("nan")
    mult = {}
    if ok:
        mult.update({("lambda", i, j): float(v) for (i, j), v in zip(lam_pairs, lam.value) if v > 1e-12})
        mult.update({("nu", i, j): float(v) for (i, j), v in zip(nu_pairs, nu.value) if v > 1e-12})
    return PatternCheck(
        steps=tuple(float(x) for x in exact),
        straightforward=bool(ok and margin > MARGIN_TOL),
        margin=margin,
        delta0=_delta0(exact, delta0),
        multipliers=mult,
        status=status,
        seconds=time.perf_counter() - start,
    )


# --------------------------------------------------------------------------- exact arithmetic
def _exact_field():
    try:
        import flint

        return flint.fmpq
    except ImportError:  # pragma: no cover - python-flint is a dependency
        return Fraction


def is_psd_exact(A) -> bool:
    """Exact PSD test of a symmetric rational matrix by ``LDL^T`` with symmetric (diagonal) pivoting.

    A zero pivot is accepted only if its whole remaining row vanishes; a negative pivot rejects.

    Examples
    --------
    >>> from fractions import Fraction as Fr
    >>> is_psd_exact([[Fr(1), Fr(1)], [Fr(1), Fr(1)]]), is_psd_exact([[Fr(0), Fr(1)], [Fr(1), Fr(0)]])
    (True, False)
    """
    Q = _exact_field()
    n = len(A)
    a = [[Q(x.numerator, x.denominator) if isinstance(x, Fraction) else Q(x) for x in row] for row in A]
    active = list(range(n))
    while active:
        # largest-denominator-free choice: pick the largest positive diagonal
        piv = max(active, key=lambda k: a[k][k])
        p = a[piv][piv]
        if p < 0:
            return False
        if p == 0:
            return all(a[i][j] == 0 for i in active for j in active)
        active.remove(piv)
        row = [a[piv][j] for j in range(n)]
        for i in active:
            if row[i] == 0:
                continue
            c = row[i] / p
            ai = a[i]
            for j in active:
                if row[j] != 0:
                    ai[j] -= c * row[j]
    return True


@dataclass(frozen=True)
class PatternCertificate:
    """An exact certificate that a pattern is straightforward (conditions (C1)-(C4)).

    Attributes
    ----------
    steps : tuple of Fraction
        The pattern.
    delta0 : Fraction
        ``Delta0``.
    lam : dict
        ``{(i, j): Fraction}`` multipliers of the descent certificate (points ``0..t``).
    nu : dict
        ``{(i, j): Fraction}`` multipliers at ``Delta = Delta0`` (``-1`` is ``*``).
    valid : bool
        Result of :func:`verify_pattern` on this data.
    margin : float
        Float margin of the SDP it was rounded from.
    seconds : float
        Wall time (SDP + rounding + exact check).
    """

    steps: tuple
    delta0: Fraction
    lam: dict = field(repr=False)
    nu: dict = field(repr=False)
    valid: bool
    margin: float
    seconds: float

    def to_json(self) -> dict:
        """Plain JSON form: every number an exact "p/q" string."""
        return {
            "kind": "grimmer-straightforward",
            "steps": [str(s) for s in self.steps],
            "delta0": str(self.delta0),
            "lambda": [[i, j, str(v)] for (i, j), v in sorted(self.lam.items())],
            "nu": [[i, j, str(v)] for (i, j), v in sorted(self.nu.items())],
            "valid": self.valid,
        }


def _matrix(steps, mult: dict, d: int):
    pairs = list(mult)
    if not pairs:
        return [[Fraction(0)] * d for _ in range(d)], [Fraction(0)] * (d - 1)
    F, Z = _pair_data(steps, pairs, exact=True)
    Zs = [[Fraction(0)] * d for _ in range(d)]
    fs = [Fraction(0)] * (d - 1)
    for v, f, z in zip(mult.values(), F, Z):
        for k in range(d - 1):
            fs[k] += v * f[k]
        for a in range(d):
            for b in range(d):
                if z[a][b]:
                    Zs[a][b] += v * z[a][b]
    return Zs, fs


def verify_pattern(steps, delta0, lam: dict, nu: dict) -> bool:
    """Check (C1)-(C4) in exact rational arithmetic; True iff all hold.

    Parameters
    ----------
    steps : sequence of rationals
    delta0 : rational, > 0
    lam : dict ``{(i, j): rational}`` on points ``0..t``
    nu : dict ``{(i, j): rational}`` on points ``-1 (*), 0..t``

    References
    ----------
    Grimmer (2024), Definition 2.1; the module docstring states (C1)-(C4).
    """
    h = _as_steps(steps)
    t, d = len(h), len(h) + 2
    D0 = Fraction(delta0)
    if D0 <= 0:
        return False
    lam = {k: Fraction(v) for k, v in lam.items() if v != 0}
    nu = {k: Fraction(v) for k, v in nu.items() if v != 0}
    if any(v < 0 for v in lam.values()) or any(v < 0 for v in nu.values()):
        return False
    if any(i == STAR or j == STAR for i, j in lam) or any(j == STAR and i == STAR for i, j in nu):
        return False
    total = sum(h)
    Zl, fl = _matrix(h, lam, d)
    Zn, fn = _matrix(h, nu, d)
    target_l = [Fraction(0)] * (t + 1)
    target_l[t] += 1
    target_l[0] -= 1
    target_n = [Fraction(0)] * (t + 1)
    target_n[t] += 1
    target_n[0] -= 1 - 2 * D0 * total
    if fl != target_l or fn != target_n:
        return False
    corner = D0 * D0 * total
    B0 = [[corner] + Zn[0][1:]] + [[Zn[a][0]] + Zl[a][1:] for a in range(1, d)]
    B1 = [[corner] + Zn[0][1:]] + [row[:] for row in Zn[1:]]
    return is_psd_exact(B0) and is_psd_exact(B1)


def _round(x: float, den: int) -> Fraction:
    return Fraction(round(x * den), den) if x > 0 else Fraction(0)


def _fix_divergence(mult: dict, t: int, target: list) -> None:
    """Exact forward sweep: after it, ``div(mult) == target`` (requires sum(target) == sum(div))."""
    div = [Fraction(0)] * (t + 1)
    for (i, j), v in mult.items():
        if j != STAR:
            div[j] += v
        if i != STAR:
            div[i] -= v
    excess = Fraction(0)
    for k in range(t):
        excess += div[k] - target[k]  # surplus inflow accumulated at nodes 0..k must move to k+1
        if excess > 0:
            key = (k, k + 1)
        else:
            key = (k + 1, k)
        mult[key] = mult.get(key, Fraction(0)) + abs(excess)
        # moving |excess| along key lowers div at the source side by excess (in both cases)
    # net effect: node k loses `excess_k` and gains `excess_{k-1}`; node t gains excess_{t-1}


def certify_pattern(steps: Sequence, solver: str = "clarabel", *, delta0=None, support: str = "all",
                    check: PatternCheck | None = None) -> PatternCertificate:
    """Round a float certificate to rationals and verify (C1)-(C4) exactly.

    Rounds ``lambda`` on a grid ``1/den`` (den = 10^6, 10^8, ... 10^14), repairs (C1) along the chain,
    sets ``nu_{*k} = 2 Delta0 (M(lambda) 1)_k`` exactly (C3'), rounds the other ``nu``, repairs (C2),
    and runs :func:`verify_pattern`.

    Returns
    -------
    PatternCertificate
        ``valid`` is the exact verdict (False if no rounding verified or the SDP had no margin).

    Examples
    --------
    >>> certify_pattern([1.5, 4.9, 1.5]).valid
    True
    """
    start = time.perf_counter()
    h = _as_steps(steps)
    t, d = len(h), len(h) + 2
    chk = check or check_pattern(h, solver, delta0=delta0, support=support)
    D0 = chk.delta0
    total = sum(h)
    best = None
    if chk.margin == chk.margin and chk.margin > 0:
        lam_f = {(i, j): v for (kind, i, j), v in chk.multipliers.items() if kind == "lambda"}
        nu_f = {(i, j): v for (kind, i, j), v in chk.multipliers.items() if kind == "nu" and i != STAR}
        tl = [Fraction(0)] * (t + 1)
        tl[t], tl[0] = Fraction(1), Fraction(-1)
        for den in (10**6, 10**8, 10**10, 10**12, 10**14):
            lam = {k: _round(v, den) for k, v in lam_f.items()}
            lam = {k: v for k, v in lam.items() if v}
            _fix_divergence(lam, t, tl)
            Zl, _ = _matrix(h, lam, d)
            ones_row = [sum(Zl[a][1:]) for a in range(1, d)]
            nu = {k: _round(v, den) for k, v in nu_f.items()}
            nu = {k: v for k, v in nu.items() if v}
            for k in range(t + 1):
                nu[(STAR, k)] = 2 * D0 * ones_row[k]
            tn = [Fraction(0)] * (t + 1)
            tn[t], tn[0] = Fraction(1), -(1 - 2 * D0 * total)
            _fix_divergence(nu, t, tn)
            lam = {k: v for k, v in lam.items() if v}
            nu = {k: v for k, v in nu.items() if v}
            ok = verify_pattern(h, D0, lam, nu)
            best = (lam, nu, ok)
            if ok:
                break
    lam, nu, ok = best if best else ({}, {}, False)
    return PatternCertificate(
        steps=h, delta0=D0, lam=lam, nu=nu, valid=bool(ok), margin=chk.margin, seconds=time.perf_counter() - start
    )
