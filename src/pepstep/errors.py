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
    """Base class of every pepstep error."""


class InputError(PepstepError, ValueError):
    """A value given by the caller is invalid; the message names the bad value."""


class SolverUnavailableError(InputError):
    """The requested solver cannot run here (not installed, or no license).

    This is an input error: the caller chose a solver that this machine lacks.
    pepstep never falls back to another solver silently.
    """


class SolverError(PepstepError, RuntimeError):
    """The solver failed, or its answer did not pass pepstep's own re-check."""


class CertificateFormatError(InputError):
    """A certificate file is unreadable or malformed (as opposed to readable but invalid)."""
