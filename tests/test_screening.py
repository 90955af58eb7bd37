"""Tests of mer_core.features.screening.FeatureScreener."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_selection import f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from mer_core.errors import ParameterError
from mer_core.features.screening import FeatureScreener


def synthetic(seed=0, n=120):
    """3 informative columns, 2 near-copies of them, 1 constant, 10 noise columns."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], n // 3)
    informative = np.column_stack(
        [
            y + 0.6 * rng.standard_normal(n),
            (y == 1).astype(float) + 0.5 * rng.standard_normal(n),
            -(y == 2).astype(float) + 0.4 * rng.standard_normal(n),
        ]
    )
    copies = np.column_stack(
        [
            3 * informative[:, 0] + 0.05 * rng.standard_normal(n),  # r > 0.99 with x0
            -informative[:, 2] + 0.02 * rng.standard_normal(n),  # r < -0.99 with x2
        ]
    )
    X = np.column_stack([informative, copies, np.full(n, 7.0), rng.standard_normal((n, 10))])
    return X, y


def test_informative_kept_and_duplicates_pruned():
    X, y = synthetic()
    screen = FeatureScreener(k=5).fit(X, y)
    kept = set(screen.get_support(indices=True).tolist())
    assert len(kept) == 5 and 1 in kept and 5 not in kept  # the constant column goes
    # of each near-duplicate pair exactly one survives; the other points to it
    for a, b in [(0, 3), (2, 4)]:
        assert len(kept & {a, b}) == 1
        survivor, pruned = (a, b) if a in kept else (b, a)
        assert screen.redundant_to_[pruned] == survivor
        assert screen.ranking_[survivor] < screen.ranking_[pruned]  # the better-scored wins
    assert (screen.redundant_to_ >= 0).sum() == 2
    assert screen.scores_[5] == 0.0 and screen.ranking_[5] == X.shape[1]  # constant last
    assert sorted(screen.ranking_) == list(range(1, X.shape[1] + 1))
    assert set(np.argsort(screen.ranking_)[:5]) == {0, 1, 2, 3, 4}  # informative rank first
    np.testing.assert_array_equal(screen.transform(X), X[:, screen.support_])


def test_anova_scores_are_f_classif_and_invariant_to_scaling():
    X, y = synthetic()
    screen = FeatureScreener().fit(X, y)
    live = np.arange(X.shape[1]) != 5
    np.testing.assert_allclose(screen.scores_[live], f_classif(X[:, live], y)[0], rtol=1e-10)
    rescaled = FeatureScreener().fit(X * 1e6 - 3, y)
    np.testing.assert_allclose(rescaled.scores_, screen.scores_, rtol=1e-8)
    np.testing.assert_array_equal(rescaled.support_, screen.support_)


def test_k_forms():
    X, y = synthetic()
    n_live = X.shape[1] - 3  # all but two copies and the constant
    assert FeatureScreener(k="all").fit(X, y).support_.sum() == n_live
    assert FeatureScreener(k=0.25).fit(X, y).k_ == 4  # ceil(0.25 * 16)
    assert FeatureScreener(k=1.0).fit(X, y).k_ == 16
    assert FeatureScreener(k=1000).fit(X, y).k_ == 16
    # corr_threshold=1 disables the pruning; only the constant goes
    assert FeatureScreener(corr_threshold=1.0).fit(X, y).support_.sum() == X.shape[1] - 1


def test_names_are_inspectable_with_dataframes():
    X, y = synthetic()
    columns = [f"feat_{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns)
    screen = FeatureScreener(k=3).set_output(transform="pandas").fit(frame, y)
    assert screen.feature_names_in_.tolist() == columns
    names = screen.get_feature_names_out().tolist()
    assert names == [c for c, keep in zip(columns, screen.support_, strict=True) if keep]
    assert len(names) == 3 and "feat_1" in names and set(names) <= set(columns[:5])
    out = screen.transform(frame)
    assert isinstance(out, pd.DataFrame) and out.columns.tolist() == names
    plain = FeatureScreener(k=3).fit(X, y)
    assert plain.get_feature_names_out().tolist() == [n.replace("feat_", "x") for n in names]
    assert not hasattr(plain, "feature_names_in_")


def test_mutual_info_is_deterministic_with_random_state():
    X, y = synthetic()
    a = FeatureScreener(method="mutual_info", k=4, random_state=0).fit(X, y)
    b = FeatureScreener(method="mutual_info", k=4, random_state=0).fit(X, y)
    np.testing.assert_array_equal(a.scores_, b.scores_)
    np.testing.assert_array_equal(a.support_, b.support_)
    kept = set(a.get_support(indices=True).tolist())
    assert 1 in kept and len(kept & {0, 3}) == 1 and len(kept & {2, 4}) == 1


def test_works_in_pipelines_with_clone_and_params():
    X, y = synthetic()
    pipe = Pipeline([("screen", FeatureScreener(k=4)), ("clf", LogisticRegression())])
    assert pipe.get_params()["screen__k"] == 4
    pipe.set_params(screen__k=3, screen__method="mutual_info", screen__random_state=1)
    twin = clone(pipe)
    assert twin.get_params()["screen__method"] == "mutual_info"
    assert not hasattr(twin.named_steps["screen"], "support_")
    scores = cross_val_score(pipe, X, y, cv=StratifiedKFold(3, shuffle=True, random_state=0))
    assert scores.mean() > 0.8
    search = GridSearchCV(pipe, {"screen__k": [1, 3]}, cv=3).fit(X, y)
    assert search.best_params_ == {"screen__k": 3}


def test_screening_must_be_fitted_inside_the_folds():
    """Leakage: screening noise on all data before CV makes it look predictive.

    60 samples x 2000 pure-noise features with random balanced labels: whatever
    is scored on the full data picks the 20 columns that happen to fit *these*
    labels, test folds included, and cross-validation then reports ~0.9
    accuracy. Refitted inside each training fold (a Pipeline), screening finds
    nothing and the score is chance, as it must be.
    """
    leaky, honest = [], []
    for seed in range(4):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((60, 2000))
        y = rng.permutation(np.repeat([0, 1], 30))
        cv = StratifiedKFold(5, shuffle=True, random_state=0)
        X_screened = FeatureScreener(k=20).fit_transform(X, y)  # WRONG: sees the test folds
        leaky.append(cross_val_score(LogisticRegression(), X_screened, y, cv=cv).mean())
        pipe = make_pipeline(FeatureScreener(k=20), LogisticRegression())
        honest.append(cross_val_score(pipe, X, y, cv=cv).mean())
    assert np.mean(leaky) > 0.8
    assert 0.35 < np.mean(honest) < 0.65
    assert np.mean(leaky) - np.mean(honest) > 0.25


@pytest.mark.parametrize(
    "params, match",
    [
        ({"method": "chi2"}, "method"),
        ({"k": 0}, "k must"),
        ({"k": -3}, "k must"),
        ({"k": 1.5}, "k must"),
        ({"k": "some"}, "k must"),
        ({"k": True}, "k must"),
        ({"corr_threshold": 0.0}, "corr_threshold"),
        ({"corr_threshold": 1.2}, "corr_threshold"),
    ],
)
def test_bad_parameters_raise_at_fit(params, match):
    X, y = synthetic()
    screen = FeatureScreener(**params)  # __init__ only stores
    with pytest.raises(ParameterError, match=match):
        screen.fit(X, y)


def test_bad_targets_and_unfitted_use():
    X, y = synthetic()
    with pytest.raises(ValueError, match="continuous"):
        FeatureScreener().fit(X, y + 0.5 * np.arange(y.size))
    with pytest.raises(ValueError, match="requires y"):
        FeatureScreener().fit(X, None)
    with pytest.raises(NotFittedError):
        FeatureScreener().transform(X)
    with pytest.raises(ValueError, match="features"):
        FeatureScreener().fit(X, y).transform(X[:, :4])


@parametrize_with_checks(
    [FeatureScreener(), FeatureScreener(method="mutual_info", k=2, random_state=0)]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
