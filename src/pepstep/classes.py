"""Function classes, performance measures and initial conditions.

Interpolation conditions (Taylor, Hendrickx & Glineur 2017, Theorem 4 for
``F_{mu,L}``, Theorem 3.10 of the same authors' weakly convex case for L-smooth
nonconvex functions, i.e. ``mu = -L``): for every ordered pair ``(i, j)`` of points,

.. math::

    f_i \\ge f_j + \\langle g_j, x_i - x_j\\rangle + \\frac{1}{2(1 - \\mu/L)}
        \\Big(\\tfrac{1}{L}\\|g_i - g_j\\|^2 + \\mu \\|x_i - x_j\\|^2
        - 2\\tfrac{\\mu}{L} \\langle g_j - g_i, x_j - x_i\\rangle\\Big).

With ``mu = -L`` this is ``f_i - f_j >= 1/2 <g_i + g_j, x_i - x_j> + |g_i - g_j|^2/(4L) -
L |x_i - x_j|^2 / 4``, the L-smooth (nonconvex) condition.

References
----------
A. B. Taylor, J. M. Hendrickx and F. Glineur, "Smooth strongly convex interpolation and
exact worst-case performance of first-order methods", Math. Program. 161, 2017.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from .errors import InputError

__all__ = ["FunctionClass", "Measure", "InitialCondition"]


class _NamedEnum(str, Enum):
    @classmethod
    def parse(cls, value) -> _NamedEnum:
        if isinstance(value, cls):
            return value
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(m.value for m in cls)
            raise InputError(f"Unknown {cls._label()} {value!r}; choose one of: {names}.") from None

    @classmethod
    def _label(cls) -> str:  # pragma: no cover - overridden
        return cls.__name__


class ClassKind(_NamedEnum):
    CONVEX = "convex"
    STRONGLY_CONVEX = "strongly-convex"
    NONCONVEX = "nonconvex"

    @classmethod
    def _label(cls) -> str:
        return "function class"


class Measure(_NamedEnum):
    """Performance measures: what the worst case maximizes.

    ``fgap`` ``f(x_N) - f*``, ``gradnorm`` ``|grad f(x_N)|^2``, ``dist`` ``|x_N - x*|^2``,
    ``mingradnorm`` ``min_k |grad f(x_k)|^2`` over k = 0..N.

    Examples
    --------
    >>> Measure.parse("gradnorm") is Measure.GRADNORM
    True
    """

    FGAP = "fgap"
    GRADNORM = "gradnorm"
    DIST = "dist"
    MINGRADNORM = "mingradnorm"

    @classmethod
    def _label(cls) -> str:
        return "measure"


class InitialCondition(_NamedEnum):
    """Initial conditions: ``dist`` ``|x_0 - x*|^2 <= R^2``, ``fgap`` ``f(x_0) - f* <= Delta``.

    Examples
    --------
    >>> InitialCondition.parse("fgap") is InitialCondition.FGAP
    True
    """

    DIST = "dist"
    FGAP = "fgap"

    @classmethod
    def _label(cls) -> str:
        return "initial condition"


@dataclass(frozen=True)
class FunctionClass:
    """A class of functions: L-smooth convex, L-smooth mu-strongly convex, or L-smooth.

    Attributes
    ----------
    kind : str
        ``"convex"``, ``"strongly-convex"`` or ``"nonconvex"``.
    L : float
        Smoothness constant, finite and > 0.
    mu : float
        Strong convexity constant: 0 for ``convex`` and ``nonconvex``, in (0, L) for
        ``strongly-convex``.

    Examples
    --------
    >>> FunctionClass("strongly-convex", L=2.0, mu=0.1).kappa
    0.05
    """

    kind: str = "convex"
    L: float = 1.0
    mu: float = 0.0

    def __post_init__(self) -> None:
        kind = ClassKind.parse(self.kind)
        object.__setattr__(self, "kind", kind.value)
        L, mu = _finite("L", self.L), _finite("mu", self.mu)
        if L <= 0:
            raise InputError(f"The 'L' parameter must be > 0. Got L={L!r}.")
        if kind is ClassKind.STRONGLY_CONVEX:
            if not 0 < mu < L:
                raise InputError(f"The 'mu' parameter must be in (0, L). Got mu={mu!r} with L={L!r}.")
        elif mu != 0:
            if mu < 0 or mu >= L:
                raise InputError(f"The 'mu' parameter must be in [0, L). Got mu={mu!r} with L={L!r}.")
            raise InputError(
                f"The class {kind.value!r} takes mu=0. Got mu={mu!r}; use class 'strongly-convex'."
            )
        object.__setattr__(self, "L", L)
        object.__setattr__(self, "mu", mu)

    @property
    def has_minimizer(self) -> bool:
        """Whether the PEP includes a minimizer x* (convex classes) or not (nonconvex)."""
        return self.kind != ClassKind.NONCONVEX.value

    @property
    def kappa(self) -> float:
        """``mu / L`` as used in the interpolation inequality (``-1`` for nonconvex)."""
        return -1.0 if self.kind == ClassKind.NONCONVEX.value else self.mu / self.L


def _finite(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"The {name!r} parameter must be a number. Got {name}={value!r}.") from None
    if not math.isfinite(v):
        raise InputError(f"The {name!r} parameter must be finite. Got {name}={v!r}.")
    return v
