"""The ``mer`` command line.

Each topic module that offers commands exposes ``register(subparsers)``, which
adds its sub-commands and sets ``func`` on them; this module only assembles
them (a registry, no dynamic ``eval``). Errors a user can cause are printed as
one line (``mer: error: ...``) with exit status 2; no traceback reaches the
user unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from mer_core import __version__
from mer_core.errors import MerError

# Modules that contribute sub-commands, in the order they appear in --help.
COMMAND_MODULES = (
    "mer_core.audio_cli",
    "mer_core.extract_cli",
    "mer_core.datasets.cli",
    "mer_core.synth.cli",
    "mer_core.experiments_cli",
    "mer_core.pipeline_cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mer",
        description="Music emotion recognition: the reproducible companion to H. Yang's "
        "'Music Emotion Recognition Model Integrating Deep Learning'.",
    )
    parser.add_argument("--version", action="version", version=f"mer {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a topic not built yet
            if exc.name != name:
                raise
            continue
        module.register(sub)
    _show_defaults(parser)
    return parser


def _show_defaults(parser: argparse.ArgumentParser) -> None:
    """Every option's default in --help, in every sub-command (help text or not)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _show_defaults(child)
            continue
        if not action.option_strings or action.default in (None, argparse.SUPPRESS):
            continue
        if isinstance(action, argparse._StoreConstAction | argparse._StoreTrueAction):
            continue  # a flag's default is "off"
        if "default" not in (action.help or "").lower():
            action.help = f"{action.help or ''} (default: %(default)s)".strip()


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except MerError as exc:
        if args.debug:
            raise
        print(f"mer: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mer: interrupted; no partial outputs were left behind", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
