"""Schedules in practice: certified schedules and hypergradient tuning on real smooth problems.

A worst-case certificate answers "how bad can it get"; this module answers "what happens on
my problem", and checks the one against the other. It holds

- :class:`SmoothProblem`, a small frozen record (``f``, ``grad``, ``L``, ``x0``, ``f_star``,
  ``x_star``) for an L-smooth convex function whose smoothness constant is known *exactly*
  and whose optimal value was computed once to high accuracy (users can build their own);
- shipped problems (:func:`load_problem`): least squares and L2-regularized logistic
  regression on data sets bundled with scikit-learn (no download), and two synthetic
  functions shaped like the worst cases of gradient descent (a quadratic with a log-spaced
  spectrum, a Huber regression started in its linear region);
- runners returning a frozen :class:`Trace`: gradient descent with any
  :class:`~pepstep.schedules.Schedule` (:func:`run_schedule`, cycled past its end) and
  stacked hypergradient descent on the step size (:func:`run_hypergradient`);
- the PEP bound beside the run (:func:`schedule_bounds`): the exact worst case
  ``w(h) L |x_0 - x*|^2`` of the first ``N`` steps, which the observed ``f(x_N) - f*``
  can never exceed;
- a figure (:func:`plot_practice`).

Gradient descent here is ``x_{k+1} = x_k - (h_k / L) grad f(x_k)``, with normalized steps
``h_k`` as everywhere in pepstep.

Examples
--------
>>> from pepstep import silver
>>> p = load_problem("least_squares:diabetes")
>>> p.dim, round(p.L, 6)
(10, 4.024211)
>>> t = run_schedule(p, silver(7), 7)
>>> bool(t.f_gap[-1] <= 0.0307 * p.L * p.R ** 2)   # silver N = 7: w = 1 / (4 rho^3 - 2)
True

References
----------
A. G. Baydin, R. Cornish, D. M. Rubio, M. Schmidt and F. Wood, "Online learning rate
adaptation with hypergradient descent", ICLR 2018 (arXiv:1703.04782), Section 2.

K. Chandra, A. Xie, J. Ragan-Kelley and E. Meijer, "Gradient descent: the ultimate
optimizer", NeurIPS 2022 (arXiv:1909.13371), Sections 2-3.

Y. Drori and M. Teboulle, "Performance of first-order methods for smooth convex
minimization: a novel approach", Math. Program. 145, 2014.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from .errors import InputError
from .schedules import Schedule, parse_schedule, parse_steps
from .stacks import Stack, parse_stack, run_stack

__all__ = [
    "SmoothProblem",
    "Trace",
    "Bound",
    "ScheduleMethod",
    "HypergradientMethod",
    "PROBLEMS",
    "load_problem",
    "least_squares",
    "logistic_regression",
    "quadratic_spectrum",
    "huber_regression",
    "reference_solve",
    "run_schedule",
    "run_hypergradient",
    "run_method",
    "parse_method",
    "schedule_bounds",
    "pep_value",
    "plot_practice",
    "GTOL_REFERENCE",
    "StackMethod",
    "run_stack_on",
    "LearnedBound",
    "learned_bounds",
    "MLPProblem",
    "MinibatchProblem",
    "mlp_digits",
    "load_objective",
    "parse_problem_spec",
    "problem_names",
    "gradient_oracle",
]

#: BLAS threads of a run: the shipped problems' products are small (at most 1797 x 64), and
#: on this 2-core machine one thread ran the MLP's matrix products 20x faster than two.
RUN_BLAS_THREADS = 1

#: Gradient norm (relative to ``|grad f(x0)|``) the reference solve must reach; with
#: strong convexity ``mu`` the error in ``f*`` is at most ``|grad f|^2 / (2 mu)``.
GTOL_REFERENCE = 1e-12


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True, eq=False)
class SmoothProblem:
    """An L-smooth convex function with a known optimum, to run gradient descent on.

    Attributes
    ----------
    name : str
        The spec it is loaded by, e.g. ``"logistic:breast_cancer"``.
    f, grad : callable
        ``f(x) -> float`` and ``grad(x) -> ndarray``.
    L : float
        The smoothness constant, exactly (``sup_x ||hess f(x)||``), not a bound found by
        line search: the PEP bound is ``w(h) L |x_0 - x*|^2`` with this ``L``.
    x0 : ndarray
        Starting point.
    f_star : float
        The optimal value, from :func:`reference_solve` (or a closed form).
    x_star : ndarray or None
        A minimizer (the one nearest to ``x0`` if there are several), when known.
    description : str
        One line: the data, the model, the solve that gave ``f_star``.
    sample_grad : callable or None
        ``sample_grad(x, rows)``: the gradient of the mean loss over the data rows ``rows``
        (the mini-batch gradient; ``None`` for a function that is not a sum over samples).
    num_samples : int
        Number of data rows (0 without ``sample_grad``).
    """

    name: str
    f: Callable[[np.ndarray], float]
    grad: Callable[[np.ndarray], np.ndarray]
    L: float
    x0: np.ndarray
    f_star: float
    x_star: np.ndarray | None = None
    description: str = ""
    sample_grad: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    num_samples: int = 0

    #: Why no PEP bound applies to a run on this problem (``None``: it does).
    pep_note = None

    def __post_init__(self) -> None:
        if not (isinstance(self.L, (int, float)) and math.isfinite(self.L) and self.L > 0):
            raise InputError(f"The 'L' parameter must be finite and > 0. Got L={self.L!r}.")
        x0 = np.array(self.x0, dtype=float)
        x0.setflags(write=False)
        object.__setattr__(self, "x0", x0)
        if self.x_star is not None:
            xs = np.array(self.x_star, dtype=float)
            if xs.shape != x0.shape:
                raise InputError(f"x_star must have the shape of x0 {x0.shape}. Got {xs.shape}.")
            xs.setflags(write=False)
            object.__setattr__(self, "x_star", xs)

    @property
    def dim(self) -> int:
        """Number of variables."""
        return int(self.x0.size)

    @property
    def R(self) -> float | None:
        """``|x_0 - x*|``, the distance the PEP bound is scaled by (``None`` without ``x*``)."""
        return None if self.x_star is None else float(np.linalg.norm(self.x0 - self.x_star))


def _standardize(X: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance per column; constant columns are left at zero."""
    sd = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def _sigma_max_sq(A: np.ndarray) -> float:
    return float(np.linalg.norm(A, 2) ** 2)


def reference_solve(f, grad, hess, x_init, *, gtol: float = GTOL_REFERENCE, max_newton: int = 50):
    """High-accuracy minimizer: L-BFGS (scipy) with a tight tolerance, then Newton steps.

    Newton's method with the exact Hessian and a backtracking (Armijo) line search polishes
    the L-BFGS point until ``|grad f(x)| <= gtol * max(1, |grad f(x_init)|)``.

    Returns
    -------
    x : ndarray
    grad_norm : float
        ``|grad f(x)|`` at the returned point (the verification).

    Raises
    ------
    InputError
        If the gradient norm does not reach the tolerance (the problem is then not
        suitable as a reference).
    """
    from scipy.optimize import minimize

    g0 = float(np.linalg.norm(grad(x_init)))
    target = gtol * max(1.0, g0)
    res = minimize(
        f,
        x_init,
        jac=grad,
        method="L-BFGS-B",
        options={"maxiter": 20000, "gtol": 1e-10, "ftol": 1e-15, "maxcor": 30},
    )
    x = np.asarray(res.x, dtype=float)
    g = grad(x)
    for _ in range(max_newton):
        if np.linalg.norm(g) <= target:
            break
        d = -np.linalg.lstsq(hess(x), g, rcond=None)[0]
        fx, t = f(x), 1.0
        while t > 1e-12 and f(x + t * d) > fx + 1e-4 * t * float(g @ d):
            t *= 0.5
        x = x + t * d
        g = grad(x)
    gn = float(np.linalg.norm(g))
    if gn > target:
        raise InputError(f"The reference solve did not converge: |grad f(x*)| = {gn:.3e} > {target:.3e}.")
    return x, gn


def least_squares(A, b, name: str = "least_squares:custom", x0=None) -> SmoothProblem:
    """Least squares ``f(x) = |A x - b|^2 / (2 m)``, ``L = sigma_max(A)^2 / m`` exactly.

    ``x*`` is the minimum-norm least-squares solution shifted to be nearest to ``x0``
    (numpy ``lstsq``, a direct solve), verified by the gradient norm.

    Examples
    --------
    >>> p = least_squares(np.eye(2), np.array([1.0, 2.0]))
    >>> p.L, p.f_star, p.x_star.tolist()
    (0.5, 0.0, [1.0, 2.0])
    """
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    m, n = A.shape
    x0 = np.zeros(n) if x0 is None else np.asarray(x0, dtype=float)

    def f(x):
        r = A @ x - b
        return float(r @ r) / (2 * m)

    def grad(x):
        return A.T @ (A @ x - b) / m

    def sample_grad(x, rows):
        Ar = A[rows]
        return Ar.T @ (Ar @ x - b[rows]) / len(rows)

    # the minimizer nearest to x0: x0 + argmin-norm of |A d - (b - A x0)|
    xs = x0 + np.linalg.lstsq(A, b - A @ x0, rcond=None)[0]
    _verify_stationary(grad, xs, x0, name)
    return SmoothProblem(
        name,
        f,
        grad,
        _sigma_max_sq(A) / m,
        x0,
        f(xs),
        xs,
        f"least squares |Ax-b|^2/(2m), A {m}x{n}, x* by lstsq",
        sample_grad,
        m,
    )


def logistic_regression(A, y, reg: float, name: str = "logistic:custom", x0=None) -> SmoothProblem:
    """L2-regularized logistic regression, labels ``y`` in {-1, 1}.

    ``f(x) = (1/m) sum_i log(1 + exp(-y_i a_i.x)) + (reg/2) |x|^2``; its Hessian is
    ``A^T D A / m + reg I`` with ``D = diag(s_i (1 - s_i)) <= I/4``, attained at ``x = 0``,
    so ``L = sigma_max(A)^2 / (4 m) + reg`` exactly. ``f`` is ``reg``-strongly convex, so
    ``x*`` is unique and ``f(x*) - f* <= |grad f(x*)|^2 / (2 reg)``.
    """
    A = np.asarray(A, dtype=float)
    y = np.asarray(y, dtype=float)
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise InputError("The logistic labels must be -1 or 1.")
    if not reg > 0:
        raise InputError(f"The 'reg' parameter must be > 0. Got reg={reg!r}.")
    m, n = A.shape
    Ay = A * y[:, None]
    x0 = np.zeros(n) if x0 is None else np.asarray(x0, dtype=float)

    def f(x):
        return float(np.mean(np.logaddexp(0.0, -(Ay @ x)))) + 0.5 * reg * float(x @ x)

    def grad(x):
        s = _sigmoid(-(Ay @ x))  # = 1 - sigmoid(y a.x)
        return -(Ay.T @ s) / m + reg * x

    def sample_grad(x, rows):
        Ar = Ay[rows]
        return -(Ar.T @ _sigmoid(-(Ar @ x))) / len(rows) + reg * x

    def hess(x):
        s = _sigmoid(Ay @ x)
        return (A.T * (s * (1 - s))) @ A / m + reg * np.eye(n)

    xs, gn = reference_solve(f, grad, hess, x0)
    return SmoothProblem(
        name,
        f,
        grad,
        _sigma_max_sq(A) / (4 * m) + reg,
        x0,
        f(xs),
        xs,
        f"logistic regression, reg={reg:g}, A {m}x{n}, x* by L-BFGS + Newton (|grad| = {gn:.1e})",
        sample_grad,
        m,
    )


def _sigmoid(t):
    return np.exp(-np.logaddexp(0.0, -t))


def quadratic_spectrum(
    dim: int = 200, L: float = 2.0, cond: float = 1e4, name: str = "quadratic:spectrum"
) -> SmoothProblem:
    """``f(x) = (1/2) sum_i lambda_i x_i^2`` with ``lambda`` log-spaced on ``[L/cond, L]``.

    A worst-case-like quadratic: every scale ``1 / (N h)`` of the PEP's worst quadratic is
    present, so for every N some eigenvalue is the slow one. ``x* = 0``, ``f* = 0`` and
    ``L = max lambda`` exactly; ``x0`` has all coordinates equal, ``|x0| = 1``.
    """
    lam = L * np.logspace(-math.log10(cond), 0.0, dim)

    def f(x):
        return 0.5 * float(lam @ (x * x))

    def grad(x):
        return lam * x

    return SmoothProblem(
        name,
        f,
        grad,
        float(lam.max()),
        np.full(dim, 1 / math.sqrt(dim)),
        0.0,
        np.zeros(dim),
        f"quadratic, {dim} log-spaced eigenvalues in [L/{cond:g}, L]",
    )


def huber_regression(
    m: int = 400,
    n: int = 40,
    delta: float = 1.0,
    shift: float = 30.0,
    col_cond: float = 100.0,
    seed: int = 0,
    name: str = "huber:synthetic",
) -> SmoothProblem:
    """Huber regression ``f(x) = (1/m) sum_i phi(a_i.x - b_i)``, started in the linear region.

    ``phi(r) = r^2/2`` for ``|r| <= delta`` and ``delta (|r| - delta/2)`` beyond; the Hessian
    ``A^T diag(1{|r_i| < delta}) A / m`` is at most ``A^T A / m``, with equality at the
    planted ``x_true`` (``b = A x_true + noise``, ``|noise| < delta / 2``), so
    ``L = sigma_max(A)^2 / m`` exactly. ``x0 = x_true + shift u`` for a random unit ``u``
    starts far out where ``f`` is piecewise linear, like the Huber worst case of gradient
    descent (Drori & Teboulle 2014). ``A`` is Gaussian (seeded) with column scales
    log-spaced from 1 down to ``1 / col_cond``, so that the quadratic region is ill-conditioned.
    """
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)) * np.logspace(0.0, -math.log10(col_cond), n)
    x_true = rng.standard_normal(n)
    b = A @ x_true + rng.uniform(-delta / 2, delta / 2, m)
    u = rng.standard_normal(n)
    x0 = x_true + shift * u / np.linalg.norm(u)

    def f(x):
        r = np.abs(A @ x - b)
        return float(np.mean(np.where(r <= delta, 0.5 * r * r, delta * (r - 0.5 * delta))))

    def grad(x):
        r = A @ x - b
        return A.T @ np.clip(r, -delta, delta) / m

    def sample_grad(x, rows):
        Ar = A[rows]
        return Ar.T @ np.clip(Ar @ x - b[rows], -delta, delta) / len(rows)

    def hess(x):
        w = (np.abs(A @ x - b) < delta).astype(float)
        return (A.T * w) @ A / m

    xs, gn = reference_solve(f, grad, hess, x0)
    return SmoothProblem(
        name,
        f,
        grad,
        _sigma_max_sq(A) / m,
        x0,
        f(xs),
        xs,
        f"Huber regression delta={delta:g}, A {m}x{n} (seed {seed}), x0 at distance "
        f"{shift:g} from x_true, x* by L-BFGS + Newton (|grad| = {gn:.1e})",
        sample_grad,
        m,
    )


def _verify_stationary(grad, xs, x0, name):
    gn = float(np.linalg.norm(grad(xs)))
    target = GTOL_REFERENCE * max(1.0, float(np.linalg.norm(grad(x0))))
    if gn > target:
        raise InputError(f"The reference solve of {name!r} did not converge: |grad f(x*)| = {gn:.3e}.")


def _sklearn_data(name: str):
    from sklearn import datasets

    loader = {
        "breast_cancer": datasets.load_breast_cancer,
        "diabetes": datasets.load_diabetes,
        "digits": datasets.load_digits,
    }[name]
    data = loader()
    return np.asarray(data.data, dtype=float), np.asarray(data.target, dtype=float)


#: Regularization of the shipped logistic problems.
LOGISTIC_REG = 1e-3


def _ls_diabetes():
    X, t = _sklearn_data("diabetes")
    return least_squares(_standardize(X), (t - t.mean()) / t.std(), "least_squares:diabetes")


def _ls_breast_cancer():
    X, t = _sklearn_data("breast_cancer")
    return least_squares(_standardize(X), 2 * t - 1, "least_squares:breast_cancer")


def _logistic(dataset: str, labels):
    X, t = _sklearn_data(dataset)
    A = np.hstack([_standardize(X), np.ones((X.shape[0], 1))])  # features + intercept
    return logistic_regression(A, labels(t), LOGISTIC_REG, f"logistic:{dataset}")


#: The shipped problems: spec -> (builder, one-line description).
PROBLEMS: dict[str, tuple[Callable[[], SmoothProblem], str]] = {
    "least_squares:diabetes": (_ls_diabetes, "diabetes (442 x 10), standardized features and target"),
    "least_squares:breast_cancer": (
        _ls_breast_cancer,
        "breast cancer (569 x 30), standardized, target -1/+1",
    ),
    "logistic:breast_cancer": (
        lambda: _logistic("breast_cancer", lambda t: 2 * t - 1),
        "breast cancer (569 x 30 + intercept), malignant -1 / benign +1, reg 1e-3",
    ),
    "logistic:digits": (
        lambda: _logistic("digits", lambda t: np.where(t % 2 == 1, 1.0, -1.0)),
        "digits (1797 x 64 + intercept), odd digits +1 / even -1, reg 1e-3",
    ),
    "quadratic:spectrum": (quadratic_spectrum, "200-dim quadratic, log-spaced spectrum [2e-4, 2]"),
    "huber:synthetic": (huber_regression, "Huber regression 400 x 40 started in the linear region"),
}


def load_problem(spec: str, cache_dir=None) -> SmoothProblem:
    """A shipped problem by name, e.g. ``"logistic:breast_cancer"`` (see :data:`PROBLEMS`).

    The reference solve runs once per process (kept in memory). With ``cache_dir`` the
    reference ``x*`` is also stored there as ``<spec>.npz`` (keyed by a hash of the data's
    first gradient) and re-verified by its gradient norm when read back. Nothing is ever
    downloaded: the data sets ship with scikit-learn.
    """
    if not isinstance(spec, str) or spec not in PROBLEMS:
        raise InputError(f"Unknown problem {spec!r}; known: {', '.join(PROBLEMS)}.")
    if cache_dir is None:
        return _load_cached(spec)
    return _load_with_dir(spec, Path(cache_dir))


@functools.cache
def _load_cached(spec: str) -> SmoothProblem:
    return PROBLEMS[spec][0]()


def _load_with_dir(spec: str, cache_dir: Path) -> SmoothProblem:
    if not cache_dir.is_dir():
        raise InputError(f"The cache folder {str(cache_dir)!r} does not exist.")
    p = _load_cached(spec)
    key = hashlib.sha256(np.ascontiguousarray(p.grad(p.x0)).tobytes()).hexdigest()[:16]
    path = cache_dir / f"{spec.replace(':', '_')}.npz"
    if path.exists():
        with np.load(path) as z:
            if str(z["key"]) == key:
                xs = z["x_star"]
                _verify_stationary(p.grad, xs, p.x0, spec)
                return dataclasses.replace(p, f_star=p.f(xs), x_star=xs)
    if p.x_star is not None:
        np.savez(path, key=key, x_star=p.x_star)
    return p


# --------------------------------------------------------------------------- other objectives

#: Hidden units of ``mlp:digits``.
MLP_HIDDEN = 32
#: Most rows per mini-batch a spec may ask for (the largest shipped data set has 1797 rows).
MAX_BATCH = 100_000


@dataclass(frozen=True, eq=False)
class MLPProblem:
    """A small multilayer perceptron on scikit-learn's digits: nonconvex, no known ``L``.

    ``f(x)`` is the mean softmax cross-entropy of a ``64 - H - 10`` network with ``tanh``
    hidden units (``H = MLP_HIDDEN``) on the 1797 digits images (pixels standardized), ``x`` its
    weights and biases flattened (2410 numbers for H = 32), ``x0`` a seeded Glorot-style start.
    There is no ``f*``, no ``x*`` and no smoothness constant: no PEP bound applies
    (:attr:`pep_note`).

    Attributes
    ----------
    name, description : str
    f, grad, sample_grad : callable
        As in :class:`SmoothProblem` (``grad`` by backpropagation).
    x0 : ndarray
    num_samples : int
    """

    name: str
    f: Callable[[np.ndarray], float]
    grad: Callable[[np.ndarray], np.ndarray]
    sample_grad: Callable[[np.ndarray, np.ndarray], np.ndarray]
    x0: np.ndarray
    num_samples: int
    description: str = ""

    L = None
    f_star = None
    x_star = None
    R = None
    pep_note = "no PEP bound: nonconvex, L unknown"

    @property
    def dim(self) -> int:
        return int(self.x0.size)


def mlp_digits(hidden: int = MLP_HIDDEN, seed: int = 0) -> MLPProblem:
    """The ``mlp:digits`` problem (:class:`MLPProblem`)."""
    X, t = _sklearn_data("digits")
    X = _standardize(X)
    Y = np.eye(10)[t.astype(int)]
    m, d = X.shape
    shapes = [(d, hidden), (hidden,), (hidden, 10), (10,)]
    sizes = [int(np.prod(sh)) for sh in shapes]
    cuts = np.cumsum(sizes)[:-1]
    rng = np.random.default_rng(seed)
    x0 = np.concatenate(
        [
            rng.standard_normal(sizes[0]) / math.sqrt(d),
            np.zeros(hidden),
            rng.standard_normal(sizes[2]) / math.sqrt(hidden),
            np.zeros(10),
        ]
    )

    def unpack(x):
        W1, b1, W2, b2 = np.split(x, cuts)
        return W1.reshape(shapes[0]), b1, W2.reshape(shapes[2]), b2

    last: dict = {}  # the full-batch forward pass at the last x, reused by grad(x) after f(x)

    def forward(x, rows):
        if rows is None and "x" in last and np.array_equal(last["x"], x):
            return last["fwd"]
        W1, b1, W2, b2 = unpack(x)
        Xr, Yr = (X, Y) if rows is None else (X[rows], Y[rows])
        H = np.tanh(Xr @ W1 + b1)
        Z = H @ W2 + b2
        Z = Z - Z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(Z).sum(axis=1))
        fwd = (W2, Xr, Yr, H, Z, lse, float(np.mean(lse - (Z * Yr).sum(axis=1))))
        if rows is None:
            last.update(x=x.copy(), fwd=fwd)
        return fwd

    def loss_grad(x, rows, want_grad):
        W2, Xr, Yr, H, Z, lse, loss = forward(x, rows)
        if not want_grad:
            return loss, None
        P = np.exp(Z - lse[:, None])
        dZ = (P - Yr) / Xr.shape[0]
        dH = (dZ @ W2.T) * (1 - H * H)
        return loss, np.concatenate([(Xr.T @ dH).ravel(), dH.sum(0), (H.T @ dZ).ravel(), dZ.sum(0)])

    return MLPProblem(
        "mlp:digits",
        lambda x: loss_grad(x, None, False)[0],
        lambda x: loss_grad(x, None, True)[1],
        lambda x, rows: loss_grad(x, rows, True)[1],
        x0,
        m,
        f"MLP 64-{hidden}-10 (tanh, softmax cross-entropy) on digits ({m} images), "
        f"{x0.size} weights, seeded start {seed}",
    )


@dataclass(frozen=True, eq=False)
class MinibatchProblem:
    """A problem whose optimizers see mini-batch gradients: ``batch`` rows drawn per iteration.

    The rows of iteration ``k`` are drawn without replacement by ``default_rng(seed)``, fresh for
    each run (:meth:`oracle`), so two runs see the same batches. The recorded loss is the full
    ``f``. A stochastic run is not gradient descent on ``f``: no PEP bound applies.
    """

    base: SmoothProblem | MLPProblem
    batch: int
    seed: int = 0

    def __post_init__(self) -> None:
        if self.base.sample_grad is None:
            raise InputError(
                f"The problem {self.base.name!r} is not a sum over samples: it has no mini-batches."
            )
        if not 1 <= self.batch <= self.base.num_samples:
            raise InputError(
                f"The batch size must be in [1, {self.base.num_samples}] for {self.base.name!r}. "
                f"Got batch={self.batch}."
            )

    def __getattr__(self, name):
        if name in ("f", "grad", "L", "x0", "f_star", "x_star", "R", "dim", "num_samples", "sample_grad"):
            return getattr(self.base, name)
        raise AttributeError(name)

    @property
    def name(self) -> str:
        return f"{self.base.name}@batch={self.batch},seed={self.seed}"

    @property
    def description(self) -> str:
        return f"{self.base.description}; mini-batches of {self.batch} rows (seed {self.seed})"

    @property
    def pep_note(self) -> str:
        return f"no PEP bound: stochastic gradients (mini-batches of {self.batch})"

    def oracle(self) -> Callable[[np.ndarray, int], np.ndarray]:
        rng = np.random.default_rng(self.seed)
        m, b, sg = self.base.num_samples, self.batch, self.base.sample_grad
        return lambda x, k: sg(x, rng.choice(m, b, replace=False))


def _full_oracle(problem):
    grad = problem.grad
    return lambda x, k: grad(x)


def gradient_oracle(problem) -> Callable[[np.ndarray, int], np.ndarray]:
    """``g(x, k)``: the gradient a run sees at iteration ``k`` (mini-batch or full)."""
    return problem.oracle() if isinstance(problem, MinibatchProblem) else _full_oracle(problem)


#: Shipped problems that are not sums over data rows (no mini-batch variant).
NO_SAMPLES = frozenset({"quadratic:spectrum"})

#: Problems beyond :data:`PROBLEMS` (they have no PEP bound).
OTHER_PROBLEMS = {"mlp:digits": "MLP 64-32-10 on digits (nonconvex, L unknown)"}


def problem_names() -> list[str]:
    """Every problem :func:`load_objective` knows (each also as ``NAME@batch=B[,seed=S]``)."""
    return [*PROBLEMS, *OTHER_PROBLEMS]


def parse_problem_spec(spec: str) -> tuple[str, int | None, int]:
    """``NAME[@batch=B[,seed=S]]`` -> ``(NAME, B or None, S)``; validated, nothing loaded."""
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"The problem must be a name such as 'logistic:digits'. Got {spec!r}.")
    name, at, rest = spec.strip().partition("@")
    if name not in PROBLEMS and name not in OTHER_PROBLEMS:
        raise InputError(
            f"Unknown problem {name!r}; known: {', '.join(problem_names())} (each also NAME@batch=B,seed=S)."
        )
    if not at:
        return name, None, 0
    opts: dict[str, int] = {}
    for part in rest.split(","):
        key, eq, val = part.partition("=")
        key = key.strip()
        if not eq or key not in ("batch", "seed") or key in opts:
            raise InputError(
                f"Bad mini-batch option {part.strip()!r} in {spec!r}; write NAME@batch=B[,seed=S]."
            )
        try:
            opts[key] = int(val)
        except ValueError:
            raise InputError(f"The {key!r} must be an integer. Got {val.strip()!r} in {spec!r}.") from None
    if name in NO_SAMPLES:
        raise InputError(
            f"The problem {name!r} is not a sum over samples: it has no mini-batches ({spec!r})."
        )
    if "batch" not in opts:
        raise InputError(f"A mini-batch problem is written NAME@batch=B[,seed=S]. Got {spec!r}.")
    if not 1 <= opts["batch"] <= MAX_BATCH:
        raise InputError(
            f"The batch size must be in [1, {MAX_BATCH}]. Got batch={opts['batch']} in {spec!r}."
        )
    if not 0 <= opts.get("seed", 0) < 2**63:
        raise InputError(f"The seed must be in [0, 2^63). Got seed={opts['seed']} in {spec!r}.")
    return name, opts["batch"], opts.get("seed", 0)


def load_objective(spec: str, cache_dir=None):
    """A problem by spec: a shipped convex one (:func:`load_problem`), ``mlp:digits``, or either
    as ``NAME@batch=B[,seed=S]`` (:class:`MinibatchProblem`)."""
    name, batch, seed = parse_problem_spec(spec)
    base = _mlp_cached() if name in OTHER_PROBLEMS else load_problem(name, cache_dir)
    return base if batch is None else MinibatchProblem(base, batch, seed)


@functools.cache
def _mlp_cached() -> MLPProblem:
    return mlp_digits()


# --------------------------------------------------------------------------- runners


@dataclass(frozen=True, eq=False)
class Trace:
    """One run of a method on a problem.

    Attributes
    ----------
    method : str
        The method's label, e.g. ``"silver:127"`` or ``"hypergradient:depth=2"``.
    problem : str
        The problem's name.
    f_gap : ndarray, shape (iters + 1,)
        ``f(x_k) - f*`` for ``k = 0..iters`` (can be slightly negative, at the level of the
        reference accuracy; ``inf`` after a divergence).
    grad_norm : ndarray, shape (iters + 1,)
        ``|grad f(x_k)|``.
    steps : ndarray, shape (iters,)
        Normalized steps used, ``h_k = L alpha_k``.
    seconds : float
        Wall time of the run.
    is_schedule : bool
        Whether the run *is* gradient descent ``x_{k+1} = x_k - (h_k / L) grad f(x_k)`` with
        the recorded ``steps`` on the problem's ``f`` (full gradients, plain gradient steps at
        the bottom), so that the exact worst case of ``steps[:N]`` bounds ``f_gap[N]``.
    final_hyper : tuple of dict
        For a stack, every level's hyperparameters after the run (user values).
    """

    method: str
    problem: str
    f_gap: np.ndarray
    grad_norm: np.ndarray
    steps: np.ndarray
    seconds: float
    is_schedule: bool = False
    final_hyper: tuple = ()

    def __post_init__(self) -> None:
        for name in ("f_gap", "grad_norm", "steps"):
            a = np.array(getattr(self, name), dtype=float)
            a.setflags(write=False)
            object.__setattr__(self, name, a)

    @property
    def iters(self) -> int:
        return int(self.steps.size)

    @property
    def final_gap(self) -> float:
        return float(self.f_gap[-1])


def _check_iters(iters) -> int:
    if not isinstance(iters, (int, np.integer)) or isinstance(iters, bool) or iters < 1:
        raise InputError(f"The 'iters' must be a positive integer. Got iters={iters!r}.")
    return int(iters)


def _gd_loop(problem: SmoothProblem, iters: int, next_step, progress) -> tuple:
    """Shared loop: ``x_{k+1} = x_k - (h_k / L) g_k`` with ``h_k = next_step(k, g_k)``."""
    with threadpool_limits(limits=RUN_BLAS_THREADS, user_api="blas"):
        return _gd_loop_body(problem, iters, next_step, progress)


def _gd_loop_body(problem, iters, next_step, progress) -> tuple:
    gaps = np.full(iters + 1, np.inf)
    gnorms = np.full(iters + 1, np.inf)
    steps = np.full(iters, np.nan)
    x = problem.x0.copy()
    if problem.L is None:
        raise InputError(
            f"Schedule and hypergradient steps are h/L, and {problem.name!r} has no known L; run a stack, "
            "e.g. stack:sgd(alpha=0.1)."
        )
    oracle = gradient_oracle(problem)
    stochastic = isinstance(problem, MinibatchProblem)
    start = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(iters + 1):
            fx = problem.f(x)
            if not math.isfinite(fx):
                break
            g = oracle(x, k)
            gaps[k] = fx - problem.f_star
            gnorms[k] = float(np.linalg.norm(problem.grad(x) if stochastic else g))
            if k == iters:
                break
            h = next_step(k, g)
            steps[k] = h
            x = x - (h / problem.L) * g
            if progress is not None and (k + 1) % 100 == 0:
                progress(100)
    if progress is not None:
        progress(iters % 100)
    return gaps, gnorms, steps, time.perf_counter() - start


def run_schedule(
    problem: SmoothProblem,
    schedule: Schedule,
    iters: int,
    *,
    label: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Trace:
    """Gradient descent with ``schedule``, cycled when ``iters`` exceeds its length.

    ``x_{k+1} = x_k - (h_{k mod n} / L) grad f(x_k)``, ``n = len(schedule)``.

    Parameters
    ----------
    problem : SmoothProblem
    schedule : Schedule
    iters : int
        Number of gradient steps (> 0).
    label : str, optional
        The trace's method label (default: the schedule's name).
    progress : callable, optional
        Called with the number of iterations done since the last call.

    Examples
    --------
    >>> from pepstep import constant
    >>> p = quadratic_spectrum(dim=3, L=1.0, cond=1.0)    # f = |x|^2 / 2, one step h = 1 solves it
    >>> run_schedule(p, constant(1.0, 1), 2).f_gap.round(12).tolist()
    [0.5, 0.0, 0.0]
    """
    if not isinstance(schedule, Schedule):
        raise InputError(f"The schedule must be a pepstep Schedule. Got {type(schedule).__name__}.")
    iters = _check_iters(iters)
    h = np.asarray(schedule.steps)
    gaps, gn, steps, sec = _gd_loop(problem, iters, lambda k, g: h[k % h.size], progress)
    full = not isinstance(problem, MinibatchProblem)
    return Trace(label or schedule.name, problem.name, gaps, gn, steps, sec, full)


def run_hypergradient(
    problem: SmoothProblem,
    depth: int,
    iters: int,
    alpha0: float = 0.01,
    hyper_step: float = 0.01,
    *,
    progress: Callable[[int], None] | None = None,
) -> Trace:
    r"""Gradient descent whose step is tuned online by a stack of ``depth`` hypergradient levels.

    The levels are normalized steps ``h_1, ..., h_K`` (``K = depth``) and a constant top
    ``h_{K+1} = kappa`` (``hyper_step``). Level 1 is the step of gradient descent,
    ``x_{k+1} = x_k - (h_1 / L) g_k``; level ``j + 1`` is the step of gradient descent on
    ``h_j``. Derivatives are taken of the scaled loss ``phi = L f / |g_0|^2`` (dimensionless,
    so that every ``h_j`` and ``kappa`` is a pure number). At iteration ``k >= 1``, with
    ``g_k = grad f(x_k)``:

    .. math::

        c_1(k) = -\frac{g_k \cdot g_{k-1}}{|g_0|^2}
               = \frac{\partial \phi(x_k)}{\partial h_1(k-1)}, \qquad
        c_{j+1}(k) = -c_j(k)\, c_j(k-1) = \frac{\partial \phi(x_k)}{\partial h_{j+1}(k-1)},

    (``c_j(0) = 0``), then from the top down, ``j = K, ..., 1``:
    ``h_j <- h_j - h_{j+1} c_j(k)``, and finally the gradient step with the new ``h_1``.
    ``c_1`` is Baydin et al.'s hypergradient ``d f(x_k) / d alpha_{k-1} = -g_k . g_{k-1}``
    in these units; the chain rule for ``c_{j+1}`` goes through one step of each level
    (``h_j(k-1) = h_j(k-2) - h_{j+1}(k-1) c_j(k-1)``), as in Chandra et al.'s stack, where
    each step detaches the history. Start: ``h_1 = alpha0``, ``h_2 = ... = h_K = kappa``.
    ``depth = 0`` is plain gradient descent with the top-level constant, ``h = kappa``
    (``alpha0`` is then unused): in every depth the top-level constant is the one knob.
    No safeguard keeps ``h_1`` positive: a diverging run is recorded as ``inf``.

    Parameters
    ----------
    problem : SmoothProblem
    depth : int
        Number of tuned levels K >= 0.
    iters : int
    alpha0 : float
        Initial step ``h_1`` in units of ``1 / L`` (> 0).
    hyper_step : float
        The top-level constant ``kappa`` (> 0).

    References
    ----------
    Baydin et al. 2018, Section 2 (Eq. for SGD-HD); Chandra et al. 2022, Section 3
    ("stacking hyperoptimizers recursively").

    Examples
    --------
    >>> p = load_problem("least_squares:diabetes")
    >>> gd = run_hypergradient(p, 0, 200, hyper_step=0.01)
    >>> hd = run_hypergradient(p, 1, 200, alpha0=0.01, hyper_step=0.01)
    >>> bool(hd.final_gap < gd.final_gap)
    True
    """
    if not isinstance(depth, (int, np.integer)) or isinstance(depth, bool) or depth < 0:
        raise InputError(f"The 'depth' must be an integer >= 0. Got depth={depth!r}.")
    for nm, v in (("alpha0", alpha0), ("hyper_step", hyper_step)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise InputError(f"The '{nm}' must be finite and > 0. Got {nm}={v!r}.")
    iters = _check_iters(iters)
    K = int(depth)
    h = np.array([float(alpha0)] + [float(hyper_step)] * K)  # h[0..K-1] tuned, h[K] = kappa
    if K == 0:
        h[0] = float(hyper_step)
    c_prev = np.zeros(K)
    state = {"g_prev": None, "scale": None}

    def next_step(k, g):
        if K == 0:
            return h[0]
        if state["scale"] is None:
            state["scale"] = max(float(g @ g), np.finfo(float).tiny)
        else:
            c = np.empty(K)
            c[0] = -float(g @ state["g_prev"]) / state["scale"]
            for j in range(1, K):
                c[j] = -c[j - 1] * c_prev[j - 1]
            for j in range(K - 1, -1, -1):
                h[j] -= h[j + 1] * c[j]
            c_prev[:] = c
        state["g_prev"] = g
        return h[0]

    gaps, gn, steps, sec = _gd_loop(problem, iters, next_step, progress)
    full = not isinstance(problem, MinibatchProblem)
    return Trace(f"hypergradient:depth={K}", problem.name, gaps, gn, steps, sec, full)


# --------------------------------------------------------------------------- methods (CLI specs)


@dataclass(frozen=True)
class ScheduleMethod:
    """A certified schedule to run, cycled (``label`` is how the user wrote it)."""

    schedule: Schedule
    label: str


@dataclass(frozen=True)
class HypergradientMethod:
    """Stacked hypergradient descent (see :func:`run_hypergradient`)."""

    depth: int
    alpha0: float = 0.01
    hyper_step: float = 0.01
    label: str = "hypergradient"


@dataclass(frozen=True)
class StackMethod:
    """A stack of hyperoptimizers (:mod:`pepstep.stacks`), hyperparameters in raw units."""

    stack: Stack
    label: str


#: Deepest hypergradient stack :func:`parse_method` accepts.
MAX_HYPER_DEPTH = 1000


def parse_method(text: str) -> ScheduleMethod | HypergradientMethod:
    """Parse a method spec.

    Forms: ``constant:H`` (the step ``H`` forever), ``constant:H:N``, ``silver:N``,
    ``pattern:FILE:REPEATS`` (:func:`~pepstep.schedules.parse_schedule`), ``steps:H1,H2,...``,
    ``hypergradient:depth=K[,alpha=A][,kappa=C]`` and ``stack:LEVEL/LEVEL/...``
    (:func:`~pepstep.stacks.parse_stack`).

    Examples
    --------
    >>> parse_method("constant:1").schedule.steps
    (1.0,)
    >>> parse_method("hypergradient:depth=2,kappa=0.1")
    HypergradientMethod(depth=2, alpha0=0.01, hyper_step=0.1, label='hypergradient:depth=2,kappa=0.1')
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"The schedule must be a name such as 'silver:63'. Got {text!r}.")
    text = text.strip()
    kind, _, rest = text.partition(":")
    if kind == "hypergradient":
        return _parse_hypergradient(text, rest)
    if kind == "stack":
        stack = parse_stack(text)
        return StackMethod(stack, stack.label)
    if kind == "steps":
        return ScheduleMethod(parse_steps(rest), text)
    if kind == "constant" and rest and ":" not in rest:
        base = parse_steps(rest)
        if base.num_steps != 1:
            raise InputError(f"A constant schedule takes one step value. Got {rest!r} in {text!r}.")
        return ScheduleMethod(Schedule(base.steps, base.exact, f"constant:{rest}"), text)
    if kind == "pattern" and rest.count(":") >= 1:
        file, _, reps = rest.rpartition(":")
        return ScheduleMethod(parse_schedule(text), f"pattern:{Path(file).stem}:{reps}")
    if kind not in ("constant", "silver", "pattern"):
        raise InputError(
            f"Unknown schedule {kind!r} in {text!r}; use constant:H[:N], silver:N, pattern:FILE:REPEATS, "
            "steps:H1,H2,..., hypergradient:depth=K[,alpha=A,kappa=C] or stack:NAME(...)/NAME(...)."
        )
    return ScheduleMethod(parse_schedule(text), text)


def _parse_hypergradient(text: str, rest: str) -> HypergradientMethod:
    keys = {"depth": "depth", "alpha": "alpha0", "kappa": "hyper_step"}
    values: dict = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, val = part.partition("=")
        if not eq or key.strip() not in keys:
            raise InputError(
                f"Unknown hypergradient option {part!r} in {text!r}; use depth=, alpha=, kappa=."
            )
        try:
            values[keys[key.strip()]] = int(val) if key.strip() == "depth" else float(val)
        except ValueError:
            raise InputError(
                f"The hypergradient option {key.strip()!r} must be a number. Got {val!r} in {text!r}."
            ) from None
    if "depth" not in values:
        raise InputError(
            f"A hypergradient method is written hypergradient:depth=K[,alpha=A,kappa=C]. Got {text!r}."
        )
    if values["depth"] < 0:
        raise InputError(f"The 'depth' must be an integer >= 0. Got depth={values['depth']} in {text!r}.")
    if values["depth"] > MAX_HYPER_DEPTH:
        raise InputError(
            f"The 'depth' must be at most {MAX_HYPER_DEPTH} (each level costs memory and work at every "
            f"iteration; stacks of a few levels are what the references study). "
            f"Got depth={values['depth']} in {text!r}."
        )
    for nm in ("alpha0", "hyper_step"):
        if nm in values and not (math.isfinite(values[nm]) and values[nm] > 0):
            raise InputError(
                f"The hypergradient {nm} must be finite and > 0. Got {values[nm]!r} in {text!r}."
            )
    return HypergradientMethod(label=text, **values)


def run_stack_on(problem, stack: Stack, iters: int, *, normalized: bool = False, progress=None) -> Trace:
    """Run a stack (:func:`pepstep.stacks.run_stack`) on a problem; a :class:`Trace`.

    Hyperparameters are in the problem's raw units (``x - alpha g``), as in the paper; the
    trace's ``steps`` are ``h_k = L alpha_k`` when ``L`` is known (``alpha_k`` otherwise).
    ``normalized=True`` runs the stack in the dimensionless units of
    :func:`run_hypergradient`: on ``phi(y) = s f(y / c)`` with ``c = L / |g_0|`` and
    ``s = L / |g_0|^2`` (``g_0 = grad f(x_0)``), where a bottom step ``y - a grad phi(y)`` is
    ``x - (a / L) grad f(x)``: ``hypergradient:depth=K,alpha=A,kappa=C`` is then the stack
    ``sgd(A)/sgd(C)/.../sgd(C)`` of height ``K`` (``sgd(C)`` for ``K = 0``).
    """
    with threadpool_limits(limits=RUN_BLAS_THREADS, user_api="blas"):
        return _run_stack_on(problem, stack, iters, normalized, progress)


def _run_stack_on(problem, stack, iters, normalized, progress) -> Trace:
    oracle = gradient_oracle(problem)
    f_star = 0.0 if problem.f_star is None else problem.f_star
    stochastic = isinstance(problem, MinibatchProblem)
    if normalized:
        if problem.L is None:
            raise InputError(f"Normalized units need L, and {problem.name!r} has no known L.")
        g0 = float(np.linalg.norm(problem.grad(problem.x0)))
        c, sc = problem.L / g0, problem.L / g0**2
        tr = run_stack(
            stack,
            lambda y: problem.f(y / c),
            lambda y, k: (sc / c) * oracle(y / c, k),
            c * problem.x0,
            iters,
            f_star=f_star,
            full_grad=lambda y: problem.grad(y / c),
            progress=progress,
        )
        steps = tr.alphas
    else:
        tr = run_stack(
            stack,
            problem.f,
            oracle,
            problem.x0,
            iters,
            f_star=f_star,
            full_grad=problem.grad if stochastic else None,
            progress=progress,
        )
        steps = tr.alphas if problem.L is None else problem.L * tr.alphas
    schedule_run = stack.bottom_is_sgd and not stochastic and problem.pep_note is None
    return Trace(
        tr.label, problem.name, tr.values, tr.grad_norm, steps, tr.seconds, schedule_run, tr.final_hyper
    )


def run_method(problem: SmoothProblem, method, iters: int, *, progress=None) -> Trace:
    """Run a parsed method (:func:`parse_method`) for ``iters`` iterations."""
    if isinstance(method, StackMethod):
        return dataclasses.replace(
            run_stack_on(problem, method.stack, iters, progress=progress), method=method.label
        )
    if isinstance(method, ScheduleMethod):
        return run_schedule(problem, method.schedule, iters, label=method.label, progress=progress)
    t = run_hypergradient(problem, method.depth, iters, method.alpha0, method.hyper_step, progress=progress)
    return dataclasses.replace(t, method=method.label)


# --------------------------------------------------------------------------- PEP bounds


@dataclass(frozen=True)
class Bound:
    """The exact worst case of the first ``N`` steps, in the problem's units.

    Attributes
    ----------
    N : int
    normalized : float
        ``w(h_0..h_{N-1})`` for ``L = 1``, ``|x_0 - x*| = 1`` (convex class, ``fgap``).
    value : float
        ``normalized * L * |x_0 - x*|^2``: no L-smooth convex function can have
        ``f(x_N) - f*`` above it.
    """

    N: int
    normalized: float
    value: float


@functools.lru_cache(maxsize=512)
def pep_value(steps: tuple, solver: str = "clarabel") -> float:
    """Normalized exact worst case ``w(h)`` (convex, ``L = R = 1``, ``fgap``); cached per process."""
    from .compute import worst_case
    from .pep import Problem

    return worst_case(Problem(Schedule(tuple(steps))), solver).normalized_value


def bound_checkpoints(length: int, max_n: int) -> list[int]:
    """Where bounds are drawn: ``n, 2n, 4n, ...`` up to ``max_n`` (``n`` the schedule length), or,
    for a schedule longer than ``max_n``, its prefixes of length ``1, 3, 7, ..., 2^k - 1``."""
    if length <= max_n:
        out, n = [], length
        while n <= max_n:
            out.append(n)
            n *= 2
        return out
    return [2**k - 1 for k in range(1, 31) if 2**k - 1 <= max_n]


def schedule_bounds(
    problem: SmoothProblem, schedule: Schedule, max_n: int = 32, solver: str = "clarabel", checkpoints=None
) -> list[Bound]:
    """PEP bounds of the (cycled) schedule at the checkpoints ``N <= max_n``.

    The run's ``x_N`` depends only on its first ``N`` steps, so the worst case of those steps,
    ``w L |x_0 - x*|^2``, bounds ``f(x_N) - f*`` (a theory check on data).
    """
    if problem.x_star is None:
        raise InputError(f"The problem {problem.name!r} has no x_star: the PEP bound needs |x_0 - x*|.")
    n = len(schedule)
    scale = problem.L * problem.R**2
    out = []
    for N in checkpoints if checkpoints is not None else bound_checkpoints(n, max_n):
        steps = tuple(schedule.steps[k % n] for k in range(N))
        w = pep_value(steps, solver)
        out.append(Bound(N, w, w * scale))
    return out


@dataclass(frozen=True)
class LearnedBound:
    """The exact worst case of the steps a run actually took (a learned schedule).

    Attributes
    ----------
    N : int
        The first ``N`` realized steps ``h_0..h_{N-1}``.
    status : str
        ``optimal`` (the solve passed pepstep's re-check), another solver status, or
        ``not a schedule`` (a realized step was not finite and > 0: no PEP of gradient descent).
    normalized, value : float or None
        ``w(h_0..h_{N-1})`` and ``w L |x_0 - x*|^2``; ``None`` unless ``status`` is ``optimal``.
    observed : float
        ``f(x_N) - f*`` of the run, which can never exceed ``value``.
    max_step : float
        The largest of the ``N`` steps (a long step is ``h > 2``).
    lower : float or None
        A closed-form lower bound on ``w`` that holds for every schedule (DESIGN.md, section 1):
        ``max((1/2) prod_k (1 - h_k)^2, 1 / (2 (2 sum_k h_k + 1)))``, from the quadratic
        ``(L/2)|x|^2`` and a Huber function. When it exceeds ``1/2`` (the worst case of not
        moving, ``f(x_0) - f* <= L R^2 / 2``) the schedule guarantees nothing and no SDP is
        solved: ``status`` is ``no guarantee`` (such solves fail or take minutes, measured: 200 s
        for ``h = 3.3`` thirty-one times).
    """

    N: int
    status: str
    normalized: float | None
    value: float | None
    observed: float
    max_step: float
    lower: float | None = None


#: The normalized worst case of not moving at all (``f(x_0) - f* <= L R^2 / 2``).
NO_GUARANTEE = 0.5


def schedule_lower_bound(steps) -> float:
    """``max((1/2) prod (1 - h_k)^2, 1 / (2 (2 sum h_k + 1)))``: no schedule's worst case is lower
    (the quadratic ``(L/2)|x|^2`` and a Huber function; DESIGN.md, section 1)."""
    h = np.asarray(steps, dtype=float)
    with np.errstate(over="ignore", divide="ignore"):
        quad = 0.5 * float(np.exp(np.sum(2 * np.log(np.abs(1 - h)))))
    return max(quad, 1.0 / (2 * (2 * float(h.sum()) + 1)))


@functools.lru_cache(maxsize=4096)
def _worst_case_status(steps: tuple, solver: str) -> tuple[str, float | None]:
    from .compute import worst_case
    from .pep import Problem

    wc = worst_case(Problem(Schedule(steps)), solver, throw=False)
    return wc.status.value, (wc.normalized_value if wc.ok else None)


def learned_bounds(problem, trace: Trace, checkpoints, solver: str = "clarabel") -> list[LearnedBound]:
    """Exact worst cases of a run's realized steps at ``N`` in ``checkpoints`` (``N <= iters``).

    Only for a run that *is* gradient descent with its recorded steps on the problem's ``f``
    (:attr:`Trace.is_schedule`: full gradients, plain gradient steps at the bottom, a convex
    problem with known ``L`` and ``x*``): then ``f(x_N) - f* <= w(h_0..h_{N-1}) L |x_0 - x*|^2``.
    The worst case is reported only when the solve's status is ``optimal``.
    """
    if not trace.is_schedule or problem.x_star is None:
        raise InputError(
            f"The run {trace.method!r} on {problem.name!r} is not gradient descent with its steps on f: "
            + (problem.pep_note or "its bottom level is not plain full-batch gradient descent")
            + "."
        )
    scale = problem.L * problem.R**2
    out = []
    for N in checkpoints:
        if N > trace.iters:
            continue
        h = trace.steps[:N]
        observed = float(trace.f_gap[N])
        top = float(np.max(h)) if np.all(np.isfinite(h)) else float("nan")
        if not (np.all(np.isfinite(h)) and np.all(h > 0)):
            out.append(LearnedBound(N, "not a schedule", None, None, observed, top))
            continue
        lower = schedule_lower_bound(h)
        if lower > NO_GUARANTEE:
            out.append(LearnedBound(N, "no guarantee", None, None, observed, top, lower))
            continue
        status, w = _worst_case_status(tuple(float(v) for v in h), solver)
        out.append(LearnedBound(N, status, w, None if w is None else w * scale, observed, top, lower))
    return out


# --------------------------------------------------------------------------- figure


def plot_practice(problem: SmoothProblem, traces, bounds: dict, path) -> None:
    """Curves of ``f(x_k) - f*`` (log-log) with PEP bounds as markers, in two panels.

    Left: the fixed schedules, each with its PEP worst case ``w(h_0..h_{N-1}) L |x_0 - x*|^2``
    at the checkpoints (``bounds`` maps a trace's method label to its :class:`Bound` list);
    right: the adaptive (hypergradient) methods, with the first schedule repeated in grey as a
    reference. Gaps at or below the reference accuracy are drawn at that floor and reported as
    "<= floor", never as 0. Matplotlib is imported here (Agg backend).
    """
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    floor = max(1e-15, 1e-12 * abs(problem.f_star or 0.0))
    adaptive = [t for t in traces if t.method.startswith(("hypergradient", "stack:"))]
    fixed = [t for t in traces if t not in adaptive]
    panels = [(fixed, "fixed schedules, with their PEP worst case (v)")]
    if adaptive:
        panels.append((adaptive, "adaptive (hypergradient stacks), v: worst case of the realized steps"))
    panels = [(ts, title) for ts, title in panels if ts]
    fig, axes = plt.subplots(
        1, len(panels), figsize=(7.0 * len(panels), 6.2), layout="constrained", sharey=True, squeeze=False
    )
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = ("-", "--", "-.", ":")

    def final(t) -> str:
        return f"<= {floor:.0e} (floor)" if t.final_gap <= floor else f"{t.final_gap:.2e}"

    for ax, (group, title) in zip(axes[0], panels):
        if group is adaptive and fixed:
            ref = fixed[0]
            k = np.arange(1, ref.f_gap.size)
            ax.plot(
                k, np.maximum(ref.f_gap[1:], floor), color="0.6", lw=1.2, label=f"{ref.method} (reference)"
            )
        for i, t in enumerate(group):
            col = colors[i % len(colors)]
            k = np.arange(1, t.f_gap.size)
            ax.plot(
                k,
                np.maximum(t.f_gap[1:], floor),
                color=col,
                ls=styles[i % len(styles)],
                lw=1.4,
                label=f"{t.method}  (final {final(t)})",
            )
            bs = [b for b in bounds.get(t.method, []) if b.N <= t.iters]
            if bs:
                ax.plot(
                    [b.N for b in bs], [b.value for b in bs], ls="none", marker="v", ms=7, mfc="none", mec=col
                )
        ax.axhline(floor, color="0.5", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("iteration k")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7.5, loc="lower left")
    if problem.f_star is None:
        axes[0, 0].set_ylabel("f(x_k)  [units of f]")
        fig.suptitle(f"{problem.name}:  {problem.pep_note}", fontsize=11)
    else:
        axes[0, 0].set_ylabel("f(x_k) - f*  [units of f]")
        fig.suptitle(
            f"{problem.name}:  L = {problem.L:.4g},  |x_0 - x*| = {problem.R:.3g},  f* = {problem.f_star:.6g}"
            + (f"  ({problem.pep_note})" if problem.pep_note else ""),
            fontsize=11,
        )
    caption = (
        "Figure: gradient descent x_{k+1} = x_k - (h_k/L) grad f(x_k) on this problem. Markers v: the exact "
        "PEP worst case of the schedule's first N steps, w(h_0..h_{N-1}) L |x_0 - x*|^2, a guaranteed "
        "upper bound on f(x_N) - f* (units of f). Dotted line: the precision floor "
        f"({floor:.0e}, the reference solution's accuracy); gaps below it are drawn on it."
    )
    fig.supxlabel(
        "\n".join(textwrap.wrap(caption, 75 * len(panels))), x=0.01, ha="left", fontsize=7.5, color="0.25"
    )
    fig.savefig(path, dpi=130)
    plt.close(fig)
