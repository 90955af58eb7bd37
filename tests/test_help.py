"""`mer ... --help` shows the default of every option that has one."""

from __future__ import annotations

import argparse

from mer_core.cli import build_parser


def _parsers(parser, prefix="mer"):
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, f"{prefix} {name}")


def test_every_default_is_in_the_help():
    missing = []
    for name, parser in _parsers(build_parser()):
        parser.format_help()  # formats without error
        for action in parser._actions:
            if not action.option_strings or action.default in (None, argparse.SUPPRESS):
                continue
            if isinstance(action, argparse._StoreConstAction | argparse._StoreTrueAction):
                continue
            shown = "default" in (action.help or "").lower() and (
                "%(default)" in action.help
                or str(action.default) in action.help
                or (isinstance(action.default, float) and f"{action.default:g}" in action.help)
            )
            if not shown:
                missing.append(f"{name} {action.option_strings[0]}")
    assert not missing, missing


def test_budget_default_is_shown():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert "(default: paper)" in " ".join(sub.choices["evaluate"].format_help().split())
