"""Step-size schedules: validated, immutable, with exact rational steps when known.

Gradient descent runs ``x_{k+1} = x_k - (h_k / L) grad f(x_k)``; a schedule is the
tuple of normalized steps ``h = (h_0, ..., h_{N-1})``.

Examples
--------
>>> constant(1.5, 3).steps
(1.5, 1.5, 1.5)
>>> [round(h, 4) for h in silver(7).steps]
[1.4142, 2.0, 1.4142, 3.4142, 1.4142, 2.0, 1.4142]
>>> parse_steps("1.5,4.9,1.5").exact
(Fraction(3, 2), Fraction(49, 10), Fraction(3, 2))
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .errors import InputError

__all__ = [
    "Schedule",
    "constant",
    "silver",
    "parse_steps",
    "parse_schedule",
    "SILVER_RATIO",
    "MAX_STEPS",
]

#: Longest schedule :func:`parse_schedule` builds (a guard against ``constant:1:10**12``
#: filling the memory before any command can refuse it).
MAX_STEPS = 1_000_000

#: The silver ratio rho = 1 + sqrt(2) of Altschuler & Parrilo (2023).
SILVER_RATIO = 1.0 + math.sqrt(2.0)


@dataclass(frozen=True)
class Schedule:
    """A validated step-size schedule.

    Attributes
    ----------
    steps : tuple of float
        Normalized steps ``h_k`` (the step taken is ``h_k / L``); each finite and > 0.
    exact : tuple of Fraction or None
        The same steps as exact rationals when they are known exactly (parsed from
        decimal strings, or built from rationals); ``None`` for irrational schedules
        such as silver, which certificates round to rationals explicitly.
    name : str
        A short human-readable description (``"constant:1.5:10"``, ``"silver:63"``).

    Examples
    --------
    >>> s = Schedule((1.5, 1.5), name="constant:1.5:2")
    >>> s.num_steps, s.exact
    (2, None)
    >>> Schedule.from_rationals(["3/2", 1]).exact
    (Fraction(3, 2), Fraction(1, 1))
    """

    steps: tuple[float, ...]
    exact: tuple[Fraction, ...] | None = None
    name: str = "custom"

    def __post_init__(self) -> None:
        steps = tuple(_check_step(k, h) for k, h in enumerate(self.steps))
        if not steps:
            raise InputError("The schedule must have at least one step. Got an empty schedule.")
        object.__setattr__(self, "steps", steps)
        if self.exact is not None:
            exact = tuple(Fraction(q) for q in self.exact)
            if len(exact) != len(steps):
                raise InputError(
                    f"The exact steps must match the float steps. Got {len(exact)} exact "
                    f"and {len(steps)} float steps."
                )
            for k, (q, h) in enumerate(zip(exact, steps)):
                if q <= 0 or float(q) != h:
                    raise InputError(
                        f"Exact step {k} must be positive and equal to its float. Got {q} and {h!r}."
                    )
            object.__setattr__(self, "exact", exact)

    @property
    def num_steps(self) -> int:
        """Number of steps N."""
        return len(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    @classmethod
    def from_rationals(cls, steps, name: str = "custom") -> Schedule:
        """Build a schedule from exact rationals (``Fraction``, int or ``"p/q"`` strings)."""
        exact = tuple(_to_fraction(k, s) for k, s in enumerate(steps))
        return cls(tuple(float(q) for q in exact), exact, name)

    def repeat(self, times: int) -> Schedule:
        """The schedule repeated ``times`` times (a cyclic pattern run for several cycles)."""
        if not isinstance(times, int) or isinstance(times, bool) or times < 1:
            raise InputError(f"The repeat count must be a positive integer. Got times={times!r}.")
        exact = None if self.exact is None else self.exact * times
        return Schedule(self.steps * times, exact, f"{self.name}x{times}")


def _check_step(k: int, h) -> float:
    try:
        value = float(h)
    except (TypeError, ValueError):
        raise InputError(f"Step {k} must be a number. Got h_{k}={h!r}.") from None
    if not math.isfinite(value) or value <= 0.0:
        raise InputError(f"Step {k} must be finite and > 0. Got h_{k}={value!r}.")
    return value


def _to_fraction(k: int, text) -> Fraction:
    if isinstance(text, float):
        raise InputError(f"Exact step {k} must be given as a string or rational, not a float. Got {text!r}.")
    try:
        q = Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError):
        raise InputError(f"Step {k} is not a number. Got {text!r}.") from None
    if q <= 0:
        raise InputError(f"Step {k} must be finite and > 0. Got h_{k}={text!r}.")
    try:
        if float(q) == 0.0:
            raise InputError(f"Step {k} is too small for a float (it rounds to 0). Got h_{k}={text!r}.")
    except OverflowError:
        raise InputError(f"Step {k} is too large for a float. Got h_{k}={text!r}.") from None
    return q


def constant(h, num_steps: int) -> Schedule:
    """``num_steps`` copies of the step ``h`` (a float, or a string/Fraction for exact steps).

    Examples
    --------
    >>> constant(1.5, 3).steps
    (1.5, 1.5, 1.5)
    >>> constant("1/3", 2).exact
    (Fraction(1, 3), Fraction(1, 3))
    """
    if not isinstance(num_steps, int) or isinstance(num_steps, bool) or num_steps < 1:
        raise InputError(f"The number of steps must be a positive integer. Got num_steps={num_steps!r}.")
    if isinstance(h, (str, Fraction, int)) and not isinstance(h, bool):
        return Schedule.from_rationals([h] * num_steps, name=f"constant:{h}:{num_steps}")
    return Schedule((h,) * num_steps, name=f"constant:{h}:{num_steps}")


def silver(num_steps: int) -> Schedule:
    """The silver step-size schedule of Altschuler & Parrilo (2023).

    ``h_t = 1 + rho^(nu(t + 1) - 1)`` for ``t = 0, ..., n - 1``, with ``rho = 1 + sqrt(2)``
    and ``nu(m)`` the 2-adic valuation of ``m``. For ``n = 2^k - 1`` its exact worst case
    (convex, ``fgap``, distance initial condition) is ``L R^2 / (4 rho^k - 2)``.

    References
    ----------
    J. M. Altschuler and P. A. Parrilo, "Acceleration by stepsize hedging II: Silver
    stepsize schedule for smooth convex optimization", Math. Program., 2024
    (arXiv:2309.16530), Theorem 1.1.

    Examples
    --------
    >>> [round(h, 4) for h in silver(7).steps]
    [1.4142, 2.0, 1.4142, 3.4142, 1.4142, 2.0, 1.4142]
    """
    if not isinstance(num_steps, int) or isinstance(num_steps, bool) or num_steps < 1:
        raise InputError(f"The number of steps must be a positive integer. Got num_steps={num_steps!r}.")
    steps = tuple(1.0 + SILVER_RATIO ** (_two_adic_valuation(t + 1) - 1) for t in range(num_steps))
    return Schedule(steps, None, f"silver:{num_steps}")


def _two_adic_valuation(m: int) -> int:
    return (m & -m).bit_length() - 1


def parse_steps(text: str) -> Schedule:
    """Parse ``"1.5,4.9,1.5"`` into a schedule with exact rational steps (never via a float).

    Examples
    --------
    >>> s = parse_steps("1.5, 4.9, 1/3")
    >>> s.exact
    (Fraction(3, 2), Fraction(49, 10), Fraction(1, 3))
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"The steps must be a comma-separated list of numbers. Got {text!r}.")
    parts = [p.strip() for p in text.split(",")]
    exact = []
    for k, part in enumerate(parts):
        if not part:
            raise InputError(f"Step {k} is empty in the steps string {text!r}.")
        try:
            q = Fraction(part)
            if q > 0:
                float(q)
        except OverflowError:
            raise InputError(f"Step {k} is too large for a float: {part!r} in {text!r}.") from None
        except (ValueError, ZeroDivisionError):
            # Non-decimal spellings such as "nan" or "inf": report the bad value.
            try:
                value = float(part)
            except ValueError:
                raise InputError(f"Step {k} is not a number: {part!r} in {text!r}.") from None
            raise InputError(f"Step {k} must be finite and > 0. Got h_{k}={value!r}.") from None
        if q <= 0:
            raise InputError(f"Step {k} must be finite and > 0. Got h_{k}={part}.")
        if float(q) == 0.0:
            raise InputError(f"Step {k} is too small for a float (it rounds to 0): {part!r} in {text!r}.")
        exact.append(q)
    return Schedule(tuple(float(q) for q in exact), tuple(exact), name=f"steps:{text}")


def parse_schedule(text: str, max_steps: int = MAX_STEPS) -> Schedule:
    """Parse a named schedule.

    Forms: ``constant:H:N``, ``silver:N``, ``pattern:FILE:REPEATS`` (a JSON file holding a
    list of steps, or an object with a ``"steps"`` list, repeated ``REPEATS`` times).
    A schedule longer than ``max_steps`` is refused before it is built.

    Examples
    --------
    >>> parse_schedule("constant:1.5:3").steps
    (1.5, 1.5, 1.5)
    >>> parse_schedule("silver:3").name
    'silver:3'
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"The schedule must be a name such as 'silver:63'. Got {text!r}.")
    kind, _, rest = text.strip().partition(":")
    args = rest.split(":") if rest else []
    if kind == "constant":
        if len(args) != 2:
            raise InputError(f"A constant schedule is written constant:H:N. Got {text!r}.")
        num = _parse_count(args[1], text, max_steps)
        base = parse_steps(args[0])
        if base.num_steps != 1:
            raise InputError(f"A constant schedule takes one step value. Got {args[0]!r} in {text!r}.")
        return Schedule(base.steps * num, base.exact * num, name=text)
    if kind == "silver":
        if len(args) != 1:
            raise InputError(f"A silver schedule is written silver:N. Got {text!r}.")
        return silver(_parse_count(args[0], text, max_steps))
    if kind == "pattern":
        if len(args) < 2:
            raise InputError(f"A pattern schedule is written pattern:FILE:REPEATS. Got {text!r}.")
        path, repeats = ":".join(args[:-1]), _parse_count(args[-1], text, max_steps)
        pattern = load_pattern(path)
        if pattern.num_steps * repeats > max_steps:
            raise InputError(
                f"The schedule {text!r} has {pattern.num_steps * repeats} steps; at most {max_steps} here."
            )
        return pattern.repeat(repeats)
    raise InputError(
        f"Unknown schedule {kind!r} in {text!r}; use constant:H:N, silver:N or pattern:FILE:REPEATS."
    )


def _parse_count(part: str, text: str, max_steps: int = MAX_STEPS) -> int:
    try:
        num = int(part)
    except ValueError:
        raise InputError(f"The step count must be a positive integer. Got {part!r} in {text!r}.") from None
    if num < 1:
        raise InputError(f"The step count must be a positive integer. Got {num} in {text!r}.")
    if num > max_steps:
        raise InputError(f"The step count must be at most {max_steps} here. Got {num} in {text!r}.")
    return num


def load_pattern(path) -> Schedule:
    """Load a step pattern from a JSON file: a list of steps or ``{"steps": [...]}``.

    Steps written as strings (``"49/10"``, ``"4.9"``) are read exactly; JSON numbers are read
    from their decimal text, so ``4.9`` becomes ``49/10`` as well.
    """
    p = Path(path)
    try:
        raw = p.read_text()
    except OSError as exc:
        raise InputError(f"Cannot read the pattern file {str(p)!r}: {exc.strerror}.") from None
    try:
        data = json.loads(raw, parse_float=str, parse_int=str)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"The pattern file {str(p)!r} is not valid JSON: {exc.msg} (line {exc.lineno})."
        ) from None
    steps = data.get("steps") if isinstance(data, dict) else data
    if not isinstance(steps, list) or not steps:
        raise InputError(f"The pattern file {str(p)!r} must hold a non-empty list 'steps'.")
    if not all(isinstance(s, str) for s in steps):
        raise InputError(f"The pattern file {str(p)!r} has a step that is not a number.")
    return Schedule.from_rationals(steps, name=f"pattern:{p.name}")
