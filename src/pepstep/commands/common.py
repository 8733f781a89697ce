"""Options shared by the subcommands that take a problem (rate, certify, optimize, ...)."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import sys
import threading

from .._io import Outputs, check_distinct, check_output_path, write_atomic
from ..classes import ClassKind, FunctionClass, InitialCondition, Measure
from ..compute import METHODS
from ..errors import InputError
from ..pep import Problem
from ..schedules import Schedule, parse_schedule, parse_steps
from ..solve import BACKENDS

__all__ = [
    "add_class_arguments",
    "add_problem_arguments",
    "add_solver_argument",
    "add_method_arguments",
    "method_from_args",
    "function_class_from_args",
    "problem_from_args",
    "schedule_from_args",
    "dump_json",
    "write_atomic",
    "problem_json",
    "fmt",
    "trusted_digits",
    "Outputs",
    "check_output_path",
    "check_outputs",
    "given",
    "refuse_given",
    "finite_float",
    "positive_float",
    "int_in",
    "check_num_steps",
    "MAX_PEP_STEPS",
    "add_quiet_argument",
    "progress_bar",
    "solver_json",
    "json_epilog",
    "FORMULATIONS",
]

#: Longest schedule a PEP command (rate, table, certify, run's bounds) accepts. The SDP of N
#: steps has a Gram matrix of order N + 2 and (N + 2)(N + 1) interpolation pairs; N = 127
#: takes seconds by constraint generation, and the published results stop at N = 255 (silver
#: and cyclic patterns of 2^k - 1 steps), so 1023 leaves room without starting a solve that
#: would run for hours.
MAX_PEP_STEPS = 1023


def _float_text(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        what = (
            "overflows a float" if text.strip().lower().lstrip("+-") not in ("nan", "inf", "infinity") else ""
        )
        raise argparse.ArgumentTypeError(
            f"must be a finite number{', ' + what if what else ''}; got {text!r}"
        )
    return value


def finite_float(text: str) -> float:
    """argparse type: a finite float (``nan``, ``inf`` and ``1e400`` refused)."""
    return _float_text(text)


def positive_float(text: str) -> float:
    """argparse type: a finite float > 0 that is not 0 after rounding (``1e-400`` refused)."""
    value = _float_text(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be finite and > 0; got {text!r}")
    return value


def int_in(lo: int, hi: int | None = None, why: str = ""):
    """argparse type: an integer in ``[lo, hi]``; ``why`` explains the upper limit."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer; got {text!r}") from None
        if value < lo:
            raise argparse.ArgumentTypeError(f"must be an integer >= {lo}; got {text!r}")
        if hi is not None and value > hi:
            raise argparse.ArgumentTypeError(
                f"must be at most {hi}{' (' + why + ')' if why else ''}; got {text!r}"
            )
        return value

    parse.__name__ = "integer"
    return parse


def given(args, dest: str) -> bool:
    """Whether the option stored in ``dest`` was given on the command line."""
    return dest in getattr(args, "_given", ())


def refuse_given(args, options: dict, reason: str) -> None:
    """Raise InputError if any of ``options`` (dest -> option text) was given."""
    bad = [opt for dest, opt in options.items() if given(args, dest)]
    if bad:
        raise InputError(f"{', '.join(bad)} cannot be used {reason}.")


def check_outputs(args, options: dict) -> dict:
    """Check every given output option before any computation; refuse two naming one file.

    ``options`` maps an attribute of ``args`` to ``(option text, kind)``, kind ``"file"``,
    ``"plot"`` or ``"folder"``. Returns attribute -> Path (or None when not given).
    """
    out, names = {}, {}
    for dest, (option, kind) in options.items():
        value = getattr(args, dest, None)
        if value is None:
            out[dest] = None
            continue
        out[dest] = check_output_path(value, option, plot=kind == "plot", folder=kind == "folder")
        names[option] = value
    check_distinct(names)
    return out


def check_num_steps(num_steps: int, limit: int = MAX_PEP_STEPS, why: str = "") -> None:
    if num_steps > limit:
        raise InputError(
            f"The schedule has N={num_steps} steps; this command solves PEPs of at most {limit} steps "
            + (
                why
                or "(the SDP has order N + 2 and (N + 2)(N + 1) interpolation pairs; longer ones run for hours)."
            )
        )


def add_class_arguments(p) -> None:
    p.add_argument(
        "--class",
        dest="fclass",
        default="convex",
        choices=[k.value for k in ClassKind],
        metavar="CLASS",
        help="convex (default), strongly-convex or nonconvex",
    )
    p.add_argument("--L", type=finite_float, default=1.0, help="smoothness constant (default 1)")
    p.add_argument("--mu", type=finite_float, default=0.0, help="strong convexity constant (default 0)")
    p.add_argument(
        "--measure",
        default="fgap",
        choices=[m.value for m in Measure],
        help="fgap (default), gradnorm, dist or mingradnorm",
    )
    p.add_argument(
        "--init",
        default=None,
        choices=[i.value for i in InitialCondition],
        help="dist (default; fgap for nonconvex) or fgap",
    )
    p.add_argument(
        "--R",
        type=finite_float,
        default=1.0,
        help="size of the initial condition: R in |x0 - x*| <= R, or Delta in f(x0) - f* <= Delta",
    )


def add_solver_argument(p, extra: tuple = ()) -> None:
    p.add_argument(
        "--solver",
        default="clarabel",
        choices=[*extra, *BACKENDS],
        help=", ".join(extra) + (", " if extra else "") + "clarabel (default), cvxopt, scs or mosek",
    )


def add_method_arguments(p) -> None:
    """``--method auto|full|generate`` and its shorthand ``--exact-full``."""
    p.add_argument(
        "--method",
        default="auto",
        choices=METHODS,
        help="auto (default: the cheaper of full and generate by a measured cost model), full or generate",
    )
    p.add_argument(
        "--exact-full",
        action="store_true",
        help="force the dense formulation (all (N+2)(N+1) pairs in one SDP)",
    )


def method_from_args(args) -> str:
    """The method of ``--method`` and ``--exact-full``; refused when they disagree."""
    method = getattr(args, "method", "auto")
    if getattr(args, "exact_full", False):
        if method != "full" and (given(args, "method") or method != "auto"):
            raise InputError(f"--exact-full means --method full; it contradicts --method {method}.")
        return "full"
    return method


def add_problem_arguments(p, steps_required: bool = True) -> None:
    """``--steps`` / ``--schedule`` plus the class, measure, init and solver options."""
    p.add_argument("--steps", default=None, help="comma-separated normalized steps, e.g. 1.5,4.9,1.5")
    p.add_argument(
        "--schedule", default=None, help="named schedule: constant:H:N, silver:N or pattern:FILE:REPEATS"
    )
    add_class_arguments(p)
    add_solver_argument(p)


def schedule_from_args(args) -> Schedule:
    if args.steps is not None and args.schedule is not None:
        raise InputError("Give either --steps or --schedule, not both.")
    if args.steps is not None:
        return parse_steps(args.steps)
    if args.schedule is not None:
        return parse_schedule(args.schedule, max_steps=MAX_PEP_STEPS)
    raise InputError("No schedule given: use --steps 1.5,4.9,1.5 or --schedule silver:63.")


def function_class_from_args(args) -> FunctionClass:
    return FunctionClass(args.fclass, L=args.L, mu=args.mu)


def problem_from_args(args, schedule: Schedule | None = None) -> Problem:
    fc = function_class_from_args(args)
    init = args.init
    if init is None:
        init = "dist" if fc.has_minimizer else "fgap"
    schedule = schedule or schedule_from_args(args)
    check_num_steps(schedule.num_steps)
    return Problem(schedule, fc, args.measure, init, args.R)


def problem_json(problem: Problem) -> dict:
    fc = problem.function_class
    return {
        "steps": list(problem.schedule.steps),
        "num_steps": problem.num_steps,
        "schedule": problem.schedule.name,
        "class": fc.kind,
        "L": fc.L,
        "mu": fc.mu,
        "measure": problem.measure.value,
        "init": problem.init.value,
        "R": problem.R,
    }


def _clean(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def dump_json(obj, stream=None) -> None:
    """Print one JSON object (non-finite floats become null)."""
    stream = stream or sys.stdout
    json.dump(_clean(obj), stream, indent=2)
    stream.write("\n")


def fmt(x: float, digits: int = 10) -> str:
    return f"{x:.{digits}g}"


def trusted_digits(residuals: dict) -> int:
    """Significant digits the re-checked accuracy supports (relative gap, dual residual and the
    weighted primal residual of :func:`pepstep.solve.recheck`, unless an explicit function's value
    pinned the value and the primal point does not enter)."""
    weighted = 0.0 if residuals.get("closed_by") == "lower bound" else residuals.get("weighted_primal", 0.0)
    err = max(residuals.get("gap", 1.0), residuals.get("dual", 1.0), weighted, 1e-12)
    return max(3, min(10, int(-math.log10(err))))


# --------------------------------------------------------------------------- executors
#: Local worker processes allowed (each spawned process imports the solver stack).
MAX_WORKERS = 64
#: Seconds allowed to reach a Dask scheduler before the work starts.
CONNECT_TIMEOUT = 3
SCHEDULER_ADDRESS = re.compile(r"^(tcp|tls|ws|wss|inproc|ucx)://[^\s/:]+(:\d{1,5})?/?$")


def add_executor_arguments(p, workers_help: str) -> None:
    """``--workers N`` (local processes) and ``--scheduler ADDRESS`` (a Dask cluster)."""
    p.add_argument(
        "--workers",
        type=int_in(1, MAX_WORKERS, "each is a spawned process with its own solver stack"),
        default=None,
        help=workers_help,
    )
    p.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")


def check_executor_args(args) -> None:
    """The refusals of ``--workers`` / ``--scheduler``, before any worker starts."""
    if args.scheduler is not None and not SCHEDULER_ADDRESS.match(args.scheduler):
        raise InputError(
            f"The --scheduler must be an address such as tcp://127.0.0.1:8786. Got {args.scheduler!r}."
        )
    if args.scheduler is not None and args.workers is not None:
        raise InputError("Give --workers (local processes) or --scheduler (Dask), not both.")


def make_executor(args):
    """``(executor, close)``: a Dask executor for ``--scheduler``, else a local process pool of
    ``--workers`` processes (all cores when not given)."""
    if args.scheduler is not None:
        return _dask_executor(args.scheduler)
    from ..search import local_pool

    ex = local_pool(args.workers)
    return ex, ex.shutdown


def _dask_executor(address: str):
    """A Dask executor, or one line (exit 2) for a malformed or unreachable scheduler."""
    try:
        from distributed import Client
    except ImportError:
        raise InputError("--scheduler needs the 'distributed' package (pip install distributed).") from None
    import logging

    quiet = [logging.getLogger(n) for n in ("distributed", "distributed.client", "distributed.comm")]
    levels = [lg.level for lg in quiet]
    for lg in quiet:
        lg.setLevel(logging.CRITICAL)
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        detail = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise InputError(
            f"Cannot reach the Dask scheduler {address!r} within {CONNECT_TIMEOUT} s: {detail}."
        ) from None
    finally:
        for lg, level in zip(quiet, levels):
            lg.setLevel(level)
    return client.get_executor(), client.close


# --------------------------------------------------------------------------- progress


def add_quiet_argument(p) -> None:
    """``--quiet``: no progress on stderr (progress is shown by default, with ``--json`` too)."""
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


#: Seconds between redraws of a progress line whose work gives no count (elapsed time only).
HEARTBEAT_SECONDS = 1.0


#: Seconds a command may run before its progress line appears: a one-second ``rate`` shows
#: none, and an input refused at the start leaves stderr one line. The environment variable
#: ``PEPSTEP_PROGRESS_DELAY`` overrides it (the tests set 0 to see the bar of a fast run).
PROGRESS_DELAY = 2.0
#: Bar of a work whose total is unknown: name, elapsed time, and what the library reported.
_NO_TOTAL = "{desc}: {elapsed}{postfix}"


def _progress_delay() -> float:
    text = os.environ.get("PEPSTEP_PROGRESS_DELAY", "")
    try:
        value = float(text) if text else PROGRESS_DELAY
    except ValueError:
        return PROGRESS_DELAY
    return value if math.isfinite(value) and value >= 0 else PROGRESS_DELAY


class _SilentBar:
    """What ``--quiet`` gets instead of a tqdm bar: the same calls, no output."""

    disable = True

    def update(self, n=1):
        pass

    def set_postfix_str(self, s="", refresh=True):
        pass

    def set_description(self, desc=None, refresh=True):
        pass

    def refresh(self):
        pass

    def write(self, s, file=None, end="\n"):
        print(s, file=sys.stdout if file is None else file, end=end)  # as tqdm.write: not progress

    def close(self):
        pass


@contextlib.contextmanager
def progress_bar(
    args,
    desc: str,
    total: int | None = None,
    unit: str = "it",
    heartbeat: bool = False,
    delay: float | None = None,
):
    """The one progress display of the CLI: a tqdm bar on stderr, never on stdout.

    Shown with ``--json`` too (stdout then holds exactly one JSON object) and silenced by
    ``--quiet``; it appears after ``delay`` seconds (default :data:`PROGRESS_DELAY`) and
    is erased when the work ends.
    Library functions never print: they take a ``progress`` callback, which the command
    builds from this bar (``bar.update``, ``bar.set_postfix_str``). With ``heartbeat=True``
    a background thread redraws the bar every ``HEARTBEAT_SECONDS``, so a long solve that
    reports nothing still shows its elapsed time.
    """
    if getattr(args, "quiet", False):
        yield _SilentBar()  # without importing tqdm: a quiet small run is import-bound
        return
    from tqdm import tqdm

    if delay is None:
        delay = _progress_delay()
    bar = tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=False,
        leave=False,
        delay=delay,
        bar_format=None if total else _NO_TOTAL,
    )
    stop = threading.Event()
    thread = None
    if heartbeat and not bar.disable:

        def beat():
            if stop.wait(delay):
                return
            while True:
                bar.refresh()
                if stop.wait(HEARTBEAT_SECONDS):
                    return

        thread = threading.Thread(target=beat, name="pepstep-progress", daemon=True)
        thread.start()
    try:
        yield bar
    finally:
        stop.set()
        if thread is not None:
            thread.join()
        bar.close()


# --------------------------------------------------------------------------- JSON

#: How the SDP reached its solver, the ``formulation`` key of every JSON output.
FORMULATIONS = {
    "dense": "the SDP as sparse matrices with a dense PSD block, through cvxpy to `solver`",
    "schur": "pepstep's low-rank Schur-complement KKT solver inside CVXOPT",
}


def solver_json(name: str, version: str = "") -> dict:
    """``solver`` (the package that ran), ``solver_version`` and ``formulation``.

    pepstep's low-rank route (recorded as ``"schur"`` by the library) runs CVXOPT with
    pepstep's KKT solver: it is reported as ``solver: "cvxopt"``, ``formulation: "schur"``;
    a cvxpy backend as itself with ``formulation: "dense"``.
    """
    if name == "schur":
        return {"solver": "cvxopt", "solver_version": version, "formulation": "schur"}
    return {"solver": name, "solver_version": version, "formulation": "dense"}


def solver_text(name: str, version: str = "") -> str:
    """The solver as the text outputs name it: ``cvxopt 1.3.3 (pepstep low-rank Schur KKT)``."""
    info = solver_json(name, version)
    text = f"{info['solver']} {version}".strip()
    return text + (" (pepstep low-rank Schur KKT)" if info["formulation"] == "schur" else "")


def json_epilog(doc: str | None) -> str:
    """The ``JSON output`` section of a command module's docstring, for its ``--help`` epilog.

    The section is a table ``| key | meaning |`` (nested keys as ``a.b`` or ``a[].b``);
    ``tests/cli/test_json_schema.py`` checks every command's output against it.
    """
    lines = (doc or "").splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "JSON output")
    except StopIteration:
        return ""
    body = [line for line in lines[start:] if line.strip()]
    return "\n".join(body)


def json_schema(doc: str | None) -> dict:
    """``{key: meaning}`` of the ``JSON output`` table of a command module's docstring."""
    keys = {}
    for line in json_epilog(doc).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.strip().startswith("|") and len(cells) >= 2 and cells[0].startswith("`"):
            keys[cells[0].strip("`")] = cells[1]
    return keys
