r"""The verifier kernel: the one place that decides whether a certificate file proves its claim.

Everything else in pepstep (solvers, rounding, repair, search) only *proposes* certificates;
:func:`verify_text` alone accepts them, for both kinds:

``worst-case``
    ``measure <= rate`` for N steps of gradient descent on a function class (pepstep certify):
    ``lambda, tau, nu >= 0``, ``sum nu = 1`` (mingradnorm), the function-value identity, the
    slack ``S = tau B + sum lambda_ij A_ij - C - sum nu_k g_k g_k^T`` PSD, ``rate = tau scale``.
``grimmer-straightforward``
    a cyclic long-step pattern with certified average step ``(2 sum h - q) / t`` (pepstep certify
    --cyclic): Grimmer's conditions (C1)-(C4) (:mod:`pepstep.cyclic` states them) and
    ``q <= (1 + 10^-6) sum h``.

**What it checks.** Each kind has an exact set of keys (an unknown key, a missing one, or keys of
the other kind are malformed); every number is an integer or a ``"p/q"`` string in lowest terms
(no exponents, floats, JSON infinities, non-ASCII digits); every stated result (``scale``,
``rate``, ``average``, ``valid``, ``support``) is recomputed exactly and must equal what the file
says; every matrix is rebuilt from the class, the steps and the multipliers alone. PSD is decided
exactly (:func:`psd`): a dominance proof whose float Cholesky factor only proposes, or an exact
fraction-free ``LDL^T``, which also decides singular matrices; the cyclic corner
``[[q, m^T], [m, M]]`` is PSD exactly when ``M`` is PD and ``q >= m^T M^{-1} m``. Stated cyclic
bounds ``B(T)`` are recomputed by :func:`cycle_bounds`.

**What it trusts.** Python's integers, ``fractions`` and ``json`` (with every number hook
replaced), python-flint's ``fmpz_mat``/``fmpq_mat`` arithmetic and exact solve; floats only ever
propose. It imports nothing else of pepstep but :mod:`pepstep.errors` (standard library only).

**Limits** (:data:`LIMITS`; outside them the file is malformed, exit 2, naming the field): the file
size, digits per integer (below Python's 4,300-digit conversion limit), steps, multipliers, the
schema's nesting depth. ``python -m pepstep.kernel FILE`` (what ``pepstep verify`` runs) also caps
its CPU time and memory (:data:`WORK_LIMIT_SECONDS`, :data:`WORK_LIMIT_BYTES`); a file that needs
more is refused, never accepted.

Examples
--------
>>> text = ('{"kind": "worst-case", "format_version": 2, "class": "convex", "L": "1", "mu": "0",'
...   ' "measure": "fgap", "init": "dist", "R": "1", "steps": ["1"], "support": "full",'
...   ' "normalization": "' + NORMALIZATION + '", "scale": "1", "rate": "1/6", "tau": "1/6",'
...   ' "multipliers": {"*,0": "1/2", "*,1": "1/2", "0,1": "1/2"}}')
>>> verify_text(text).message
'valid: f(x_N) - f* <= 1/6 (about 0.1666666667)'
"""

from __future__ import annotations

import json
import math
import operator
import re
import sys
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction

from flint import fmpq, fmpq_mat, fmpz, fmpz_mat

from .errors import CertificateFormatError

__all__ = (
    "LIMITS NORMALIZATION Verdict parse verify_text verify_file psd ldl_factor slack cycle_bounds".split()
)

KIND_RATE, KIND_CYCLIC = "worst-case", "grimmer-straightforward"
VERSIONS = {KIND_RATE: 2, KIND_CYCLIC: 2}
#: The statement every worst-case certificate carries: what its multipliers are for.
NORMALIZATION = (
    "multipliers and tau are for the normalized problem L = 1, R = 1 (Delta = 1 under init fgap); "
    "rate = tau * scale"
)
#: A cyclic certificate is valid when ``q <= (1 + RATE_RTOL) sum(h)`` (see :mod:`pepstep.cyclic`).
RATE_RTOL = Fraction(1, 10**6)
#: Input limits: bytes of a file, digits of one integer (numerator or denominator), steps of a
#: worst-case certificate, length of a cyclic pattern, entries of one multiplier table.
LIMITS = {"file_bytes": 32 * 2**20, "digits": 4000, "steps": 512, "pattern": 1023, "multipliers": 400_000}
LIMITS |= {"cycles": 10**5}  # largest T / t of a stated bound B(T)
#: ``python -m pepstep.kernel`` stops (and refuses the file) after this much CPU time or memory.
WORK_LIMIT_SECONDS, WORK_LIMIT_BYTES = 55, 6 * 2**30
_RATE_KEYS = (
    "kind format_version class L mu measure init R steps support normalization scale rate tau multipliers"
)
_KEYS = {KIND_RATE: set(_RATE_KEYS.split()), KIND_CYCLIC: set("kind format_version steps q delta".split())}
_KEYS[KIND_CYCLIC] |= {"average", "lambda", "gamma", "valid", "bounds"}
_RAT = re.compile(r"(-?)(0|[1-9][0-9]*)(?:/([1-9][0-9]*))?", re.ASCII)
_INT = re.compile(r"-?(0|[1-9][0-9]{0,9})", re.ASCII)
_PAIR = re.compile(r"(\*|0|[1-9][0-9]{0,6}),(\*|0|[1-9][0-9]{0,6})", re.ASCII)
_MEASURES = dict(fgap="f(x_N) - f*", gradnorm="|g_N|^2", dist="|x_N - x*|^2", mingradnorm="min_k |g_k|^2")
_CLASSES = ("convex", "strongly-convex", "nonconvex")


@dataclass(frozen=True)
class Verdict:
    """A well-formed certificate's verdict: ``failed_check`` names the first check that failed;
    ``claim`` is what the file states (exact values as ``"p/q"``), proved when ``valid``."""

    valid: bool
    kind: str
    failed_check: str | None
    message: str
    claim: dict = field(repr=False)


def _bad(msg: str):
    raise CertificateFormatError(f"Malformed certificate: {msg}.")


def _q(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def approx(x: Fraction) -> str:
    """``x`` to 10 significant digits, for any size (no float overflow)."""
    with localcontext() as ctx:
        ctx.prec = 10
        d = Decimal(x.numerator) / Decimal(x.denominator)
    return f"{d:.10g}" if abs(d.adjusted()) < 300 else str(d)


def _show(x: Fraction) -> str:
    return _q(x) if max(x.numerator.bit_length(), x.denominator.bit_length()) < 200 else approx(x)


# --------------------------------------------------------------------------- reading
def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            _bad(f"duplicate key {key[:40]!r}")
        out[key] = value
    return out


def _json_int(text: str) -> int:
    if not _INT.fullmatch(text):
        _bad(f"the integer {text[:40]!r} is not a small decimal integer")
    return int(text)


def _refuse(kind: str):
    return lambda text: _bad(
        f'JSON {kind} {text[:40]!r} are not allowed (numbers are integers or "p/q" strings)'
    )


def _load(raw: bytes) -> dict:
    if len(raw) > LIMITS["file_bytes"]:
        _bad(f"the file has {len(raw)} bytes, over the limit of {LIMITS['file_bytes']}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        _bad("the file is not UTF-8 text")
    hooks = dict(parse_int=_json_int, parse_float=_refuse("floats"), parse_constant=_refuse("constants"))
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicates, **hooks)
    except RecursionError:
        _bad("the JSON is nested deeper than the certificate schema allows")
    except ValueError as exc:
        if isinstance(exc, CertificateFormatError):
            raise
        _bad(f"not JSON ({str(exc)[:60]})")
    if not isinstance(obj, dict):
        _bad("the top level must be a JSON object")
    kind = obj.get("kind")
    if type(kind) is not str or kind not in _KEYS:
        _bad(f"'kind' must be {KIND_RATE!r} or {KIND_CYCLIC!r}; got {str(kind)[:40]!r}")
    keys = _KEYS[kind] | ({"nu"} if kind == KIND_RATE and obj.get("measure") == "mingradnorm" else set())
    for extra in sorted(set(obj) - keys):
        other = [k for k in _KEYS if k != kind and extra in _KEYS[k]]
        why = f" (a key of the {other[0]!r} kind)" if other else ""
        _bad(f"unknown key {extra[:40]!r} in a {kind!r} certificate{why}")
    for missing in sorted(keys - set(obj)):
        _bad(f"missing key {missing!r}")
    if type(obj["format_version"]) is not int or obj["format_version"] != VERSIONS[kind]:
        _bad(f"'format_version' must be {VERSIONS[kind]} for kind {kind!r}; got {obj['format_version']!r}")
    return obj


def _rational(name: str, value) -> Fraction:
    if type(value) is not str:
        _bad(f'{name!r} must be a rational string such as "3/2"; got {type(value).__name__}')
    m = _RAT.fullmatch(value)
    if not m:
        _bad(f'{name!r} must be an integer or "p/q" in ASCII digits; got {value[:40]!r}')
    sign, num, den = m.groups()
    if len(num) > LIMITS["digits"] or (den and len(den) > LIMITS["digits"]):
        _bad(f"{name!r} has more than {LIMITS['digits']} digits in one integer")
    q = Fraction(int(sign + num), int(den or 1))
    if (den and (den == "1" or q.denominator != int(den))) or (sign and q == 0):
        _bad(f"{name!r} must be written in lowest terms; got {value[:40]!r}")
    return q


def _choice(obj: dict, name: str, choices) -> str:
    value = obj[name]
    if type(value) is not str or value not in choices:
        _bad(f"{name!r} must be one of {', '.join(choices)}; got {str(value)[:40]!r}")
    return value


def _steps(obj: dict, limit: int) -> list:
    raw = obj["steps"]
    if type(raw) is not list or not 1 <= len(raw) <= limit:
        n = len(raw) if type(raw) is list else type(raw).__name__
        _bad(f"'steps' must be a list of 1 to {limit} rationals; got {n}")
    steps = [_rational(f"steps[{k}]", s) for k, s in enumerate(raw)]
    for k, h in enumerate(steps):
        if h <= 0:
            _bad(f"'steps[{k}]' must be > 0; got {_show(h)}")
    return steps


def _table(name: str, value, kind):
    if type(value) is not kind:
        _bad(f"{name!r} must be a JSON {'object' if kind is dict else 'list'}")
    if len(value) > LIMITS["multipliers"]:
        _bad(f"{name!r} has {len(value)} entries, over the limit of {LIMITS['multipliers']}")
    return value


# --------------------------------------------------------------------------- exact PSD
def _cholesky(A: list, shift: float):
    """Float Cholesky factor of ``A - shift I`` (lists), or None; only ever a proposal."""
    n = len(A)
    L = [[0.0] * n for _ in range(n)]
    for j in range(n):
        Lj = L[j]
        s = A[j][j] - shift - sum(map(operator.mul, Lj[:j], Lj[:j]))
        if not s > 0:
            return None
        Lj[j] = d = math.sqrt(s)
        for i in range(j + 1, n):
            L[i][j] = (A[i][j] - sum(map(operator.mul, L[i][:j], Lj[:j]))) / d
    return L


def _smallest_eigenvalue(L: list) -> float:
    """An estimate of the smallest eigenvalue of ``L L^T`` (inverse iteration)."""
    n = len(L)
    x, est = [1.0 + 0.1 * ((7 * k) % 11) for k in range(n)], 0.0
    for _ in range(12):
        y, z = [0.0] * n, [0.0] * n
        for i in range(n):  # L y = x
            y[i] = (x[i] - sum(map(operator.mul, L[i][:i], y[:i]))) / L[i][i]
        for i in reversed(range(n)):  # L^T z = y
            z[i] = (y[i] - sum(L[j][i] * z[j] for j in range(i + 1, n))) / L[i][i]
        norm = math.sqrt(sum(v * v for v in z))
        if not norm > 0 or not math.isfinite(norm):
            return 0.0
        est = math.sqrt(sum(v * v for v in x)) / norm
        x = [v / norm for v in z]
    return est


def _dominance(S) -> bool:
    """A sufficient exact test that ``S`` (``fmpq_mat``, symmetric) is positive definite: with a
    float Cholesky factor ``L`` of ``S - s I`` (a proposal) rounded to integers over ``2^e``,
    ``E = S - L L^T`` is computed exactly; ``E`` diagonally dominant with a nonnegative diagonal
    is PSD (Gershgorin), so ``S = L L^T + E`` is positive definite."""
    n = S.nrows()
    try:
        A = [[float(x) for x in row] for row in S.tolist()]
    except OverflowError:
        return False
    if not all(math.isfinite(v) for row in A for v in row):
        return False
    L = _cholesky(A, 0.0)
    if L is None:
        return False
    shift = _smallest_eigenvalue(L) / 4
    for _ in range(4):
        L = _cholesky(A, shift)
        if L is not None:
            break
        shift /= 4
    if L is None or not shift > 0:
        return False
    top = max(abs(v) for row in L for v in row)
    e = 60 - math.frexp(top)[1]  # L entries as integers over 2^e, about 60 bits
    Li = fmpz_mat([[round(math.ldexp(v, e)) if v else 0 for v in row] for row in L])
    num, den = S.numer_denom()  # S = num / den with an integer matrix num
    E = (num * fmpz(4) ** e - Li * Li.transpose() * den).tolist()  # = den 4^e (S - L L^T)
    for i, row in enumerate(E):
        if row[i] < sum(abs(x) for x in row) - row[i]:  # E_ii >= sum_{j != i} |E_ij|
            return False
    return all(Li[i, i] > 0 for i in range(n))


def ldl_factor(S):
    """Exact ``LDL^T`` of a symmetric ``fmpq_mat`` with symmetric pivoting (fraction-free).

    Returns ``(psd, order, pivots, columns, reason)``: the pivot indices in elimination order,
    their ``D`` (``fmpq``), the below-diagonal ``L`` entries ``{index: value}`` of each column, and
    why it is not PSD (``None`` when it is). A negative pivot disproves PSD; a zero one needs its
    whole remaining row to vanish. Bareiss' update ``M_ab <- (p_k M_ab - M_ak M_kb) / p_(k-1)``
    keeps the integer matrix ``p_(k-1)`` times the Schur complement, so signs are exact.

    References
    ----------
    E. H. Bareiss, "Sylvester's identity and multistep integer-preserving Gaussian elimination",
    Math. Comp. 22, 1968.
    """
    num, den = S.numer_denom()
    M, scale, prev = num.tolist(), fmpq(1, 1) / den, 1
    active, order, pivots, columns = list(range(len(M))), [], [], []

    def stop(reason):
        return reason is None, order, pivots, columns, reason

    while active:
        for a in active:
            if M[a][a] < 0:
                return stop(f"negative pivot {approx(_frac(fmpq(M[a][a]) * scale / prev))} at index {a}")
            if M[a][a] == 0 and any(M[a][b] for b in active):
                return stop(f"zero pivot at index {a} with a nonzero entry in its row")
        for a in [a for a in active if M[a][a] == 0]:
            active.remove(a)
            order.append(a)
            pivots.append(fmpq(0))
            columns.append({})
        if not active:
            break
        pivot = active.pop(0)  # the first positive diagonal entry
        pk, prow = M[pivot][pivot], M[pivot]
        for a in active:
            row, ra = M[a], M[a][pivot]
            for b in active:
                row[b] = (pk * row[b] - ra * prow[b]) // prev
        order.append(pivot)
        pivots.append(fmpq(pk, prev) * scale)
        columns.append({b: fmpq(prow[b], pk) for b in active if prow[b] != 0})
        prev = pk
    return stop(None)


def psd(S) -> tuple[bool, str | None]:
    """Decide exactly whether a symmetric ``fmpq_mat`` is PSD: ``(ok, reason)``."""
    n = S.nrows()
    if S != S.transpose():
        return False, "the matrix is not symmetric"
    rows = S.tolist()
    keep = []
    for i in range(n):
        if rows[i][i] < 0:
            return False, f"negative diagonal entry at index {i}"
        if rows[i][i] == 0:
            if any(x != 0 for x in rows[i]):
                return False, f"zero diagonal at index {i} with a nonzero entry in its row"
        else:
            keep.append(i)
    if not keep:
        return True, None
    sub = fmpq_mat([[rows[i][j] for j in keep] for i in keep])
    if len(keep) > 8 and _dominance(sub):
        return True, None
    ok, *_, reason = ldl_factor(sub)
    return ok, reason


def _frac(x) -> Fraction:
    return Fraction(int(x.p), int(x.q))


def _fmpq(x: Fraction):
    return fmpq(x.numerator, x.denominator)


# --------------------------------------------------------------------------- worst-case kind
def _scale(measure: str, init: str, L: Fraction, R: Fraction) -> Fraction:
    grad = measure in ("gradnorm", "mingradnorm")
    if init == "dist":
        return L * R * R if measure == "fgap" else (L * L * R * R if grad else R * R)
    return R if measure == "fgap" else (L * R if grad else R / L)


def _read_rate(obj: dict) -> dict:
    kind = _choice(obj, "class", _CLASSES)
    measure = _choice(obj, "measure", tuple(_MEASURES))
    init = _choice(obj, "init", ("dist", "fgap"))
    support = _choice(obj, "support", ("full", "consecutive"))
    L, mu, R = (_rational(k, obj[k]) for k in ("L", "mu", "R"))
    if L <= 0 or R <= 0:
        _bad(f"'L' and 'R' must be > 0; got L={_show(L)}, R={_show(R)}")
    if (kind == "strongly-convex" and not 0 < mu < L) or (kind != "strongly-convex" and mu != 0):
        _bad(f"'mu' must be in (0, L) for class strongly-convex and 0 otherwise; got mu={_show(mu)}")
    if kind == "nonconvex" and (measure in ("fgap", "dist") or init != "fgap"):
        _bad(f"class nonconvex takes init fgap and measure gradnorm or mingradnorm; got {measure}, {init}")
    if kind == "convex" and init == "fgap" and measure == "dist":
        _bad("measure dist under init fgap is unbounded for the convex class")
    steps = _steps(obj, LIMITS["steps"])
    n, has_min = len(steps), kind != "nonconvex"
    if obj["normalization"] != NORMALIZATION:
        _bad("'normalization' is not the statement of this format version")
    lam = {}
    for key, val in _table("multipliers", obj["multipliers"], dict).items():
        m = _PAIR.fullmatch(key)
        if not m:
            _bad(f'multiplier key {key[:40]!r} is not a pair such as "3,4" or "*,2"')
        i, j = (p if p == "*" else int(p) for p in m.groups())
        for p in (i, j):
            if (p == "*" and not has_min) or (p != "*" and p > n):
                _bad(f"multiplier {key!r} names a point outside {'*, ' if has_min else ''}0..{n}")
        if i == j:
            _bad(f"multiplier {key!r} joins a point to itself")
        if support == "consecutive" and "*" not in (i, j) and abs(i - j) != 1:
            _bad(f"multiplier {key!r} is outside the consecutive support")
        lam[(i, j)] = _rational(f"multipliers[{key}]", val)
    nu = {}
    if measure == "mingradnorm":
        for key, val in _table("nu", obj["nu"], dict).items():
            if not re.fullmatch(r"0|[1-9][0-9]{0,6}", key, re.ASCII) or int(key) > n:
                _bad(f"nu key {key[:40]!r} is not an iterate index 0..{n}")
            nu[int(key)] = _rational(f"nu[{key}]", val)
    tau, rate, scale = (_rational(k, obj[k]) for k in ("tau", "rate", "scale"))
    if scale != _scale(measure, init, L, R):
        _bad(f"'scale' must be {_show(_scale(measure, init, L, R))} for this measure, init, L and R")
    return dict(kind=kind, measure=measure, init=init, support=support, L=L, mu=mu, R=R, steps=steps) | dict(
        lam=lam, nu=nu, tau=tau, rate=rate, scale=scale, has_min=has_min
    )


def slack(c: dict):
    """The exact dual slack ``S`` (``fmpq_mat``) of a worst-case certificate (normalized problem).

    With the point coordinates ``X`` and gradients ``Gr`` (rows ``x*`` first when there is a
    minimizer, then ``x_0..x_N``, in the basis ``x_0 - x*, g_0..g_N``), ``W_ij = lambda_ij``,
    ``Dc = diag(W^T 1)`` and the Laplacian ``Lap = diag(W 1 + W^T 1) - W - W^T``:
    ``sum lambda_ij A_ij = sym(Gr^T (W^T - Dc) X) + c Gr^T Lap Gr + c kappa X^T Lap X
    - 2 c kappa sym(Gr^T Lap X)``, ``c = 1 / (2 (1 - kappa))``, ``kappa = mu / L`` (``-1`` nonconvex).
    """
    n, off = len(c["steps"]), 1 if c["has_min"] else 0
    d = n + 1 + off
    h = [_fmpq(x) for x in c["steps"]]
    X, Gr = ([[fmpq(0)] * d], [[fmpq(0)] * d]) if off else ([], [])
    for k in range(n + 1):  # x_k - x* = (x_0 - x*) - sum_{m<k} h_m g_m; g_k a basis vector
        X.append([fmpq(off)] * off + [-h[m] if m < k else fmpq(0) for m in range(n + 1)])
        Gr.append([fmpq(int(a == k + off)) for a in range(d)])
    p = len(X)
    W = [[fmpq(0)] * p for _ in range(p)]
    for (i, j), v in c["lam"].items():
        W[0 if i == "*" else i + off][0 if j == "*" else j + off] = _fmpq(v)
    Wm, Xm, Gm = fmpq_mat(W), fmpq_mat(X), fmpq_mat(Gr)
    rows, cols = [sum(r, fmpq(0)) for r in W], [sum(col, fmpq(0)) for col in zip(*W)]
    Wt = Wm.transpose()
    lap = fmpq_mat([[rows[i] + cols[i] if i == j else fmpq(0) for j in range(p)] for i in range(p)]) - Wm - Wt
    Dc = fmpq_mat([[cols[i] if i == j else fmpq(0) for j in range(p)] for i in range(p)])
    GmT = Gm.transpose()

    def sym(M):
        return (M + M.transpose()) * fmpq(1, 2)

    kappa = fmpq(-1) if not off else _fmpq(c["mu"] / c["L"])
    cc = fmpq(1) / (2 * (1 - kappa))
    S = sym(GmT * ((Wt - Dc) * Xm)) + GmT * (lap * Gm) * cc
    if kappa != 0:
        lapX = lap * Xm
        S = S + Xm.transpose() * lapX * (cc * kappa) - sym(GmT * lapX) * (2 * cc * kappa)
    extra = [[fmpq(0)] * d for _ in range(d)]
    if off and c["init"] == "dist":
        extra[0][0] = _fmpq(c["tau"])
    if c["measure"] == "gradnorm":
        extra[d - 1][d - 1] = fmpq(-1)
    elif c["measure"] == "dist":
        xn = X[-1]
        extra = [[extra[a][b] - xn[a] * xn[b] for b in range(d)] for a in range(d)]
    for k, v in c["nu"].items():
        extra[k + off][k + off] -= _fmpq(v)
    return S + fmpq_mat(extra)


def residual(c: dict) -> list:
    """``c_F - sum lambda_ij (e_j - e_i) - tau b_F`` over ``f_0..f_N`` (zero for a valid certificate)."""
    n = len(c["steps"])
    res = [Fraction(0)] * (n + 1)
    if c["measure"] == "fgap":
        res[n] += 1
    if c["init"] == "fgap":
        res[0] -= c["tau"]
        if not c["has_min"]:
            res[n] += c["tau"]  # nonconvex: the initial condition is f_0 - f_N <= Delta
    for (i, j), v in c["lam"].items():
        if j != "*":
            res[j] -= v
        if i != "*":
            res[i] += v
    return res


def _check_rate(c: dict):
    """The failed check and why, or ``(None, None)``."""
    for key, v in c["lam"].items():
        if v < 0:
            return "multipliers", f"lambda[{key[0]},{key[1]}] = {_show(v)} < 0"
    if c["tau"] < 0:
        return "tau", f"tau = {_show(c['tau'])} < 0"
    if c["measure"] == "mingradnorm" and (any(v < 0 for v in c["nu"].values()) or sum(c["nu"].values()) != 1):
        return "nu", "the nu multipliers must be >= 0 and sum to 1"
    for k, r in enumerate(residual(c)):
        if r:
            return "identity", f"function-value identity off by {_show(r)} at f_{k}"
    if c["rate"] != c["tau"] * c["scale"]:
        return "rate", f"stated rate {_show(c['rate'])} != tau * scale = {_show(c['tau'] * c['scale'])}"
    ok, reason = psd(slack(c))
    return (None, None) if ok else ("psd", f"S is not PSD: {reason}")


# --------------------------------------------------------------------------- cyclic kind
def _read_cyclic(obj: dict) -> dict:
    steps = _steps(obj, LIMITS["pattern"])
    t = len(steps)
    delta, q, average = (_rational(k, obj[k]) for k in ("delta", "q", "average"))
    if obj["valid"] is not True:
        _bad("'valid' must be true: a certificate states a proof")
    if delta <= 0:
        _bad(f"'delta' must be > 0; got {_show(delta)}")
    mult = {}
    for name, lo in (("lambda", 0), ("gamma", -1)):
        table = {}
        for k, entry in enumerate(_table(name, obj[name], list)):
            if type(entry) is not list or len(entry) != 3 or any(type(p) is not int for p in entry[:2]):
                _bad(f"'{name}[{k}]' must be [i, j, \"p/q\"] with integer points")
            i, j = entry[0], entry[1]
            if not (lo <= i <= t and 0 <= j <= t and i != j):
                _bad(f"'{name}[{k}]' names a pair ({i}, {j}) outside the points {'-1 (*), ' * -lo}0..{t}")
            if (i, j) in table:
                _bad(f"'{name}' lists the pair ({i}, {j}) twice")
            table[(i, j)] = _rational(f"{name}[{k}]", entry[2])
        mult[name] = table
    bounds = []
    for k, entry in enumerate(_table("bounds", obj["bounds"], list)):
        if type(entry) is not list or len(entry) != 2 or type(entry[0]) is not int or entry[0] % t:
            _bad(f"'bounds[{k}]' must be [T, \"p/q\"] with T a whole number of cycles of length {t}")
        if not 1 <= entry[0] // t <= LIMITS["cycles"]:
            _bad(f"'bounds[{k}]' has T = {entry[0]}: 1 to {LIMITS['cycles']} cycles")
        bounds.append((entry[0], _rational(f"bounds[{k}]", entry[1])))
    cyc = dict(steps=steps, delta=delta, q=q, average=average, lam=mult["lambda"], gamma=mult["gamma"])
    return cyc | {"bounds": bounds}


def cycle_bounds(total: Fraction, q: Fraction, delta: Fraction, cycles: int) -> list:
    """``B_1..B_cycles``: ``f(x_{nt}) - f* <= B_n L D^2`` from (C1)-(C4) with ``q``, ``Delta``.

    Each cycle gives ``e+ <= (1 - 2 d sum h) e + d^2 q D^2`` for every ``d`` in ``[0, Delta]``
    (:mod:`pepstep.cyclic`); from ``e_0 <= L D^2 / 2`` the best ``d`` is ``min(e sum h / q,
    Delta, 1 / (2 sum h))`` (the cap keeps every slope >= 0, so the map is increasing and may be
    iterated on upper bounds). Each ``B_n`` is rounded up to 62 significant bits, exactly.
    """
    out, e, cap = [], Fraction(1, 2), min(delta, 1 / (2 * total))
    for _ in range(cycles):
        d = min(e * total / q, cap)
        e = (1 - 2 * d * total) * e + d * d * q
        shift = 62 - (e.numerator.bit_length() - e.denominator.bit_length())
        e = Fraction(-((-e.numerator << shift) // e.denominator), 1 << shift) if shift >= 0 else e
        out.append(e)
    return out


def _pattern_matrix(h: list, mult: dict, d: int):
    """``Z(mult) = sum c_ij Z_ij`` (``fmpq_mat``, basis ``u = x_0 - x*, g_0..g_t``), with
    ``Z_ij = sym(g_j (x_i - x_j)^T) + (g_i - g_j)(g_i - g_j)^T / 2``."""
    Z = [[fmpq(0)] * d for _ in range(d)]
    h = [_fmpq(x) for x in h]
    for (i, j), v in mult.items():
        if not v:
            continue
        v = _fmpq(v)
        dx = {0: fmpq(-1)} if i == -1 else {}
        lo, hi, sgn = (0, j, 1) if i == -1 else ((i, j, 1) if i < j else (j, i, -1))
        for k in range(lo, hi):
            dx[k + 1] = sgn * h[k]
        half, gj = v / 2, j + 1
        for a, x in dx.items():
            Z[gj][a] += half * x
            Z[a][gj] += half * x
        gi = None if i == -1 else i + 1
        for a, sa in ((gi, 1), (gj, -1)):
            for b, sb in ((gi, 1), (gj, -1)):
                if a is not None and b is not None:
                    Z[a][b] += half * (sa * sb)
    return fmpq_mat(Z)


def _corner_psd(q: Fraction, m, M) -> bool:
    """``[[q, m^T], [m, M]] >= 0`` exactly (``m`` a column, ``M`` an ``fmpq_mat``)."""
    if M.nrows() > 8 and M == M.transpose() and _dominance(M):  # M is PD: the Schur complement decides
        return _fmpq(q) - (m.transpose() * M.solve(m))[0, 0] >= 0
    rows = [[_fmpq(q)] + [m[a, 0] for a in range(m.nrows())]]
    rows += [[m[a, 0]] + [M[a, b] for b in range(M.ncols())] for a in range(M.nrows())]
    return psd(fmpq_mat(rows))[0]


def _check_cyclic(c: dict):
    h, t = c["steps"], len(c["steps"])
    total = sum(h)
    if c["average"] != (2 * total - c["q"]) / t:
        return "average", f"stated average {_show(c['average'])} != (2 sum(h) - q) / t"
    if not 0 < c["q"] <= (1 + RATE_RTOL) * total:
        return "q", f"q = {_show(c['q'])} is not in (0, (1 + 1e-6) sum(h)]"
    lam, gamma, delta = c["lam"], c["gamma"], c["delta"]
    if any(v < 0 for v in lam.values()):
        return "C3", "a lambda multiplier is negative"
    for key, v in gamma.items():
        if lam.get(key, 0) + delta * v < 0:
            return "C3", f"lambda + Delta gamma < 0 at pair {key}"
    for name, mult, target in (("C1", lam, {0: -1, t: 1}), ("C2", gamma, {0: 2 * total})):
        div = [Fraction(0)] * (t + 1)
        for (i, j), v in mult.items():
            div[j] += v
            if i >= 0:
                div[i] -= v
        if any(div[k] != target.get(k, 0) for k in range(t + 1)):
            return name, "the function-value identity does not hold"
    d = t + 2
    Zl, Zg = _pattern_matrix(h, lam, d), _pattern_matrix(h, gamma, d)
    m = fmpq_mat([[Zg[a, 0]] for a in range(1, d)])
    for theta in (Fraction(0), delta):
        Z = Zl + Zg * _fmpq(theta)
        M = fmpq_mat([[Z[a, b] for b in range(1, d)] for a in range(1, d)])
        if not _corner_psd(c["q"], m, M):
            return "C4", f"the corner matrix is not PSD at theta = {_show(theta)}"
    if c["bounds"]:
        B = cycle_bounds(total, c["q"], delta, max(T for T, _ in c["bounds"]) // t)
        for T, value in c["bounds"]:
            if value != B[T // t - 1]:
                return "bounds", f"stated B({T}) = {_show(value)} != {_show(B[T // t - 1])}"
    return None, None


# --------------------------------------------------------------------------- entry points
def _claim(kind: str, c: dict) -> dict:
    out = {"kind": kind, "steps": [_q(h) for h in c["steps"]]}
    if kind == KIND_CYCLIC:
        out |= {"length": len(c["steps"])} | {k: _q(c[k]) for k in ("average", "q", "delta")}
        return out | {"bounds": [[T, _q(b)] for T, b in c["bounds"]]}
    names = {"class": "kind", "L": "L", "mu": "mu", "measure": "measure", "init": "init", "R": "R"}
    out |= {k: c[v] if isinstance(c[v], str) else _q(c[v]) for k, v in names.items()}
    return out | {"num_steps": len(c["steps"]), "rate": _q(c["rate"])}


def parse(text) -> tuple[str, dict]:
    """``(kind, fields)`` of a well-formed certificate (every field read and range-checked, nothing
    proved yet); raises :class:`pepstep.errors.CertificateFormatError` otherwise."""
    obj = _load(text.encode("utf-8") if isinstance(text, str) else bytes(text))
    return obj["kind"], (_read_rate if obj["kind"] == KIND_RATE else _read_cyclic)(obj)


def verify_text(text) -> Verdict:
    """Check a certificate given as JSON text (``str`` or ``bytes``) in exact arithmetic.

    Raises :class:`pepstep.errors.CertificateFormatError` for a malformed file (exit 2 in the CLI);
    returns a :class:`Verdict` otherwise (``valid`` False names the failed check; exit 1).
    """
    kind, c = parse(text)
    check, why = _check_rate(c) if kind == KIND_RATE else _check_cyclic(c)
    claim = _claim(kind, c)
    if check:
        return Verdict(False, kind, check, f"invalid: {check}: {why}", claim)
    if kind == KIND_CYCLIC:
        avg = c["average"]
        text = f"valid: pattern of length {len(c['steps'])}, certified average step {_show(avg)} (about {approx(avg)})"
    else:
        text = f"valid: {_MEASURES[c['measure']]} <= {_show(c['rate'])} (about {approx(c['rate'])})"
    return Verdict(True, kind, None, text, claim)


def verify_file(path) -> Verdict:
    """:func:`verify_text` of a file (read whole, at most ``LIMITS["file_bytes"]``)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(LIMITS["file_bytes"] + 1)
    except OSError as exc:
        raise CertificateFormatError(f"Cannot read the certificate {str(path)!r}: {exc.strerror}.") from None
    return verify_text(raw)


def _main(argv: list) -> int:
    """``python -m pepstep.kernel FILE``: one JSON line ``{"valid", "message", ...}`` under the work limit."""
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (WORK_LIMIT_SECONDS, WORK_LIMIT_SECONDS + 1))
    resource.setrlimit(resource.RLIMIT_AS, (WORK_LIMIT_BYTES, WORK_LIMIT_BYTES))
    try:
        v = verify_file(argv[0])
        out = {"valid": v.valid, "failed_check": v.failed_check, "message": v.message, "claim": v.claim}
    except CertificateFormatError as exc:
        out = {"malformed": str(exc)}
    except MemoryError:
        out = {"malformed": f"Malformed certificate: checking it needs over {WORK_LIMIT_BYTES} bytes."}
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover - run by pepstep verify
    sys.exit(_main(sys.argv[1:]))
