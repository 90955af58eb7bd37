"""Names defined once (mer_core.names): every command, table, figure and experiment uses them."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

import pytest

from mer_core import cli, names, plots
from mer_core.experiments import MODELS, TRAINING_BUDGETS
from mer_core.paper import PAPER_CLAIMS, PAPER_TABLES
from mer_core.pipeline import RUN_PROFILES
from mer_core.schemes import SCHEMES
from mer_core.synth.sizes import CORPUS_SIZES


def _options(parser, prefix="mer"):
    """(command, option action) for every option of every sub-command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _options(child, f"{prefix} {name}")
        elif action.option_strings:
            yield prefix, action


OPTIONS = list(_options(cli.build_parser()))


def _choices(option: str) -> dict:
    """Command -> the choices of ``option`` (options without choices left out)."""
    return {
        cmd: tuple(a.choices)
        for cmd, a in OPTIONS
        if option in a.option_strings and a.choices is not None
    }


def test_registries_are_keyed_by_the_names():
    assert tuple(SCHEMES) == names.SCHEME_IDS == tuple(names.SCHEME_TITLES)
    assert tuple(MODELS) == tuple(names.MODEL_TITLES)
    assert set(names.PAPER_MODELS) <= set(MODELS)
    assert all(MODELS[m].title == t for m, t in names.MODEL_TITLES.items())
    assert tuple(names.METRIC_TITLES) == names.TABLE_COLUMNS[: len(names.METRIC_TITLES)]
    assert names.TABLE_COLUMNS[: len(names.METRICS)] == names.METRICS


def test_every_scheme_option_offers_the_schemes():
    choices = _choices("--scheme")
    assert {"mer evaluate", "mer train", "mer synth", "mer data info"} <= set(choices)
    assert {"mer pipeline data", "mer pipeline results"} <= set(choices)
    assert set(choices.values()) == {names.SCHEME_IDS}, choices


def test_size_options_name_their_own_registry():
    """Run profile, corpus size and training budget: three options, three registries."""
    assert set(_choices("--budget").values()) == {tuple(TRAINING_BUDGETS)}
    assert set(_choices("--profile").values()) == {tuple(RUN_PROFILES)} | {
        tuple(n for n in CORPUS_SIZES if n != "default")  # mer synth's deprecated alias
    }
    assert set(_choices("--size").values()) == {tuple(n for n in CORPUS_SIZES if n != "default")}
    assert _choices("--model") == {"mer train": tuple(sorted(MODELS))}
    for prof in RUN_PROFILES.values():
        assert prof.corpus_size in CORPUS_SIZES and prof.training_budget in TRAINING_BUDGETS


def test_tables_and_figures_use_the_names():
    for table in PAPER_TABLES.values():
        assert list(table.index) == [names.MODEL_TITLES[m] for m in names.PAPER_MODELS]
        assert tuple(table.columns) == names.TABLE_COLUMNS
    assert {c["model"] for c in PAPER_CLAIMS} | {c["baseline"] for c in PAPER_CLAIMS} <= {
        *names.PAPER_MODELS,
        None,
    }
    for fn in (plots.plot_model_comparison, plots.plot_confusion_matrices):
        assert inspect.signature(fn).parameters["models"].default is names.PAPER_MODELS
    assert inspect.signature(plots.plot_model_comparison).parameters["metrics"].default is (
        names.METRICS
    )


def test_cache_dir_help_says_what_default_cache_dir_returns(monkeypatch, tmp_path):
    from mer_core.extract import default_cache_dir

    helps = {cmd: a.help for cmd, a in OPTIONS if "--cache-dir" in a.option_strings}
    assert {"mer features", "mer evaluate", "mer train", "mer predict"} <= set(helps)
    assert set(helps.values()) == {cli.CACHE_DIR_HELP}
    monkeypatch.delenv("MER_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    default = "~/" + default_cache_dir().relative_to(Path.home()).as_posix()
    assert f"else {default})" in cli.CACHE_DIR_HELP
    monkeypatch.setenv("MER_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere"
    assert "$MER_CACHE_DIR if set" in cli.CACHE_DIR_HELP


def test_a_command_module_that_fails_to_import_is_an_error(monkeypatch):
    """No command group is dropped silently: its import error reaches the user."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "mer_core.no_such_cli"))
    with pytest.raises(ModuleNotFoundError, match="mer_core.no_such_cli"):
        cli.build_parser()


def test_synth_profile_flag_still_works_with_a_warning(capsys):
    args = cli.build_parser().parse_args(["synth", "--profile", "tiny", "--out", "x"])
    assert args.size == "tiny"
    assert "--profile is deprecated; use --size" in capsys.readouterr().err
