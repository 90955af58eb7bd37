"""End to end on a tiny generated corpus: evaluate, determinism, resume, train, predict, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mer_core.cli import main as cli_main
from mer_core.datasets import load_dataset
from mer_core.experiments import ABLATIONS, ablation_pairs, build_estimator, evaluate_manifest
from mer_core.models.describe import training_histories
from mer_core.names import PAPER_MODELS


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from mer_core.synth import generate_corpus

    out = tmp_path_factory.mktemp("corpus")
    generate_corpus(out, scheme="emotion", size="tiny", seed=0, progress=False)
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
    same_features = [m for m in PAPER_MODELS + ABLATIONS if m != "cnn_svm_no_preemphasis"]
    assert set(rec["data_fingerprint"]) == {",".join(same_features), "cnn_svm_no_preemphasis"}
    tests = pd.read_csv(tmp_path / "run" / "paired_tests.csv")
    assert len(tests) == len(PAPER_MODELS + ABLATIONS) - 1
    # each model of the paper's tables against each of its own ablations, fold by fold
    ablated = {(t["reference"], t["model"]): t for t in rec["ablation_tests"]}
    assert set(ablated) == set(ablation_pairs(PAPER_MODELS + ABLATIONS))
    assert sorted(m for _, m in ablated) == sorted(ABLATIONS)
    gain = summary.loc["svm", "f1"] - summary.loc["svm_paper", "f1"]
    assert ablated[("svm", "svm_paper")]["f1_diff"] == pytest.approx(gain)
    # per fold: the recipe's CNN (shared by the CNN and every CNN-SVM variant), its
    # twin on features without pre-emphasis, the paper recipe's CNN, three LSTMs
    assert len(list((tmp_path / "run" / "networks").iterdir())) == 6 * 3
    # every fold records calibrated probabilities and the SVMs' inner-fold choice of C
    folds = [json.loads(p.read_text()) for p in (tmp_path / "run" / "folds").rglob("*.json")]
    assert all(f["ece"] is not None and 0 <= f["ece"] <= 1 for f in folds)
    chosen = [f["selection"]["C"] for f in folds if f["model"] in ("svm", "cnn_svm")]
    assert len(chosen) == 6 and all(c > 0 for c in chosen)
    assert summary["ece"].notna().all()
    # each fold's training history is the one of the network that fold used
    for model in ("cnn", "lstm", "cnn_svm", "cnn_svm_no_preemphasis"):
        hist = training_histories(tmp_path / "run", model)
        assert sorted(hist["fold"].unique()) == [0, 1, 2]
        for k in range(3):
            rec = json.loads((tmp_path / "run" / "folds" / model / f"fold{k}.json").read_text())
            meta = json.loads(
                (tmp_path / "run" / "networks" / rec["network_key"] / "meta.json").read_text()
            )
            assert hist[hist["fold"] == k]["loss"].tolist() == [e["loss"] for e in meta["history"]]


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
    assert record["grouped_by_artist"]  # inner folds of the fit keep an artist together
    assert record["selection"]["C"] > 0  # what the fit chose on its inner folds
    assert cli_main(["train", *common, "--out", str(run)]) == 2  # refuses to clobber
    assert "already there" in capsys.readouterr().err
    song = next(corpus.glob("anger/*.wav"))
    assert cli_main(["predict", str(song), "--model", str(run), "--json"]) == 0
    pred = json.loads(capsys.readouterr().out)["predictions"][0]
    assert pred["emotion"] in record["labels"]
    assert sum(pred["scores"].values()) == pytest.approx(1.0)
    assert pred["novelty"] >= 0 and pred["far_from_training"] == (pred["novelty"] > 1)
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


# ----------------------------------------------------------------------------- issue 8


def test_training_histories_match_networks_by_key_not_by_seconds(tmp_path):
    """Two networks that trained for the same (float) time keep their own histories."""
    for key, loss in (("aa11", 1.0), ("bb22", 2.0)):
        (tmp_path / "networks" / key).mkdir(parents=True)
        hist = [{"epoch": 1, "loss": loss, "accuracy": 0.5, "lr": 0.01, "seconds": 0.5}]
        (tmp_path / "networks" / key / "meta.json").write_text(
            json.dumps({"history": hist, "seconds": 3.25})
        )
    (tmp_path / "folds" / "cnn").mkdir(parents=True)
    for fold, key in ((0, "bb22"), (1, "aa11"), (2, "../networks/aa11")):
        (tmp_path / "folds" / "cnn" / f"fold{fold}.json").write_text(
            json.dumps({"fold": fold, "network_seconds": 3.25, "network_key": key})
        )
    hist = training_histories(tmp_path, "cnn")
    assert hist[["fold", "loss"]].values.tolist() == [[0, 2.0], [1, 1.0]]


def _common_cli(corpus, cache):
    return [
        "--dataset",
        "emotion",
        "--data",
        str(corpus),
        "--budget",
        "tiny",
        "--cache-dir",
        str(cache),
        "--quiet",
    ]


def test_predict_reads_its_feature_config_from_the_model(corpus, cache, tmp_path, capsys):
    """`mer predict` and `load_model(run).predict_paths` use the feature settings and
    scheme saved inside the model (under its digest), never train.json's."""
    from mer_core.models import load_model

    run = tmp_path / "run"
    assert (
        cli_main(["train", *_common_cli(corpus, cache), "--model", "svm", "--out", str(run)]) == 0
    )
    capsys.readouterr()
    songs = [str(p) for p in sorted(corpus.glob("*/*.wav"))[:3]]
    predict = ["predict", *songs, "--model", str(run), "--json", "--cache-dir", str(cache)]
    assert cli_main(predict) == 0
    before = json.loads(capsys.readouterr().out)
    assert before["scheme"] == "emotion" and before["model"] == "SVM"
    # an edited train.json changes nothing
    record = json.loads((run / "train.json").read_text())
    original = json.loads(json.dumps(record))
    record["feature_config"]["preemphasis"] = 0.5
    record["scheme"] = "4q"
    (run / "train.json").write_text(json.dumps(record))
    assert cli_main(predict) == 0
    assert json.loads(capsys.readouterr().out) == before
    model = load_model(run)
    assert model.feature_config_.to_dict() == original["feature_config"]
    pred = model.predict_paths(songs, cache_dir=cache)
    assert pred.paths == songs and pred.scheme == "emotion" and not pred.failures
    assert [p["emotion"] for p in before["predictions"]] == pred.labels
    assert [p["scores"] for p in before["predictions"]] == pred.scores()
    assert pred.proba.shape == (3, 4) and np.allclose(pred.proba.sum(axis=1), 1.0)
    # an edited model configuration is refused
    config_path = run / "model" / "config.json"
    saved = config_path.read_text()
    config = json.loads(saved)
    config["feature_config"]["preemphasis"] = 0.5
    config_path.write_text(json.dumps(config))
    assert cli_main(predict) == 2
    assert "modified since the model was saved" in capsys.readouterr().err
    # a run folder of the previous format asks to re-train
    config = json.loads(saved)
    config["format_version"] = 1
    config_path.write_text(json.dumps(config))
    assert cli_main(predict) == 2
    err = capsys.readouterr().err
    assert "re-train with this version" in err and len(err.strip().splitlines()) == 1


def test_real_data_uses_the_paper_budget_except_on_the_tiny_profile(tmp_path, monkeypatch):
    """`ensure_results(data=...)`: the paper's window always, the paper's budget and 5
    folds except on the tiny test profile; a generated corpus keeps its profile's."""
    import mer_core.datasets
    import mer_core.experiments
    import mer_core.pipeline
    from mer_core.pipeline import RUN_PROFILES, ensure_results
    from mer_core.schemes import get_scheme

    calls = []
    monkeypatch.setattr(
        mer_core.experiments, "evaluate_manifest", lambda manifest, **kw: calls.append(kw) or kw
    )
    monkeypatch.setattr(mer_core.datasets, "load_dataset", lambda data, scheme: "real")
    monkeypatch.setattr(mer_core.pipeline, "ensure_dataset", lambda *a, **kw: "generated")
    for scheme in ("ema", "4q"):
        window = get_scheme(scheme).duration
        for profile in ("tiny", "quick", "paper"):
            kw = ensure_results(tmp_path, scheme, profile=profile, data=tmp_path / "real")
            want = RUN_PROFILES["tiny"] if profile == "tiny" else RUN_PROFILES["paper"]
            assert (kw["budget"], kw["n_splits"]) == (want.training_budget, want.n_splits)
            assert kw["feature_config"].duration == window
            kw = ensure_results(tmp_path, scheme, profile=profile)
            prof = RUN_PROFILES[profile]
            assert (kw["budget"], kw["n_splits"]) == (prof.training_budget, prof.n_splits)
            assert kw["feature_config"].duration == (prof.window or window)
    assert len(calls) == 12 and {c["budget"] for c in calls} == {"tiny", "quick", "paper"}


def test_evaluate_manifest_fits_every_step_on_the_training_fold_only(
    corpus, cache, tmp_path, monkeypatch
):
    """Spies on screening, scaling, the network and the SVM inside the real models of
    `evaluate_manifest`: each is fitted on exactly one fold's training clips."""
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC, LinearSVC

    import mer_core.models.cnn_svm as cnn_svm_mod
    import mer_core.models.fusion as fusion_mod
    import mer_core.models.svm as svm_mod
    import mer_core.models.training as training
    from mer_core.extract import FeatureConfig, extract_features

    events = []
    real_train, real_support = training.train_network, cnn_svm_mod.fit_support

    def train_network(net, x, codes, *a, **kw):
        events.append(("network", np.array(x, copy=True)))
        return real_train(net, x, codes, *a, **kw)

    def fit_support(screener, X, y):
        support = real_support(screener, X, y)
        events.append(("screening", np.array(X, copy=True), support))
        return support

    class SpyScaler(StandardScaler):
        def fit(self, X, y=None, sample_weight=None):
            super().fit(X, y, sample_weight)
            events.append(("scaling", np.array(X, copy=True), self))
            return self

    def spy_svm(base):
        class Spy(base):
            def fit(self, X, y, sample_weight=None):
                events.append(("svm", np.array(X, copy=True)))
                return super().fit(X, y, sample_weight)

        return Spy

    monkeypatch.setattr(training, "train_network", train_network)
    for mod in (cnn_svm_mod, svm_mod):
        monkeypatch.setattr(mod, "fit_support", fit_support)
    monkeypatch.setattr(fusion_mod, "StandardScaler", SpyScaler)  # the SVMs' scalers
    monkeypatch.setattr(cnn_svm_mod, "LinearSVC", spy_svm(LinearSVC))
    monkeypatch.setattr(svm_mod, "SVC", spy_svm(SVC))

    out = tmp_path / "run"
    _evaluate(corpus, cache, out, models=("svm", "cnn_svm"))
    # every fold's inner-fold choices are in the record
    chosen = json.loads((out / "results.json").read_text())["selection"]
    assert set(chosen) == {"svm", "cnn_svm"}
    for model, folds in chosen.items():
        assert [f["fold"] for f in folds] == [0, 1, 2]
        assert all("C" in f and "temperature" in f and "musical" in f for f in folds), model
    manifest = load_dataset(corpus, scheme="emotion")
    fs = extract_features(
        manifest["path"].tolist(),
        config=FeatureConfig(duration=40.0),
        cache_dir=cache,
        progress=False,
    )
    assert len(fs) == len(manifest) == 24
    n = len(fs)
    trains = []
    for k in range(3):
        test = json.loads((out / "folds" / "svm" / f"fold{k}.json").read_text())["test_index"]
        trains.append(frozenset(range(n)) - frozenset(test))

    def lookup(rows, table):
        index = {r.tobytes(): i for i, r in enumerate(np.ascontiguousarray(table))}
        return frozenset(index[r.tobytes()] for r in np.ascontiguousarray(rows))

    from mer_core.experiments import build_estimator

    est = build_estimator("cnn", budget="tiny")
    pooled = est._pooled(fs, "log_mel")
    low = fs.lowlevel.astype(np.float64)
    width = low.shape[1]

    def lowlevel_rows(X):
        # the low-level block is a contiguous run of columns of every design matrix
        for start in range(X.shape[1] - width + 1):
            try:
                return lookup(X[:, start : start + width], low)
            except KeyError:
                continue
        raise AssertionError("no low-level block in the matrix")

    seen = {"network": [], "scaling": [], "svm": []}
    scaled = []
    for event in events:
        kind, X = event[0], event[1]
        if kind == "network":
            rows = lookup(X, pooled)
        elif kind == "screening":
            continue  # the recipe keeps every hand-made feature
        elif kind == "scaling":
            rows = lowlevel_rows(X)
            scaled.append((rows, event[2].transform(X)))
        else:  # an SVM sees rows of its own scaler's output (inner folds: a subset), all
            # its columns or those before the musical block (chosen on the inner folds)
            rows_of, table = scaled[-1]
            order = sorted(rows_of)
            table = np.ascontiguousarray(table[:, : X.shape[1]])
            index = {r.tobytes(): order[i] for i, r in enumerate(table)}
            rows = frozenset(index[r.tobytes()] for r in np.ascontiguousarray(X))
        assert any(rows <= t for t in trains), f"{kind} fitted on clips outside one training fold"
        seen[kind].append(rows)
    assert len(seen["network"]) == 3 and set(seen["network"]) == set(trains)
    # one scaler per model and fold, and a second where the musical block was dropped
    assert 6 <= len(seen["scaling"]) <= 12 and set(seen["scaling"]) == set(trains)
    # per model and fold: inner folds for C and the temperature, then the whole training part
    final = [r for r in seen["svm"] if r in trains]
    assert len(final) == 6 and set(final) == set(trains)
    assert len(seen["svm"]) > len(final)


def test_models_get_the_artists_of_their_training_clips(corpus, cache, tmp_path, monkeypatch):
    """evaluate_manifest hands each fit the artists of its clips, so inner folds are grouped."""
    from mer_core.models.svm import SVMClassifier

    seen = []
    real_fit = SVMClassifier.fit

    def fit(self, X, y):
        seen.append((list(X.paths), list(X.groups)))
        return real_fit(self, X, y)

    monkeypatch.setattr(SVMClassifier, "fit", fit)
    manifest = load_dataset(corpus, scheme="emotion")
    artist_of = {str(p): str(a) for p, a in zip(manifest["path"], manifest["artist"], strict=True)}
    _evaluate(corpus, cache, tmp_path / "run", models=("svm",))
    assert len(seen) == 3
    for paths, groups in seen:
        assert groups == [artist_of[p] for p in paths]
