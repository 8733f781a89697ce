"""pepstep: exact worst cases, certificates and optimal step sizes for gradient descent.

Names are imported on first use (PEP 562), so that ``import pepstep`` and the verifier kernel
(:mod:`pepstep.kernel`, standard library and python-flint only) load no numerical stack.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "FunctionClass": "classes",
    "InitialCondition": "classes",
    "Measure": "classes",
    "InputError": "errors",
    "PepstepError": "errors",
    "SolverError": "errors",
    "SolverUnavailableError": "errors",
    "Problem": "pep",
    "Schedule": "schedules",
    "constant": "schedules",
    "parse_schedule": "schedules",
    "parse_steps": "schedules",
    "silver": "schedules",
    "Status": "solve",
    "WorstCase": "solve",
    "worst_case": "solve",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pepstep' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
