r"""Stacks of hyperoptimizers with analytic one-step hypergradients (numpy only).

Chandra, Xie, Ragan-Kelley & Meijer ("Gradient descent: the ultimate optimizer", NeurIPS 2022)
let each optimizer tune the hyperparameters of the one below it by gradient descent. This module
does the same without a deep-learning framework: every optimizer states its update
``p+ = U(p, g, state; theta)`` and the Jacobian ``dU / d theta`` of that update in closed form.

A **stack** ``O_0 / O_1 / ... / O_n`` (height ``n``, the optimizer of the parameters first) runs,
at iteration ``k`` with ``g_k`` the (mini-batch) gradient at ``x_k``:

1. the **one-step hypergradients**, the derivatives of the loss at ``x_k`` in the
   hyperparameters used one iteration earlier, every earlier quantity held fixed ("detached"):

   .. math::

       d_0(k) = J_0(k-1)^T g_k, \qquad d_i(k) = J_i(k-1)^T d_{i-1}(k)\quad (i = 1..n),

   with ``J_0 = d x_k / d theta_0`` and ``J_i = d theta_{i-1} / d theta_i`` the Jacobians of
   the updates made at iteration ``k - 1`` (zero where no update was made yet);
2. from the top down, ``theta_{i-1} <- U_i(theta_{i-1}, d_{i-1}(k); theta_i)`` for
   ``i = n, ..., 1`` (``theta_n`` is the constant at the top);
3. the step of the parameters, ``x_{k+1} = U_0(x_k, g_k; theta_0)``.

At ``k = 0`` no hypergradient exists and only step 3 runs. Height 0 is the bottom optimizer with
constant hyperparameters. The hypergradients of every level are checked against central
finite differences of the one-step loss in ``tests/practice/test_stacks.py``.

Optimizers (hyperparameters in the order of the grammar, the defaults in parentheses):

=============  ==================================  ===============================================
name           hyperparameters                     update (``eps = 1e-8`` inside the square roots)
=============  ==================================  ===============================================
``sgd``        alpha (0.01)                        ``p - alpha g``
``momentum``   alpha (0.01), mu (0.9)              ``b = mu b + g`` (``b = g`` first); ``p - alpha b``
``adam``       alpha (0.001), beta1 (0.9),         ``m, v`` moments, bias-corrected ``m^, v^``;
               beta2 (0.999)                       ``p - alpha m^ / sqrt(v^ + eps)``
``adagrad``    alpha (0.01)                        ``G = G + g^2``; ``p - alpha g / sqrt(G + eps)``
``rmsprop``    alpha (0.01), gamma (0.99)          ``G = gamma G + (1 - gamma) g^2``;
                                                   ``p - alpha g / sqrt(G + eps)``
=============  ==================================  ===============================================

**Reparametrizations.** ``beta1``, ``beta2`` and ``gamma`` are tuned through a real ``z`` with
``beta = (1 + tanh z) / 2``, which keeps them in ``(0, 1)`` whatever the hyperoptimizer does (the
paper's choice for Adam's betas); ``alpha`` and ``mu`` are tuned as they are, as in the paper (a
hyperoptimizer may drive them negative; nothing stops it). The hyperoptimizer of a level works on
that level's internal vector ``theta`` (``alpha``, ``z``...).

**Grammar** (``--schedule stack:...``)::

    stack    := "stack:" level ( "/" level )*          bottom (the parameters' optimizer) first
    level    := name [ "(" [ args ] ")" ]
    name     := "sgd" | "momentum" | "adam" | "adagrad" | "rmsprop"
    args     := value ( "," value )* ( "," key "=" value )*  |  key "=" value ( "," key "=" value )*
    value    := a finite decimal number

positional values fill the hyperparameters in the order of the table; ``stack:adam/sgd(1e-5)``
is the paper's ``Adam(optimizer=SGD(1e-5))``. ``alpha`` must be > 0, ``mu`` in ``[0, 1)``,
``beta1``, ``beta2``, ``gamma`` in ``(0, 1)``; at most :data:`MAX_HEIGHT` levels above the bottom.

Examples
--------
>>> s = parse_stack("stack:adam(alpha=0.01)/sgd(1e-5)")
>>> s.height, s.levels[0].name, s.levels[0].values()["beta1"], s.levels[1].values()["alpha"]
(1, 'adam', 0.9, 1e-05)
>>> parse_stack("stack:sgd(0.1)/sgd(0.01)/sgd(0.001)").label
'stack:sgd(alpha=0.1)/sgd(alpha=0.01)/sgd(alpha=0.001)'

References
----------
K. Chandra, A. Xie, J. Ragan-Kelley and E. Meijer, "Gradient descent: the ultimate optimizer",
NeurIPS 2022 (arXiv:1909.13371), Sections 2-3 (one-step hypergradients through detached
parameters, stacks of SGD, Adam, AdaGrad and RMSProp).

A. G. Baydin, R. Cornish, D. M. Rubio, M. Schmidt and F. Wood, "Online learning rate adaptation
with hypergradient descent", ICLR 2018 (arXiv:1703.04782).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .errors import InputError

__all__ = [
    "Optimizer",
    "OPTIMIZERS",
    "Stack",
    "StackState",
    "StackTrace",
    "parse_stack",
    "stack_step",
    "hypergradients",
    "run_stack",
    "EPS",
    "MAX_HEIGHT",
]

#: The constant inside the square roots of Adam, AdaGrad and RMSProp.
EPS = 1e-8
#: Most levels above the bottom one (each level costs a few vector operations per iteration;
#: the paper studies stacks of height up to 4-5).
MAX_HEIGHT = 50


#: ``|z|`` beyond which ``(1 + tanh z) / 2`` is held constant: there ``beta`` is within
#: 5e-16 of 0 or 1, and closer would round ``1 - beta`` (and Adam's ``1 - beta^t``) to 0.
Z_MAX = 17.5


def _unit(z: float) -> float:
    """``(1 + tanh z) / 2 = 1 / (1 + exp(-2 z))``: the real line onto ``(0, 1)``."""
    return 1.0 / (1.0 + math.exp(-2.0 * min(max(z, -Z_MAX), Z_MAX)))


def _unit_complement(z: float) -> float:
    """``1 - (1 + tanh z) / 2``, without cancellation."""
    return 1.0 / (1.0 + math.exp(2.0 * min(max(z, -Z_MAX), Z_MAX)))


def _unit_prime(z: float) -> float:
    """``d/dz (1 + tanh z) / 2`` (0 where the value is held constant)."""
    return 0.0 if abs(z) > Z_MAX else 2.0 * _unit(z) * _unit_complement(z)


def _one_minus_power(z: float, t: int) -> float:
    """``1 - beta^t`` for ``beta = (1 + tanh z) / 2``, without cancellation."""
    return -math.expm1(-t * math.log1p(math.exp(-2.0 * min(max(z, -Z_MAX), Z_MAX))))


def _unit_inverse(b: float) -> float:
    return math.atanh(2.0 * b - 1.0)


#: name -> (hyperparameters in order, defaults, reparametrized by (1 + tanh z) / 2, allowed range)
_SPECS: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "sgd": (("alpha",), (0.01,)),
    "momentum": (("alpha", "mu"), (0.01, 0.9)),
    "adam": (("alpha", "beta1", "beta2"), (0.001, 0.9, 0.999)),
    "adagrad": (("alpha",), (0.01,)),
    "rmsprop": (("alpha", "gamma"), (0.01, 0.99)),
}
#: Hyperparameters tuned through ``z`` with value ``(1 + tanh z) / 2``.
_SQUASHED = frozenset({"beta1", "beta2", "gamma"})
#: Names of the optimizers of the grammar.
OPTIMIZERS = tuple(_SPECS)


def _check_value(opt: str, key: str, value: float) -> None:
    ok = math.isfinite(value)
    if key == "alpha":
        ok, want = ok and value > 0, "finite and > 0"
    elif key == "mu":
        ok, want = ok and 0 <= value < 1, "in [0, 1)"
    else:
        ok, want = ok and 0 < value < 1, "in (0, 1)"
    if not ok:
        raise InputError(f"The {opt} hyperparameter {key!r} must be {want}. Got {key}={value!r}.")
    if key in _SQUASHED and abs(_unit_inverse(value)) > Z_MAX:
        raise InputError(
            f"The {opt} hyperparameter {key!r} must be in (0, 1) and at least 1e-15 away from 0 and 1. "
            f"Got {key}={value!r}."
        )


@dataclass(frozen=True)
class Optimizer:
    """One level of a stack: an optimizer and the initial values of its hyperparameters.

    Attributes
    ----------
    name : str
        One of :data:`OPTIMIZERS`.
    initial : tuple of float
        The hyperparameters' initial (user) values, in the order of :attr:`keys`.

    Examples
    --------
    >>> Optimizer.make("adam", alpha=0.01).theta0().round(4).tolist()   # alpha, atanh(2 beta - 1)
    [0.01, 1.0986, 3.4534]
    """

    name: str
    initial: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.name not in _SPECS:
            raise InputError(f"Unknown optimizer {self.name!r}; use one of {', '.join(OPTIMIZERS)}.")
        keys = _SPECS[self.name][0]
        if len(self.initial) != len(keys):
            raise InputError(f"The {self.name} optimizer has {len(keys)} hyperparameters {keys}.")
        vals = tuple(float(v) for v in self.initial)
        for k, v in zip(keys, vals):
            _check_value(self.name, k, v)
        object.__setattr__(self, "initial", vals)

    @classmethod
    def make(cls, name: str, **values) -> Optimizer:
        """The optimizer ``name`` with the given hyperparameters, defaults for the others."""
        if name not in _SPECS:
            raise InputError(f"Unknown optimizer {name!r}; use one of {', '.join(OPTIMIZERS)}.")
        keys, defaults = _SPECS[name]
        bad = sorted(set(values) - set(keys))
        if bad:
            raise InputError(
                f"The {name} optimizer has no hyperparameter {bad[0]!r}; it has {', '.join(keys)}."
            )
        return cls(name, tuple(float(values.get(k, d)) for k, d in zip(keys, defaults)))

    @property
    def keys(self) -> tuple[str, ...]:
        """The hyperparameters' names."""
        return _SPECS[self.name][0]

    def values(self, theta=None) -> dict[str, float]:
        """User values of the hyperparameters (initial ones, or those of an internal ``theta``)."""
        if theta is None:
            return dict(zip(self.keys, self.initial))
        return {k: (_unit(float(t)) if k in _SQUASHED else float(t)) for k, t in zip(self.keys, theta)}

    def theta0(self) -> np.ndarray:
        """The internal vector tuned by the level above (``z = atanh(2 beta - 1)`` for betas)."""
        return np.array([_unit_inverse(v) if k in _SQUASHED else v for k, v in zip(self.keys, self.initial)])

    @property
    def text(self) -> str:
        """The level as the grammar writes it, every hyperparameter named."""
        return f"{self.name}({','.join(f'{k}={v:.6g}' for k, v in zip(self.keys, self.initial))})"

    def init_state(self, n: int) -> dict:
        """The optimizer's state for ``n`` parameters (moments at zero, no step taken)."""
        z = np.zeros(n)
        return {"t": 0, "m": z, "v": z.copy()}

    def step(self, p: np.ndarray, g: np.ndarray, state: dict, theta: np.ndarray):
        """One update: ``(p+, new state, J)`` with ``J = d p+ / d theta``, shape ``(n, len(theta))``.

        ``p``, ``g`` and ``state`` are held fixed (the detached history); only ``theta`` varies.
        """
        return _STEPS[self.name](p, g, state, theta)


def _sgd(p, g, state, theta):
    return p - theta[0] * g, state, -g[:, None]


def _momentum(p, g, state, theta):
    alpha, mu = theta
    first = state["t"] == 0
    buf = g if first else mu * state["m"] + g
    J = np.empty((p.size, 2))
    J[:, 0] = -buf
    J[:, 1] = 0.0 if first else -alpha * state["m"]
    return p - alpha * buf, {"t": state["t"] + 1, "m": buf, "v": state["v"]}, J


def _adam(p, g, state, theta):
    alpha, z1, z2 = theta
    b1, b2 = _unit(z1), _unit(z2)
    t = state["t"] + 1
    m = b1 * state["m"] + _unit_complement(z1) * g
    v = b2 * state["v"] + _unit_complement(z2) * g * g
    c1, c2 = _one_minus_power(z1, t), _one_minus_power(z2, t)
    mh, vh = m / c1, v / c2
    root = np.sqrt(vh + EPS)
    d = mh / root
    dmh = (state["m"] - g) / c1 + m * t * b1 ** (t - 1) / c1**2  # d mh / d beta1
    dvh = (state["v"] - g * g) / c2 + v * t * b2 ** (t - 1) / c2**2  # d vh / d beta2
    J = np.empty((p.size, 3))
    J[:, 0] = -d
    J[:, 1] = -alpha * dmh / root * _unit_prime(z1)
    J[:, 2] = 0.5 * alpha * mh / root**3 * dvh * _unit_prime(z2)
    return p - alpha * d, {"t": t, "m": m, "v": v}, J


def _adagrad(p, g, state, theta):
    G = state["v"] + g * g
    d = g / np.sqrt(G + EPS)
    return p - theta[0] * d, {"t": state["t"] + 1, "m": state["m"], "v": G}, -d[:, None]


def _rmsprop(p, g, state, theta):
    alpha, z = theta
    gamma = _unit(z)
    G = gamma * state["v"] + _unit_complement(z) * g * g
    root = np.sqrt(G + EPS)
    J = np.empty((p.size, 2))
    J[:, 0] = -g / root
    J[:, 1] = 0.5 * alpha * g / root**3 * (state["v"] - g * g) * _unit_prime(z)
    return p - alpha * g / root, {"t": state["t"] + 1, "m": state["m"], "v": G}, J


_STEPS = {"sgd": _sgd, "momentum": _momentum, "adam": _adam, "adagrad": _adagrad, "rmsprop": _rmsprop}


@dataclass(frozen=True)
class Stack:
    """A stack of optimizers, the optimizer of the parameters first (``levels[0]``).

    Attributes
    ----------
    levels : tuple of Optimizer
        ``levels[i]`` tunes the hyperparameters of ``levels[i - 1]``; the last one's are constant.
    """

    levels: tuple[Optimizer, ...]

    def __post_init__(self) -> None:
        if not self.levels:
            raise InputError("A stack needs at least one optimizer.")
        if len(self.levels) - 1 > MAX_HEIGHT:
            raise InputError(
                f"A stack has at most {MAX_HEIGHT} levels above the bottom. Got {len(self.levels) - 1}."
            )
        object.__setattr__(self, "levels", tuple(self.levels))

    @property
    def height(self) -> int:
        """Number of hyperoptimizer levels above the bottom optimizer."""
        return len(self.levels) - 1

    @property
    def label(self) -> str:
        return "stack:" + "/".join(o.text for o in self.levels)

    @property
    def bottom_is_sgd(self) -> bool:
        """Whether the parameters move by plain gradient steps ``x - alpha g`` (a schedule)."""
        return self.levels[0].name == "sgd"


_LEVEL = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$", re.DOTALL)


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"Not a number: {text.strip()!r} in {where!r}.") from None
    if not math.isfinite(value):
        raise InputError(f"Hyperparameters must be finite. Got {text.strip()!r} in {where!r}.")
    return value


def _parse_level(part: str, text: str) -> Optimizer:
    m = _LEVEL.match(part)
    if not part.strip() or m is None or (m.group(2) is not None and ("(" in m.group(2) or ")" in m.group(2))):
        raise InputError(
            f"Bad stack level {part.strip()!r} in {text!r}; write NAME or NAME(v1,v2,...,key=v), e.g. adam(0.01)."
        )
    name = m.group(1).lower()
    if name not in _SPECS:
        raise InputError(f"Unknown optimizer {m.group(1)!r} in {text!r}; use one of {', '.join(OPTIMIZERS)}.")
    keys = _SPECS[name][0]
    values: dict[str, float] = {}
    args = m.group(2)
    if args is not None and args.strip():
        keyword_seen = False
        for i, arg in enumerate(args.split(",")):
            key, eq, val = arg.partition("=")
            if eq:
                key = key.strip()
                keyword_seen = True
                if key not in keys:
                    raise InputError(
                        f"The {name} optimizer has no hyperparameter {key!r} (in {text!r}); it has {', '.join(keys)}."
                    )
            else:
                if keyword_seen:
                    raise InputError(f"A positional value after a keyword in {part.strip()!r} (in {text!r}).")
                if i >= len(keys):
                    raise InputError(
                        f"The {name} optimizer takes at most {len(keys)} values ({', '.join(keys)}). "
                        f"Got {part.strip()!r} in {text!r}."
                    )
                key, val = keys[i], arg
            if key in values:
                raise InputError(
                    f"The hyperparameter {key!r} is given twice in {part.strip()!r} (in {text!r})."
                )
            values[key] = _number(val, text)
    try:
        return Optimizer.make(name, **values)
    except InputError as exc:
        raise InputError(f"{exc} (in {text!r})") from None


def parse_stack(text: str) -> Stack:
    """Parse ``stack:LEVEL/LEVEL/...`` (module docstring for the grammar); errors name the bad part."""
    if not isinstance(text, str) or not text.strip().startswith("stack:"):
        raise InputError(
            f"A stack is written stack:NAME(...)/NAME(...), e.g. stack:adam/sgd(1e-5). Got {text!r}."
        )
    body = text.strip()[len("stack:") :]
    if not body.strip():
        raise InputError(f"The stack {text!r} names no optimizer; e.g. stack:adam/sgd(1e-5).")
    if body.count("(") != body.count(")"):
        raise InputError(f"Unbalanced parentheses in the stack {text!r}.")
    parts = body.split("/")
    if len(parts) - 1 > MAX_HEIGHT:
        raise InputError(
            f"A stack has at most {MAX_HEIGHT} levels above the bottom. Got {len(parts) - 1} in {text[:60]!r}."
        )
    return Stack(tuple(_parse_level(p, text) for p in parts))


# --------------------------------------------------------------------------- the stack's iteration


@dataclass
class StackState:
    """Mutable state of a running stack (internal to :func:`run_stack`, exposed for the tests).

    ``thetas[i]`` is the internal hyperparameter vector of level ``i``; ``states[i]`` its
    optimizer's state; ``jacobians[0] = d x / d theta_0`` and ``jacobians[i] = d theta_{i-1} /
    d theta_i`` of the last update (``None`` before any).
    """

    thetas: list
    states: list
    jacobians: list

    @classmethod
    def start(cls, stack: Stack, dim: int) -> StackState:
        thetas = [o.theta0() for o in stack.levels]
        sizes = [dim] + [t.size for t in thetas[:-1]]
        return cls(thetas, [o.init_state(n) for o, n in zip(stack.levels, sizes)], [None] * len(thetas))

    def copy(self) -> StackState:
        return StackState(
            [t.copy() for t in self.thetas], [dict(s) for s in self.states], list(self.jacobians)
        )


def hypergradients(state: StackState, g: np.ndarray) -> list:
    """``d_i = d f(x_k) / d theta_i`` (one step, detached) for every level ``i = 0..n``."""
    out, d = [], g
    for theta, J in zip(state.thetas, state.jacobians):
        d = np.zeros(theta.size) if J is None else J.T @ d
        out.append(d)
    return out


def stack_step(stack: Stack, state: StackState, x: np.ndarray, g: np.ndarray, k: int, perturb=None):
    """One iteration in place on ``state``: hyper-levels from the top down (``k >= 1``), then ``x``.

    ``perturb = (i, delta)`` adds ``delta`` to ``theta_i`` once it is final for this iteration
    (after its own update; the top level's constant for ``i = n``): the one-step loss
    ``f(x+)`` as a function of ``theta_i``, which the finite-difference tests differentiate.
    Returns ``(x+, d)``, ``d`` the hypergradients used (:func:`hypergradients`).
    """
    levels, n = stack.levels, stack.height
    d = hypergradients(state, g)
    if perturb is not None and perturb[0] == n:
        state.thetas[n] = state.thetas[n] + perturb[1]
    if k >= 1:
        for i in range(n, 0, -1):
            th, state.states[i], state.jacobians[i] = levels[i].step(
                state.thetas[i - 1], d[i - 1], state.states[i], state.thetas[i]
            )
            if perturb is not None and perturb[0] == i - 1:
                th = th + perturb[1]
            state.thetas[i - 1] = th
    elif perturb is not None and perturb[0] < n:
        state.thetas[perturb[0]] = state.thetas[perturb[0]] + perturb[1]
    x_new, state.states[0], state.jacobians[0] = levels[0].step(x, g, state.states[0], state.thetas[0])
    return x_new, d


@dataclass(frozen=True, eq=False)
class StackTrace:
    """One run of a stack.

    Attributes
    ----------
    label : str
        The stack as the grammar writes it (every hyperparameter named).
    values : ndarray, shape (iters + 1,)
        ``f(x_k) - f*`` (``f(x_k)`` when ``f*`` is unknown); ``inf`` after a divergence.
    grad_norm : ndarray, shape (iters + 1,)
        ``|grad f(x_k)|`` of the full objective.
    alphas : ndarray, shape (iters,)
        The bottom level's ``alpha`` used at iteration ``k``, in the units of ``x``.
    hyper : ndarray, shape (iters, m)
        The bottom level's hyperparameters (user values, order of :attr:`Optimizer.keys`).
    final_hyper : tuple of dict
        Every level's hyperparameters after the run (user values).
    seconds : float
    """

    label: str
    values: np.ndarray
    grad_norm: np.ndarray
    alphas: np.ndarray
    hyper: np.ndarray
    final_hyper: tuple = field(default=())
    seconds: float = 0.0

    @property
    def iters(self) -> int:
        return int(self.alphas.size)


def run_stack(
    stack: Stack,
    f: Callable[[np.ndarray], float],
    gradient: Callable[[np.ndarray, int], np.ndarray],
    x0: np.ndarray,
    iters: int,
    *,
    f_star: float = 0.0,
    full_grad: Callable[[np.ndarray], np.ndarray] | None = None,
    progress: Callable[[int], None] | None = None,
) -> StackTrace:
    """Run ``stack`` on ``f`` from ``x0`` for ``iters`` iterations.

    Parameters
    ----------
    f : callable
        The objective ``f(x)``, recorded at every ``x_k``.
    gradient : callable
        ``gradient(x, k)``: the gradient the optimizers see at iteration ``k`` (full or
        mini-batch).
    full_grad : callable, optional
        The full gradient, for the recorded ``|grad f(x_k)|`` (default: ``gradient(x, k)``).
    f_star : float
        Subtracted from the recorded values.

    Examples
    --------
    >>> t = run_stack(parse_stack("stack:sgd(0.5)"), lambda x: float(x @ x), lambda x, k: 2 * x, np.ones(2), 1)
    >>> t.values.tolist()                                  # x_1 = x_0 - 0.5 * 2 x_0 = 0
    [2.0, 0.0]
    """
    if not isinstance(iters, (int, np.integer)) or isinstance(iters, bool) or iters < 1:
        raise InputError(f"The 'iters' must be a positive integer. Got iters={iters!r}.")
    iters = int(iters)
    bottom = stack.levels[0]
    values = np.full(iters + 1, np.inf)
    gnorm = np.full(iters + 1, np.inf)
    alphas = np.full(iters, np.nan)
    hyper = np.full((iters, len(bottom.keys)), np.nan)
    x = np.array(x0, dtype=float)
    state = StackState.start(stack, x.size)
    start = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(iters + 1):
            fx = f(x)
            if not math.isfinite(fx):
                break
            values[k] = fx - f_star
            g = gradient(x, k)
            gnorm[k] = float(np.linalg.norm(g if full_grad is None else full_grad(x)))
            if k == iters or not np.all(np.isfinite(g)):
                break
            x, _ = stack_step(stack, state, x, g, k)
            alphas[k] = state.thetas[0][0]
            hyper[k] = list(bottom.values(state.thetas[0]).values())
            if progress is not None and (k + 1) % 100 == 0:
                progress(100)
    if progress is not None:
        progress(iters % 100)
    final = tuple(o.values(t) for o, t in zip(stack.levels, state.thetas))
    return StackTrace(stack.label, values, gnorm, alphas, hyper, final, time.perf_counter() - start)
