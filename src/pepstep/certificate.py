"""Worst-case certificates as data: the :class:`Certificate` record, its file format, its proof text.

A certificate of ``measure <= rate`` is a dual feasible point of the normalized PEP (``L = 1``,
``R = 1``; see :mod:`pepstep.certify` for how one is built). Acceptance is decided by the verifier
kernel alone (:mod:`pepstep.kernel`): :func:`verify` serializes the record and hands the text to it,
so a record and the file written from it always get the same verdict.

File format (``"kind": "worst-case"``, ``"format_version": 2``): one JSON object with exactly the
keys ``kind, format_version, class, L, mu, measure, init, R, steps, support, normalization, scale,
rate, tau, multipliers`` (and ``nu`` for mingradnorm); every number an exact ``"p/q"`` string in
lowest terms; multipliers keyed by pair ``"i,j"`` (``"*"`` for ``x*``). Key order and white space do
not matter; duplicate keys are refused.

Examples
--------
>>> from fractions import Fraction as F
>>> one = {("*", 0): F(1, 2), ("*", 1): F(1, 2), (0, 1): F(1, 2)}
>>> cert = Certificate("convex", F(1), F(0), "fgap", "dist", F(1), (F(1),), F(1, 6), F(1, 6), one)
>>> verify(cert).message                          # 1 / (4N + 2) at N = 1 (Drori & Teboulle)
'valid: f(x_N) - f* <= 1/6 (about 0.1666666667)'
>>> certificate_from_json(cert.to_json()) == cert
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from fractions import Fraction

from . import kernel
from .kernel import NORMALIZATION

__all__ = [
    "FORMAT_VERSION",
    "NORMALIZATION",
    "Certificate",
    "VerifyReport",
    "LDLFactors",
    "verify",
    "certificate_from_json",
    "load_certificate",
    "exact_scale",
    "slack_matrix",
    "identity_residual",
    "proof_markdown",
]

#: Version of the worst-case certificate format written and read here.
FORMAT_VERSION = kernel.VERSIONS[kernel.KIND_RATE]


def exact_scale(measure: str, init: str, L: Fraction, R: Fraction) -> Fraction:
    """Homogeneity factor from the normalized problem (``L = R = 1``) to user units.

    Under init ``dist``: ``fgap`` ``L R^2``, ``gradnorm``/``mingradnorm`` ``L^2 R^2``,
    ``dist`` ``R^2``. Under init ``fgap`` (size Delta = R): ``Delta``, ``L Delta``, ``Delta / L``.

    Examples
    --------
    >>> exact_scale("fgap", "dist", Fraction(2), Fraction(3))
    Fraction(18, 1)
    """
    return kernel._scale(measure, init, Fraction(L), Fraction(R))


def _q(x) -> str:
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def _pair_text(key) -> str:
    return ",".join("*" if p in ("*", -1) else str(int(p)) for p in key)


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
        ``lambda_ij`` of the normalized problem keyed by pair ``(i, j)``, ``"*"`` for ``x*``.
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
    multipliers: dict = field(default_factory=dict, repr=False)
    nu: dict = field(default_factory=dict, repr=False)
    support: str = "full"

    def __repr__(self) -> str:
        return (
            f"Certificate({self.measure} <= {kernel.approx(Fraction(self.rate))}, {self.function_class}, "
            f"N={self.num_steps}, {len(self.multipliers)} multipliers, support={self.support!r})"
        )

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
            "kind": kernel.KIND_RATE,
            "format_version": FORMAT_VERSION,
            "class": self.function_class,
            "L": _q(self.L),
            "mu": _q(self.mu),
            "measure": self.measure,
            "init": self.init,
            "R": _q(self.R),
            "steps": [_q(h) for h in self.steps],
            "support": self.support,
            "normalization": NORMALIZATION,
            "scale": _q(self.scale),
            "rate": _q(self.rate),
            "tau": _q(self.tau),
            "multipliers": {_pair_text(k): _q(v) for k, v in self.multipliers.items()},
        }
        if self.measure == "mingradnorm":
            out["nu"] = {str(k): _q(v) for k, v in self.nu.items()}
        return out

    def to_json(self) -> str:
        """JSON text (sorted keys, one-space indent), as ``pepstep certify --out`` writes it."""
        return json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n"

    def _fields(self) -> dict:
        """The record in the kernel's form, for the exact matrices of :mod:`pepstep.kernel`."""
        key = {"*": "*", -1: "*"}
        return {
            "kind": self.function_class,
            "measure": self.measure,
            "init": self.init,
            "L": Fraction(self.L),
            "mu": Fraction(self.mu),
            "R": Fraction(self.R),
            "steps": [Fraction(h) for h in self.steps],
            "lam": {tuple(key.get(p, p) for p in k): Fraction(v) for k, v in self.multipliers.items()},
            "nu": {int(k): Fraction(v) for k, v in self.nu.items()},
            "tau": Fraction(self.tau),
            "has_min": self.function_class != "nonconvex",
        }


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of :func:`verify`.

    Attributes
    ----------
    valid : bool
        Every check of the kernel held.
    rate : Fraction
        The rate the certificate claims (proved when ``valid``).
    failed_check : str or None
        The first failed check: ``multipliers``, ``tau``, ``nu``, ``identity``, ``rate`` or ``psd``.
    message : str
        One line: ``valid: ... <= p/q`` or what failed, with the offending value.
    """

    valid: bool
    rate: Fraction
    failed_check: str | None
    message: str

    def __repr__(self) -> str:
        verdict = "valid" if self.valid else f"invalid ({self.failed_check})"
        return f"VerifyReport({verdict}, rate={kernel.approx(Fraction(self.rate))})"


@dataclass(frozen=True)
class LDLFactors:
    """``S[perm][:, perm] = L diag(D) L^T`` (exact), as found by :func:`pepstep.kernel.ldl_factor`.

    ``order`` lists the pivot indices in elimination order, ``pivots`` the matching ``D``,
    ``columns[k]`` the nonzero below-diagonal entries ``{index: L value}`` of column k.
    """

    order: tuple
    pivots: tuple
    columns: tuple


def verify(certificate: Certificate) -> VerifyReport:
    """The kernel's verdict on ``certificate`` (its serialized text, exactly as a file would be).

    A record the kernel finds malformed (for example a multiplier on a point outside the problem)
    is reported invalid under the check ``format``.
    """
    from .errors import CertificateFormatError

    rate = Fraction(certificate.rate)
    try:
        v = kernel.verify_text(certificate.to_json())
    except CertificateFormatError as exc:
        return VerifyReport(False, rate, "format", f"invalid: format: {exc}")
    return VerifyReport(v.valid, rate, v.failed_check, v.message)


def certificate_from_json(text) -> Certificate:
    """The :class:`Certificate` of a worst-case certificate text (read by the kernel's parser).

    Raises :class:`pepstep.errors.CertificateFormatError` for a malformed text or a cyclic one.
    """
    from .errors import CertificateFormatError

    kind, c = kernel.parse(text)
    if kind != kernel.KIND_RATE:
        raise CertificateFormatError(
            f"Malformed certificate: expected kind {kernel.KIND_RATE!r}, got {kind!r}."
        )
    return Certificate(
        c["kind"], c["L"], c["mu"], c["measure"], c["init"], c["R"], tuple(c["steps"]), c["rate"],
        c["tau"], c["lam"], c["nu"], c["support"],
    )  # fmt: skip


def load_certificate(path) -> Certificate:
    """Read a worst-case certificate file (see :func:`certificate_from_json`)."""
    from .errors import CertificateFormatError

    try:
        with open(path, "rb") as fh:
            raw = fh.read(kernel.LIMITS["file_bytes"] + 1)
    except OSError as exc:
        raise CertificateFormatError(f"Cannot read the certificate {str(path)!r}: {exc.strerror}.") from None
    return certificate_from_json(raw)


def slack_matrix(cert: Certificate):
    """The exact dual slack ``S`` of a certificate (``flint.fmpq_mat``; :func:`pepstep.kernel.slack`)."""
    return kernel.slack(cert._fields())


def identity_residual(cert: Certificate) -> list:
    """``c_F - sum lambda_ij (e_j - e_i) - tau b_F`` over ``f_0..f_N`` (exact; zero when valid)."""
    return kernel.residual(cert._fields())


def ldl_factors(cert: Certificate) -> tuple[bool, LDLFactors, str | None]:
    """Exact ``LDL^T`` of the certificate's ``S``: ``(psd, factors, reason)``."""
    ok, order, pivots, columns, reason = kernel.ldl_factor(slack_matrix(cert))
    return ok, LDLFactors(tuple(order), tuple(pivots), tuple(columns)), reason


def proof_markdown(cert: Certificate, message: str | None = None) -> str:
    """A human-readable proof: the weighted inequalities and the exact LDL^T factors of ``S``.

    ``message`` is the kernel's verdict line when the caller already has it (else it is computed).
    """
    message = message or verify(cert).message
    _, factors, _ = ldl_factors(cert)
    n = cert.num_steps
    has_min = cert.function_class != "nonconvex"
    kappa = Fraction(-1) if not has_min else Fraction(cert.mu) / Fraction(cert.L)
    basis = (["x_0 - x*"] if has_min else []) + [f"g_{k}" for k in range(n + 1)]
    lines = [
        f"# Certificate: {cert.measure} <= {_q(cert.rate)} (about {kernel.approx(Fraction(cert.rate))})",
        "",
        f"Gradient descent x_(k+1) = x_k - (h_k / L) g_k, N = {n}, class {cert.function_class} "
        f"(L = {_q(cert.L)}, mu = {_q(cert.mu)}), init {cert.init} with size R = {_q(cert.R)}.",
        f"Steps: {', '.join(_q(h) for h in cert.steps)}.",
        "",
        f"Verification: {message}.",
        "",
        f"The proof is for the normalized problem (L = 1, R = 1); rate = tau * scale with "
        f"tau = {_q(cert.tau)} and scale = {_q(cert.scale)}.",
        "",
        "## Inequalities and weights",
        "",
        "Each pair (i, j) is the interpolation inequality "
        "f_i >= f_j + <g_j, x_i - x_j> + 1/(2(1 - kappa)) (|g_i - g_j|^2 + kappa |x_i - x_j|^2 "
        f"- 2 kappa <g_j - g_i, x_j - x_i>) with kappa = {_q(kappa)}, multiplied by lambda_ij.",
        "",
        "| i | j | lambda_ij |",
        "|---|---|---|",
    ]
    lines += [
        f"| {_pair_text((i, j)).replace(',', ' | ')} | {_q(v)} |" for (i, j), v in cert.multipliers.items()
    ]
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
    for idx, (a, d, col) in enumerate(zip(factors.order, factors.pivots, factors.columns)):
        entries = ", ".join(f"L[{basis[b]}] = {_q(kernel._frac(v))}" for b, v in col.items())
        lines.append(
            f"{idx + 1}. pivot {basis[a]}: D = {_q(kernel._frac(d))}" + (f"; {entries}" if entries else "")
        )
    return "\n".join(lines) + "\n"
