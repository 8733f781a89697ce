"""``pepstep search``: a straightforward long-step pattern of length 2^k - 1, found from scratch.

Progress (levels done, the pattern's length and average so far) goes to stderr, also with
``--json``; ``--quiet`` silences it.

JSON output
  | key | meaning |
  |---|---|
  | `length` | the pattern length t |
  | `steps` | the pattern found |
  | `average` | its average step sum(h) / t (float) |
  | `certified` | whether the exact certificate (Grimmer's criterion) verified |
  | `certificate` | null unless certified |
  | `certificate.average` | the certified average step, an exact "p/q" |
  | `certificate.delta` | the certificate's Delta, an exact "p/q" |
  | `certificate.written_to` | the --certificate file, or null when none was asked for |
  | `seconds` | wall time |
  | `candidates_evaluated` | SDPs solved |
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re

from ..errors import InputError
from .common import Outputs, add_quiet_argument, check_outputs, dump_json, int_in, json_epilog, progress_bar

#: Longest pattern searched: every level doubles the pattern and the SDPs of its moves;
#: t = 255 is the longest searched so far, so t = 511 is the limit here.
MAX_LENGTH = 511
#: Local worker processes allowed (each spawned process imports the solver stack).
MAX_WORKERS = 64
#: Seconds allowed to reach a Dask scheduler before the search starts.
CONNECT_TIMEOUT = 3
_SCHEDULER = re.compile(r"^(tcp|tls|ws|wss|inproc|ucx)://[^\s/:]+(:\d{1,5})?/?$")

OUTPUTS = {"checkpoint": ("--checkpoint", "file"), "certificate": ("--certificate", "file")}


def register(sub) -> None:
    p = sub.add_parser(
        "search",
        help="search a cyclic long-step pattern (Grimmer's criterion)",
        epilog=json_epilog(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--length", type=int, required=True, help=f"pattern length t = 2^k - 1 <= {MAX_LENGTH}")
    p.add_argument("--json", action="store_true", help="print one JSON object (progress still on stderr)")
    add_quiet_argument(p)
    p.add_argument(
        "--workers",
        type=int_in(1, MAX_WORKERS, "each is a spawned process with its own solver stack"),
        default=None,
        help="local processes (default: all cores)",
    )
    p.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")
    p.add_argument("--seed", type=int_in(0), default=0, help="seed of the coordinate-move order")
    p.add_argument("--checkpoint", default=None, help="JSON file written after each level; resumes")
    p.add_argument("--first", type=float, default=None, help="fix the shortest-level step (e.g. 1.5)")
    p.add_argument("--certificate", default=None, help="write the exact certificate to this JSON file")
    p.set_defaults(func=run)


def _executor(args):
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


def check_args(args) -> None:
    """Every refusal of ``search``, before any worker starts."""
    from ..search import check_length

    check_length(args.length)
    if args.length > MAX_LENGTH:
        raise InputError(
            f"The 'length' must be at most {MAX_LENGTH}: each level doubles the pattern and its SDPs, "
            f"and t = 255 is the longest searched so far. Got length={args.length}."
        )
    if args.first is not None and not (math.isfinite(args.first) and args.first > 0):
        raise InputError(f"The --first step must be finite and > 0. Got first={args.first!r}.")
    if args.scheduler is not None and not _SCHEDULER.match(args.scheduler):
        raise InputError(
            f"The --scheduler must be an address such as tcp://127.0.0.1:8786. Got {args.scheduler!r}."
        )
    if args.scheduler is not None and args.workers is not None:
        raise InputError("Give --workers (local processes) or --scheduler (Dask), not both.")
    check_outputs(args, OUTPUTS)
    if args.checkpoint and os.path.exists(args.checkpoint):
        _check_checkpoint(args.checkpoint)


def _check_checkpoint(path) -> None:
    """An existing checkpoint must be one ``search`` wrote (it is read to resume)."""
    try:
        with open(path) as fh:
            state = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"The --checkpoint file {str(path)!r} is not a search checkpoint: {exc}.") from None
    ok = (
        isinstance(state, dict)
        and isinstance(state.get("levels"), list)
        and all(isinstance(x, int | float) and not isinstance(x, bool) for x in state["levels"])
        and isinstance(state.get("history"), list)
        and all(isinstance(x, list) and len(x) == 2 for x in state["history"])
    )
    if not ok:
        raise InputError(
            f"The --checkpoint file {str(path)!r} is not a search checkpoint "
            "(a JSON object with lists 'levels' and 'history')."
        )


def run(args) -> int:
    from ..search import search_patterns

    check_args(args)  # before any worker or progress bar
    executor, close = _executor(args)
    k = (args.length + 1).bit_length() - 1

    def progress(level, k, avg):
        bar.set_postfix_str(f"t = {2**level - 1}, average {avg:.4f}", refresh=False)
        bar.update(1)

    try:
        with progress_bar(args, "search levels", total=k, unit="level", heartbeat=True) as bar:
            res = search_patterns(
                args.length,
                executor,
                seed=args.seed,
                checkpoint=args.checkpoint,
                progress=progress,
                first=args.first,
            )
    finally:
        close()
    cert_path = None
    if res.certificate is not None and args.certificate:
        with Outputs() as out:
            out.text(args.certificate, json.dumps(res.certificate, indent=1))
        cert_path = args.certificate
    certificate = None
    if res.certified and res.certificate is not None:
        certificate = {
            "average": res.certificate["average"],
            "delta": res.certificate["delta"],
            "written_to": cert_path,
        }
    out = {
        "length": args.length,
        "steps": list(res.steps),
        "average": res.average,
        "certified": res.certified,
        "certificate": certificate,
        "seconds": res.seconds,
        "candidates_evaluated": res.candidates_evaluated,
    }
    if args.json:
        dump_json(out)
    else:
        print(
            f"length {args.length}: average step {res.average:.6g} (sum {sum(res.steps):.6g}), "
            f"certified {res.certified}, {res.candidates_evaluated} SDPs, {res.seconds:.1f} s"
        )
        print("steps: " + ", ".join(f"{s:.6g}" for s in res.steps))
    return 0 if res.certified else 1
