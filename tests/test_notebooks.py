"""The book's notebooks: committed clean, parameterised for papermill, and executable.

The static checks read the ``.ipynb`` files. The execution tests run every
notebook with papermill (kernel ``python3``, the running interpreter's) on the
``tiny`` profile, in order, sharing one build folder, so each generated corpus
and cross-validation run is made once (by 03, 04 and 05) and reused by the
notebooks after it; the real-data branch of 03 and 06 runs on a small stand-in
"4Q" folder of generated clips.
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

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = [
    "01_preprocessing",
    "02_chord_vector",
    "03_datasets",
    "04_cnn_svm",
    "05_results",
    "06_real_data_and_ablations",
]
DEFAULTS = {"profile": "quick", "build_dir": "../build/quick", "seed": 0, "n_jobs": 1}
EXTRA_DEFAULTS = {
    "01_preprocessing": {
        "coef": 0.97,
        "n_mfcc": 20,
        "n_mels": 128,
        "example_scheme": "emotion",
        "example_label": "happiness",
    },
    "05_results": {"schemes": ["ema", "emotion", "4q"]},
    "06_real_data_and_ablations": {"data_4q": "", "real_name": "4q-real"},
}
PAPER_ROWS = ("CNN", "SVM", "LSTM", "CNN-SVM")


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
    assert {k: values.get(k) for k in DEFAULTS} == DEFAULTS
    for key, value in EXTRA_DEFAULTS.get(name, {}).items():
        assert values[key] == value


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


# ----------------------------------------------------------------------------- execution


@pytest.fixture(scope="session")
def nb_build(tmp_path_factory) -> Path:
    """One build folder shared by every notebook run (data and results are made once)."""
    return tmp_path_factory.mktemp("nb-build")


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
def execute(nb_build, tmp_path_factory):
    """``execute(name, **params) -> (notebook, text of its outputs)``, cached per parameters."""
    papermill = pytest.importorskip("papermill")
    out_dir = tmp_path_factory.mktemp("nb-executed")
    done = {}

    def run(name: str, **params):
        key = (name, json.dumps(params, sort_keys=True, default=str))
        if key not in done:
            out = out_dir / f"{name}-{len(done)}.ipynb"
            papermill.execute_notebook(
                str(NOTEBOOK_DIR / f"{name}.ipynb"),
                str(out),
                parameters={"profile": "tiny", "build_dir": str(nb_build), **params},
                kernel_name="python3",
                cwd=str(NOTEBOOK_DIR),
                progress_bar=False,
                execution_timeout=300,
            )
            nb = nbformat.read(out, as_version=4)
            outputs = [c.get("outputs", []) for c in nb.cells]
            done[key] = (nb, json.dumps(outputs, ensure_ascii=False))
        return done[key]

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
    for row in PAPER_ROWS:
        assert f">{row}<" in text
    assert "CNN-SVM vs LSTM" in text and "McNemar p" in text
    # every cell of Tables 1-3 that should hold a reproduced number holds a finite one
    tables = [t for t in html_tables(nb) if re.match(r"Table [123]\.", t["caption"])]
    assert len(tables) == 3, [t["caption"] for t in tables]
    for table in tables:
        assert table["cells"] and not cells_without_a_number(table), (
            table["caption"],
            cells_without_a_number(table),
        )


@pytest.mark.slow
def test_06_without_real_data(execute):
    nb, text = execute("06_real_data_and_ablations")
    check_ran(nb)
    assert "No real 4Q data was given" in text and "mer data fetch 4q" in text
    assert "Ablations of CNN-SVM: EMA (generated)" in text and "image/png" in text


@pytest.mark.slow
def test_06_with_real_data(execute, fake_4q, nb_build):
    nb, text = execute("06_real_data_and_ablations", data_4q=str(fake_4q))
    check_ran(nb)
    assert "Table 3. Model classification comparison (4Q)" in text
    assert "reproduced on real audio" in text and "Ablations of CNN-SVM: 4Q (real)" in text
    assert (nb_build / "results" / "4q-real" / "results.json").is_file()


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
