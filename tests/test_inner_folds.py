"""Inner folds inside ``fit`` keep an artist's clips together, as the outer folds do."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

import mer_core.models.fusion as fusion
from mer_core.errors import MerError
from mer_core.evaluation.protocol import inner_folds
from mer_core.experiments import build_estimator
from mer_core.models import ClipFeatures

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _artists(n, per_artist=3):
    return np.array([f"artist{i // per_artist}" for i in range(n)])


def test_inner_folds_without_groups_are_the_stratified_folds_of_before():
    y = np.arange(40) % 4
    ours = inner_folds(y, n_splits=5, seed=7)
    theirs = StratifiedKFold(n_splits=5, shuffle=True, random_state=7).split(np.zeros(40), y)
    for (a, b), (c, d) in zip(ours, theirs, strict=True):
        assert a.tolist() == sorted(c) and b.tolist() == sorted(d)


def test_inner_folds_never_split_a_group():
    y = np.repeat(np.arange(4), 15)
    rng = np.random.default_rng(0)
    groups = rng.permutation(_artists(60))  # artists spread over classes
    folds = inner_folds(y, n_splits=3, seed=0, groups=groups)
    assert folds is not None and len(folds) == 3
    seen = np.zeros(60, int)
    for tr, te in folds:
        assert not set(groups[tr]) & set(groups[te])
        assert set(y[tr]) == set(y)
        seen[te] += 1
    assert (seen == 1).all()


def test_inner_folds_say_when_the_clips_cannot_be_cut():
    y = np.arange(12) % 2
    assert inner_folds(y, n_splits=7, seed=0) is None  # 6 clips per class
    assert inner_folds(y, n_splits=3, seed=0, groups=["a", "b"] * 6) is None  # 2 groups
    # every clip of class 1 by one artist: some training part misses the class
    one_artist = np.where(y == 1, "x", np.arange(12).astype(str))
    assert inner_folds(y, n_splits=3, seed=0, groups=one_artist) is None
    with pytest.raises(MerError, match="groups has 3 entries"):
        inner_folds(y, n_splits=3, seed=0, groups=["a", "b", "c"])


def test_groups_travel_with_the_clips():
    X = ClipFeatures(lowlevel=np.arange(12.0).reshape(6, 2)).with_groups(list("aabbcc"))
    assert X[[5, 0]].groups == ["c", "a"]
    assert X[np.array([False, True] * 3)].groups == ["a", "b", "c"]
    assert ClipFeatures(lowlevel=np.zeros((2, 1))).groups is None
    with pytest.raises(MerError, match="groups must have one entry per clip"):
        X.with_groups(["a"])


def test_C_and_the_block_are_chosen_on_artist_grouped_inner_folds(monkeypatch):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 15)
    groups = rng.permutation(_artists(60))
    Z = rng.normal(size=(60, 6)) + y[:, None]
    cuts = []
    real = fusion._inner_scores

    def spy(make, Z, y, grid, folds):
        cuts.append(folds)
        return real(make, Z, y, grid, folds)

    monkeypatch.setattr(fusion, "_inner_scores", spy)
    fit = fusion.fit_svm_inputs(
        lambda C: LinearSVC(C=C), Z, y, [0.1, 1.0], seed=0, optional=("b", 4, 6), groups=groups
    )
    assert len(cuts) == 2 and fit["block_scores"]  # with and without the block
    for folds in cuts:
        for tr, te in folds:
            assert not set(groups[tr]) & set(groups[te])


def _tagged(n=48):
    """Separable toy clips whose first Mel band carries the clip's number."""
    rng = np.random.default_rng(0)
    codes = np.arange(n) % 4
    log_mel = rng.normal(-40.0, 6.0, size=(n, 32, 64))
    for c in range(4):
        log_mel[codes == c, c * 8 : (c + 1) * 8] += 10.0
    log_mel[:, 0:2, :] = -100.0 + np.arange(n)[:, None, None]
    X = ClipFeatures(
        log_mel=log_mel.astype(np.float32),
        lowlevel=rng.normal(size=(n, 5)),
        chords=rng.normal(size=(n, 3)),
    )
    return X, np.array(["Q1", "Q2", "Q3", "Q4"])[codes]


@pytest.mark.parametrize("name", ["cnn", "cnn_svm"])
def test_cross_fitted_networks_never_heard_the_artist_they_predict(name, monkeypatch):
    import mer_core.models.training as training

    X, y = _tagged(48)
    artists = np.random.default_rng(1).permutation(_artists(48, per_artist=4))
    X = X.with_groups(artists.tolist())
    est = build_estimator(name, budget="tiny", random_state=0)
    est.set_params(cross_fit=3, n_jobs=1, progress=False)
    if name == "cnn_svm":
        est.set_params(use_texture=False, use_musical=False, chord_columns="all")
    trained, predicted = [], []
    fit_network, outputs = type(est)._fit_network, training.network_outputs

    def clips(maps):
        return set(np.rint(np.asarray(maps, np.float32)[:, 0, 0] + 100).astype(int).tolist())

    def spy_fit(self, Xs, codes, seed):
        trained.append(clips(Xs.log_mel))
        return fit_network(self, Xs, codes, seed)

    def spy_outputs(net, x, **kw):
        predicted.append(clips(x))
        return outputs(net, x, **kw)

    monkeypatch.setattr(type(est), "_fit_network", spy_fit)
    monkeypatch.setattr(training, "network_outputs", spy_outputs)
    est.fit(X, y)
    # 3 inner networks (each with its twin when the ensemble is chosen), then the full one
    per_fold = 2 if est.get_params().get("predict_with") == "select" else 1
    assert est.cross_fitted_ and len(trained) == 3 * per_fold + 1
    for seen, asked in zip(trained[:-1], predicted[: 3 * per_fold], strict=True):
        assert not {artists[i] for i in seen} & {artists[i] for i in asked}
    assert set().union(*predicted[: 3 * per_fold]) == set(range(48))
