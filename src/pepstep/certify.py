"""Exact rational certificates of worst-case rates: build, serialize, verify.

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

**Nothing in a certificate is trusted.** :func:`verify` rebuilds ``S`` and the identity from
the class, measure, initial condition and rational steps alone, with its own exact assembly
(matrix form below, independent of the float row-wise assembly of :mod:`pepstep.pep`), and
checks in exact rational arithmetic: ``lambda, tau, nu >= 0``, ``sum nu = 1``, the identity,
``S`` PSD by an LDL^T factorization with symmetric pivoting over Q (a zero pivot requires its
whole remaining row to vanish), and ``rate == tau * scale``.

**Exact assembly.** With the points ``P`` (rows: ``x*`` first for classes with a minimizer,
then ``x_0..x_N``), their coordinates ``X`` and gradients ``Gr`` in the Gram basis, and the
multiplier matrix ``W[i, j] = lambda_ij``, every sum over pairs is a matrix product:
``sum W_ij g_j (x_i - x_j)^T = Gr^T (W^T - diag(W^T 1)) X`` and, with the graph Laplacian
``Lap = diag(W 1 + W^T 1) - W - W^T``, ``sum W_ij (a_i - a_j)(b_i - b_j)^T = A^T Lap B``. Hence

.. math::

    \\sum \\lambda_{ij} A_{ij} = \\mathrm{sym}(Gr^T (W^T - D_c) X)
        + c\\, Gr^T Lap\\, Gr + c\\kappa\\, X^T Lap\\, X - 2c\\kappa\\, \\mathrm{sym}(Gr^T Lap\\, X),
    \\qquad c = \\frac{1}{2(1-\\kappa)},

with ``kappa = mu / L`` (``-1`` for the nonconvex class), computed with python-flint's
``fmpq_mat``.

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
import json
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .classes import ClassKind, FunctionClass, InitialCondition, Measure
from .errors import CertificateFormatError, InputError, SolverError
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
    "ldl_psd",
    "ldl_psd_integer",
    "proof_markdown",
]

#: Version of the JSON certificate format written and read here.
FORMAT_VERSION = 1
#: Irrational steps (silver) are rounded to rationals with at most this denominator; the
#: rounding error of a step is at most ``1 / (q * MAX_STEP_DENOMINATOR)``, about 1e-12.
MAX_STEP_DENOMINATOR = 10**6
#: The fixed normalization statement stored in every certificate.
NORMALIZATION = (
    "multipliers and tau are for the normalized problem L = 1, R = 1 (Delta = 1 under init fgap); "
    "rate = tau * scale"
)
#: Largest certificate file read (bytes), largest number of steps, longest rational string.
MAX_FILE_BYTES = 200_000_000
MAX_STEPS = 4096
MAX_DIGITS = 20_000
#: ``solver="auto"`` certifies with the low-rank Schur route from this many steps on, Clarabel
#: below. With the full support it works on the working set of constraint generation; when
#: that is every pair (silver), Clarabel on the dense PEP (measured at silver N = 63: 229 s by
#: the Schur route on 4160 pairs).
SCHUR_FROM = 48
#: Relative PSD margins tried in turn (``delta tr(G*) = rel * value``).
MARGINS = (1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5)
#: Significant digits of ``tau`` (rounded up) and of the multipliers (rounded to nearest).
TAU_DIGITS = 12
LAMBDA_DIGITS = 15

_RATIONAL = re.compile(r"-?[0-9]+(/[0-9]+)?")
_PAIR = re.compile(r"(\*|[0-9]+),(\*|[0-9]+)")
_SUPPORTS = ("full", "consecutive")
_CHECKS = ("pairs", "multipliers", "tau", "nu", "identity", "psd", "rate")


@dataclass(frozen=True)
class Certificate:
    """An exact dual certificate of ``measure <= rate`` for gradient descent.

    Attributes
    ----------
    function_class : str
        ``convex``, ``strongly-convex`` or ``nonconvex``.
    L, mu : Fraction
        Class constants (``mu = 0`` except for ``strongly-convex``).
    measure : str
        ``fgap``, ``gradnorm``, ``dist`` or ``mingradnorm``.
    init : str
        ``dist`` (``|x_0 - x*| <= R``) or ``fgap`` (``f(x_0) - f* <= R``; ``f(x_0) - f(x_N)``
        for the nonconvex class).
    R : Fraction
        Size of the initial condition.
    steps : tuple of Fraction
        The normalized steps the rate is proved for.
    rate : Fraction
        The proved bound in user units: ``measure <= rate``.
    tau : Fraction
        Multiplier of the initial condition (normalized problem).
    multipliers : dict
        ``lambda_ij`` of the normalized problem keyed by pair ``(i, j)``, ``"*"`` for ``x*``
        (only nonzero ones).
    nu : dict
        ``nu_k`` keyed by iterate ``k`` (``mingradnorm`` only; empty otherwise).
    support : str
        ``full`` or ``consecutive``: the pairs the certificate may use.
    """

    function_class: str
    L: Fraction
    mu: Fraction
    measure: str
    init: str
    R: Fraction
    steps: tuple
    rate: Fraction
    tau: Fraction
    multipliers: dict = field(default_factory=dict)
    nu: dict = field(default_factory=dict)
    support: str = "full"

    @property
    def num_steps(self) -> int:
        return len(self.steps)

    @property
    def scale(self) -> Fraction:
        """The homogeneity factor: ``rate = tau * scale`` (see :func:`exact_scale`)."""
        return exact_scale(self.measure, self.init, self.L, self.R)

    def to_dict(self) -> dict:
        """The JSON object of the certificate (every rational as a ``"p/q"`` string)."""
        out = {
            "format_version": FORMAT_VERSION,
            "class": self.function_class,
            "L": _q(self.L),
            "mu": _q(self.mu),
            "measure": self.measure,
            "init": self.init,
            "R": _q(self.R),
            "steps": [_q(h) for h in self.steps],
            "normalization": NORMALIZATION,
            "scale": _q(self.scale),
            "rate": _q(self.rate),
            "rate_float": float(self.rate),
            "tau": _q(self.tau),
            "multipliers": {_pair_text(k): _q(v) for k, v in self.multipliers.items()},
            "support": self.support,
        }
        if self.measure == Measure.MINGRADNORM.value:
            out["nu"] = {str(k): _q(v) for k, v in self.nu.items()}
        return out

    def to_json(self) -> str:
        """Canonical JSON text (sorted keys, one-space indent); :func:`load_certificate` reads
        only this form, so that any change of a byte changes the content."""
        return json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n"


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of :func:`verify`.

    Attributes
    ----------
    valid : bool
        Every check held.
    rate : Fraction
        The rate the certificate claims (proved when ``valid``).
    failed_check : str or None
        The first failed check: ``pairs``, ``multipliers``, ``tau``, ``nu``, ``identity``,
        ``psd`` or ``rate``.
    message : str
        One line: ``valid: rate p/q`` or what failed, with the offending value.
    """

    valid: bool
    rate: Fraction
    failed_check: str | None
    message: str


@dataclass(frozen=True)
class LDLFactors:
    """``S[perm][:, perm] = L diag(D) L^T`` (exact), as found by :func:`ldl_psd`.

    ``order`` lists the pivot indices in elimination order, ``pivots`` the matching ``D``,
    ``columns[k]`` the nonzero below-diagonal entries ``{index: L value}`` of column k.
    """

    order: tuple
    pivots: tuple
    columns: tuple


# --------------------------------------------------------------------------- rationals


def _q(x) -> str:
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def _pair_text(key) -> str:
    i, j = key
    return f"{'*' if i in ('*', STAR) else int(i)},{'*' if j in ('*', STAR) else int(j)}"


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


def exact_scale(measure: str, init: str, L: Fraction, R: Fraction) -> Fraction:
    """Homogeneity factor from the normalized problem (``L = R = 1``) to user units.

    Under init ``dist``: ``fgap`` ``L R^2``, ``gradnorm``/``mingradnorm`` ``L^2 R^2``,
    ``dist`` ``R^2``. Under init ``fgap`` (size Delta = R): ``Delta``, ``L Delta``, ``Delta / L``.
    """
    grad = measure in (Measure.GRADNORM.value, Measure.MINGRADNORM.value)
    if init == InitialCondition.DIST.value:
        if measure == Measure.FGAP.value:
            return L * R * R
        return L * L * R * R if grad else R * R
    if measure == Measure.FGAP.value:
        return R
    return L * R if grad else R / L


# --------------------------------------------------------------------------- exact assembly


def _kappa(cert: Certificate) -> Fraction:
    if cert.function_class == ClassKind.NONCONVEX.value:
        return Fraction(-1)
    return Fraction(cert.mu) / Fraction(cert.L)


def _has_minimizer(cert: Certificate) -> bool:
    return cert.function_class != ClassKind.NONCONVEX.value


def _index(cert: Certificate, key) -> int:
    """Row of a point (``"*"`` or an iterate) in the point list of the exact assembly."""
    off = 1 if _has_minimizer(cert) else 0
    return 0 if key in ("*", STAR) else int(key) + off


def _points(cert: Certificate):
    """Coordinates ``X`` and gradients ``Gr`` of every point (exact rationals, lists of rows)."""
    from flint import fmpq

    n = cert.num_steps
    h = [fmpq(q.numerator, q.denominator) for q in map(Fraction, cert.steps)]
    zero = fmpq(0)
    if _has_minimizer(cert):
        d = n + 2
        X = [[zero] * d]
        Gr = [[zero] * d]
        for k in range(n + 1):
            x = [zero] * d
            x[0] = fmpq(1)
            for m in range(k):
                x[m + 1] = -h[m]
            g = [zero] * d
            g[k + 1] = fmpq(1)
            X.append(x)
            Gr.append(g)
    else:
        d = n + 1
        X, Gr = [], []
        for k in range(n + 1):
            x = [zero] * d
            for m in range(k):
                x[m] = -h[m]
            g = [zero] * d
            g[k] = fmpq(1)
            X.append(x)
            Gr.append(g)
    return X, Gr, d


def _fmpq(x):
    from flint import fmpq

    x = Fraction(x)
    return fmpq(x.numerator, x.denominator)


def slack_matrix(cert: Certificate):
    """The exact dual slack ``S`` of a certificate as a ``flint.fmpq_mat`` (normalized problem).

    ``S = tau B + sum lambda_ij A_ij - C - sum nu_k g_k g_k^T`` assembled in matrix form (see
    the module notes); ``B = E_00`` under init ``dist``, else 0; ``C`` is ``0`` (fgap),
    ``g_N g_N^T`` (gradnorm), ``x_N x_N^T`` (dist) or 0 (mingradnorm, whose part is the nu sum).
    """
    from flint import fmpq, fmpq_mat

    X, Gr, d = _points(cert)
    p = len(X)
    W = [[fmpq(0)] * p for _ in range(p)]
    for key, val in cert.multipliers.items():
        W[_index(cert, key[0])][_index(cert, key[1])] += _fmpq(val)
    Xm, Gm, Wm = fmpq_mat(X), fmpq_mat(Gr), fmpq_mat(W)
    rows = [sum(r, fmpq(0)) for r in W]
    cols = [sum((W[i][j] for i in range(p)), fmpq(0)) for j in range(p)]
    Dc = fmpq_mat([[cols[i] if i == j else fmpq(0) for j in range(p)] for i in range(p)])
    Dl = fmpq_mat([[rows[i] + cols[i] if i == j else fmpq(0) for j in range(p)] for i in range(p)])
    Wt = Wm.transpose()
    lap = Dl - Wm - Wt
    GmT = Gm.transpose()
    half = fmpq(1, 2)

    def sym(M):
        return half * (M + M.transpose())

    kappa = _fmpq(_kappa(cert))
    c = fmpq(1) / (fmpq(2) * (fmpq(1) - kappa))
    S = sym(GmT * ((Wt - Dc) * Xm)) + c * (GmT * (lap * Gm))
    if kappa != 0:
        lapX = lap * Xm
        S = S + (c * kappa) * (Xm.transpose() * lapX) - (fmpq(2) * c * kappa) * sym(GmT * lapX)
    extra = [[fmpq(0)] * d for _ in range(d)]
    n = cert.num_steps
    if _has_minimizer(cert) and cert.init == InitialCondition.DIST.value:
        extra[0][0] += _fmpq(cert.tau)
    last = _index(cert, n)
    if cert.measure == Measure.GRADNORM.value:
        extra[d - 1][d - 1] -= 1
    elif cert.measure == Measure.DIST.value:
        xn = X[last]
        for a in range(d):
            for b in range(d):
                extra[a][b] -= xn[a] * xn[b]
    elif cert.measure == Measure.MINGRADNORM.value:
        for k, val in cert.nu.items():
            g = _index(cert, int(k)) - (1 if _has_minimizer(cert) else 0)
            col = g + 1 if _has_minimizer(cert) else g
            extra[col][col] -= _fmpq(val)
    return S + fmpq_mat(extra)


def identity_residual(cert: Certificate) -> list:
    """``c_F - sum lambda_ij (e_j - e_i) - tau b_F`` over ``f_0..f_N`` (exact; zero when valid)."""
    n = cert.num_steps
    res = [Fraction(0)] * (n + 1)
    if cert.measure == Measure.FGAP.value:
        res[n] += 1
    tau = Fraction(cert.tau)
    if cert.init == InitialCondition.FGAP.value:
        res[0] -= tau
        if not _has_minimizer(cert):
            res[n] += tau
    for (i, j), val in cert.multipliers.items():
        val = Fraction(val)
        if j not in ("*", STAR):
            res[int(j)] -= val
        if i not in ("*", STAR):
            res[int(i)] += val
    return res


# --------------------------------------------------------------------------- exact LDL^T


def ldl_psd(rows, zero=0):
    """Decide ``S >= 0`` exactly by LDL^T with symmetric pivoting.

    Works over any exact field type (``fractions.Fraction`` is the reference, python-flint's
    ``fmpq`` the fast path). At each step, a negative remaining diagonal entry disproves
    PSD; a zero one requires its whole remaining row to vanish (else, for
    ``[[0, b], [b, c]]`` with ``b != 0``, ``det < 0``) and is then eliminated with pivot 0; the
    first positive diagonal entry is the next pivot and its Schur complement is taken.

    Parameters
    ----------
    rows : list of lists
        The symmetric matrix (entries of one exact type).

    Returns
    -------
    (ok, factors, reason)
        ``factors`` an :class:`LDLFactors` (partial when ``ok`` is False) and ``reason`` the
        failure as text (``None`` when PSD).

    Examples
    --------
    >>> from fractions import Fraction as F
    >>> ldl_psd([[F(2), F(1)], [F(1), F(1)]])[0], ldl_psd([[F(0), F(1)], [F(1), F(1)]])[2]
    (True, 'zero pivot at index 0 with nonzero entry 1 at index 1')
    """
    M = [list(r) for r in rows]
    n = len(M)
    for a in range(n):
        if len(M[a]) != n:
            return False, LDLFactors((), (), ()), "the matrix is not square"
        for b in range(a):
            if M[a][b] != M[b][a]:
                return False, LDLFactors((), (), ()), f"the matrix is not symmetric at ({a}, {b})"
    active = list(range(n))
    order, pivots, columns = [], [], []
    while active:
        pivot = None
        for a in active:
            v = M[a][a]
            if v < 0:
                return (
                    False,
                    LDLFactors(tuple(order), tuple(pivots), tuple(columns)),
                    (f"negative pivot {v} at index {a}"),
                )
            if v == 0:
                row = M[a]
                for b in active:
                    if row[b] != 0:
                        return (
                            False,
                            LDLFactors(tuple(order), tuple(pivots), tuple(columns)),
                            (f"zero pivot at index {a} with nonzero entry {row[b]} at index {b}"),
                        )
            elif pivot is None:
                pivot = a
        zeros = [a for a in active if M[a][a] == 0]
        for a in zeros:
            active.remove(a)
            order.append(a)
            pivots.append(M[a][a])
            columns.append({})
        if pivot is None:
            break
        active.remove(pivot)
        piv = M[pivot][pivot]
        prow = M[pivot]
        col = {a: prow[a] / piv for a in active if prow[a] != 0}
        for a, la in col.items():
            row = M[a]
            for b in active:
                pb = prow[b]
                if pb != 0:
                    row[b] = row[b] - la * pb
        order.append(pivot)
        pivots.append(piv)
        columns.append(col)
    return True, LDLFactors(tuple(order), tuple(pivots), tuple(columns)), None


def ldl_psd_integer(S):
    """The same decision and factors as :func:`ldl_psd`, computed fraction-free (fast path).

    ``S`` (an ``fmpq_mat``) is scaled by the common denominator of its entries to an integer
    matrix and eliminated with Bareiss' fraction-free update
    ``M_ab <- (p_k M_ab - M_ak M_kb) / p_(k-1)`` (exact division; ``p_k`` the k-th pivot of
    the scaled matrix, ``p_0 = 1``), with the same pivot rule as :func:`ldl_psd`. The current
    entries are ``p_(k-1)`` times the Schur complement, so signs and zero tests are those of
    the rational LDL^T, and ``D_k = p_k / p_(k-1)``, ``L_ak = M_ak / p_k``.

    References
    ----------
    E. H. Bareiss, "Sylvester's identity and multistep integer-preserving Gaussian
    elimination", Math. Comp. 22, 1968.
    """
    from flint import fmpq, fmpz

    rows = S.tolist()
    n = len(rows)
    den = fmpz(1)
    for row in rows:
        for x in row:
            q = x.q
            den = den * q // den.gcd(q)
    M = [[x.p * (den // x.q) for x in row] for row in rows]
    for a in range(n):
        for b in range(a):
            if M[a][b] != M[b][a]:
                return False, LDLFactors((), (), ()), f"the matrix is not symmetric at ({a}, {b})"
    scale = fmpq(1, 1) / den
    active = list(range(n))
    order, pivots, columns = [], [], []
    prev = fmpz(1)

    def partial():
        return LDLFactors(tuple(order), tuple(pivots), tuple(columns))

    while active:
        pivot = None
        for a in active:
            v = M[a][a]
            if v < 0:
                return False, partial(), f"negative pivot {fmpq(v, 1) * scale / prev} at index {a}"
            if v == 0:
                row = M[a]
                for b in active:
                    if row[b] != 0:
                        return (
                            False,
                            partial(),
                            (
                                f"zero pivot at index {a} with nonzero entry {fmpq(row[b], 1) * scale / prev} "
                                f"at index {b}"
                            ),
                        )
            elif pivot is None:
                pivot = a
        for a in [a for a in active if M[a][a] == 0]:
            active.remove(a)
            order.append(a)
            pivots.append(fmpq(0))
            columns.append({})
        if pivot is None:
            break
        active.remove(pivot)
        pk = M[pivot][pivot]
        prow = M[pivot]
        nz = [b for b in active if prow[b] != 0]
        for a in active:
            row = M[a]
            ra = row[pivot]
            if ra == 0:
                for b in active:
                    if row[b] != 0:
                        row[b] = (pk * row[b]) // prev
            else:
                for b in active:
                    row[b] = (pk * row[b] - ra * prow[b]) // prev
        order.append(pivot)
        pivots.append(fmpq(pk, prev) * scale)
        columns.append({b: fmpq(prow[b], pk) for b in nz})
        prev = pk
    return True, partial(), None


# --------------------------------------------------------------------------- verify


def _check_pairs(cert: Certificate) -> str | None:
    n = cert.num_steps
    has_min = _has_minimizer(cert)
    for key in cert.multipliers:
        if not (isinstance(key, tuple) and len(key) == 2):
            return f"multiplier key {key!r} is not a pair"
        pts = []
        for p in key:
            if p in ("*", STAR):
                if not has_min:
                    return f"pair {_pair_text(key)} uses x* but class 'nonconvex' has none"
                pts.append(STAR)
            elif isinstance(p, int) and not isinstance(p, bool) and 0 <= p <= n:
                pts.append(p)
            else:
                return f"pair {key!r} names a point outside *, 0..{n}"
        if pts[0] == pts[1]:
            return f"pair {_pair_text(key)} joins a point to itself"
        if cert.support == "consecutive":
            i, j = pts
            if not (STAR in (i, j) or abs(i - j) == 1):
                return f"pair {_pair_text(key)} is outside the consecutive support"
        elif cert.support != "full":
            return f"unknown support {cert.support!r}"
    for k in cert.nu:
        if not (isinstance(k, int) and 0 <= k <= n):
            return f"nu index {k!r} is outside 0..{n}"
    if cert.nu and cert.measure != Measure.MINGRADNORM.value:
        return "nu multipliers are only part of a mingradnorm certificate"
    return None


def _fail(cert, check, message) -> VerifyReport:
    return VerifyReport(False, Fraction(cert.rate), check, f"invalid: {check}: {message}")


def verify(certificate: Certificate, *, with_factors: bool = False):
    """Check a certificate in exact rational arithmetic; trust nothing in it.

    Checks, in order: ``pairs`` (every key a pair of distinct points of the problem, inside
    the declared support), ``multipliers`` (``lambda >= 0``), ``tau`` (``>= 0``), ``nu``
    (``>= 0``, summing to 1, mingradnorm only), ``identity`` (the function-value identity,
    rebuilt from the measure and initial condition), ``psd`` (``S`` rebuilt from the class and
    steps, LDL^T over Q) and ``rate`` (``rate == tau * scale``).

    Returns
    -------
    VerifyReport
        Or ``(VerifyReport, LDLFactors | None)`` with ``with_factors=True``.
    """
    report, factors = _verify(certificate)
    return (report, factors) if with_factors else report


def _verify(cert: Certificate):
    msg = _check_pairs(cert)
    if msg:
        return _fail(cert, "pairs", msg), None
    for key, val in cert.multipliers.items():
        if Fraction(val) < 0:
            return _fail(cert, "multipliers", f"lambda[{_pair_text(key)}] = {_q(val)} < 0"), None
    if Fraction(cert.tau) < 0:
        return _fail(cert, "tau", f"tau = {_q(cert.tau)} < 0"), None
    if cert.measure == Measure.MINGRADNORM.value:
        for k, val in cert.nu.items():
            if Fraction(val) < 0:
                return _fail(cert, "nu", f"nu[{k}] = {_q(val)} < 0"), None
        total = sum((Fraction(v) for v in cert.nu.values()), Fraction(0))
        if total != 1:
            return _fail(cert, "nu", f"sum of nu = {_q(total)} != 1"), None
    res = identity_residual(cert)
    for k, r in enumerate(res):
        if r != 0:
            return _fail(cert, "identity", f"function-value identity off by {_q(r)} at f_{k}"), None
    S = slack_matrix(cert)
    ok, factors, reason = ldl_psd_integer(S)
    if not ok:
        return _fail(cert, "psd", f"S is not PSD: {reason}"), factors
    proved = Fraction(cert.tau) * cert.scale
    if Fraction(cert.rate) != proved:
        return _fail(cert, "rate", f"claimed rate {_q(cert.rate)} != tau * scale = {_q(proved)}"), factors
    rate = Fraction(cert.rate)
    return VerifyReport(True, rate, None, f"valid: rate {_q(rate)}"), factors


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


def _solve(data, solver, scale):
    from .solve import Status, solve_pep

    res = solve_pep(data, solver, objective_scale=scale)
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
        The bound to prove (user units), e.g. ``"1/42"``. Without it, the tightest bound the
        procedure of the module notes reaches (about the PEP value times ``1 + 1e-9``).
    support : {"full", "consecutive"}
        Pairs the certificate may use: all, or ``(k, k+1)``, ``(k+1, k)``, ``(*, k)``, ``(k, *)``.
    solver : str
        Backend for the float dual: ``auto`` (``schur`` from ``SCHUR_FROM`` steps on, else
        ``clarabel``), ``schur`` (pepstep's low-rank route; with the full support, on the
        working set of constraint generation), or a cvxpy backend.
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
    if solver == "auto":
        solver = "schur" if n >= SCHUR_FROM else "clarabel"
    if solver == "schur":
        run = _schur_route(rproblem, pairs, mode == "path-star")
        num_epi = n + 1 if problem.measure.value == "mingradnorm" else 0
    else:
        data, num_epi = _with_epigraph(build_pep(rproblem, pairs))
        run, pairs = _dense_route(data, solver, mode == "path-star")
    base = run(None, 1.0)  # the value only sets the margins and the scale below
    if base is None:
        raise SolverError(f"The {solver} solve of the PEP failed; no certificate.")
    tau0 = base["value"]
    trace_g = max(float(np.trace(base["gram"])), 1.0)
    tau_c = None if claimed is None else claimed / scale
    if tau_c is not None and tau_c <= Fraction(tau0) * (1 - Fraction(1, 10**5)):
        raise SolverError(
            f"Cannot prove rate={_q(claimed)}: it is below the PEP value {tau0 * float(scale):.10g} "
            f"on the {support} support."
        )
    margins = [rel * tau0 / trace_g for rel in MARGINS]
    if tau_c is not None:
        room = float(tau_c) - tau0
        margins = [d for d in margins if d * trace_g <= room / 2] or [max(room / (2 * trace_g), 1e-15)]
    best = None
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
            return cert
    what = f"rate={_q(claimed)}" if claimed is not None else "a rate"
    extra = f"; the tightest certificate reached proves {float(best * scale):.10g}" if best else ""
    raise SolverError(
        f"Cannot certify {what} for {problem.schedule.name} on the {support} support: "
        f"no exact certificate found (PEP value {tau0 * float(scale):.10g}){extra}."
    )


def _sort_key(item):
    (i, j), _ = item
    return (-1 if i == "*" else i, -1 if j == "*" else j)


# --------------------------------------------------------------------------- file format

_TOP_KEYS = {
    "format_version",
    "class",
    "L",
    "mu",
    "measure",
    "init",
    "R",
    "steps",
    "normalization",
    "scale",
    "rate",
    "rate_float",
    "tau",
    "multipliers",
    "support",
}


def _bad(msg: str):
    raise CertificateFormatError(f"Malformed certificate: {msg}.")


def _rational(name: str, value) -> Fraction:
    if not isinstance(value, str):
        _bad(f'{name!r} must be a rational string such as "3/2"; got {type(value).__name__}')
    if len(value) > MAX_DIGITS or not _RATIONAL.fullmatch(value):
        _bad(f'{name!r} must be a rational string such as "3/2"; got {value[:40]!r}')
    num, _, den = value.partition("/")
    if den and int(den) == 0:
        _bad(f"{name!r} has a zero denominator; got {value[:40]!r}")
    q = Fraction(int(num), int(den) if den else 1)
    if _q(q) != value:
        _bad(f"{name!r} must be written in lowest terms as {_q(q)!r}; got {value[:40]!r}")
    return q


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            _bad(f"duplicate key {k[:40]!r}")
        out[k] = v
    return out


def _choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        _bad(f"{name!r} must be one of {', '.join(choices)}; got {str(value)[:40]!r}")
    return value


def certificate_from_json(text: str) -> Certificate:
    """Parse and validate the canonical JSON text of a certificate.

    Raises :class:`CertificateFormatError` for anything but a well-formed certificate: bad
    JSON, a text not in the canonical form of :meth:`Certificate.to_json`, a missing or
    unknown key, a wrong type, a malformed rational, an unknown class, measure or support, an
    invalid problem, or inconsistent derived fields (``scale``, ``rate_float``).
    Whether the certificate is *valid* is :func:`verify`'s business.
    """
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicates)
    except CertificateFormatError:
        raise
    except (ValueError, RecursionError) as exc:
        _bad(f"not JSON ({type(exc).__name__})")
    if not isinstance(obj, dict):
        _bad("the top level must be an object")
    missing = sorted(_TOP_KEYS - set(obj) - {"nu"})
    if missing:
        _bad(f"missing key {missing[0]!r}")
    unknown = sorted(set(obj) - _TOP_KEYS - {"nu"})
    if unknown:
        _bad(f"unknown key {unknown[0][:40]!r}")
    if type(obj["format_version"]) is not int or obj["format_version"] != FORMAT_VERSION:
        _bad(f"'format_version' must be {FORMAT_VERSION}; got {str(obj['format_version'])[:40]!r}")
    kind = _choice("class", obj["class"], [c.value for c in ClassKind])
    measure = _choice("measure", obj["measure"], [m.value for m in Measure])
    init = _choice("init", obj["init"], [m.value for m in InitialCondition])
    support = _choice("support", obj["support"], list(_SUPPORTS))
    L, mu, R = (_rational(k, obj[k]) for k in ("L", "mu", "R"))
    try:
        fc = FunctionClass(kind, L=float(L), mu=float(mu))
        if (
            L <= 0
            or R <= 0
            or (kind == "strongly-convex" and not 0 < mu < L)
            or (kind != "strongly-convex" and mu != 0)
        ):
            raise InputError(f"L={_q(L)}, mu={_q(mu)}, R={_q(R)}")
        steps_raw = obj["steps"]
        if not isinstance(steps_raw, list) or not 1 <= len(steps_raw) <= MAX_STEPS:
            _bad(f"'steps' must be a list of 1 to {MAX_STEPS} rationals")
        steps = tuple(_rational(f"steps[{k}]", s) for k, s in enumerate(steps_raw))
        if any(h <= 0 for h in steps):
            raise InputError("a step is <= 0")
        Problem(Schedule(tuple(float(h) for h in steps)), fc, measure, init, float(R))
    except InputError as exc:
        if isinstance(exc, CertificateFormatError):
            raise
        _bad(f"the problem is invalid ({exc})")
    except OverflowError:
        _bad("a parameter is out of range")
    if obj["normalization"] != NORMALIZATION:
        _bad("'normalization' is not the statement of this format version")
    lam_raw = obj["multipliers"]
    if not isinstance(lam_raw, dict):
        _bad("'multipliers' must be an object")
    lam = {}
    for key, val in lam_raw.items():
        mt = _PAIR.fullmatch(key)
        if not mt:
            _bad(f'multiplier key {key[:40]!r} is not a pair such as "3,4" or "*,2"')
        i, j = (p if p == "*" else int(p) for p in mt.groups())
        if _pair_text((i, j)) != key:
            _bad(f"multiplier key {key[:40]!r} is not in canonical form")
        lam[(i, j)] = _rational(f"multipliers[{key}]", val)
    nu = {}
    if measure == Measure.MINGRADNORM.value:
        if not isinstance(obj.get("nu"), dict):
            _bad("'nu' must be an object for measure 'mingradnorm'")
        for key, val in obj["nu"].items():
            if not re.fullmatch(r"0|[1-9][0-9]*", key) or len(key) > 6:
                _bad(f"nu key {key[:40]!r} is not an iterate index")
            nu[int(key)] = _rational(f"nu[{key}]", val)
    elif "nu" in obj:
        _bad("'nu' is only part of a mingradnorm certificate")
    rate, tau = _rational("rate", obj["rate"]), _rational("tau", obj["tau"])
    cert = Certificate(kind, L, mu, measure, init, R, steps, rate, tau, lam, nu, support)
    if _rational("scale", obj["scale"]) != cert.scale:
        _bad(f"'scale' must be {_q(cert.scale)} for this measure, init, L and R")
    if type(obj["rate_float"]) is not float or obj["rate_float"] != float(rate):
        _bad(f"'rate_float' must be float(rate) = {float(rate)!r}")
    if cert.to_json() != text:
        _bad("the text is not in the canonical form written by pepstep (sorted keys, indent 1)")
    return cert


def load_certificate(path) -> Certificate:
    """Read a certificate file (see :func:`certificate_from_json`); never returns a partial one."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            _bad(f"the file has {size} bytes, more than {MAX_FILE_BYTES}")
        raw = p.read_bytes()
    except OSError as exc:
        raise CertificateFormatError(f"Cannot read the certificate {str(p)!r}: {exc.strerror}.") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        _bad("the file is not UTF-8 text")
    return certificate_from_json(text)


# --------------------------------------------------------------------------- proof text


def _point(k) -> str:
    return "*" if k in ("*", STAR) else str(k)


def proof_markdown(cert: Certificate, factors: LDLFactors | None = None) -> str:
    """A human-readable proof: the weighted inequalities and the LDL^T factors of ``S``."""
    report, fac = _verify(cert)
    factors = factors or fac
    n = cert.num_steps
    has_min = _has_minimizer(cert)
    basis = (["x_0 - x*"] if has_min else []) + [f"g_{k}" for k in range(n + 1)]
    lines = [
        f"# Certificate: {cert.measure} <= {_q(cert.rate)} (about {float(cert.rate):.10g})",
        "",
        f"Gradient descent x_(k+1) = x_k - (h_k / L) g_k, N = {n}, class {cert.function_class} "
        f"(L = {_q(cert.L)}, mu = {_q(cert.mu)}), init {cert.init} with size R = {_q(cert.R)}.",
        f"Steps: {', '.join(_q(h) for h in cert.steps)}.",
        "",
        f"Verification: {report.message}.",
        "",
        f"The proof is for the normalized problem (L = 1, R = 1); rate = tau * scale with "
        f"tau = {_q(cert.tau)} and scale = {_q(cert.scale)}.",
        "",
        "## Inequalities and weights",
        "",
        "Each pair (i, j) is the interpolation inequality "
        "f_i >= f_j + <g_j, x_i - x_j> + 1/(2(1 - kappa)) (|g_i - g_j|^2 + kappa |x_i - x_j|^2 "
        f"- 2 kappa <g_j - g_i, x_j - x_i>) with kappa = {_q(_kappa(cert))}, multiplied by lambda_ij.",
        "",
        "| i | j | lambda_ij |",
        "|---|---|---|",
    ]
    lines += [f"| {_point(i)} | {_point(j)} | {_q(v)} |" for (i, j), v in cert.multipliers.items()]
    if cert.nu:
        lines += ["", "Epigraph weights nu_k of min_k |g_k|^2 (sum 1):", ""]
        lines += [f"- nu_{k} = {_q(v)}" for k, v in cert.nu.items()]
    lines += [
        "",
        "Summed, they leave tau R^2 - measure = <S, G> with the Gram matrix G of the basis "
        f"({', '.join(basis)}), so the bound holds because S is PSD:",
        "",
        "## LDL^T of S (symmetric pivoting, exact)",
        "",
    ]
    if factors is not None:
        for idx, (a, d, col) in enumerate(zip(factors.order, factors.pivots, factors.columns)):
            entries = ", ".join(f"L[{basis[b]}] = {_q(_frac(v))}" for b, v in col.items())
            lines.append(
                f"{idx + 1}. pivot {basis[a]}: D = {_q(_frac(d))}" + (f"; {entries}" if entries else "")
            )
    return "\n".join(lines) + "\n"


def _frac(x) -> Fraction:
    if isinstance(x, Fraction):
        return x
    return Fraction(int(x.p), int(x.q))
