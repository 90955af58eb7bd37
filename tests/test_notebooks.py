"""The book's notebooks: committed clean, parameterised for papermill, and executable.

The static checks read the ``.ipynb`` files. The execution tests first run the
pipeline's steps on the ``tiny`` profile into one build folder (as ``make
reproduce`` does: the notebooks only read what the pipeline made), then run every
notebook with papermill (kernel ``python3``, the running interpreter's); the
real-data branch of 03 and 06 runs on a small stand-in "4Q" folder of generated
clips, and the recorded-run branch of 06 on a recording made from it. nbval then
re-runs executed notebooks (``--nbval-lax``: only cells marked
``# NBVAL_CHECK_OUTPUT`` must reproduce their output exactly).
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import cells_without_a_number, results_tables

from mer_core.book import notebook_parameters
from mer_core.names import MODEL_TITLES, PAPER_MODELS, SCHEME_IDS

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
#: Every notebook of the book, found by glob: a new notebook is checked without being listed.
NOTEBOOKS = sorted(p.stem for p in NOTEBOOK_DIR.glob("*.ipynb"))
#: The parameters every notebook that reads the build folder declares.
DEFAULTS = {"profile": "quick", "build_dir": "../build/quick", "seed": 0, "n_jobs": 1}
#: Notebooks that read no build folder, and the parameters they declare instead.
OWN_DEFAULTS = {"07_performance": {"bench_dir": "../benchmarks/results"}}
EXTRA_DEFAULTS = {
    "01_preprocessing": {
        "coef": 0.97,
        "n_mfcc": 20,
        "n_mels": 128,
        "example_scheme": "emotion",
        "example_label": "happiness",
    },
    "05_results": {"schemes": list(SCHEME_IDS)},
    "06_real_data_and_ablations": {
        "data_4q": "",
        "real_name": "4q-real",
        "recorded_run": "../book/recorded/4q-dev",
    },
}
PAPER_ROWS = tuple(MODEL_TITLES[m] for m in PAPER_MODELS)


def read(name: str):
    return nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)


def parameters(nb) -> dict:
    """The defaults of the cell tagged ``parameters`` (literals only)."""
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    values = {}
    for node in ast.parse(cell.source).body:
        assert isinstance(node, ast.Assign), "the parameters cell holds assignments only"
        values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


# ----------------------------------------------------------------------------- static


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_clean_and_parameterised(name):
    nb = read(name)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec["name"] == "python3"
    assert nb.metadata.language_info["name"] == "python"
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith(f"# {int(name[:2])}. ")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "outputs committed"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is code[0], "one parameters cell, the first code cell"
    values = parameters(nb)
    expected = OWN_DEFAULTS.get(name, DEFAULTS)
    assert {k: values.get(k) for k in expected} == expected
    for key, value in EXTRA_DEFAULTS.get(name, {}).items():
        assert values[key] == value


def test_every_notebook_is_checked():
    """The glob finds the book's seven chapters (an empty glob would check nothing), and
    every per-notebook expectation names a notebook that exists."""
    assert NOTEBOOKS[0] == "01_preprocessing" and "07_performance" in NOTEBOOKS
    assert len(NOTEBOOKS) >= 7
    assert set(OWN_DEFAULTS) | set(EXTRA_DEFAULTS) <= set(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_thin(name):
    """No logic defined in a notebook: no functions, classes or lambdas; short cells."""
    for cell in read(name).cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(
            line for line in cell.source.splitlines() if not line.lstrip().startswith("%")
        )
        for node in ast.walk(ast.parse(source)):
            assert not isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            ), f"{name}: define it in mer_core, not in the notebook"
        assert len(cell.source.splitlines()) <= 15, f"{name}: a long cell belongs in mer_core"


def test_build_params_reach_each_notebook_once_and_outputs_do_not_count(tmp_path):
    """Each notebook gets only the keys it declares (papermill warns about none); the
    pipeline gets the seed; saving a notebook with outputs changes nothing make reads."""
    from mer_core.book import strip_outputs, write_build_params
    from mer_core.errors import ParameterError

    notebooks = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    build = tmp_path / "build"
    params = tmp_path / "p.yml"
    params.write_text("seed: 3\ncoef: 0.5\n")
    write_build_params(build, notebooks, profile="tiny", params_file=params, cwd=NOTEBOOK_DIR)
    assert "seed: 3" in (build / "pipeline.yml").read_text()
    for nb in notebooks:
        written = (build / "params" / f"{nb.stem}.yml").read_text()
        keys = {line.split(":")[0] for line in written.splitlines()}
        assert keys <= set(parameters(read(nb.stem)))
    assert "coef: 0.5" in (build / "params" / "01_preprocessing.yml").read_text()
    assert "coef" not in (build / "params" / "05_results.yml").read_text()
    # a notebook saved with outputs (as JupyterLab would without the hook) changes nothing
    copy = tmp_path / "nb"
    shutil.copytree(NOTEBOOK_DIR, copy)
    nb = json.loads((copy / "01_preprocessing.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "x"}]
            cell["execution_count"] = 7
    (copy / "01_preprocessing.ipynb").write_text(json.dumps(nb))
    changed = write_build_params(
        build, sorted(copy.glob("*.ipynb")), profile="tiny", params_file=params, cwd=NOTEBOOK_DIR
    )
    assert changed == []
    model = strip_outputs({"type": "notebook", "content": nb})
    assert all(not c.get("outputs") for c in model["content"]["cells"])
    for bad, message in (
        ("coeff: 1\n", "unknown parameter 'coeff'"),
        ("profile: x\n", "PROFILE="),
    ):
        params.write_text(bad)
        with pytest.raises(ParameterError, match=message):
            write_build_params(build, notebooks, profile="tiny", params_file=params)


def test_committed_recording_matches_the_current_code():
    """book/recorded/4q-dev (chapter 6's recorded run) has the current models and schema,
    names no machine folder and holds no audio; re-record it with `make record-4q`."""
    from mer_core.book import RECORDED_FILES, check_recorded, load_recorded

    folder = REPO / "book" / "recorded" / "4q-dev"
    record = load_recorded(folder)
    if record is None:
        pytest.skip("no recorded run committed yet (make record-4q DATA_4Q=...)")
    assert check_recorded(record) == [], "stale recording: run make record-4q"
    assert {"date", "command", "data", "data_fingerprint"} <= set(record["recorded"])
    assert record["environment"]["versions"]
    assert {p.name for p in folder.iterdir()} <= set(RECORDED_FILES)
    for path in folder.iterdir():
        text = path.read_text()
        assert "/work/" not in text and "/home/" not in text and ".mp3" not in text, path.name


# ----------------------------------------------------------------------------- execution


@pytest.fixture(scope="session")
def nb_build(tmp_path_factory) -> Path:
    """One build folder with the pipeline's corpora and runs (tiny), shared by every run."""
    from mer_core.pipeline import ensure_results

    build = tmp_path_factory.mktemp("nb-build")
    for scheme in SCHEME_IDS:
        ensure_results(build, scheme, profile="tiny", n_jobs=2, progress=False)
    return build


@pytest.fixture(scope="session")
def fake_4q(nb_build, tmp_path_factory) -> Path:
    """A 4Q-style folder (Q1..Q4) of 3 generated clips per quadrant, as a real-data stand-in."""
    from mer_core.pipeline import ensure_dataset

    manifest = ensure_dataset(nb_build, "4q", profile="tiny", progress=False)
    root = tmp_path_factory.mktemp("fake-4q")
    for label, rows in manifest.groupby("label"):
        (root / label).mkdir()
        for path in rows["path"].head(3):
            shutil.copy(path, root / label)
    return root


@pytest.fixture(scope="session")
def real_run(nb_build, fake_4q) -> dict:
    """The pipeline's run on the stand-in 4Q folder (what `make reproduce DATA_4Q=` makes)."""
    from mer_core.pipeline import ensure_results

    return ensure_results(
        nb_build, "4q", profile="tiny", name="4q-real", data=fake_4q, n_jobs=2, progress=False
    )


@pytest.fixture(scope="session")
def execute(nb_build, tmp_path_factory):
    """``execute(name, **params) -> (notebook, text of its outputs)``, cached per parameters."""
    papermill = pytest.importorskip("papermill")
    out_dir = tmp_path_factory.mktemp("nb-executed")
    done, paths = {}, {}

    def run(name: str, **params):
        key = (name, json.dumps(params, sort_keys=True, default=str))
        if key not in done:
            out = out_dir / f"{name}-{len(done)}.ipynb"
            papermill.execute_notebook(
                str(NOTEBOOK_DIR / f"{name}.ipynb"),
                str(out),
                parameters={
                    k: v
                    for k, v in {"profile": "tiny", "build_dir": str(nb_build), **params}.items()
                    if k in notebook_parameters(NOTEBOOK_DIR / f"{name}.ipynb")
                },
                kernel_name="python3",
                cwd=str(NOTEBOOK_DIR),
                progress_bar=False,
                execution_timeout=300,
            )
            nb = nbformat.read(out, as_version=4)
            outputs = [c.get("outputs", []) for c in nb.cells]
            done[key] = (nb, json.dumps(outputs, ensure_ascii=False))
            paths[name] = out
        return done[key]

    run.paths = paths

    return run


def html_tables(nb) -> list[dict]:
    """The tables of every HTML output of an executed notebook."""
    html = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            value = out.get("data", {}).get("text/html")
            if value:
                html.append("".join(value) if isinstance(value, list) else value)
    return results_tables("\n".join(html))


def check_ran(nb) -> None:
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    for cell in code:
        for out in cell.outputs:
            assert out.output_type != "error", out
            assert not (out.output_type == "stream" and out.name == "stderr"), out.text


@pytest.mark.slow
def test_01_preprocessing(execute):
    nb, text = execute("01_preprocessing")
    check_ran(nb)
    assert "largest difference from librosa" in text
    assert text.count("image/png") >= 5 and "<audio" in text
    assert "application/vnd.jupyter.widget-view+json" in text  # the explorer widget


@pytest.mark.slow
def test_02_chord_vector(execute):
    nb, text = execute("02_chord_vector")
    check_ran(nb)
    assert "Ground truth of the generator" in text and "Change per part" in text
    assert text.count("image/png") >= 4


@pytest.mark.slow
def test_03_datasets(execute, fake_4q):
    nb, text = execute("03_datasets", data_4q=str(fake_4q))
    check_ran(nb)
    assert "beside the paper" in text and text.count("<audio") >= 12
    assert "Expected cues per class: EMA" in text
    assert "4Q audio emotion dataset, per class" in text  # the real-data branch


@pytest.mark.slow
def test_04_cnn_svm(execute):
    nb, text = execute("04_cnn_svm")
    check_ran(nb)
    assert "229,108 trainable parameters" in text and "131,200" in text
    assert "Training settings (budget tiny)" in text and "image/png" in text


@pytest.mark.slow
def test_05_results(execute):
    nb, text = execute("05_results")
    check_ran(nb)
    for n, data in ((1, "EMA"), (2, "Emotion"), (3, "4Q")):
        assert f"Table {n}. Model classification comparison ({data})" in text
    assert text.count("image/png") == 2 * 3  # per dataset: Figure N and confusion matrices
    assert "generated stand-in data" in text
    # the paper's layout: one row per model, five columns, the paper's value beside ours
    assert text.count('class=\\"mer-layout\\"') == 3
    for row in PAPER_ROWS:
        assert f"<tr><th>{row}</th>" in text
    assert "Training time (s)" in text and "paper 0.85" in text  # Table 1, CNN-SVM
    assert text.count("<details><summary>Long form") == 3
    # findings first: computed verdicts before the first table
    assert text.count("**Finding.**") == 6  # 3 in the summary, 3 in the sections
    assert text.index("**Finding.**") < text.index("mer-layout")
    assert "vs LSTM" in text and "McNemar p" in text
    # every cell of Tables 1-3 that should hold a reproduced number holds a finite one
    # (each table twice: in the paper's layout and in its collapsed long form)
    tables = [t for t in html_tables(nb) if re.match(r"Table [123]\.", t["caption"])]
    assert sorted(t["caption"][:8] for t in tables) == [
        "Table 1.",
        "Table 1.",
        "Table 2.",
        "Table 2.",
        "Table 3.",
        "Table 3.",
    ], [t["caption"] for t in tables]
    for table in tables:
        assert table["cells"] and not cells_without_a_number(table), (
            table["caption"],
            cells_without_a_number(table),
        )


@pytest.mark.slow
def test_06_without_real_data(execute):
    nb, text = execute("06_real_data_and_ablations", recorded_run="no-recording-here")
    check_ran(nb)
    assert "No real 4Q data was given" in text and "mer data fetch 4q" in text
    assert "Ablations of CNN-SVM: EMA (generated)" in text and "image/png" in text


@pytest.mark.slow
def test_06_with_real_data(execute, fake_4q, real_run):
    nb, text = execute("06_real_data_and_ablations", data_4q=str(fake_4q))
    check_ran(nb)
    assert "Table 3. Model classification comparison (4Q)" in text
    assert "A live run of this build" in text and "Ablations of CNN-SVM: 4Q (real)" in text
    assert "reproduced on real audio" in text


@pytest.mark.slow
def test_06_shows_a_recorded_run(execute, nb_build, real_run, tmp_path_factory):
    """Without data_4q, chapter 6 renders a committed recording, labelled as such."""
    from mer_core.book import check_recorded, record_run

    rec_dir = tmp_path_factory.mktemp("recorded") / "4q-dev"
    rec = record_run(nb_build / "results" / "4q-real", rec_dir, command="make record-4q DATA_4Q=x")
    assert check_recorded(rec) == []
    assert sorted(p.name for p in rec_dir.iterdir()) == sorted(
        ["results.json", "summary.csv", "paired_tests.csv", "per_class.csv", "folds.csv"]
    )
    assert str(nb_build) not in (rec_dir / "results.json").read_text()
    nb, text = execute("06_real_data_and_ablations", recorded_run=str(rec_dir))
    check_ran(nb)
    assert "A recorded run, not executed by this build" in text
    assert "make record-4q DATA_4Q=x" in text and "Table 3. Model classification" in text


@pytest.mark.slow
def test_nbval_reruns_the_executed_notebooks(execute, tmp_path):
    """nbval re-executes notebook 05 (tiny): no errors, and the cells marked
    ``# NBVAL_CHECK_OUTPUT`` (the paper's own tables and their checks) reproduce exactly.
    (The other notebooks' runs are checked for errors by the papermill tests above.)"""
    import subprocess
    import sys

    execute("05_results")
    nb05 = nbformat.read(execute.paths["05_results"], as_version=4)
    marked = [c for c in nb05.cells if "# NBVAL_CHECK_OUTPUT" in c.source]
    assert len(marked) == 2 and all(c.outputs for c in marked)
    files = [str(execute.paths["05_results"])]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "--nbval-sanitize-with",
            str(REPO / "tests" / "nbval_sanitize.cfg"),
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "--rootdir",
            str(tmp_path),
            *files,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout


@pytest.mark.slow
def test_notebooks_only_read_what_the_pipeline_made(tmp_path):
    """A notebook asked for a run the pipeline did not make says so; it never makes it."""
    papermill = pytest.importorskip("papermill")
    with pytest.raises(papermill.PapermillExecutionError, match="make reproduce"):
        papermill.execute_notebook(
            str(NOTEBOOK_DIR / "05_results.ipynb"),
            str(tmp_path / "out.ipynb"),
            parameters={"profile": "tiny", "build_dir": str(tmp_path / "empty")},
            kernel_name="python3",
            cwd=str(NOTEBOOK_DIR),
            progress_bar=False,
        )
    assert not (tmp_path / "empty").exists()


@pytest.mark.slow
def test_07_performance(execute):
    """Chapter 7 on the committed benchmark records: formatted tables, machine, date, load."""
    nb, text = execute("07_performance", bench_dir=str(REPO / "benchmarks" / "results"))
    check_ran(nb)
    assert text.count("Recorded 20") >= 2 and "load average" in text and "UTC" in text
    assert "The front end" in text and "Fit and predict time" in text
    assert "/work/" not in text.replace(str(REPO), "")  # no data path of the benchmark machine
    assert ".0</td>" not in text  # counts without a decimal point


@pytest.mark.slow
def test_pipeline_cli_steps(nb_build, capsys):
    """`mer pipeline data|results` (make reproduce's steps) from the command line.

    Run after the notebooks, they find the corpus and the evaluation made for
    them and resume: the same record, nothing recomputed.
    """
    from mer_core.cli import main

    common = ["--build", str(nb_build), "--profile", "tiny", "--scheme", "ema", "--quiet"]
    assert main(["pipeline", "data", *common]) == 0
    out = capsys.readouterr().out
    manifest = nb_build / "data" / "ema" / "manifest.csv"
    assert f"ema: 24 clips in {nb_build}/data/ema" in out and manifest.is_file()
    assert main(["pipeline", "results", *common]) == 0
    record = nb_build / "results" / "ema" / "results.json"
    first = json.loads(record.read_text())
    assert "best macro-F1" in capsys.readouterr().out
    assert main(["pipeline", "results", *common]) == 0
    assert json.loads(record.read_text())["summary"] == first["summary"]
    assert "best macro-F1" in capsys.readouterr().out
