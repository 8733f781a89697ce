"""The ``pepstep`` command: parses, calls the API, prints. No math here.

Every subcommand lives in its own module ``pepstep.commands.<name>`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a callable
``(args) -> int``. Modules are discovered (``common`` holds shared options).

Exit status: 0 success, 1 a solver that failed or was inaccurate, a worst case that is
unbounded (or a check that did not hold), 2 bad input (one line on stderr naming the bad
value, before any computation; nothing half-written), 130 interrupted. No traceback reaches
a user: an unexpected exception is one line ``pepstep: internal error: ...`` and exit 1.

Every output option is checked before any computation (:func:`pepstep._io.check_output_path`)
and the outputs of one command are written together or not at all (:class:`pepstep._io.Outputs`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from .errors import InputError, PepstepError, SolverError

__all__ = ["main", "COMMANDS"]


def _command_modules() -> list[str]:
    from . import commands

    return sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if m.name != "common")


#: Subcommands, each a module of ``pepstep.commands``.
COMMANDS = tuple(_command_modules())


def _recording(base):
    """An argparse action class that also records its ``dest`` in ``namespace._given``."""

    class Recording(base):
        def __call__(self, parser, namespace, values, option_string=None):
            given = getattr(namespace, "_given", None)
            if given is None:
                given = set()
                namespace._given = given
            given.add(self.dest)
            super().__call__(parser, namespace, values, option_string)

    return Recording


_ACTIONS = {
    None: argparse._StoreAction,
    "store": argparse._StoreAction,
    "store_true": argparse._StoreTrueAction,
    "append": argparse._AppendAction,
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit status 2.

    Its options record which of them were given (``args._given``), so that a command can
    refuse an option it would otherwise ignore, even when its value equals the default.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, base in _ACTIONS.items():
            self.register("action", name, _recording(base))

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}\n")


def _summary(name: str) -> str | None:
    """The ``help=`` string a command module passes to ``add_parser``, read from its source.

    Reading it (with :mod:`ast`) rather than importing the module keeps ``pepstep --help``
    and every command's start from importing every other command's library (numpy, scipy,
    the solvers). ``None`` when the source does not state it as a literal.
    """
    import ast
    import importlib.util

    spec = importlib.util.find_spec(f"pepstep.commands.{name}")
    try:
        with open(spec.origin, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
    except (OSError, SyntaxError, TypeError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_parser":
            for kw in node.keywords:
                if (
                    kw.arg == "help"
                    and isinstance(kw.value, ast.Constant)
                    and isinstance(kw.value.value, str)
                ):
                    return kw.value.value
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``only``, that command's parser in full and the others as stubs.

    A stub has the command's name and one-line help (so ``pepstep --help`` lists every
    command and a mistyped one gets argparse's usual message) without importing its module.
    """
    parser = _Parser(
        prog="pepstep",
        description="Exact worst cases, certificates and optimal step sizes for gradient descent.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"pepstep {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        summary = None if only is None or name == only else _summary(name)
        if summary is None:
            importlib.import_module(f"pepstep.commands.{name}").register(sub)
        else:
            sub.add_parser(name, help=summary)
    return parser


def _command_named(argv: list[str]) -> str:
    """The subcommand ``argv`` names (its first word that is not an option), or ``""``."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else ""
    return ""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=_command_named(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version, or a one-line usage error
        return exc.code if isinstance(exc.code, int) else 2
    if not hasattr(args, "_given"):
        args._given = set()
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"pepstep: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except SolverError as exc:
        print(f"pepstep: solver failure: {_one_line(exc)}", file=sys.stderr)
        return 1
    except PepstepError as exc:  # pragma: no cover - every error has a subclass above
        print(f"pepstep: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pepstep: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of stdout went away (``pepstep ... | head``)
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more is written
        except OSError:  # pragma: no cover
            pass
        return 1
    except Exception as exc:  # the last resort: no traceback ever reaches a user
        print(f"pepstep: internal error: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def entry_point() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry_point()
