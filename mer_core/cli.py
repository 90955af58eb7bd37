"""The ``mer`` command line.

Each topic module that offers commands exposes ``register(subparsers)``, which
adds its sub-commands and sets ``func`` on them; this module only assembles
them (a registry, no dynamic ``eval``). Errors a user can cause are printed as
one line (``mer: error: ...``) with exit status 2, and so is every operating
system error (``mer: error: PATH: problem``, e.g. a full disk or a folder one
may not write); no traceback reaches the user unless ``--debug`` is given.
Warnings meant for the user (e.g. a dataset's class imbalance) are printed
once each as ``mer: warning: ...``, without Python's source line; numerical
warnings of the libraries are not shown.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import warnings

from mer_core import __version__
from mer_core.errors import MerError, ParameterError
from mer_core.names import SCHEME_IDS


def duration_arg(text: str) -> float:
    """argparse type of ``--duration``: a finite number of seconds in (0, 3600]."""
    from mer_core.audio import check_duration

    try:
        value = float(text)
        check_duration(value)
    except (ValueError, ParameterError):
        from mer_core.audio import MAX_DURATION

        raise argparse.ArgumentTypeError(
            f"must be a number of seconds in (0, {MAX_DURATION:g}], got {text!r}"
        ) from None
    return value


class DeprecatedAlias(argparse.Action):
    """Store the value like the new option, and say the old name is deprecated."""

    def __init__(self, option_strings, dest, *, new: str, **kw):
        self.new = new
        super().__init__(option_strings, dest, **kw)

    def __call__(self, parser, namespace, values, option_string=None):
        if option_string and option_string != self.new:
            print(f"mer: warning: {option_string} is deprecated; use {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def add_scheme_option(p, *, required: bool = False, default=None, deprecated=("--dataset",)):
    """``--scheme`` (the label scheme), the same name in every command.

    ``deprecated`` spellings still work, with a warning on stderr.
    """
    p.add_argument(
        "--scheme",
        *deprecated,
        dest="scheme",
        required=required,
        default=default,
        choices=SCHEME_IDS,
        action=DeprecatedAlias,
        new="--scheme",
        help=f"label scheme: {', '.join(SCHEME_IDS)} (the paper's three datasets)"
        + (f"; {', '.join(deprecated)} is a deprecated alias" if deprecated else ""),
    )


#: Help of ``--cache-dir``: what :func:`mer_core.extract.default_cache_dir` returns.
CACHE_DIR_HELP = "feature cache (default: $MER_CACHE_DIR if set, else ~/.cache/mer/features)"


def add_cache_dir_option(p) -> None:
    """``--cache-dir`` (the feature cache), the same in every command."""
    p.add_argument("--cache-dir", default=None, help=CACHE_DIR_HELP)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"mer: warning: {message}", file=sys.stderr)


@contextlib.contextmanager
def _user_warnings():
    """Warnings as one ``mer: warning:`` line each (no source line); no numeric noise."""
    import numpy as np

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("default")
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.showwarning = _show_warning
        yield


def _os_error_line(exc: OSError) -> str:
    problem = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is not None and exc.filename2 is not None:
        return f"{exc.filename} -> {exc.filename2}: {problem}"
    if exc.filename is not None:
        return f"{exc.filename}: {problem}"
    return problem


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
        importlib.import_module(name).register(sub)
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
        with _user_warnings():
            return int(args.func(args) or 0)
    except MerError as exc:
        if args.debug:
            raise
        print(f"mer: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a read-only folder, a vanished file, ...
        if args.debug:
            raise
        print(f"mer: error: {_os_error_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mer: interrupted; no partial outputs were left behind", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
