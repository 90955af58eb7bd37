"""The book's recipe for real audio (chapter 6): real-frame crops, ensembles, texture
statistics, inner-fold C, calibrated probabilities, novelty, repeated CV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from mer_core.errors import MerError, ParameterError
from mer_core.evaluation.metrics import expected_calibration_error
from mer_core.experiments import MODELS, build_estimator
from mer_core.features.musical import musical_names
from mer_core.features.texture import mel_band_stats
from mer_core.models import ClipFeatures, load_model, save_model
from mer_core.models.fusion import CHORD_SUMMARY, fit_temperature, select_C, texture_block
from mer_core.models.networks import NetworkEnsemble, build_network, yang_cnn
from mer_core.models.training import TrainSettings, network_outputs, train_network
from mer_core.names import PAPER_MODELS

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

LABELS = np.array(["Q1", "Q2", "Q3", "Q4"])
N_FRAMES = 96


def toy(n=32, seed=0, fill=0.0):
    """Separable toy clips whose last third is zero-fill (set to ``fill`` dB)."""
    rng = np.random.default_rng(seed)
    codes = np.arange(n) % 4
    log_mel = rng.normal(-40.0, 6.0, size=(n, 32, N_FRAMES))
    for c in range(4):
        log_mel[codes == c, c * 8 : (c + 1) * 8] += 10.0
    valid = np.full(n, 64)
    log_mel[:, :, 64:] = fill
    chord_names = [f"chord_hist_{i}" for i in range(4)] + list(CHORD_SUMMARY)
    X = ClipFeatures(
        log_mel=log_mel.astype(np.float16),
        mfcc=rng.normal(size=(n, 20, N_FRAMES)).astype(np.float32),
        lowlevel=rng.normal(size=(n, 6)) + codes[:, None] * 0.5,
        chords=rng.normal(size=(n, len(chord_names))),
        musical=rng.normal(size=(n, len(musical_names()))),
        lowlevel_names=[f"ll_{i}" for i in range(6)],
        chord_names=chord_names,
        valid_frames=valid,
    )
    return X, LABELS[codes]


def test_texture_ignores_the_zero_fill():
    L = np.random.default_rng(0).normal(size=(8, 50)).astype(np.float32)
    other = L.copy()
    other[:, 30:] = -100.0
    np.testing.assert_array_equal(
        mel_band_stats(L, n_bands=4, n_frames=30), mel_band_stats(other, n_bands=4, n_frames=30)
    )
    assert not np.allclose(mel_band_stats(L, n_bands=4), mel_band_stats(other, n_bands=4))


def test_real_crops_never_touch_the_zero_fill():
    """Training and evaluation with real crops give the same network whatever the fill."""
    x = np.random.default_rng(0).normal(size=(12, 16, 60)).astype(np.float32)
    y = np.arange(12) % 3
    valid = np.full(12, 40)
    results = []
    for fill in (0.0, 500.0):
        xf = x.copy()
        xf[:, :, 40:] = fill
        torch.manual_seed(0)
        net = yang_cnn(16, 3)
        s = TrainSettings(epochs=2, batch_size=4, crop=20, progress=False)
        train_network(net, xf, y, s, np.random.default_rng(0), valid=valid)
        results.append(network_outputs(net, xf, crop=20, valid=valid)["logits"])
    np.testing.assert_array_equal(results[0], results[1])
    # without the real-frame limits the fill changes what the network sees
    torch.manual_seed(0)
    net = yang_cnn(16, 3)
    xf = x.copy()
    xf[:, :, 40:] = 500.0
    s = TrainSettings(epochs=2, batch_size=4, crop=20, progress=False)
    train_network(net, xf, y, s, np.random.default_rng(0))
    assert not np.allclose(network_outputs(net, xf, crop=20)["logits"], results[0])


def test_ensemble_averages_logits_and_concatenates_embeddings():
    ens = build_network("yang_cnn", 16, 3, 2).eval()
    assert isinstance(ens, NetworkEnsemble) and ens.build_args == [16, 3, 2]
    x = torch.randn(2, 16, 20)
    out = ens(x)
    members = [m(x) for m in ens.members]
    torch.testing.assert_close(out["logits"], (members[0]["logits"] + members[1]["logits"]) / 2)
    assert out["embedding"].shape == (2, 256)


def test_temperature_softens_an_overconfident_model_without_changing_its_choice():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, size=400)
    d = rng.normal(size=(400, 4))
    d[np.arange(400), y] += 1.0  # right about half the time ...
    d *= 8.0  # ... but very sure of itself
    t = fit_temperature(d, y)
    assert t > 2.0

    def probs(temp):
        z = d / temp
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    before = expected_calibration_error(y, probs(1.0), labels=[0, 1, 2, 3])
    after = expected_calibration_error(y, probs(t), labels=[0, 1, 2, 3])
    assert after < before / 2
    np.testing.assert_array_equal(probs(t).argmax(1), d.argmax(1))


def test_select_C_scores_every_candidate_on_training_rows_only():
    from sklearn.svm import LinearSVC

    rng = np.random.default_rng(0)
    y = np.arange(60) % 3
    Z = rng.normal(size=(60, 5)) + y[:, None]
    C, scores, temp = select_C(lambda c: LinearSVC(C=c), Z, y, [0.01, 1.0], seed=0)
    assert C in (0.01, 1.0) and set(scores) == {"0.01", "1"} and temp > 0
    assert all(0 <= v <= 1 for v in scores.values())


@pytest.mark.parametrize("name", PAPER_MODELS)
def test_recipe_models_fit_save_load_and_flag_novel_clips(name, tmp_path):
    X, y = toy(32, seed=0)
    X_test, _ = toy(16, seed=1)
    est = build_estimator(name, budget="tiny", random_state=0)
    if "n_jobs" in est.get_params():
        est.set_params(n_jobs=1, progress=False, n_networks=2, epochs=1, cross_fit=2)
    est.fit(X, y)
    if "n_networks" in est.get_params():
        net = getattr(est, est._net_attr)
        # 2 members x (full + 2 inner networks, + 2 twins when the ensemble is selected)
        select = est.get_params().get("predict_with") == "select"
        members = {"full": 2, "all": 10 if select else 6}[getattr(est, "predict_with_", "full")]
        assert isinstance(net, NetworkEnsemble) and len(net.members) == members
        assert est.cross_fitted_
    proba = est.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    loaded = load_model(save_model(est, tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict_proba(X_test), proba, rtol=1e-6, atol=1e-9)
    # a clip like the training clips is not flagged; a wildly different one is
    assert np.median(est.novelty(X_test)) < 1.5
    odd = X_test[:2]
    odd.log_mel = (odd.log_mel.astype(np.float32) + 60.0).astype(np.float16)
    odd.mfcc = odd.mfcc * 40.0
    odd.lowlevel = odd.lowlevel * 40.0
    odd.chords = odd.chords * 40.0
    assert est.far_from_training(odd).all()


def test_paper_recipe_is_kept_under_its_own_names():
    for m in PAPER_MODELS:
        paper = build_estimator(f"{m}_paper")
        assert type(paper).__name__ == MODELS[m].estimator
        defaults = type(paper)().get_params()
        defaults["random_state"] = 0
        assert paper.get_params() == defaults  # the classifier's documented defaults
    assert build_estimator("cnn_svm").cnn_output == "logits"
    assert build_estimator("cnn_svm_paper").cnn_output == "embedding"


def test_repeated_cv_in_parallel_equals_sequential(tmp_path):
    from mer_core.datasets import load_dataset
    from mer_core.experiments import evaluate_manifest
    from mer_core.synth import generate_corpus

    corpus = tmp_path / "corpus"
    generate_corpus(corpus, scheme="emotion", size="tiny", seed=0, progress=False)
    manifest = load_dataset(corpus, scheme="emotion")
    runs = {}
    for n_jobs in (1, 2):
        runs[n_jobs] = evaluate_manifest(
            manifest,
            scheme="emotion",
            models=["svm", "cnn"],
            budget="tiny",
            n_splits=3,
            n_repeats=2,
            seed=0,
            out_dir=tmp_path / f"run{n_jobs}",
            cache_dir=tmp_path / "cache",
            n_jobs=n_jobs,
            progress=False,
        )
    folds = pd.read_csv(tmp_path / "run1" / "folds.csv")
    assert sorted(folds["fold"].unique()) == list(range(6))
    assert runs[1]["n_repeats"] == 2
    metrics = ["accuracy", "f1"]
    a = pd.DataFrame(runs[1]["summary"]).set_index("model")[metrics]
    b = pd.DataFrame(runs[2]["summary"]).set_index("model")[metrics]
    pd.testing.assert_frame_equal(a, b)


def _tagged(n=32, seed=0):
    """Toy clips whose first two Mel bands carry the clip's number (-100 + i dB)."""
    X, y = toy(n, seed=seed)
    log_mel = X.log_mel.astype(np.float32)
    log_mel[:, 0:2, :] = -100.0 + np.arange(n)[:, None, None]
    X.log_mel = log_mel.astype(np.float16)
    return X, y


@pytest.mark.parametrize("name", ["cnn", "cnn_svm"])
def test_cross_fitted_outputs_come_from_networks_that_never_saw_the_clip(name, monkeypatch):
    import mer_core.models.training as training

    X, y = _tagged(32)
    est = build_estimator(name, budget="tiny", random_state=0)
    est.set_params(cross_fit=4, n_jobs=1, progress=False)
    trained, predicted = [], []
    fit_network, outputs = type(est)._fit_network, training.network_outputs

    def spy_fit(self, Xs, codes, seed):
        trained.append(set(np.rint(Xs.log_mel[:, 0, 0].astype(np.float32) + 100).astype(int)))
        return fit_network(self, Xs, codes, seed)

    def spy_outputs(net, x, **kw):
        predicted.append(set(np.rint(x[:, 0, 0] + 100).astype(int)))
        return outputs(net, x, **kw)

    monkeypatch.setattr(type(est), "_fit_network", spy_fit)
    monkeypatch.setattr(training, "network_outputs", spy_outputs)
    est.fit(X, y)
    # 4 inner networks (each followed by its twin when the CNN chooses its ensemble), then
    # the full one; every inner network predicts exactly the clips it was not trained on
    per_fold = 2 if est.get_params().get("predict_with") == "select" else 1
    assert est.cross_fitted_ and len(trained) == 4 * per_fold + 1
    assert trained[-1] == set(range(32))
    held_out = predicted[: 4 * per_fold]
    for seen, asked in zip(trained[:-1], held_out, strict=True):
        assert not seen & asked and seen | asked == set(range(32))
    assert set().union(*held_out) == set(range(32))
    assert held_out[::per_fold] == held_out[per_fold - 1 :: per_fold]  # a twin, same clips


def test_cross_fitting_changes_the_probabilities_not_the_network():
    X, y = toy(32)
    fits = {
        k: build_estimator("cnn", budget="tiny", random_state=0)
        .set_params(cross_fit=k, n_jobs=1, progress=False, predict_with="full")
        .fit(X, y)
        for k in (0, 4)
    }
    np.testing.assert_allclose(fits[0].decision_function(X), fits[4].decision_function(X))
    assert fits[0].temperature_ == 1.0 and not fits[0].cross_fitted_
    assert fits[4].temperature_ != 1.0 and fits[4].cross_fitted_
    assert fits[4].network_seconds_ > fits[0].network_seconds_
    with pytest.raises(ParameterError, match="cross_fit"):
        build_estimator("cnn", budget="tiny").set_params(cross_fit=1).fit(X, y)
    # too few clips per class for the inner folds: the network's own softmax
    few = build_estimator("cnn", budget="tiny", random_state=0)
    few.set_params(cross_fit=20, n_jobs=1, progress=False).fit(X, y)
    assert not few.cross_fitted_ and few.temperature_ == 1.0


def test_cross_fitted_networks_are_cached_and_reused(tmp_path):
    X, y = toy(32)

    def fit():
        est = build_estimator(
            "cnn_svm_select", budget="tiny", random_state=0, network_cache=tmp_path
        )
        return est.set_params(cross_fit=3, n_jobs=1, progress=False).fit(X, y)

    first = fit()
    assert first.predict_with == "select"  # 3 inner networks, their twins, the full one
    assert len(list(tmp_path.iterdir())) == 7 and not first.network_cached_
    second = fit()
    assert second.network_cached_
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert second.network_loaded_seconds_ == pytest.approx(first.network_seconds_)
    # one network gone: it is trained again, and the fit's training time still counts
    # what the six loaded ones once took (a fold's training_seconds)
    import json
    import shutil

    from mer_core.evaluation.protocol import training_seconds

    entries = sorted(tmp_path.iterdir())
    gone = json.loads((entries[0] / "meta.json").read_text())["seconds"]
    shutil.rmtree(entries[0])
    third = fit()
    assert not third.network_cached_
    assert third.network_loaded_seconds_ == pytest.approx(first.network_seconds_ - gone)
    record = {"fit_seconds": 1.0, "network_seconds": third.network_seconds_}
    record.update(network_cached=False, network_loaded_seconds=third.network_loaded_seconds_)
    assert training_seconds(record) == pytest.approx(1.0 + first.network_seconds_ - gone)


@pytest.mark.parametrize("name", ["svm", "cnn_svm"])
def test_musical_block_is_chosen_on_inner_folds(name, tmp_path):
    X, y = toy(48, seed=2)
    codes = np.unique(y, return_inverse=True)[1]
    rng = np.random.default_rng(0)
    X.lowlevel = rng.normal(size=X.lowlevel.shape)  # only noise here
    X.chords = rng.normal(size=X.chords.shape)
    informative = rng.normal(size=X.musical.shape)
    informative[:, :8] += 3.0 * (codes[:, None] == np.arange(4).repeat(2)[None, :])
    kw = {"use_texture": False} if name == "svm" else {"use_texture": False, "cross_fit": 0}
    est = build_estimator(name, budget="tiny", random_state=0, **kw)
    if name == "cnn_svm":
        est.set_params(n_jobs=1, progress=False, use_embedding=False)
    X.musical = informative
    chosen = clone_fit(est, X, y)
    assert chosen.use_musical_ and "musical" in chosen.input_shapes_
    assert chosen.block_scores_["with musical"] > chosen.block_scores_["without musical"]
    X.musical = rng.normal(size=X.musical.shape)
    X.lowlevel = X.lowlevel + 3.0 * (codes[:, None] == np.arange(4)[None, :].repeat(2, 1)[:, :6])
    dropped = clone_fit(est, X, y)
    assert not dropped.use_musical_ and "musical" not in dropped.input_shapes_
    assert not any(n in dropped.feature_names_ for n in musical_names())
    proba = dropped.predict_proba(X)
    X.musical = None  # the saved model no longer asks for the block
    np.testing.assert_allclose(dropped.predict_proba(X), proba)
    loaded = load_model(save_model(dropped, tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict_proba(X), proba, rtol=1e-6, atol=1e-9)
    assert not loaded.use_musical_


def clone_fit(est, X, y):
    from sklearn.base import clone

    return clone(est).fit(X, y)


def test_use_musical_rejects_other_values():
    X, y = toy(32)
    with pytest.raises(ParameterError, match="use_musical"):
        build_estimator("svm").set_params(use_musical="yes").fit(X, y)


def test_cross_fitting_refuses_hidden_layers_of_different_networks():
    X, y = toy(32)
    est = build_estimator("cnn_svm_embedding", budget="tiny").set_params(cross_fit=3)
    with pytest.raises(ParameterError, match="logits"):
        est.fit(X, y)
    assert build_estimator("cnn_svm_embedding").cross_fit == 0


def test_the_inner_networks_can_join_the_prediction(tmp_path):
    """predict_with="all": the full network and the cross-fitted ones, logits averaged."""
    import copy

    from mer_core.models.fusion import norm_matched

    X, y = toy(32)
    X_test, _ = toy(16, seed=1)

    def fit(**params):
        est = build_estimator("lstm", budget="tiny", random_state=0)
        return est.set_params(n_jobs=1, progress=False, **params).fit(X, y)

    full = fit(cross_fit=3, predict_with="full")
    pooled = fit(cross_fit=3, predict_with="all")
    assert isinstance(pooled.lstm_, NetworkEnsemble) and len(pooled.lstm_.members) == 4
    assert not isinstance(full.lstm_, NetworkEnsemble)
    assert pooled.temperature_ == full.temperature_  # the same out-of-fold logits
    one = []
    for member in pooled.lstm_.members:
        alone = copy.deepcopy(pooled)
        alone.lstm_ = member
        one.append(alone.decision_function(X_test))
    decision = pooled.decision_function(X_test)
    # the members' mean logits at the members' own scale (norm_matched)
    expected = norm_matched(np.stack(one, axis=1))
    np.testing.assert_allclose(decision, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(decision.argmax(1), np.mean(one, axis=0).argmax(1))
    np.testing.assert_allclose(one[-1], full.decision_function(X_test), rtol=1e-5, atol=1e-5)
    assert not np.allclose(decision, one[-1])
    loaded = load_model(save_model(pooled, tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict_proba(X_test), pooled.predict_proba(X_test))
    # without cross-fitting there are no inner networks: the full network alone
    alone = fit(cross_fit=0, predict_with="all")
    np.testing.assert_allclose(alone.decision_function(X_test), full.decision_function(X_test))
    with pytest.raises(ParameterError, match="must be 'full', 'all' or 'select', got 'both'"):
        fit(predict_with="both")


@pytest.mark.parametrize("winner", ["full", "all"])
def test_the_ensemble_is_chosen_on_the_inner_folds(winner, monkeypatch):
    """predict_with="select": a twin per inner fold; the pairs' inner macro-F1 decides."""
    import sklearn.metrics

    from mer_core.evaluation.protocol import inner_choices

    X, y = toy(32)
    X_test, _ = toy(16, seed=1)

    def fit(**params):
        est = build_estimator("cnn", budget="tiny", random_state=0)
        return est.set_params(n_jobs=1, progress=False, cross_fit=3, **params).fit(X, y)

    full = fit(predict_with="full")
    real_f1, calls = sklearn.metrics.f1_score, []

    def rigged(y_true, y_pred, **kw):  # the single network's score, then the pair's
        calls.append(real_f1(y_true, y_pred, **kw))
        return float((len(calls) % 2 == 0) == (winner == "all"))

    monkeypatch.setattr(sklearn.metrics, "f1_score", rigged)
    chosen = fit(predict_with="select")
    monkeypatch.undo()
    assert len(calls) == 6  # 3 inner folds x (one network, the pair)
    assert chosen.predict_with_ == winner
    assert chosen.ensemble_scores_ == {
        "full": float(winner == "full"),
        "all": float(winner == "all"),
    }
    assert inner_choices(chosen)["predict_with"] == winner
    if winner == "full":  # the same full network and out-of-fold logits as without a choice
        assert not isinstance(chosen.cnn_, NetworkEnsemble)
        assert chosen.temperature_ == full.temperature_
        np.testing.assert_allclose(
            chosen.decision_function(X_test), full.decision_function(X_test), rtol=1e-6
        )
    else:  # full + 3 inner networks + their 3 twins, and the pairs' temperature
        assert isinstance(chosen.cnn_, NetworkEnsemble) and len(chosen.cnn_.members) == 7
        # the members' mean logits at the members' scale: the plain mean's decision, surer
        matched = chosen.decision_function(X_test)
        chosen.predict_with_ = "full"  # the ensemble's plain mean
        plain = chosen.decision_function(X_test)
        chosen.predict_with_ = "all"
        np.testing.assert_array_equal(matched.argmax(axis=1), plain.argmax(axis=1))
        norms = [
            np.linalg.norm(z - z.mean(axis=1, keepdims=True), axis=1) for z in (plain, matched)
        ]
        assert np.all(norms[1] >= norms[0] - 1e-5) and np.any(norms[1] > norms[0] + 1e-4)
        assert chosen.temperature_ != full.temperature_
    assert "ensemble_scores_" in vars(full) and full.ensemble_scores_ == {}


@pytest.mark.parametrize("winner", ["full", "all"])
def test_cnn_svm_chooses_its_cnn_block_on_the_inner_folds(winner, monkeypatch):
    """CNN-SVM, predict_with="select": the SVM on single networks' or pairs' outputs."""
    import mer_core.models.cnn_svm as cnn_svm
    from mer_core.evaluation.protocol import inner_choices

    X, y = toy(32)
    X_test, _ = toy(16, seed=1)

    def fit(**params):
        est = build_estimator("cnn_svm", budget="tiny", random_state=0)
        return est.set_params(n_jobs=1, progress=False, cross_fit=3, **params).fit(X, y)

    full = fit(predict_with="full")
    real_best, calls = cnn_svm._best, []

    def rigged(fit_result):  # the SVM on single networks' outputs, then on the pairs'
        calls.append(real_best(fit_result))
        return float((len(calls) == 2) == (winner == "all"))

    monkeypatch.setattr(cnn_svm, "_best", rigged)
    chosen = fit(predict_with="select")
    monkeypatch.undo()
    assert len(calls) == 2 and chosen.predict_with_ == winner
    assert inner_choices(chosen)["predict_with"] == winner
    assert chosen.ensemble_scores_ == {
        "full": float(winner == "full"),
        "all": float(winner == "all"),
    }
    if winner == "full":  # the same SVM and CNN as without a choice
        assert not isinstance(chosen.cnn_, NetworkEnsemble)
        np.testing.assert_allclose(
            chosen.decision_function(X_test), full.decision_function(X_test)
        )
    else:  # the full network, 3 inner networks and their twins predict together
        assert isinstance(chosen.cnn_, NetworkEnsemble) and len(chosen.cnn_.members) == 7
        assert not np.allclose(chosen.svm_.coef_, full.svm_.coef_)
    assert full.predict_with_ == "full" and full.ensemble_scores_ == {}
    with pytest.raises(ParameterError, match="must be 'full' or 'select', got 'all'"):
        fit(predict_with="all")


def test_norm_matched_keeps_the_decision_and_the_members_scale():
    """An ensemble's logits at its members' scale: as sure with 12 members as with 2."""
    from mer_core.models.fusion import fit_temperature, norm_matched

    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 4000)
    mu = 2.0 * np.eye(4)[y] + rng.normal(0, 1.5, (4000, 4))  # errors the networks share
    nets = mu[:, None] + rng.normal(0, 2.0, (4000, 12, 4))  # and each network's own
    plain = nets.mean(axis=1)
    matched = norm_matched(nets)
    np.testing.assert_array_equal(matched.argmax(axis=1), plain.argmax(axis=1))
    size = {k: np.linalg.norm(norm_matched(nets[:, :k]), axis=1).mean() for k in (1, 2, 12)}
    assert size[12] == pytest.approx(size[2], rel=0.02) and size[2] == pytest.approx(
        size[1], rel=0.02
    )
    # the pairs' temperature fits 12 networks better at the members' scale than plain
    from scipy.special import softmax

    pairs = nets[:, :2]
    t_plain = fit_temperature(pairs.mean(axis=1), y)
    t_matched = fit_temperature(norm_matched(pairs), y)
    labels = [0, 1, 2, 3]
    ece_plain = expected_calibration_error(y, softmax(plain / t_plain, axis=1), labels=labels)
    ece_matched = expected_calibration_error(
        y, softmax(matched / t_matched, axis=1), labels=labels
    )
    assert ece_matched < ece_plain
    one = rng.normal(size=(5, 1, 4))
    np.testing.assert_allclose(norm_matched(one), one[:, 0] - one[:, 0].mean(1, keepdims=True))
    with pytest.raises(ParameterError, match="member_logits"):
        norm_matched(np.zeros((3, 4)))


def test_cnn_svm_reads_cross_fitted_rbf_svm_scores(tmp_path, monkeypatch):
    """svm_scores: an RBF SVM's out-of-fold decision values join the linear SVM's input."""
    import sklearn.svm

    X, y = toy(48, seed=4)
    X_test, _ = toy(16, seed=5)
    est = build_estimator("cnn_svm_svm_scores", budget="tiny", random_state=0)
    assert est.svm_scores == MODELS["svm"].params["C"]  # the SVM baseline's C grid
    real_fit, fitted = sklearn.svm.SVC.fit, []

    def spy(self, X, y, sample_weight=None):
        fitted.append(len(y))
        return real_fit(self, X, y, sample_weight)

    monkeypatch.setattr(sklearn.svm.SVC, "fit", spy)
    est.set_params(n_jobs=1, progress=False, cross_fit=3).fit(X, y)
    monkeypatch.undo()
    assert list(est.blocks_)[-1] == "svm_scores"
    lo, hi = est.blocks_["svm_scores"]
    assert hi - lo == 4 and est.feature_names_[lo:hi] == [f"svm_score_{i}" for i in range(4)]
    # the full SVM on all 48 clips, and one per inner fold on the other folds' clips only
    assert fitted.count(48) == 1 and sum(n < 48 for n in fitted) >= 3 * 3
    # new clips get the full RBF SVM's scores, after the same hand-made blocks
    hand = [
        X_test.lowlevel[:, est.lowlevel_support_],
        texture_block(X_test, est.texture_bands)[0],
        X_test.chords[:, est.chord_support_],
    ]
    expected = est.score_svm_.decision_function(est.score_scaler_.transform(np.hstack(hand)))
    fused = est.scaler_.inverse_transform(est.fused_features(X_test))
    np.testing.assert_allclose(fused[:, lo:hi], expected, rtol=1e-6, atol=1e-8)
    loaded = load_model(save_model(est, tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict_proba(X_test), est.predict_proba(X_test))
    with pytest.raises(MerError, match="svm_scores needs a hand-made block"):
        build_estimator("cnn_embedding_svm", budget="tiny").set_params(
            svm_scores=1.0, n_jobs=1, progress=False
        ).fit(X, y)
