"""The Makefile's promises, checked with the real Makefile and stand-in tools.

The Makefile is copied into a scratch folder beside stand-ins for the programs
its recipes call (``mer``, ``papermill``, ``jupyter-book``): each writes the
file its recipe expects and logs its call, so the tests check what ``make``
decides to run in seconds: a second ``make reproduce`` after a build runs
nothing (``make -q`` agrees), editing one notebook re-executes only that
notebook (and rebuilds the book), and a failing notebook builds no book.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")

NOTEBOOKS = ("01_first", "02_second", "03_third")
FAKE_MER = """#!/bin/bash
# mer pipeline STEP --build B --profile P --scheme S ...
echo "mer $*" >> "$FAKE_LOG"
step=$2; shift 2
while [ $# -gt 0 ]; do
  case $1 in --build) build=$2; shift;; --scheme) scheme=$2; shift;; --name) name=$2; shift;; esac
  shift
done
if [ "$step" = data ]; then
  mkdir -p "$build/data/$scheme" && echo "path,label" > "$build/data/$scheme/manifest.csv"
else
  run="$build/results/${name:-$scheme}"
  mkdir -p "$run" && echo "{}" > "$run/results.json"
fi
"""
FAKE_PAPERMILL = """#!/bin/bash
# papermill [options] -f PARAMS IN.ipynb OUT.ipynb
in=${@: -2:1}; out=${@: -1}
echo "papermill $in" >> "$FAKE_LOG"
if grep -q RAISE "$in"; then echo "PapermillExecutionError in $in" >&2; exit 1; fi
cp "$in" "$out"
"""
FAKE_PYTHON = """#!/bin/bash
if [ "$3" = verdicts ]; then
  echo "verdicts" >> "$FAKE_LOG"
  while [ $# -gt 0 ]; do [ "$1" = --out ] && out=$2; shift; done
  mkdir -p "$(dirname "$out")" && echo "verdicts" > "$out"; exit 0
fi
exec "{python}" "$@"
"""
EMPTY_NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'
FAKE_BOOK = """#!/bin/bash
# jupyter-book build BOOK ...
echo "jupyter-book $2" >> "$FAKE_LOG"
mkdir -p "$2/_build/html" && echo "<html></html>" > "$2/_build/html/index.html"
"""


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO / "Makefile", root / "Makefile")
    (root / "pyproject.toml").write_text("[project]\nname = 'fake'\n")
    (root / "notebooks").mkdir()
    for name in NOTEBOOKS:
        (root / "notebooks" / f"{name}.ipynb").write_text(EMPTY_NOTEBOOK)
    (root / "book").mkdir()
    (root / "book" / "_toc.yml").write_text("root: intro\n")
    (root / "book" / "intro.md").write_text("# Intro\n")
    fonts = root / ".cache" / "mathjax-3.2.2" / "es5" / "output" / "chtml" / "fonts"
    fonts.mkdir(parents=True)
    (fonts / "font.woff").write_text("font")
    (fonts.parents[2] / "tex-mml-chtml.js").write_text("// mathjax")
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, text in (("mer", FAKE_MER), ("papermill", FAKE_PAPERMILL)):
        (bin_dir / name).write_text(text)
    (bin_dir / "jupyter-book").write_text(FAKE_BOOK)
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    # the Makefile's own helper (python -m mer_core.book: parameters, page preparation,
    # the verdicts page) is real: it only reads and writes files of the build folder
    # (except the verdicts page, which needs real results: a stand-in writes it)
    (bin_dir / "python").write_text(FAKE_PYTHON.format(python=sys.executable))
    (bin_dir / "python").chmod(0o755)
    # every source is old; the install stamp is newer than the Makefile and pyproject
    past = time.time() - 3600
    for path in root.rglob("*"):
        os.utime(path, (past, past))
    (root / ".venv" / ".installed").touch()
    return root


def _notebook(code: str) -> str:
    cell = {"cell_type": "code", "source": code, "metadata": {}, "outputs": []}
    cell["execution_count"] = None
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _make(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FAKE_LOG": str(project / "calls.log")}
    cmd = ["make", "--no-print-directory", *args, "PROFILE=tiny", "BUILD=build/tiny"]
    cmd += ["WITH_BENCH=0", "N_JOBS=1"]
    return subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, timeout=120)


def _calls(project: Path) -> list[str]:
    log = project / "calls.log"
    calls = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return calls


def test_second_reproduce_is_a_no_op(project):
    first = _make(project, "reproduce")
    assert first.returncode == 0, first.stdout + first.stderr
    calls = _calls(project)
    assert sum(c.startswith("mer pipeline data") for c in calls) == 3  # ema, emotion, 4q
    assert sum(c.startswith("mer pipeline results") for c in calls) == 3
    assert sorted(c for c in calls if c.startswith("papermill")) == sorted(
        f"papermill {name}.ipynb" for name in NOTEBOOKS
    )
    assert (project / "build/tiny/book/_build/html/index.html").is_file()
    # nothing changed: make has nothing to do, and a second run calls no tool
    quiet = _make(project, "-q", "build/tiny/book/_build/html/index.html")
    assert quiet.returncode == 0, "make -q: something is out of date\n" + quiet.stdout
    second = _make(project, "reproduce")
    assert second.returncode == 0, second.stdout + second.stderr
    assert _calls(project) == []


def test_editing_one_notebook_re_executes_only_it(project):
    assert _make(project, "reproduce").returncode == 0
    _calls(project)
    edited = project / "notebooks" / "02_second.ipynb"
    edited.write_text(_notebook("x = 1"))  # a change of code (outputs alone re-run nothing)
    again = _make(project, "reproduce")
    assert again.returncode == 0, again.stdout + again.stderr
    assert _calls(project) == ["papermill 02_second.ipynb", "jupyter-book build/tiny/book"]


def test_a_failing_notebook_builds_no_book(project):
    (project / "notebooks" / "02_second.ipynb").write_text(_notebook("RAISE"))
    run = _make(project, "reproduce")
    assert run.returncode != 0
    assert "notebook notebooks/02_second.ipynb failed" in run.stderr and "no book" in run.stderr
    assert not any(c.startswith("jupyter-book") for c in _calls(project))
    assert not (project / "build/tiny/book/_build/html/index.html").exists()
    chapters = project / "build/tiny/book/chapters"
    assert not (chapters / "02_second.ipynb").exists()
    assert not list(chapters.glob("*.tmp.ipynb"))  # no half-executed notebook is left


def test_makefile_schemes_are_the_package_schemes():
    """`make reproduce` evaluates the schemes the package knows (mer_core.names.SCHEME_IDS),
    as make itself reads the Makefile's SCHEMES."""
    from mer_core.names import SCHEME_IDS

    proc = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(REPO), "--eval",
         "print-schemes: ; @echo $(SCHEMES)", "print-schemes"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert tuple(proc.stdout.split()) == SCHEME_IDS
