"""All exceptions raised by pepstep live here.

The math layers raise these; the CLI turns them into one line and an exit status
(2 for bad input, 1 for a solver that failed or was inaccurate).
"""

from __future__ import annotations

__all__ = [
    "PepstepError",
    "InputError",
    "SolverError",
    "SolverUnavailableError",
    "CertificateFormatError",
]


class PepstepError(Exception):
    """Base class of every pepstep error.

    Examples
    --------
    >>> from pepstep import constant
    >>> try:
    ...     constant(1.0, 0)
    ... except PepstepError as exc:
    ...     print(type(exc).__name__, exc)
    InputError The number of steps must be a positive integer. Got num_steps=0.
    """


class InputError(PepstepError, ValueError):
    """A value given by the caller is invalid; the message names the bad value.

    Also a ``ValueError``, so that ``except ValueError`` catches it.

    Examples
    --------
    >>> from pepstep import FunctionClass
    >>> FunctionClass("strongly-convex", L=1.0, mu=2.0)
    Traceback (most recent call last):
    ...
    pepstep.errors.InputError: The 'mu' parameter must be in (0, L). Got mu=2.0 with L=1.0.
    """


class SolverUnavailableError(InputError):
    """The requested solver cannot run here (not installed, or no license).

    This is an input error: the caller chose a solver that this machine lacks.
    pepstep never falls back to another solver silently.

    Examples
    --------
    >>> issubclass(SolverUnavailableError, InputError)
    True
    """


class SolverError(PepstepError, RuntimeError):
    """The solver failed, or its answer did not pass pepstep's own re-check.

    :func:`pepstep.worst_case` raises it unless the status is ``optimal``; with
    ``throw=False`` the result is returned and its ``status`` tells.

    Examples
    --------
    >>> from pepstep import FunctionClass, Problem, constant, worst_case
    >>> problem = Problem(constant(3.0, 1), FunctionClass("nonconvex"), "mingradnorm", "fgap")
    >>> str(worst_case(problem, throw=False).status)     # step 3 > 2 on a nonconvex class
    'unbounded'
    >>> worst_case(problem)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pepstep.errors.SolverError: The worst case is unbounded: ...
    """


class CertificateFormatError(InputError):
    """A certificate file is unreadable or malformed (as opposed to readable but invalid).

    Examples
    --------
    >>> from pepstep.kernel import verify_text
    >>> verify_text("{}")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pepstep.errors.CertificateFormatError: Malformed certificate: ...
    """
