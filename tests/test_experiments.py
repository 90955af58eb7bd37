"""End to end on a tiny generated corpus: evaluate, determinism, resume, train, predict, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mer_core.cli import main as cli_main
from mer_core.datasets import load_dataset
from mer_core.experiments import ABLATIONS, PAPER_MODELS, build_estimator, evaluate_manifest


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from mer_core.synth import generate_corpus

    out = tmp_path_factory.mktemp("corpus")
    generate_corpus(out, scheme="emotion", profile="tiny", seed=0, progress=False)
    return out


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("features")


def _evaluate(corpus, cache, out, models=PAPER_MODELS):
    return evaluate_manifest(
        load_dataset(corpus, scheme="emotion"),
        scheme="emotion",
        models=models,
        budget="tiny",
        n_splits=3,
        seed=0,
        out_dir=out,
        cache_dir=cache,
        progress=False,
    )


def test_evaluate_all_models_and_ablations(corpus, cache, tmp_path, capsys):
    # from the command line: `mer evaluate --ablations` (the paper's models + the ablations)
    argv = ["evaluate", "--scheme", "emotion", "--data", str(corpus), "--budget", "tiny"]
    argv += ["--folds", "3", "--seed", "0", "--cache-dir", str(cache), "--quiet"]
    assert cli_main([*argv, "--ablations", "--out", str(tmp_path / "run")]) == 0
    assert "CNN-SVM" in capsys.readouterr().out
    rec = json.loads((tmp_path / "run" / "results.json").read_text())
    summary = pd.read_csv(tmp_path / "run" / "summary.csv", index_col="model")
    assert list(summary.index) == list(PAPER_MODELS + ABLATIONS)
    for col in ("accuracy", "precision", "recall", "f1", "training_seconds", "f1_ci_low"):
        assert summary[col].notna().all()
    assert rec["grouped_by_artist"] and rec["n_clips"] == 24
    assert set(rec["data_fingerprint"]) == {
        "cnn,svm,lstm,cnn_svm,cnn_svm_no_chords,cnn_svm_no_lowlevel,cnn_embedding_svm",
        "cnn_svm_no_preemphasis",
    }
    tests = pd.read_csv(tmp_path / "run" / "paired_tests.csv")
    assert len(tests) == len(PAPER_MODELS + ABLATIONS) - 1
    # two feature extractions (with and without pre-emphasis), two networks per fold
    assert len(list((tmp_path / "run" / "networks").iterdir())) == 2 * 3 + 3  # + LSTM


def test_same_seed_same_tables_and_resume(corpus, cache, tmp_path):
    a = _evaluate(corpus, cache, tmp_path / "a")
    b = _evaluate(corpus, cache, tmp_path / "b")
    metrics = ["accuracy", "precision", "recall", "f1"]
    ta = pd.DataFrame(a["summary"]).set_index("model")[metrics]
    tb = pd.DataFrame(b["summary"]).set_index("model")[metrics]
    pd.testing.assert_frame_equal(ta, tb)
    assert a["confusion"] == b["confusion"]
    again = _evaluate(corpus, cache, tmp_path / "a")
    assert again["resumed_folds"] == len(PAPER_MODELS) * 3
    pd.testing.assert_frame_equal(pd.DataFrame(again["summary"]).set_index("model")[metrics], ta)


def test_cli_evaluate_train_predict(corpus, cache, tmp_path, capsys):
    common = [
        "--scheme",
        "emotion",
        "--data",
        str(corpus),
        "--budget",
        "tiny",
        "--cache-dir",
        str(cache),
        "--quiet",
    ]
    assert (
        cli_main(
            [
                "evaluate",
                *common,
                "--models",
                "svm,cnn_svm",
                "--folds",
                "3",
                "--out",
                str(tmp_path / "ev"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "CNN-SVM" in out and "grouped by artist" in out
    run = tmp_path / "run"
    assert cli_main(["train", *common, "--model", "cnn_svm", "--out", str(run)]) == 0
    record = json.loads((run / "train.json").read_text())
    assert record["labels"] == ["anger", "happiness", "relaxation", "sadness"]
    assert cli_main(["train", *common, "--out", str(run)]) == 2  # refuses to clobber
    assert "already there" in capsys.readouterr().err
    song = next(corpus.glob("anger/*.wav"))
    assert cli_main(["predict", str(song), "--model", str(run), "--json"]) == 0
    pred = json.loads(capsys.readouterr().out)["predictions"][0]
    assert pred["emotion"] in record["labels"]
    assert sum(pred["scores"].values()) == pytest.approx(1.0)
    bad = tmp_path / "bad.mp3"
    bad.write_text("not audio")
    assert cli_main(["predict", str(song), str(bad), "--model", str(run)]) == 1
    captured = capsys.readouterr()
    assert f"{song}:" in captured.out and "bad.mp3" not in captured.out
    assert captured.err.count("bad.mp3") == 1  # the error once, on stderr
    assert captured.err.startswith(f"mer: error: {bad}: not a readable audio file")
    # audio shorter than one analysis frame is refused, not predicted
    from mer_core.audio import write_wav

    for n in (0, 1):
        short = write_wav(tmp_path / f"short{n}.wav", np.full(n, 0.1, np.float32), sr=22050)
        assert cli_main(["predict", str(short), "--model", str(run)]) == 1
        captured = capsys.readouterr()
        assert captured.out.strip() == "" and f"short{n}.wav: " in captured.err
        assert ("no audio frames" if n == 0 else "too short") in captured.err
    assert cli_main(["predict", str(song), "--model", str(tmp_path)]) == 2
    assert "not a run folder" in capsys.readouterr().err


def test_interrupted_training_leaves_no_partial_model(corpus, cache, tmp_path, monkeypatch):
    from mer_core.models import CNNSVMClassifier

    def stop(self, X, y):
        raise KeyboardInterrupt

    monkeypatch.setattr(CNNSVMClassifier, "fit", stop)
    run = tmp_path / "run"
    code = cli_main(
        [
            "train",
            "--scheme",
            "emotion",
            "--data",
            str(corpus),
            "--budget",
            "tiny",
            "--cache-dir",
            str(cache),
            "--quiet",
            "--out",
            str(run),
        ]
    )
    assert code == 130
    assert not run.exists() or not any(run.iterdir())


@pytest.mark.parametrize(
    "command", ["evaluate", "train", "predict", "synth", "data", "convert", "features"]
)
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main([command, "--help"])
    assert exc.value.code == 0 and "usage: mer" in capsys.readouterr().out


def test_build_estimator_rejects_unknowns():
    from mer_core import MerError

    with pytest.raises(MerError, match="'resnet'"):
        build_estimator("resnet")
    with pytest.raises(MerError, match="'huge'"):
        build_estimator("cnn", budget="huge")
    with pytest.raises(MerError, match="wings"):
        build_estimator("svm", wings=2)
    assert np.isclose(build_estimator("cnn_svm", C=0.5).C, 0.5)
