"""pepstep: exact worst cases, certificates and optimal step sizes for gradient descent."""

from .classes import FunctionClass, InitialCondition, Measure
from .errors import InputError, PepstepError, SolverError, SolverUnavailableError
from .pep import Problem
from .schedules import Schedule, constant, parse_schedule, parse_steps, silver
from .solve import Status, WorstCase, worst_case

__version__ = "0.1.0"

__all__ = [
    "FunctionClass",
    "InitialCondition",
    "InputError",
    "Measure",
    "PepstepError",
    "Problem",
    "Schedule",
    "SolverError",
    "SolverUnavailableError",
    "Status",
    "WorstCase",
    "constant",
    "parse_schedule",
    "parse_steps",
    "silver",
    "worst_case",
]
