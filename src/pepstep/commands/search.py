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

from ..errors import InputError
from .common import (
    Outputs,
    add_executor_arguments,
    add_quiet_argument,
    check_executor_args,
    check_outputs,
    dump_json,
    int_in,
    json_epilog,
    make_executor,
    progress_bar,
)

#: Longest pattern searched: every level doubles the pattern and the SDPs of its moves;
#: t = 255 is the longest searched so far, so t = 511 is the limit here.
MAX_LENGTH = 511
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
    add_executor_arguments(p, "local processes (default: all cores)")
    p.add_argument("--seed", type=int_in(0), default=0, help="seed of the coordinate-move order")
    p.add_argument("--checkpoint", default=None, help="JSON file written after each level; resumes")
    p.add_argument("--first", type=float, default=None, help="fix the shortest-level step (e.g. 1.5)")
    p.add_argument("--certificate", default=None, help="write the exact certificate to this JSON file")
    p.set_defaults(func=run)


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
    check_executor_args(args)
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
    executor, close = make_executor(args)
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
