"""``pepstep search``: a straightforward long-step pattern of length 2^k - 1, found from scratch."""

from __future__ import annotations

import sys

from .common import dump_json


def register(sub) -> None:
    p = sub.add_parser("search", help="search a cyclic long-step pattern (Grimmer's criterion)")
    p.add_argument("--length", type=int, required=True, help="pattern length t = 2^k - 1")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--workers", type=int, default=None, help="local processes (default: all cores)")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")
    p.add_argument("--seed", type=int, default=0, help="seed of the coordinate-move order")
    p.add_argument("--checkpoint", default=None, help="JSON file written after each level; resumes")
    p.add_argument("--first", type=float, default=None, help="fix the shortest-level step (e.g. 1.5)")
    p.add_argument("--certificate", default=None, help="write the exact certificate to this JSON file")
    p.set_defaults(func=run)


def _executor(args):
    if args.scheduler:
        from distributed import Client

        client = Client(args.scheduler)
        return client.get_executor(), client.close
    from ..search import local_pool

    ex = local_pool(args.workers)
    return ex, ex.shutdown


def run(args) -> int:
    from ..search import _write_checkpoint, check_length, search_patterns

    check_length(args.length)  # before any worker or progress bar
    executor, close = _executor(args)
    bar = None
    if not args.json:
        from tqdm import tqdm

        k = (args.length + 1).bit_length() - 1
        bar = tqdm(total=k, file=sys.stderr, desc="levels")

    def progress(level, k, avg):
        if bar is not None:
            bar.update(1)
            bar.set_postfix(t=2**level - 1, avg=f"{avg:.4f}")

    try:
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
        if bar is not None:
            bar.close()
    cert_path = None
    if res.certificate is not None and args.certificate:
        _write_checkpoint(args.certificate, res.certificate)
        cert_path = args.certificate
    out = {
        "steps": list(res.steps),
        "average": res.average,
        "certified": res.certified,
        "certificate": cert_path,
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
