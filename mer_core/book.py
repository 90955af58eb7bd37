"""How ``make reproduce`` and ``make lab`` turn the notebooks into the book.

Nothing here computes a result; these helpers move parameters, notebooks and
recorded runs between the pipeline and the book:

=================================  ==================================================
function                           what it does
=================================  ==================================================
:func:`notebook_parameters`        the parameters a notebook declares, with meanings
:func:`write_build_params`         checks ``PARAMS``, writes each step's parameters
:func:`example_params`             the example parameters file (every key, meaning)
:func:`prepare_for_book`           hides the injected cell, collapses code cells
:func:`strip_outputs`              JupyterLab pre-save hook: no outputs on disk
:func:`load_corpus`, :func:`load_run`  what the pipeline made, checked, never remade
:func:`record_run`                 a cross-validation run as a committed recording
:func:`check_recorded`             a recording against the current models and schema
:func:`verdicts_markdown`          the intro's summary table of verdicts
=================================  ==================================================

``python -m mer_core.book params|prepare|record|verdicts|example-params`` runs
them from the Makefile. Nothing happens at import.
"""

from __future__ import annotations

import argparse
import ast
import datetime as _dt
import io
import json
import os
import sys
import tokenize
from pathlib import Path

from mer_core.errors import MerError, ParameterError
from mer_core.names import SCHEME_IDS, SCHEME_TITLES, TABLE_COLUMNS

__all__ = [
    "MAKE_KEYS",
    "PIPELINE_KEYS",
    "RECORDED_FILES",
    "check_recorded",
    "example_params",
    "load_corpus",
    "load_recorded",
    "load_run",
    "notebook_parameters",
    "prepare_for_book",
    "record_run",
    "strip_outputs",
    "verdicts_markdown",
    "write_build_params",
]

#: Parameters the Makefile sets from its own variables (not allowed in ``PARAMS``).
MAKE_KEYS = {
    "profile": "PROFILE=",
    "build_dir": "BUILD=",
    "n_jobs": "N_JOBS=",
    "data_4q": "DATA_4Q=",
    "bench_dir": "WITH_BENCH=",
}
#: Parameters that the data and cross-validation steps read too (``BUILD/pipeline.yml``).
PIPELINE_KEYS = ("seed",)


# ----------------------------------------------------------------------------- parameters


def _parameters_cell(nb: dict) -> str:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get(
            "tags", []
        ):
            src = cell.get("source", "")
            return "".join(src) if isinstance(src, list) else src
    return ""


def notebook_parameters(path) -> dict[str, tuple[object, str]]:
    """The parameters a notebook declares: ``name -> (default, meaning)``.

    The meaning is the comment on the assignment's line (empty when none).

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> nb = {"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]},
    ...        "source": "seed = 0  # corpus seed\\nn = [1, 2]\\n"}]}
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.ipynb"
    >>> _ = p.write_text(json.dumps(nb))
    >>> notebook_parameters(p)
    {'seed': (0, 'corpus seed'), 'n': ([1, 2], '')}
    """
    path = Path(path)
    try:
        source = _parameters_cell(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise MerError(f"{path}: not a readable notebook ({exc})") from None
    comments = {
        tok.start[0]: tok.string.lstrip("#").strip()
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }
    params = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            params[node.targets[0].id] = (
                ast.literal_eval(node.value),
                comments.get(node.lineno, ""),
            )
    return params


def _yaml_dump(values: dict) -> str:
    # one "key: value" line each; JSON values are valid YAML and unambiguous
    return "".join(f"{k}: {json.dumps(v)}\n" for k, v in values.items())


def _write_if_changed(path: Path, text: str) -> bool:
    from mer_core.io import atomic_write_bytes

    path = Path(path)
    if path.is_file() and path.read_text() == text:
        return False
    atomic_write_bytes(path, text.encode("utf-8"))
    return True


def _read_params_file(path) -> dict:
    import yaml

    path = Path(path)
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise MerError(f"{path}: cannot read the parameters file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise MerError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(values, dict):
        raise MerError(f"{path}: expected 'key: value' lines, got {type(values).__name__}")
    return values


def _code_only(nb: dict) -> dict:
    """A notebook without outputs, counts, ids and volatile metadata (what make compares)."""
    cells = []
    for cell in nb.get("cells", []):
        src = cell.get("source", "")
        cells.append(
            {
                "cell_type": cell.get("cell_type"),
                "source": "".join(src) if isinstance(src, list) else src,
                "tags": list(cell.get("metadata", {}).get("tags", [])),
            }
        )
    return {"cells": cells, "kernel": nb.get("metadata", {}).get("kernelspec", {}).get("name")}


def write_build_params(
    build_dir,
    notebooks,
    *,
    profile: str,
    n_jobs: int = 1,
    data_4q: str = "",
    bench_dir: str = "",
    params_file=None,
    cwd="notebooks",
) -> list[Path]:
    """Check the user's parameters and write what each step of the build reads.

    Writes, each only when its content changes (so ``make`` re-runs only what a
    change concerns): ``BUILD/pipeline.yml`` (profile and :data:`PIPELINE_KEYS`,
    read by the data and cross-validation steps), ``BUILD/params/NAME.yml``
    (the parameters notebook NAME declares, nothing else, so papermill warns
    about none) and ``BUILD/nbsrc/NAME.json`` (the notebook's code and
    markdown without outputs, so saving a notebook in JupyterLab re-executes
    nothing unless its code changed).

    Parameters
    ----------
    params_file : path, optional
        The user's YAML (``make reproduce PARAMS=...``). Every key must be a
        parameter of some notebook; one that is not, or one the Makefile sets
        itself (:data:`MAKE_KEYS`), is an error naming it.
    cwd : path
        Where the notebooks run (paths given to them are made relative to it).

    Returns
    -------
    list of Path
        The files that changed.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> nb = {"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]},
    ...        "source": "profile = 'quick'\\nbuild_dir = '.'\\nseed = 0\\n"}]}
    >>> _ = (d / "01_a.ipynb").write_text(json.dumps(nb))
    >>> _ = (d / "p.yml").write_text("sed: 1\\n")
    >>> write_build_params(d / "b", [d / "01_a.ipynb"], profile="tiny", params_file=d / "p.yml")
    Traceback (most recent call last):
    mer_core.errors.ParameterError: ...p.yml: unknown parameter 'sed'; valid keys: seed (...)
    >>> _ = (d / "p.yml").write_text("seed: 1\\n")
    >>> [p.name for p in write_build_params(d / "b", [d / "01_a.ipynb"], profile="tiny",
    ...                                     params_file=d / "p.yml", cwd=d)]
    ['pipeline.yml', '01_a.yml', '01_a.json']
    >>> print((d / "b" / "params" / "01_a.yml").read_text().strip())
    profile: "tiny"
    build_dir: "b"
    seed: 1
    >>> write_build_params(d / "b", [d / "01_a.ipynb"], profile="tiny",
    ...                    params_file=d / "p.yml", cwd=d)
    []
    """
    build = Path(build_dir)
    declared = {Path(nb).stem: notebook_parameters(nb) for nb in notebooks}
    user = _read_params_file(params_file) if params_file else {}
    valid = sorted({k for p in declared.values() for k in p} - set(MAKE_KEYS))
    for key in user:
        if key in MAKE_KEYS:
            raise ParameterError(
                f"{params_file}: parameter {key!r} is set by make; use {MAKE_KEYS[key]} instead"
            )
        if key not in valid:
            raise ParameterError(
                f"{params_file}: unknown parameter {key!r}; valid keys: {', '.join(valid)} "
                "(see params.example.yml)"
            )
    given = {
        "profile": profile,
        "build_dir": os.path.relpath(build.resolve(), Path(cwd).resolve()),
        "n_jobs": int(n_jobs),
        "data_4q": str(Path(data_4q).resolve()) if data_4q else "",
        "bench_dir": os.path.relpath(Path(bench_dir).resolve(), Path(cwd).resolve())
        if bench_dir
        else "",
        **user,
    }
    changed = []
    pipeline = {"profile": profile}
    for key in PIPELINE_KEYS:
        defaults = [p[key][0] for p in declared.values() if key in p]
        pipeline[key] = user.get(key, defaults[0] if defaults else 0)
    if _write_if_changed(build / "pipeline.yml", _yaml_dump(pipeline)):
        changed.append(build / "pipeline.yml")
    for name, params in declared.items():
        mine = {k: v for k, v in given.items() if k in params}
        if _write_if_changed(build / "params" / f"{name}.yml", _yaml_dump(mine)):
            changed.append(build / "params" / f"{name}.yml")
    for nb in notebooks:
        nb = Path(nb)
        text = json.dumps(_code_only(json.loads(nb.read_text())), indent=1) + "\n"
        if _write_if_changed(build / "nbsrc" / f"{nb.stem}.json", text):
            changed.append(build / "nbsrc" / f"{nb.stem}.json")
    return changed


def example_params(notebooks) -> str:
    """The example parameters file: every key ``PARAMS`` accepts, its default and meaning.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> nb = {"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]},
    ...        "source": "profile = 'quick'\\ncoef = 0.97  # pre-emphasis factor\\n"}]}
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "01_a.ipynb"
    >>> _ = p.write_text(json.dumps(nb))
    >>> print(example_params([p]).split("\\n\\n")[-1].strip())
    # pre-emphasis factor (notebook 01_a)
    coef: 0.97
    """
    keys: dict[str, list] = {}
    for nb in notebooks:
        for key, (value, meaning) in notebook_parameters(nb).items():
            if key not in MAKE_KEYS:
                keys.setdefault(key, [value, meaning, []])[2].append(Path(nb).stem)
    lines = [
        "# Parameters of `make reproduce PARAMS=FILE.yml` (generated by",
        "# `python -m mer_core.book example-params`; tests/test_book.py checks it is current).",
        "# Every key PARAMS accepts, with its default: copy this file, delete what you keep",
        "# at its default, change the rest. An unknown key is an error. Set by make instead:",
        "# " + ", ".join(f"{k} ({v})" for k, v in MAKE_KEYS.items()) + ".",
        "# `seed` also reaches the data generation and the cross-validation.",
    ]
    for key, (value, meaning, where) in sorted(keys.items()):
        lines += [
            "",
            f"# {meaning or key} (notebook {', '.join(where)})",
            _yaml_dump({key: value}),
        ]
    return "\n".join(line.rstrip("\n") for line in lines) + "\n"


# ----------------------------------------------------------------------------- the book


def prepare_for_book(path) -> None:
    """Tag an executed notebook for the book: results first, no machine paths.

    papermill's injected-parameters cell (the build's paths) gets
    ``remove-cell``; every other code cell ``hide-input`` (myst-nb shows its
    outputs and a toggle for its code). Also drops papermill's copy of the
    parameters from the notebook metadata. Rewrites ``path`` atomically.
    """
    import nbformat

    from mer_core.io import atomic_write_bytes

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = list(cell.metadata.get("tags", []))
        want = "remove-cell" if "injected-parameters" in tags else "hide-input"
        if want not in tags:
            tags.append(want)
        cell.metadata["tags"] = tags
    nb.metadata.get("papermill", {}).pop("parameters", None)
    for key in ("input_path", "output_path"):
        nb.metadata.get("papermill", {}).pop(key, None)
    atomic_write_bytes(path, nbformat.writes(nb).encode("utf-8"))


def strip_outputs(model=None, **kwargs):
    """JupyterLab's pre-save hook: a notebook is saved without outputs or counts.

    ``make lab`` installs it (``etc/jupyter_server_config.json``), so working
    in JupyterLab never writes outputs into the tracked notebooks; the browser
    keeps showing them.

    Examples
    --------
    >>> m = {"type": "notebook", "content": {"cells": [{"cell_type": "code",
    ...      "outputs": [{"output_type": "stream"}], "execution_count": 3,
    ...      "metadata": {"tags": ["x"], "execution": {}}}]}}
    >>> strip_outputs(m)["content"]["cells"][0]
    {'cell_type': 'code', 'outputs': [], 'execution_count': None, 'metadata': {'tags': ['x']}}
    """
    if not model or model.get("type") != "notebook":
        return model
    content = model.get("content") or {}
    for cell in content.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        meta = cell.get("metadata", {})
        for key in ("execution", "scrolled", "collapsed", "jupyter"):
            meta.pop(key, None)
    meta = content.get("metadata", {})
    meta.pop("widgets", None)
    return model


# ----------------------------------------------------------------------------- reading runs


def load_corpus(build_dir, scheme: str, *, seed: int | None = None):
    """The generated corpus the pipeline made in ``build_dir`` (never generates it).

    Raises a :class:`~mer_core.errors.MerError` naming the step to run when the
    corpus is missing or was generated with another seed.
    """
    from mer_core.datasets import load_dataset
    from mer_core.pipeline import dataset_dir

    folder = dataset_dir(build_dir, scheme)
    if not (folder / "manifest.csv").is_file():
        raise MerError(
            f"no generated {scheme} corpus in the build folder: run `make reproduce` "
            f"(or `mer pipeline data --scheme {scheme}`) first"
        )
    manifest = load_dataset(folder, scheme=scheme)
    if (
        seed is not None
        and "seed" in manifest
        and (manifest["seed"].astype(str) != str(seed)).any()
    ):
        raise MerError(
            f"the {scheme} corpus of the build folder was generated with another seed than "
            f"{seed}: run `make reproduce` with the same PARAMS"
        )
    return manifest


def load_run(build_dir, name: str, *, seed: int | None = None) -> dict:
    """A cross-validation run the pipeline made (``BUILD/results/NAME``), never re-run here.

    Raises a :class:`~mer_core.errors.MerError` naming the step to run when it
    is missing or was made with another seed.
    """
    from mer_core.pipeline import results_dir

    path = results_dir(build_dir, name) / "results.json"
    if not path.is_file():
        raise MerError(
            f"no results for {name!r} in the build folder: run `make reproduce` "
            f"(or `mer pipeline results`) first"
        )
    record = _with_per_class(json.loads(path.read_text()), path.parent)
    if seed is not None and record.get("seed") != seed:
        raise MerError(
            f"the {name} results were made with seed {record.get('seed')}, not {seed}: "
            "run `make reproduce` with the same PARAMS"
        )
    return record


# ----------------------------------------------------------------------------- recordings

#: Files of a recorded run (small: no audio, no per-clip paths).
RECORDED_FILES = ("results.json", "summary.csv", "paired_tests.csv", "per_class.csv", "folds.csv")
_REQUIRED = (
    "dataset",
    "scheme",
    "models",
    "titles",
    "budget",
    "seed",
    "n_splits",
    "labels",
    "n_clips",
    "summary",
    "paired_tests",
    "confusion",
    "selection",
    "data_fingerprint",
    "environment",
)
_SUMMARY_FIELDS = ("model", *TABLE_COLUMNS)


def record_run(run_dir, out_dir, *, command: str, data_dir=None) -> dict:
    """Copy a finished cross-validation run into a committed recording (``out_dir``).

    Keeps :data:`RECORDED_FILES` and adds to ``results.json`` a ``recorded``
    block: the date (UTC), the exact command, the data folder's name and the
    data fingerprint. Clip file names are reduced to their stem (the public
    song id), paths to names, so the recording names no machine folder.
    """
    from mer_core.io import atomic_write_bytes, atomic_write_json

    run, out = Path(run_dir), Path(out_dir)
    record = json.loads((run / "results.json").read_text())
    problems = check_recorded(record)
    if problems:
        raise MerError(f"{run}: not a complete run: {'; '.join(problems)}")
    record["failures"] = [Path(str(f)).stem for f in record.get("failures") or []]
    record["dataset"] = Path(str(record.get("dataset", ""))).name
    record["recorded"] = {
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "data": Path(str(data_dir)).name if data_dir else record["dataset"],
        "data_fingerprint": record.get("data_fingerprint"),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name in RECORDED_FILES[1:]:
        if (run / name).is_file():
            atomic_write_bytes(out / name, (run / name).read_bytes())
    atomic_write_json(out / "results.json", record)
    return record


def load_recorded(path) -> dict | None:
    """The recording's ``results.json`` record (None when there is none)."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    if not path.is_file():
        return None
    return _with_per_class(json.loads(path.read_text()), path.parent)


def _with_per_class(record: dict, folder: Path) -> dict:
    """Attach the run's per-class scores (``per_class.csv`` beside its results.json)."""
    import pandas as pd

    table = folder / "per_class.csv"
    if "per_class" not in record and table.is_file():
        record["per_class"] = pd.read_csv(table).to_dict(orient="records")
    return record


def check_recorded(record: dict) -> list[str]:
    """What makes a recorded run unfit for the current code (empty: fit).

    Checks the record's fields, that its models are exactly the current
    models of a real-data run (:data:`~mer_core.experiments.REAL_DATA_MODELS`), that every
    model has a summary row with the five table columns and a confusion
    matrix, and that the paired tests compare CNN-SVM with every other model.

    Examples
    --------
    >>> check_recorded({"models": ["cnn"]})[:2]
    ['missing field dataset', 'missing field scheme']
    """
    from mer_core.experiments import REAL_DATA_MODELS

    problems = [f"missing field {k}" for k in _REQUIRED if k not in record]
    if problems:
        return problems
    expected = list(REAL_DATA_MODELS)
    if list(record["models"]) != expected:
        problems.append(f"models {record['models']} differ from the current {expected}")
    rows = {r.get("model"): r for r in record["summary"]}
    for model in expected:
        row = rows.get(model)
        if row is None:
            problems.append(f"no summary row for {model}")
            continue
        missing = [f for f in _SUMMARY_FIELDS if f not in row] + [
            f"{m}_ci_low" for m in _SUMMARY_FIELDS[1:] if f"{m}_ci_low" not in row
        ]
        if missing:
            problems.append(f"summary of {model} lacks {missing}")
        if model not in record["confusion"]:
            problems.append(f"no confusion matrix for {model}")
    compared = {t.get("model") for t in record["paired_tests"]}
    lacking = [m for m in expected if m != "cnn_svm" and m not in compared]
    if lacking:
        problems.append(f"no paired test of CNN-SVM against {lacking}")
    return problems


# ----------------------------------------------------------------------------- verdicts


def verdicts_markdown(build_dir, *, schemes=SCHEME_IDS, real=None) -> str:
    """The intro's summary: one row per results chapter run, computed from the results.

    ``real`` is the real-4Q record (a live run or the recording), or None.
    """
    from mer_core.evaluation.tables import verdicts_table

    runs = {}
    for scheme in schemes:
        path = Path(build_dir) / "results" / scheme / "results.json"
        if path.is_file():
            runs[f"{SCHEME_TITLES[scheme]} (generated, chapter 5)"] = json.loads(path.read_text())
    if real is not None:
        label = "recorded run" if real.get("recorded") else "live run"
        runs[f"4Q, real audio ({label}, chapter 6)"] = real
    if not runs:
        return "*No results in this build yet.*\n"
    table = verdicts_table(runs)
    head = "| " + " | ".join([table.index.name or "", *table.columns]) + " |"
    rule = "|" + "---|" * (len(table.columns) + 1)
    body = [
        "| " + " | ".join([str(i), *(str(v) for v in row)]) + " |"
        for i, row in zip(table.index, table.values.tolist(), strict=True)
    ]
    return "\n".join([head, rule, *body]) + "\n"


# ----------------------------------------------------------------------------- command line


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m mer_core.book", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("params", help="check PARAMS, write each step's parameters")
    s.add_argument("notebooks", nargs="+")
    s.add_argument("--build", required=True)
    s.add_argument("--profile", required=True)
    s.add_argument("--n-jobs", type=int, default=1)
    s.add_argument("--data-4q", default="")
    s.add_argument("--bench-dir", default="")
    s.add_argument("--params", default="")
    s = sub.add_parser("example-params", help="print the example parameters file")
    s.add_argument("notebooks", nargs="+")
    s = sub.add_parser("prepare", help="tag executed notebooks for the book")
    s.add_argument("paths", nargs="+")
    s = sub.add_parser("record", help="copy a finished run into a committed recording")
    s.add_argument("run_dir")
    s.add_argument("out_dir")
    s.add_argument("--command", required=True)
    s.add_argument("--data", default=None)
    s = sub.add_parser("verdicts", help="write the intro's verdict table (Markdown)")
    s.add_argument("--build", required=True)
    s.add_argument("--real", default="", help="a real-4Q run folder or recording")
    s.add_argument("--out", required=True)
    args = p.parse_args(argv)
    try:
        if args.cmd == "params":
            write_build_params(
                args.build,
                args.notebooks,
                profile=args.profile,
                n_jobs=args.n_jobs,
                data_4q=args.data_4q,
                bench_dir=args.bench_dir,
                params_file=args.params or None,
            )
        elif args.cmd == "example-params":
            sys.stdout.write(example_params(args.notebooks))
        elif args.cmd == "prepare":
            for path in args.paths:
                prepare_for_book(path)
        elif args.cmd == "record":
            rec = record_run(args.run_dir, args.out_dir, command=args.command, data_dir=args.data)
            print(f"recorded {rec['dataset']} ({rec['n_clips']} clips) in {args.out_dir}")
        elif args.cmd == "verdicts":
            real = load_recorded(args.real) if args.real else None
            _write_if_changed(Path(args.out), verdicts_markdown(args.build, real=real))
    except (MerError, ParameterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
