"""The ``hadnas`` command line: ``hadnas COMMAND --help`` for each command.

Exit codes: 0 success, 2 user error (a located message, no traceback), 1 a bug in hadnas.
Command modules import only argparse at module level, so ``--help`` stays fast; the work is
imported inside each ``run`` function.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from hadnas.version import __version__

# command modules, each exposing register(subparsers) -> None
_COMMAND_MODULES = (
    "hadnas.cli._spec",
    "hadnas.cli._draw",
    "hadnas.cli._search",
    "hadnas.cli._report",
    "hadnas.cli._export",
    "hadnas.cli._latency",
    "hadnas.cli._bench",
)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hadnas",
        description="Neural architecture search over Hadamard-product primitives.",
    )
    parser.add_argument("--version", action="version", version=f"hadnas {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only print errors")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    for command in sub.choices.values():  # `hadnas search X -q` works as well as `hadnas -q ...`
        _add_common(command)
    return parser


def _add_common(parser: argparse.ArgumentParser) -> None:
    known = {opt for action in parser._actions for opt in action.option_strings}
    if "-q" not in known:
        parser.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                            help="only print errors")  # fmt: skip
    if "-v" not in known:
        parser.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                            help="more logging")  # fmt: skip
    for action in parser._actions:  # nested commands (e.g. `hadnas latency measure`)
        if isinstance(action, argparse._SubParsersAction):
            for nested in action.choices.values():
                _add_common(nested)


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    level = (
        logging.ERROR
        if args.quiet
        else (
            logging.DEBUG
            if args.verbose > 1
            else logging.INFO
            if args.verbose
            else logging.WARNING
        )
    )
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    from hadnas.exceptions import HadnasError

    try:
        return int(args.run(args) or 0)
    except HadnasError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except OSError as exc:  # an unwritable -o path, a full disk...: the user's to fix
        print(f"hadnas {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
