"""``pepstep reproduce SPEC...``: recompute published results and write them into results/."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InputError
from ..reproduce import check_manifest, planned_outputs, reproduce, write_index, write_outputs
from ..spec import load_spec
from .common import add_method_arguments, add_solver_argument, check_outputs, dump_json, method_from_args


def register(sub) -> None:
    p = sub.add_parser("reproduce", help="recompute published results from problems/*.toml specs")
    p.add_argument("specs", nargs="+", help="spec files (problems/*.toml)")
    p.add_argument("--out", default="results", help="output folder (default results/)")
    p.add_argument("--fast", action="store_true", help="only specs marked fast = true")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--json", action="store_true", help="print one JSON summary")
    p.add_argument("--quiet", action="store_true", help="no progress bar (rows done, ETA) on stderr")
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
    from tqdm import tqdm

    bar = tqdm(
        total=sum(len(s.rows) for s in specs), unit="row", file=sys.stderr, disable=args.quiet, leave=False
    )
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
        summary.append({"spec": spec.name, "all_match": result.all_match, "files": [str(p) for p in paths]})
    bar.close()
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
