"""Tests of mer_core.models: networks, classifiers, sklearn compatibility, save/load.

Everything runs on tiny synthetic clips (40 clips of 32 Mel bands x 64 frames,
2-8 epochs) so the file stays well under a minute on two CPU cores.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from mer_core.errors import MerError, ParameterError
from mer_core.models import (
    ARCHITECTURES,
    ClipFeatures,
    CNNClassifier,
    CNNSVMClassifier,
    LSTMClassifier,
    SVMClassifier,
    as_clip_features,
    build_network,
    load_model,
    save_model,
    subset,
    yang_cnn,
)
from mer_core.models.networks import count_parameters, lstm, network_input
from mer_core.models.persistence import FORMAT_VERSION, _config_digest
from mer_core.models.training import torch_session

N_MELS, N_FRAMES, N_CLASSES = 32, 64, 4
LABELS = np.array(["anger", "happiness", "relaxation", "sadness"])
WORDS = [
    ["angry", "loud", "rage"],
    ["happy", "bright", "dance"],
    ["calm", "soft", "chill"],
    ["sad", "dark", "slow"],
]

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def toy_clips(n: int = 40, seed: int = 0) -> tuple[ClipFeatures, np.ndarray]:
    """Separable toy clips: each class lifts its own quarter of the Mel bands by 8 dB,
    shifts one MFCC, and moves two low-level columns; chords and most low-level
    columns are noise."""
    rng = np.random.default_rng(seed)
    codes = np.arange(n) % N_CLASSES
    log_mel = rng.normal(-40.0, 6.0, size=(n, N_MELS, N_FRAMES))
    band = N_MELS // N_CLASSES
    mfcc = rng.normal(0.0, 1.0, size=(n, 20, N_FRAMES))
    lowlevel = rng.normal(size=(n, 12))
    for c in range(N_CLASSES):
        log_mel[codes == c, c * band : (c + 1) * band] += 8.0
        mfcc[codes == c, 2 * c] += 1.5
    lowlevel[:, 0] += 1.5 * codes
    lowlevel[:, 1] += 1.5 * (codes % 2)
    text = [" ".join(rng.choice(WORDS[c], size=2)) for c in codes]
    X = ClipFeatures(
        log_mel=log_mel.astype(np.float16),
        mfcc=mfcc.astype(np.float32),
        lowlevel=lowlevel,
        chords=rng.normal(size=(n, 6)),
        text=text,
        lowlevel_names=[f"ll_{i}" for i in range(12)],
    )
    return X, LABELS[codes]


FAST = {"epochs": 6, "batch_size": 8, "progress": False, "n_jobs": 1}


def make(cls, **kw):
    """A small, fast, seeded instance of a classifier."""
    base = {} if cls is SVMClassifier else dict(FAST)
    if cls is CNNSVMClassifier:
        base["n_screened"] = 4
    if cls is SVMClassifier:
        base["n_screened"] = 8
    base["random_state"] = 0
    base.update(kw)
    return cls(**base)


ALL = [CNNSVMClassifier, CNNClassifier, SVMClassifier, LSTMClassifier]


@pytest.fixture(scope="module")
def data():
    return toy_clips(40, seed=0), toy_clips(40, seed=1)


@pytest.fixture(scope="module")
def fitted_cnn_svm(data):
    (X, y), _ = data
    return make(CNNSVMClassifier).fit(X, y)


# ----------------------------------------------------------------------------- networks


@pytest.mark.parametrize("n_frames", [1, 7, 40])
def test_cnn_forward_shapes(n_frames):
    net = build_network("yang_cnn", N_MELS, N_CLASSES)
    out = net(torch.randn(3, N_MELS, n_frames))
    assert set(out) == {"logits", "embedding"}
    assert tuple(out["logits"].shape) == (3, N_CLASSES)
    assert tuple(out["embedding"].shape) == (3, 128)
    assert (out["embedding"] >= 0).all()  # after the last hidden layer's ReLU
    assert net.input_key == "log_mel"


def test_lstm_forward_shapes():
    out = lstm(20, 3)(torch.randn(2, 20, 9))
    assert tuple(out["logits"].shape) == (2, 3)
    assert tuple(out["embedding"].shape) == (2, 64)


def test_registry_and_factory():
    assert set(ARCHITECTURES) == {"yang_cnn", "lstm", "lstm_mel"}
    assert network_input("yang_cnn") == "log_mel" and network_input("lstm") == "mfcc"
    net = yang_cnn()  # the book's configuration: 128 Mel bands, 4 classes
    assert count_parameters(net) == 229_108
    assert net.head.out_features == 4 and net.norm.mean.shape == (128,)
    built = build_network("yang_cnn", 128, 4)
    assert built.architecture == "yang_cnn" and built.build_args == [128, 4]
    with pytest.raises(ParameterError, match="unknown architecture"):
        build_network("resnet9000", 128, 4)
    with pytest.raises(ParameterError, match="unknown architecture"):
        CNNClassifier(architecture="__import__('os')").fit(*toy_clips(8))


def test_torch_session_restores_global_state():
    threads = torch.get_num_threads()
    det = torch.are_deterministic_algorithms_enabled()
    before = torch.random.get_rng_state()
    with torch_session(123, n_threads=1):
        assert torch.get_num_threads() == 1
        assert torch.are_deterministic_algorithms_enabled()
        torch.rand(3)
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == det
    assert torch.equal(torch.random.get_rng_state(), before)


# ----------------------------------------------------------------------------- inputs


def test_clip_features_indexing_and_validation(data):
    (X, y), _ = data
    part = X[np.array([0, 5, 9])]
    assert len(part) == 3 and part.shape == (3,)
    np.testing.assert_array_equal(part.lowlevel, X.lowlevel[[0, 5, 9]])
    assert part.text == [X.text[i] for i in (0, 5, 9)]
    assert len(X[X.lowlevel[:, 0] > 0]) == int((X.lowlevel[:, 0] > 0).sum())
    assert len(subset({"chords": X.chords}, slice(0, 4))) == 4
    assert len(X[np.array([1, 2]), ...]) == 2  # how sklearn's _safe_indexing asks
    with pytest.raises(MerError, match="3 dimensions"):
        ClipFeatures(log_mel=np.zeros((2, 3)))
    with pytest.raises(MerError, match="clips"):
        ClipFeatures(lowlevel=np.zeros((3, 2)), chords=np.zeros((4, 2)))
    with pytest.raises(MerError, match="NaN"):
        ClipFeatures(lowlevel=np.array([[0.0, np.nan]]))
    with pytest.raises(MerError, match="X must be a ClipFeatures"):
        as_clip_features(np.zeros((3, 4)))
    with pytest.raises(MerError, match="unknown feature fields"):
        as_clip_features({"lowlevels": np.zeros((3, 4))})


def test_extracted_features_carry_their_provenance_into_the_model(tmp_path):
    """One container: what extraction returns is the models' X; cutting it keeps each
    clip's file, digest and real length; fit keeps its feature configuration, which a
    saved model carries without being told, and features of another front end are refused."""
    import dataclasses

    from mer_core.extract import FeatureConfig

    X, y = toy_clips(16)
    # 1.47 s at 22.05 kHz is 64 frames of 512 samples, the toy clips' length
    cfg = FeatureConfig(duration=1.47, n_mels=N_MELS)
    n_valid = np.arange(16) * 2000 + 5000
    fs = ClipFeatures(
        mfcc=X.mfcc,
        config=cfg,
        paths=[f"clip{i}.wav" for i in range(16)],
        index=np.arange(16) + 1,
        digests=[f"{i:064x}" for i in range(16)],
        n_valid=n_valid,
        failures=[{"path": "bad.wav", "error": "bad.wav: no such file"}],
    )
    np.testing.assert_array_equal(fs.valid_frames, np.minimum(1 + n_valid // 512, N_FRAMES))
    part = fs[np.array([3, 1])]
    assert part.paths == ["clip3.wav", "clip1.wav"] and list(part.index) == [4, 2]
    assert part.digests == [fs.digests[3], fs.digests[1]] and list(part.n_valid) == [11000, 7000]
    assert part.config is cfg and part.failures == fs.failures
    assert fs.fingerprint() == fs[::-1].fingerprint()  # the data, not its order
    with pytest.raises(MerError, match="no file digests"):
        X.fingerprint()
    clf = SVMClassifier(use_lowlevel=False, n_screened=4).fit(fs, y)
    assert clf.feature_config_ == cfg and clf.input_fields() == ["mfcc"]
    assert clf.predict(fs).shape == (16,)
    loaded = load_model(save_model(clf, tmp_path / "m"))  # no feature_config= needed
    assert loaded.feature_config_ == cfg
    np.testing.assert_array_equal(loaded.predict_proba(fs), clf.predict_proba(fs))
    other = ClipFeatures(mfcc=X.mfcc, config=dataclasses.replace(cfg, preemphasis=0.5))
    with pytest.raises(MerError, match="was fitted on features extracted with"):
        clf.predict(other)
    assert clf.predict(ClipFeatures(mfcc=X.mfcc)).shape == (16,)  # arrays alone: no check


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_one_pass_gives_the_decision_and_the_novelty(cls, data):
    """predict_paths takes the decision values and the novelty from one pass over the
    features: the same numbers as decision_function and novelty apart."""
    (X, y), (X_test, _) = data
    clf = make(cls, **({} if cls is SVMClassifier else {"epochs": 1})).fit(X, y)
    d, Z = clf._decision_and_representation(X_test)
    np.testing.assert_allclose(d, clf.decision_function(X_test), rtol=1e-6)
    np.testing.assert_allclose(clf._novelty_of(Z), clf.novelty(X_test), rtol=1e-6)


def test_input_fields_name_what_fit_reads():
    from mer_core.experiments import build_estimator
    from mer_core.extract import groups_for

    assert CNNClassifier().input_fields() == ["log_mel"]
    assert LSTMClassifier().input_fields() == ["mfcc"]
    assert SVMClassifier().input_fields() == ["mfcc", "lowlevel"]
    assert CNNSVMClassifier(use_chords=False).input_fields() == ["log_mel", "lowlevel"]
    assert groups_for(build_estimator("cnn").input_fields()) == ("spectral",)
    assert groups_for(build_estimator("lstm").input_fields()) == ("spectral",)
    assert groups_for(SVMClassifier(use_mfcc_stats=False).input_fields()) == ("lowlevel",)
    assert groups_for(build_estimator("svm").input_fields()) == (
        "spectral",
        "lowlevel",
        "chords",
        "musical",
    )
    assert "musical" not in build_estimator("svm_no_musical").input_fields()
    with pytest.raises(ParameterError, match="no feature group computes"):
        groups_for(["tempo"])


def test_clips_of_different_lengths_are_held_but_not_fitted():
    """Extraction without a fixed duration gives maps of different lengths: the container
    holds them (and cuts them), a model that needs equal lengths says so."""
    maps = [np.zeros((20, 30), np.float32), np.zeros((20, 45), np.float32)]
    X = ClipFeatures(mfcc=maps, lowlevel=np.zeros((2, 3)))
    assert len(X) == 2 and X[[1]].mfcc[0].shape == (20, 45)
    assert "ragged" in repr(X)
    with pytest.raises(MerError, match="clips of equal length"):
        LSTMClassifier().fit(X, ["a", "b"])


# ----------------------------------------------------------------------------- learning


LEARNERS = [(cls.__name__, cls, {}) for cls in ALL] + [
    ("embedding_alone", CNNSVMClassifier, {"use_lowlevel": False, "use_chords": False})
]


@pytest.mark.parametrize(("name", "cls", "kw"), LEARNERS, ids=[c[0] for c in LEARNERS])
def test_classifier_learns_separable_toy_problem(name, cls, kw, data):
    (X, y), (X_test, y_test) = data
    clf = make(cls, **kw).fit(X, y)
    assert clf.score(X_test, y_test) >= 0.6  # chance is 0.25
    proba = clf.predict_proba(X_test)
    assert proba.shape == (40, N_CLASSES)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], clf.predict(X_test))
    assert clf.decision_function(X_test).shape == (40, N_CLASSES)
    assert set(clf.predict(X_test)) <= set(LABELS)


def test_network_history_and_validation(data):
    (X, y), _ = data
    clf = make(CNNClassifier, epochs=3).fit(X, y)
    assert [h["epoch"] for h in clf.history_] == [1, 2, 3]
    assert {"loss", "accuracy", "lr", "seconds"} <= set(clf.history_[0])
    assert clf.history_[-1]["lr"] == pytest.approx(0.0)  # cosine schedule ends at 0
    assert clf.embed(X).shape == (40, 128)
    val = make(CNNClassifier, epochs=4, validation_fraction=0.25, patience=1).fit(X, y)
    assert "val_accuracy" in val.history_[0]
    assert 1 <= val.best_epoch_ <= val.n_epochs_ <= 4


def test_progress_bar_can_be_shown(data, capsys):
    (X, y), _ = data
    make(CNNClassifier, epochs=1, progress=True).fit(X[:8], y[:8])
    assert "CNNClassifier" in capsys.readouterr().err


def test_binary_problem_gives_one_column_decision(data):
    (X, y), _ = data
    keep = np.isin(y, LABELS[:2])
    clf = make(SVMClassifier).fit(X[keep], y[keep])
    d = clf.decision_function(X[keep])
    assert d.ndim == 1
    np.testing.assert_array_equal(clf.predict(X[keep]), clf.classes_[(d > 0).astype(int)])
    assert clf.predict_proba(X[keep]).shape == (int(keep.sum()), 2)


# ----------------------------------------------------------------------------- sklearn API


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_sklearn_estimator_conventions(cls):
    name = cls.__name__
    est = make(cls)
    check_no_attributes_set_in_init(name, est)
    check_get_params_invariance(name, est)
    check_set_params(name, est)
    check_parameters_default_constructible(name, cls())
    params = est.get_params()
    twin = clone(est)
    assert twin is not est and twin.get_params() == params
    twin.set_params(random_state=7)
    assert twin.get_params()["random_state"] == 7 and est.random_state == 0
    with pytest.raises(ValueError):
        est.set_params(no_such_param=1)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_fit_sets_only_underscore_attributes(cls, data):
    (X, y), _ = data
    clf = make(cls, **({} if cls is SVMClassifier else {"epochs": 1}))
    before = dict(vars(clf))
    assert clf.fit(X, y) is clf
    new = set(vars(clf)) - set(before)
    assert new and all(a.endswith("_") and not a.startswith("_") for a in new)
    assert {k: vars(clf)[k] for k in before} == before  # parameters untouched
    fitted = clone(clf)
    assert not any(a.endswith("_") for a in vars(fitted))


def test_cross_val_score_with_clip_features(data):
    (X, y), _ = data
    cv = StratifiedKFold(n_splits=4, shuffle=True, random_state=0)
    scores = cross_val_score(make(SVMClassifier), X, y, cv=cv)
    assert scores.shape == (4,) and scores.mean() > 0.5
    emb = make(CNNSVMClassifier, epochs=2)
    assert cross_val_score(emb, X, y, cv=StratifiedKFold(2)).shape == (2,)


def test_clear_errors_for_bad_input(data, fitted_cnn_svm):
    (X, y), _ = data
    with pytest.raises(MerError, match="needs the 'log_mel'"):
        make(CNNClassifier).fit({"lowlevel": X.lowlevel}, y)
    with pytest.raises(MerError, match="labels for"):
        make(SVMClassifier).fit(X, y[:-1])
    with pytest.raises(MerError, match="at least 2 classes"):
        make(SVMClassifier).fit(X, np.repeat("a", 40))
    with pytest.raises(MerError, match="fitted on"):
        fitted_cnn_svm.predict(
            {"log_mel": X.log_mel[:, :16], "lowlevel": X.lowlevel, "chords": X.chords}
        )
    with pytest.raises(MerError, match="fitted on"):
        fitted_cnn_svm.predict(
            {"log_mel": X.log_mel, "lowlevel": X.lowlevel[:, :5], "chords": X.chords}
        )
    with pytest.raises(MerError, match="nothing to fuse"):
        make(CNNSVMClassifier, use_embedding=False, use_lowlevel=False, use_chords=False).fit(X, y)
    with pytest.raises(ParameterError, match="epochs"):
        make(CNNClassifier, epochs=0).fit(X, y)
    with pytest.raises(ParameterError, match="use_chords"):
        make(CNNSVMClassifier, use_chords="yes").fit(X, y)
    # a longer or shorter clip is fine: the CNN slides its crops over it
    assert fitted_cnn_svm.predict(
        {"log_mel": X.log_mel[:, :, :40], "lowlevel": X.lowlevel, "chords": X.chords}
    ).shape == (40,)


# ----------------------------------------------------------------------------- determinism


def test_same_seed_same_model_different_seed_different(data):
    (X, y), (X_test, _) = data
    d1 = make(CNNSVMClassifier, epochs=2).fit(X, y).decision_function(X_test)
    d2 = make(CNNSVMClassifier, epochs=2).fit(X, y).decision_function(X_test)
    d3 = make(CNNSVMClassifier, epochs=2, random_state=1).fit(X, y).decision_function(X_test)
    np.testing.assert_array_equal(d1, d2)
    assert not np.allclose(d1, d3)
    l1 = make(LSTMClassifier, epochs=1).fit(X, y).decision_function(X_test)
    l2 = make(LSTMClassifier, epochs=1).fit(X, y).decision_function(X_test)
    np.testing.assert_array_equal(l1, l2)


# ----------------------------------------------------------------------------- ablations


def test_ablation_switches_change_the_svm_input(data, fitted_cnn_svm):
    (X, y), _ = data
    full = fitted_cnn_svm
    n_low = int(full.lowlevel_support_.sum())
    assert 1 <= n_low <= 4
    assert full.blocks_ == {
        "embedding": [0, 128],
        "lowlevel": [128, 128 + n_low],
        "chords": [128 + n_low, 134 + n_low],
    }
    assert full.svm_.coef_.shape == (N_CLASSES, 134 + n_low)
    assert len(full.feature_names_) == 134 + n_low
    assert full.feature_names_[128] in X.lowlevel_names

    alone = make(CNNSVMClassifier, epochs=1, use_lowlevel=False, use_chords=False).fit(X, y)
    assert alone.svm_.coef_.shape[1] == 128 and alone.screener_ is None
    no_chords = make(CNNSVMClassifier, epochs=1, use_chords=False).fit(X, y)
    assert no_chords.svm_.coef_.shape[1] == 128 + int(no_chords.lowlevel_support_.sum())
    hand = make(CNNSVMClassifier, use_embedding=False).fit(X, y)
    assert hand.cnn_ is None and hand.history_ == []
    assert hand.svm_.coef_.shape[1] == n_low + 6
    text = make(
        CNNSVMClassifier,
        use_embedding=False,
        use_lowlevel=False,
        use_chords=False,
        use_text=True,
        text_components=3,
    ).fit(X, y)
    assert text.svm_.coef_.shape[1] == 3 and text.score(X, y) > 0.9
    with pytest.raises(MerError, match="X.text"):
        no_text = ClipFeatures(log_mel=X.log_mel, lowlevel=X.lowlevel, chords=X.chords)
        make(CNNSVMClassifier, use_text=True).fit(no_text, y)


# ----------------------------------------------------------------------------- save / load


def _roundtrip_cases():
    return [
        ("cnn_svm", lambda: make(CNNSVMClassifier, epochs=2)),
        (
            "cnn_svm_text",
            lambda: make(CNNSVMClassifier, epochs=1, use_text=True, text_components=3),
        ),
        ("cnn", lambda: make(CNNClassifier, epochs=2)),
        ("lstm", lambda: make(LSTMClassifier, epochs=1)),
        ("svm", lambda: make(SVMClassifier, use_chords=True)),
    ]


@pytest.mark.parametrize("case", _roundtrip_cases(), ids=lambda c: c[0])
def test_save_load_predicts_identically(case, data, tmp_path):
    (X, y), (X_test, _) = data
    model = case[1]().fit(X, y)
    folder = save_model(model, tmp_path / "model")
    files = sorted(p.name for p in folder.iterdir())
    has_net = not isinstance(model, SVMClassifier)
    assert files == (
        ["arrays.npz", "config.json", "weights.pt"] if has_net else ["arrays.npz", "config.json"]
    )
    with np.load(folder / "arrays.npz", allow_pickle=False) as npz:  # no object arrays
        assert all(npz[k].dtype.kind != "O" for k in npz.files)
    if has_net:
        state = torch.load(folder / "weights.pt", weights_only=True)
        assert all(isinstance(v, torch.Tensor) for v in state.values())
    assert not list(tmp_path.glob("**/*.pkl")) and not list(tmp_path.glob("**/*.joblib"))
    assert not [p for p in tmp_path.iterdir() if p.name != "model"]  # no temp leftovers
    config = json.loads((folder / "config.json").read_text())
    assert config["class"] == type(model).__name__ and config["format_version"] == FORMAT_VERSION
    assert set(config["versions"]) >= {"mer-core", "torch", "scikit-learn", "numpy", "python"}
    assert config["classes"] == LABELS.tolist()

    loaded = load_model(folder)
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(
        loaded.decision_function(X_test), model.decision_function(X_test)
    )
    np.testing.assert_array_equal(loaded.predict(X_test), model.predict(X_test))
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    assert getattr(loaded, "history_", None) == getattr(model, "history_", None)


def test_save_refuses_to_clobber_and_replaces_atomically(fitted_cnn_svm, tmp_path):
    folder = save_model(fitted_cnn_svm, tmp_path / "m")
    with pytest.raises(MerError, match="already exists"):
        save_model(fitted_cnn_svm, folder)
    save_model(fitted_cnn_svm, folder, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(MerError, match="not a saved model"):
        save_model(fitted_cnn_svm, other, overwrite=True)
    assert (other / "keep.txt").read_text() == "mine"
    with pytest.raises(MerError, match="not fitted"):
        save_model(CNNSVMClassifier(), tmp_path / "unfitted")


def _edit_config(folder: Path, edit, *, redigest: bool = True) -> None:
    """Edit config.json; with ``redigest`` also rewrite its digest (a crafted file)."""
    path = folder / "config.json"
    config = json.loads(path.read_text())
    edit(config)
    if redigest:
        config["digest"] = _config_digest(config)
    path.write_text(json.dumps(config))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c.update(format_version=3), "format version 3"),
        (lambda c: c.update(format_version=1), "re-train with this version"),
        (lambda c: c["versions"].update({"mer-core": "7.0.0"}), "major version"),
        # a folder saved before the versions were unified names them the old way
        (lambda c: c.update(versions={"mer_core": "7.0.0"}), "major version"),
        (lambda c: c.update({"class": "os.system"}), "unknown model class"),
        (lambda c: c["params"].update(evil=1), "unknown parameters"),
        (
            lambda c: c["estimators"]["svm_"].update({"class": "Pipeline"}),
            "unknown estimator class",
        ),
        (lambda c: c["networks"]["cnn_"].update(build_args=[64, 4]), "do not fit"),
        (lambda c: c.update(format="pickle"), "not a mer_core model"),
        (lambda c: c["attributes"].update(predict=None), "not learned attributes"),
    ],
)
def test_load_rejects_incompatible_or_tampered_config(edit, message, fitted_cnn_svm, tmp_path):
    folder = save_model(fitted_cnn_svm, tmp_path / "m")
    _edit_config(folder, edit)
    with pytest.raises(MerError, match=message):
        load_model(folder)


@pytest.mark.parametrize(
    "edit",
    [
        lambda c: c["params"].update(C=10.0),
        lambda c: c.update(classes=["a", "b", "c", "d"]),
        lambda c: c.update(scheme="4q"),
        lambda c: c.update(feature_config={"preemphasis": 0.5}),
    ],
)
def test_load_rejects_an_edited_config(edit, fitted_cnn_svm, tmp_path):
    """config.json is covered by its own digest: an edit without it is refused."""
    folder = save_model(fitted_cnn_svm, tmp_path / "m")
    _edit_config(folder, edit, redigest=False)
    with pytest.raises(MerError, match="config.json: modified since the model was saved"):
        load_model(folder)


def test_load_rejects_modified_or_missing_files(fitted_cnn_svm, tmp_path):
    folder = save_model(fitted_cnn_svm, tmp_path / "m")
    with open(folder / "arrays.npz", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(MerError, match="modified"):
        load_model(folder)
    (folder / "weights.pt").unlink()
    with pytest.raises(MerError, match="missing"):
        load_model(folder)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(MerError, match="unreadable"):
        load_model(folder)
    with pytest.raises(MerError, match="no config.json"):
        load_model(tmp_path / "nowhere")


def test_load_warns_on_other_sklearn_version(fitted_cnn_svm, tmp_path):
    folder = save_model(fitted_cnn_svm, tmp_path / "m")
    _edit_config(folder, lambda c: c["versions"].update({"scikit-learn": "0.0.1"}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_model(folder)
    assert any("scikit-learn 0.0.1" in str(w.message) for w in caught)


def test_network_cache_shares_one_trained_network(data, tmp_path):
    """CNN-SVM, its ablation and the CNN alone reuse the fold's trained network."""
    (X, y), (X_test, _) = data
    cache = tmp_path / "nets"
    first = make(CNNSVMClassifier, network_cache=str(cache)).fit(X, y)
    assert first.network_cached_ is False and first.network_seconds_ > 0
    (entry,) = list(cache.iterdir())
    assert entry.name == first.network_key_
    ablation = make(CNNSVMClassifier, network_cache=str(cache), use_chords=False).fit(X, y)
    cnn = make(CNNClassifier, network_cache=str(cache)).fit(X, y)
    assert ablation.network_cached_ and cnn.network_cached_
    assert ablation.network_key_ == cnn.network_key_ == first.network_key_
    assert ablation.network_seconds_ == first.network_seconds_
    np.testing.assert_array_equal(ablation.embed(X_test), first.embed(X_test))
    np.testing.assert_array_equal(cnn.embed(X_test), first.embed(X_test))
    uncached = make(CNNSVMClassifier).fit(X, y)
    np.testing.assert_array_equal(
        uncached.decision_function(X_test), first.decision_function(X_test)
    )
    # other data, seed or settings train a new network
    make(CNNSVMClassifier, network_cache=str(cache), random_state=1).fit(X, y)
    make(CNNSVMClassifier, network_cache=str(cache), epochs=2).fit(X, y)
    make(CNNSVMClassifier, network_cache=str(cache)).fit(X[:30], y[:30])
    assert len(list(cache.iterdir())) == 4
    # a damaged entry is retrained, not trusted
    (entry / "weights.pt").write_bytes(b"garbage")
    again = make(CNNSVMClassifier, network_cache=str(cache)).fit(X, y)
    assert again.network_cached_ is False
    np.testing.assert_array_equal(again.decision_function(X_test), first.decision_function(X_test))


# ----------------------------------------------------------------------------- issue 8


class _Payload:
    """Pickles to a call of ``open(marker, "w")``: unpickling it creates ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _rewrite_digests(folder: Path) -> None:
    from mer_core.io import file_digest

    def edit(config):
        for name in config["files"]:
            config["files"][name] = file_digest(folder / name)

    _edit_config(folder, edit)


def test_load_refuses_pickled_payloads_without_running_them(fitted_cnn_svm, tmp_path, capsys):
    """An object array in arrays.npz, or a pickled callable in weights.pt, with every
    digest rewritten: one-line MerError, and the payload never runs."""
    marker = tmp_path / "payload-ran"
    # arrays.npz: one learned array replaced by an object array holding the payload
    folder = save_model(fitted_cnn_svm, tmp_path / "npz")
    with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    key = sorted(arrays)[0]
    arrays[key] = np.array([_Payload(marker)], dtype=object)
    with open(folder / "arrays.npz", "wb") as fh:
        np.savez(fh, **arrays)
    _rewrite_digests(folder)
    with pytest.raises(MerError) as exc:
        load_model(folder)
    assert not marker.exists(), "unpickling arrays.npz ran the payload"
    assert "object array" in str(exc.value) and "\n" not in str(exc.value)
    # weights.pt: a state dict with a pickled callable among the tensors
    folder = save_model(fitted_cnn_svm, tmp_path / "pt")
    state = torch.load(folder / "weights.pt", weights_only=True)
    state[next(iter(state))] = _Payload(marker)
    torch.save(state, folder / "weights.pt")
    _rewrite_digests(folder)
    with pytest.raises(MerError) as exc:
        load_model(folder)
    assert not marker.exists(), "unpickling weights.pt ran the payload"
    message = str(exc.value)
    assert "weights.pt" in message and "refused" in message and "\n" not in message
    assert "weights_only" not in message and "Unpickling" not in message
    assert not marker.exists()
    out = capsys.readouterr()
    assert "weights_only" not in out.out + out.err


def test_saved_model_carries_its_feature_config(data, tmp_path):
    from mer_core.extract import FeatureConfig

    (X, y), (X_test, _) = data
    model = make(CNNClassifier, epochs=1).fit(X, y)
    with pytest.raises(MerError, match="carries no feature configuration"):
        model.predict_paths(["a.wav"])
    # 1.47 s at 22.05 kHz is 64 frames of 512 samples, the toy clips' length
    cfg = FeatureConfig(duration=1.47, n_mels=N_MELS, preemphasis=0.9)
    folder = save_model(model, tmp_path / "m", feature_config=cfg, scheme="emotion", title="CNN")
    config = json.loads((folder / "config.json").read_text())
    assert config["feature_config"] == cfg.to_dict() and config["scheme"] == "emotion"
    loaded = load_model(folder)
    assert loaded.feature_config_ == cfg
    assert (loaded.scheme_, loaded.title_) == ("emotion", "CNN")
    again = load_model(save_model(loaded, tmp_path / "again"))  # kept when saved again
    assert again.feature_config_ == cfg and again.scheme_ == "emotion"
    np.testing.assert_array_equal(again.predict_proba(X_test), model.predict_proba(X_test))
    # a configuration that does not give the model's inputs is refused at save and load
    with pytest.raises(MerError, match="log_mel input has shape"):
        save_model(model, tmp_path / "x", feature_config=FeatureConfig(n_mels=N_MELS))
    for edit, message in [
        ({"n_mels": 64}, "log_mel input has shape"),
        ({"duration": 40.0}, "log_mel input has shape"),
        ({"hop_length": 256}, "log_mel input has shape"),
        ({"preemphasis": 1.5}, "invalid feature configuration"),
        ({"sr": "22050"}, "is not a number"),
        ({"extra": 1}, "must have the fields"),
    ]:
        _edit_config(folder, lambda c, e=edit: c["feature_config"].update(e))
        with pytest.raises(MerError, match=message):
            load_model(folder)
        _edit_config(folder, lambda c: c.update(feature_config=cfg.to_dict()))
    assert load_model(folder).feature_config_ == cfg
    # a model saved without one loads, but cannot read audio
    bare = load_model(save_model(model, tmp_path / "bare"))
    assert bare.feature_config_ is None
    with pytest.raises(MerError, match="carries no feature configuration"):
        bare.predict_paths(["a.wav"])
