"""An independent exact checker, written for the tests only (Python fractions, no python-flint).

It rebuilds both certificate kinds from their definitions, pair by pair, and decides PSD by its
own LDL^T; the kernel (:mod:`pepstep.kernel`) shares no code with it. The tests accept a kernel
verdict only where this checker agrees.
"""

from __future__ import annotations

from fractions import Fraction as F


def ldl_psd(rows) -> bool:
    """PSD by LDL^T with symmetric pivoting over fractions (a zero pivot needs a zero row)."""
    M = [list(r) for r in rows]
    if any(M[a][b] != M[b][a] for a in range(len(M)) for b in range(a)):
        return False
    active = list(range(len(M)))
    while active:
        if any(M[a][a] < 0 for a in active):
            return False
        for a in [a for a in active if M[a][a] == 0]:
            if any(M[a][b] != 0 for b in active):
                return False
            active.remove(a)
        if not active:
            return True
        p = active.pop(0)  # every remaining diagonal entry is positive here
        for a in active:
            c = M[a][p] / M[p][p]
            for b in active:
                M[a][b] -= c * M[p][b]
    return True


def _outer(a, b):
    return [[x * y for y in b] for x in a]


def _add(S, M, w):
    for r in range(len(S)):
        for s in range(len(S)):
            S[r][s] += w * M[r][s]


def _sym(M):
    return [[(M[r][s] + M[s][r]) / 2 for s in range(len(M))] for r in range(len(M))]


def scale(measure, init, L, R) -> F:
    """Homogeneity factor of the normalized bound (DESIGN.md section 1), spelled out per case."""
    table = {
        ("fgap", "dist"): L * R**2,
        ("gradnorm", "dist"): L**2 * R**2,
        ("mingradnorm", "dist"): L**2 * R**2,
        ("dist", "dist"): R**2,
        ("fgap", "fgap"): R,
        ("gradnorm", "fgap"): L * R,
        ("mingradnorm", "fgap"): L * R,
        ("dist", "fgap"): R / L,
    }
    return table[(measure, init)]


def worst_case_valid(obj: dict) -> bool:
    """Does the worst-case certificate (its JSON object) prove ``measure <= rate``?"""
    parts = worst_case_parts(obj)
    if parts is None:
        return False
    S, coef, target = parts
    if coef != target:
        return False
    if F(obj["rate"]) != F(obj["tau"]) * scale(obj["measure"], obj["init"], F(obj["L"]), F(obj["R"])):
        return False
    return ldl_psd(S)


def worst_case_parts(obj: dict):
    """``(S, coefficients of f_0..f_N, the measure's coefficients)`` pair by pair, or None when a
    field is outside its range."""
    cls, measure, init = obj["class"], obj["measure"], obj["init"]
    L, mu, R = F(obj["L"]), F(obj["mu"]), F(obj["R"])
    steps = [F(h) for h in obj["steps"]]
    n, has_min = len(steps), cls != "nonconvex"
    if L <= 0 or R <= 0 or any(h <= 0 for h in steps):
        return None
    if not (0 < mu < L if cls == "strongly-convex" else mu == 0):
        return None
    if cls == "nonconvex" and (init != "fgap" or measure in ("fgap", "dist")):
        return None
    d, off = (n + 2, 1) if has_min else (n + 1, 0)

    def x(k):
        v = [F(0)] * d
        if k != "*":
            v[0] = F(1) if has_min else F(0)
            for m in range(k):
                v[m + off] -= steps[m]
        return v

    def g(k):
        v = [F(0)] * d
        if k != "*":
            v[k + off] = F(1)
        return v

    lam = {}
    for key, val in obj["multipliers"].items():
        i, j = (p if p == "*" else int(p) for p in key.split(","))
        if (not has_min and "*" in (i, j)) or i == j or any(p != "*" and not 0 <= p <= n for p in (i, j)):
            return None
        if obj["support"] == "consecutive" and "*" not in (i, j) and abs(i - j) != 1:
            return None
        lam[(i, j)] = F(val)
    nu = {int(k): F(v) for k, v in obj.get("nu", {}).items()} if measure == "mingradnorm" else {}
    tau = F(obj["tau"])
    if tau < 0 or any(v < 0 for v in lam.values()) or any(v < 0 for v in nu.values()):
        return None
    if measure == "mingradnorm" and sum(nu.values()) != 1:
        return None
    kappa = F(mu) / L if has_min else F(-1)
    c = 1 / (2 * (1 - kappa))
    S = [[F(0)] * d for _ in range(d)]
    coef = [F(0)] * (n + 1)  # the function values' coefficients: sum lambda_ij (f_j - f_i) + tau b_F
    for (i, j), w in lam.items():
        u, v = g(j), [a - b for a, b in zip(x(i), x(j))]
        dg = [a - b for a, b in zip(g(i), g(j))]
        _add(S, _sym(_outer(u, v)), w)
        _add(S, _outer(dg, dg), w * c)
        _add(S, _outer(v, v), w * c * kappa)
        _add(S, _sym(_outer(dg, v)), -2 * w * c * kappa)
        if j != "*":
            coef[j] += w
        if i != "*":
            coef[i] -= w
    if init == "dist":
        S[0][0] += tau
    else:
        coef[0] += tau
        if not has_min:
            coef[n] -= tau
    target = [F(0)] * (n + 1)
    if measure == "fgap":
        target[n] = F(1)
    elif measure == "gradnorm":
        _add(S, _outer(g(n), g(n)), F(-1))
    elif measure == "dist":
        _add(S, _outer(x(n), x(n)), F(-1))
    else:
        for k, w in nu.items():
            _add(S, _outer(g(k), g(k)), -w)
    return S, coef, target


def cyclic_valid(obj: dict) -> bool:
    """Do Grimmer's (C1)-(C4) hold, with the stated average and ``q <= (1 + 1e-6) sum(h)``?"""
    h = [F(s) for s in obj["steps"]]
    t, d = len(h), len(h) + 2
    delta, q = F(obj["delta"]), F(obj["q"])
    if delta <= 0 or any(s <= 0 for s in h) or F(obj["average"]) != (2 * sum(h) - q) / t:
        return False
    if q > (1 + F(1, 10**6)) * sum(h) or obj["valid"] is not True:
        return False

    def x(k):  # x_k - x* in the basis (u, g_0..g_t)
        v = [F(0)] * d
        if k >= 0:
            v[0] = F(1)
            for m in range(k):
                v[m + 1] -= h[m]
        return v

    def g(k):
        v = [F(0)] * d
        if k >= 0:
            v[k + 1] = F(1)
        return v

    def Z(mult):
        out = [[F(0)] * d for _ in range(d)]
        for (i, j), w in mult.items():
            dx = [a - b for a, b in zip(x(i), x(j))]
            dg = [a - b for a, b in zip(g(i), g(j))]
            _add(out, _sym(_outer(g(j), dx)), w)
            _add(out, _outer(dg, dg), w / 2)
        return out

    lam = {(i, j): F(v) for i, j, v in obj["lambda"]}
    gam = {(i, j): F(v) for i, j, v in obj["gamma"]}
    if any(not (0 <= i <= t and 0 <= j <= t and i != j) for i, j in lam):
        return False
    if any(not (-1 <= i <= t and 0 <= j <= t and i != j) for i, j in gam):
        return False
    if any(v < 0 for v in lam.values()) or any(lam.get(k, 0) + delta * v < 0 for k, v in gam.items()):
        return False
    for mult, target in ((lam, {0: F(-1), t: F(1)}), (gam, {0: 2 * sum(h)})):
        div = [F(0)] * (t + 1)
        for (i, j), w in mult.items():
            div[j] += w
            if i >= 0:
                div[i] -= w
        if div != [target.get(k, F(0)) for k in range(t + 1)]:
            return False
    Zl, Zg = Z(lam), Z(gam)
    for theta in (F(0), delta):
        corner = [[Zl[a][b] + theta * Zg[a][b] for b in range(d)] for a in range(d)]
        corner[0] = [q] + [Zg[0][b] for b in range(1, d)]
        for a in range(1, d):
            corner[a][0] = Zg[a][0]
        if not ldl_psd(corner):
            return False
    return bounds_hold(obj)  # q > 0 here: the corner holds at theta = 0 with m != 0


def bounds_hold(obj: dict) -> bool:
    """Each stated ``[T, B]`` equals the cycle recursion written out again: from ``e = 1/2``,
    ``d = min(e S / q, Delta, 1 / (2 S))`` and ``e <- (1 - 2 d S) e + d^2 q``, rounded up to 62
    significant bits (``S = sum h``, ``L = D = 1``)."""
    h = [F(x) for x in obj["steps"]]
    S, q, delta, t = sum(h), F(obj["q"]), F(obj["delta"]), len(h)
    want = {T: F(b) for T, b in obj["bounds"]}
    if any(T <= 0 or T % t for T in want):
        return False
    e, n = F(1, 2), 0
    while want and n < max(want) // t:
        d = min(e * S / q, delta, 1 / (2 * S))
        e = (1 - 2 * d * S) * e + d * d * q
        bits = 62 - (e.numerator.bit_length() - e.denominator.bit_length())
        scale = 2**bits
        e = F(-((-e.numerator * scale) // e.denominator), scale)  # ceil(e 2^bits) / 2^bits
        n += 1
        if n * t in want and want[n * t] != e:
            return False
    return True
