"""``pepstep reproduce SPEC...``: recompute published results and write them into results/.

Progress (rows done, ETA) goes to stderr, also with ``--json``; ``--quiet`` silences it.
Without ``--json`` each row's comparison is printed on stdout as it is computed.

JSON output
  | key | meaning |
  |---|---|
  | `specs` | one object per spec, in the order given |
  | `specs[].spec` | the spec's name |
  | `specs[].all_match` | whether every row matches its published value |
  | `specs[].files` | the files written for it |
  | `all_match` | whether every spec matches |
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import InputError
from ..reproduce import check_manifest, planned_outputs, reproduce, write_index, write_outputs
from ..spec import load_spec
from .common import (
    add_method_arguments,
    add_quiet_argument,
    add_solver_argument,
    check_outputs,
    dump_json,
    json_epilog,
    method_from_args,
    progress_bar,
)


def register(sub) -> None:
    p = sub.add_parser(
        "reproduce",
        help="recompute published results from problems/*.toml specs",
        epilog=json_epilog(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("specs", nargs="+", help="spec files (problems/*.toml)")
    p.add_argument("--out", default="results", help="output folder (default results/)")
    p.add_argument("--fast", action="store_true", help="only specs marked fast = true")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--json", action="store_true", help="print one JSON summary (progress still on stderr)")
    add_quiet_argument(p)
    add_solver_argument(p)
    add_method_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    method = method_from_args(args)
    specs = [load_spec(path) for path in args.specs]  # validate all before computing anything
    if args.fast:
        specs = [s for s in specs if s.fast]
    out = Path(args.out)
    if not out.is_dir():
        raise InputError(f"The output folder {str(out)!r} does not exist.")
    check_outputs(args, {"out": ("--out", "folder")})
    check_manifest(out, planned_outputs(specs, figure=not args.no_figures))  # files pepstep did not write
    total = sum(len(s.rows) for s in specs)
    with progress_bar(args, "reproduce", total=total, unit="row", heartbeat=True) as bar:
        summary = []
        for spec in specs:
            if not args.json:
                bar.write(f"{spec.name}: {spec.claim}")

            bar.set_description(spec.name)

            def progress(row, quiet=args.json):
                bar.update()
                if not quiet:
                    value = "-" if row.pepstep is None else f"{row.pepstep:.10g}"
                    mark = "match" if row.match else "DIFFERS"
                    bar.write(f"  {row.label:<28} published {row.published!s:<22} pepstep {value:<18} {mark}")

            result = reproduce(spec, args.solver, progress=progress, method=method)
            paths = write_outputs(result, out, figure=not args.no_figures)
            if spec.exponent is not None and not args.json:
                print(
                    f"  rate exponent (last doubling) {result.exponent_last_doubling:.4f}, published "
                    f"{spec.exponent.published} +- {spec.exponent.atol}; least-squares fit {result.exponent_fit:.4f}"
                )
            summary.append(
                {"spec": spec.name, "all_match": result.all_match, "files": [str(p) for p in paths]}
            )
    write_index(out)
    failed = [s["spec"] for s in summary if not s["all_match"]]
    if args.json:
        dump_json({"specs": summary, "all_match": not failed})
    elif failed:
        print(
            f"pepstep: {len(failed)} spec(s) differ from the published values: {', '.join(failed)}",
            file=sys.stderr,
        )
    return 1 if failed else 0
