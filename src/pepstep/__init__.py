"""pepstep: exact worst cases, certificates and optimal step sizes for gradient descent.

Gradient descent ``x_{k+1} = x_k - (h_k / L) grad f(x_k)`` runs N steps on an L-smooth function.
pepstep computes the exact worst case of a measure (``f(x_N) - f*`` by default) over a class of
functions by a performance-estimation SDP, proves it with an exact rational certificate, and
searches for step sizes with a better worst case.

A tour, one call each:

- **Ask**: a :class:`Problem` is a :class:`Schedule` (:func:`constant`, :func:`silver`,
  :func:`parse_steps`, :func:`parse_schedule`), a :class:`FunctionClass`, a :class:`Measure`, an
  :class:`InitialCondition` and its size ``R``.
- **Solve**: :func:`worst_case` returns a :class:`WorstCase` (value, :class:`Status`, solver,
  multipliers); it raises :class:`SolverError` unless the status is ``optimal`` (``throw=False``
  returns it instead).
- **Prove**: :func:`certify` returns an exact :class:`Certificate`; :func:`verify` gives the
  verifier kernel's :class:`VerifyReport` on it, :func:`verify_file` its :class:`Verdict` on a
  certificate file.
- **Optimize**: :func:`optimize` minimizes the worst case over the steps (a
  :class:`ScheduleResult` of :class:`StartResult`).
- **Long steps**: :func:`check_pattern` tests Grimmer's criterion for a cyclic pattern
  (:class:`PatternCheck`), :func:`certify_pattern` proves it exactly (:class:`PatternCertificate`),
  :func:`search` looks for patterns of length ``2^k - 1`` (:class:`PatternResult`).
- **Reproduce**: :func:`load_spec` reads a ``problems/*.toml`` :class:`Spec`, :func:`reproduce`
  recomputes its rows (:class:`SpecResult`).

Every result is a frozen dataclass whose ``repr`` is one short line and whose ``summary()`` is
the long form. Errors derive from :class:`PepstepError`: :class:`InputError` (a bad argument,
also a ``ValueError``), :class:`SolverError`, :class:`SolverUnavailableError`,
:class:`CertificateFormatError` and :class:`SpecError`.

Examples
--------
>>> import pepstep
>>> problem = pepstep.Problem(pepstep.constant(1.0, 2))    # h = 1, N = 2, convex, L = R = 1
>>> wc = pepstep.worst_case(problem)
>>> round(wc.value, 6), str(wc.status)                     # L R^2 / (4 N + 2)
(0.1, 'optimal')
>>> cert = pepstep.certify(problem, rate="1/9")
>>> pepstep.verify(cert).valid
True
>>> result = pepstep.optimize(pepstep.Problem(pepstep.constant(1.5, 2)), starts=1, restarts=0)
>>> result.value < wc.value
True

Notes
-----
Names are imported on first use (PEP 562), so that ``import pepstep`` and the verifier kernel
(:mod:`pepstep.kernel`, standard library and python-flint only) load no numerical stack.

Four functions share their name with the module that implements them: ``pepstep.certify``,
``pepstep.optimize``, ``pepstep.search`` and ``pepstep.reproduce`` are always the functions.
Their modules are reached with ``from pepstep.optimize import optimize_schedule`` or
``importlib.import_module("pepstep.optimize")`` (not ``import pepstep.optimize as m``, which
gives the function).
"""

from __future__ import annotations

import importlib
import sys
import types

__version__ = "0.1.0"

#: Public name -> (module, attribute in that module).
_EXPORTS = {
    # asking
    "FunctionClass": ("classes", "FunctionClass"),
    "InitialCondition": ("classes", "InitialCondition"),
    "Measure": ("classes", "Measure"),
    "Problem": ("pep", "Problem"),
    "Schedule": ("schedules", "Schedule"),
    "constant": ("schedules", "constant"),
    "parse_schedule": ("schedules", "parse_schedule"),
    "parse_steps": ("schedules", "parse_steps"),
    "silver": ("schedules", "silver"),
    # solving
    "Status": ("solve", "Status"),
    "WorstCase": ("solve", "WorstCase"),
    "worst_case": ("compute", "worst_case"),
    # the function that attains a worst case
    "WorstFunction": ("worstfunction", "WorstFunction"),
    "worst_function": ("worstfunction", "worst_function"),
    "run_gradient_descent": ("worstfunction", "run_gradient_descent"),
    # proving
    "Certificate": ("certificate", "Certificate"),
    "VerifyReport": ("certificate", "VerifyReport"),
    "Verdict": ("kernel", "Verdict"),
    "certify": ("certify", "certify"),
    "verify": ("certificate", "verify"),
    "verify_file": ("kernel", "verify_file"),
    # optimizing
    "ScheduleResult": ("optimize", "ScheduleResult"),
    "StartResult": ("optimize", "StartResult"),
    "optimize": ("optimize", "optimize"),
    # long steps
    "PatternCertificate": ("cyclic", "PatternCertificate"),
    "PatternCheck": ("cyclic", "PatternCheck"),
    "PatternResult": ("search", "PatternResult"),
    "certify_pattern": ("cyclic", "certify_pattern"),
    "check_pattern": ("cyclic", "check_pattern"),
    "search": ("search", "search_patterns"),
    # reproducing
    "Spec": ("spec", "Spec"),
    "SpecResult": ("reproduce", "SpecResult"),
    "load_spec": ("spec", "load_spec"),
    "reproduce": ("reproduce", "reproduce"),
    # errors
    "CertificateFormatError": ("errors", "CertificateFormatError"),
    "InputError": ("errors", "InputError"),
    "PepstepError": ("errors", "PepstepError"),
    "SolverError": ("errors", "SolverError"),
    "SolverUnavailableError": ("errors", "SolverUnavailableError"),
    "SpecError": ("spec", "SpecError"),
}

__all__ = sorted(_EXPORTS)

#: Exported names that are also the names of submodules.
_SHADOWED = frozenset(name for name, (module, _) in _EXPORTS.items() if name == module)


def __getattr__(name: str):
    if name in _EXPORTS:
        module, attr = _EXPORTS[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pepstep' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))


class _Package(types.ModuleType):
    """The package module: importing a submodule never replaces the function of the same name.

    The import system sets ``pepstep.<name>`` to each submodule it loads; for the names in
    ``_SHADOWED`` the function (found by ``__getattr__``) is kept instead, whatever the
    import order.
    """

    def __setattr__(self, name: str, value) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
