"""The evaluation protocol: metrics, statistics, grouped folds, resume, records."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from mer_core import MerError
from mer_core.evaluation import classification_metrics, corrected_paired_ttest, mean_ci
from mer_core.evaluation.protocol import make_folds, run_cv
from mer_core.evaluation.report import paired_tests, summary_table, write_results


def test_metrics_equal_sklearn_macro():
    rng = np.random.default_rng(0)
    labels = ["Q1", "Q2", "Q3", "Q4"]
    y = rng.choice(labels, 200)
    p = np.where(rng.random(200) < 0.6, y, rng.choice(labels, 200))
    m = classification_metrics(y, p, labels=labels)
    prec, rec, f1, sup = precision_recall_fscore_support(y, p, labels=labels, average=None)
    assert m["accuracy"] == pytest.approx(accuracy_score(y, p))
    assert m["precision"] == pytest.approx(prec.mean())
    assert m["recall"] == pytest.approx(rec.mean())
    assert m["f1"] == pytest.approx(f1.mean())
    assert m["confusion"] == confusion_matrix(y, p, labels=labels).tolist()
    assert m["per_class"]["Q3"]["support"] == int(sup[2])


def test_metrics_never_predicted_class_and_bad_labels():
    m = classification_metrics(["a", "b", "c"], ["a", "a", "a"], labels=["a", "b", "c"])
    assert m["per_class"]["b"]["precision"] == 0.0 and m["recall"] == pytest.approx(1 / 3)
    with pytest.raises(MerError, match="'z'"):
        classification_metrics(["a"], ["z"], labels=["a", "b"])


def test_interval_and_corrected_test():
    r = mean_ci([0.5, 0.5, 0.5])
    assert r["ci_low"] == r["ci_high"] == 0.5
    wide = mean_ci([0.4, 0.6, 0.5, 0.7, 0.3])
    assert wide["ci_low"] < 0.5 < wide["ci_high"]
    same = corrected_paired_ttest([0.5, 0.6, 0.7], [0.5, 0.6, 0.7], test_fraction=0.25)
    assert same["p"] == 1.0
    # the correction makes the test more conservative than a plain paired t-test
    from scipy.stats import ttest_rel

    a, b = [0.80, 0.74, 0.78, 0.71, 0.77], [0.72, 0.73, 0.70, 0.70, 0.74]
    assert corrected_paired_ttest(a, b, test_fraction=0.25)["p"] > ttest_rel(a, b).pvalue


def _toy(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(["a", "b", "c", "d"], n // 4)
    X = rng.normal(size=(n, 5)) + (np.searchsorted(["a", "b", "c", "d"], y)[:, None] * 0.8)
    artists = np.array([f"artist{i // 3}" for i in range(n)])  # 3 songs per artist
    return X, y, artists


def test_folds_are_stratified_grouped_and_seeded():
    _, y, artists = _toy()
    folds = make_folds(y, groups=artists, n_splits=5, seed=1)
    assert sorted(np.concatenate([te for _, te in folds]).tolist()) == list(range(len(y)))
    for tr, te in folds:
        assert not set(artists[tr]) & set(artists[te])
        counts = np.unique(y[te], return_counts=True)[1]
        assert counts.max() - counts.min() <= 3
    again = make_folds(y, groups=artists, n_splits=5, seed=1)
    other = make_folds(y, groups=artists, n_splits=5, seed=2)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, other, strict=True))
    with pytest.raises(MerError, match="fewer than n_splits=5"):
        make_folds(["a"] * 10 + ["b"] * 3, n_splits=5)


def test_run_cv_records_resumes_and_is_deterministic(tmp_path):
    X, y, artists = _toy()
    models = {
        "cnn_svm": LogisticRegression(C=1.0, max_iter=500),
        "weak": LogisticRegression(C=1e-4, max_iter=500),
    }
    cv = run_cv(
        models, X, y, groups=artists, run_dir=tmp_path / "run", progress=False, data_key="toy"
    )
    assert len(cv.folds) == 10 and not any(r["resumed"] for r in cv.folds)
    assert (tmp_path / "run" / "folds" / "weak" / "fold4.json").exists()
    table = summary_table(cv)
    assert table.loc["cnn_svm", "accuracy"] > 0.6
    assert table.loc["cnn_svm", "f1_ci_low"] <= table.loc["cnn_svm", "f1"]
    tests = paired_tests(cv)
    assert list(tests["model"]) == ["weak"]
    # McNemar recomputed from the pooled out-of-fold predictions of the fold records
    pred = {m: np.empty(len(y), dtype=object) for m in models}
    for r in cv.folds:
        pred[r["model"]][np.asarray(r["test_index"])] = r["y_pred"]
    ref_only = int(np.sum((pred["cnn_svm"] == y) & (pred["weak"] != y)))
    weak_only = int(np.sum((pred["cnn_svm"] != y) & (pred["weak"] == y)))
    row = tests.loc[0]
    assert (row["mcnemar_ref_only"], row["mcnemar_other_only"]) == (ref_only, weak_only)
    expected = binomtest(weak_only, ref_only + weak_only, 0.5).pvalue
    assert row["mcnemar_p"] == pytest.approx(expected) and row["mcnemar_p"] < 0.01
    # a second run resumes every fold and gives the same numbers
    again = run_cv(
        models, X, y, groups=artists, run_dir=tmp_path / "run", progress=False, data_key="toy"
    )
    assert all(r["resumed"] for r in again.folds)
    assert summary_table(again)["f1"].equals(table["f1"])
    # a stopped run: remove one fold's file, only that fold is recomputed
    (tmp_path / "run" / "folds" / "weak" / "fold2.json").unlink()
    partial = run_cv(
        models, X, y, groups=artists, run_dir=tmp_path / "run", progress=False, data_key="toy"
    )
    assert sum(not r["resumed"] for r in partial.folds) == 1
    # different data: nothing is reused
    changed = run_cv(
        models, X, y, groups=artists, run_dir=tmp_path / "run", progress=False, data_key="other"
    )
    assert not any(r["resumed"] for r in changed.folds)
    fresh = run_cv(models, X, y, groups=artists, progress=False)
    assert summary_table(fresh)["f1"].equals(table["f1"])


def test_write_results(tmp_path):
    X, y, artists = _toy()
    cv = run_cv(
        {"cnn_svm": LogisticRegression(max_iter=500)}, X, y, groups=artists, progress=False
    )
    rec = write_results(cv, tmp_path / "out", record={"seed": 0, "data_fingerprint": "abc"})
    for name in ("folds.csv", "summary.csv", "per_class.csv", "paired_tests.csv", "results.json"):
        assert (tmp_path / "out" / name).exists()
    stored = json.loads((tmp_path / "out" / "results.json").read_text())
    assert stored["data_fingerprint"] == "abc" and stored == json.loads(json.dumps(rec))
    assert stored["environment"]["versions"]["scikit-learn"]
    assert np.sum(stored["confusion"]["cnn_svm"]) == len(y)


def test_every_record_reads_versions_from_one_function():
    """A run's record, a cluster worker's check and a saved model's config all hold the
    versions of mer_core.environment.package_versions, under the same (pip) names."""
    from mer_core import cluster
    from mer_core.environment import VERSIONED, environment, package_versions

    versions = package_versions()
    assert tuple(versions) == VERSIONED and versions["mer-core"] and versions["scikit-learn"]
    assert environment()["versions"] == versions
    assert cluster._versions() == {"python": environment()["python"], **versions}


def test_resumed_run_leaves_result_files_untouched(tmp_path):
    """So that `make` sees no new results after a notebook re-reads a finished run."""
    X, y, artists = _toy()
    models = {"cnn_svm": LogisticRegression(max_iter=500)}
    out = tmp_path / "run"
    cv = run_cv(models, X, y, groups=artists, run_dir=out, progress=False)
    write_results(cv, out, record={"seed": 0, "wall_seconds": 1.0})
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.*")}
    again = run_cv(models, X, y, groups=artists, run_dir=out, progress=False)
    rec = write_results(again, out, record={"seed": 0, "wall_seconds": 2.0})
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.*")} == stamps
    assert rec["resumed_folds"] == 5 and rec["wall_seconds"] == 2.0
    write_results(again, out, record={"seed": 1, "wall_seconds": 2.0})  # a real change
    assert (out / "results.json").stat().st_mtime_ns != stamps["results.json"]


# ------------------------------------------------------------------ resume keys (issue 8)


def _fold_preserving_swap(y, n_splits=5, seed=0):
    """Two clips of different classes whose label swap leaves every fold as it was."""
    folds = make_folds(y, n_splits=n_splits, seed=seed)
    for i in range(len(y)):
        for j in range(i + 1, len(y)):
            if y[i] == y[j]:
                continue
            y2 = y.copy()
            y2[[i, j]] = y2[[j, i]]
            other = make_folds(y2, n_splits=n_splits, seed=seed)
            if all(
                np.array_equal(a, c) and np.array_equal(b, d)
                for (a, b), (c, d) in zip(folds, other, strict=True)
            ):
                return y2
    raise AssertionError("no fold-preserving label swap in this toy problem")


def _comparable(cv):
    return [(r["model"], r["fold"], r["accuracy"], r["f1"], r["y_pred"]) for r in cv.folds]


def test_relabelled_clips_recompute_their_folds(tmp_path):
    """A re-run into an existing folder equals a fresh run after labels change
    while the splits stay the same (the fold key once ignored the labels)."""
    X, y, _ = _toy(n=40)
    y2 = _fold_preserving_swap(y)
    models = {"lr": LogisticRegression(max_iter=500)}
    run_cv(models, X, y, run_dir=tmp_path / "run", progress=False, data_key="toy")
    again = run_cv(models, X, y2, run_dir=tmp_path / "run", progress=False, data_key="toy")
    fresh = run_cv(models, X, y2, progress=False)
    assert _comparable(again) == _comparable(fresh)
    assert _comparable(again) != _comparable(run_cv(models, X, y, progress=False))
    # the folds whose clips kept their labels and features may resume, but a
    # change of groups, of the clips' order or of one feature value does not
    groups = np.array([f"g{i}" for i in range(40)])
    regrouped = run_cv(
        models, X, y2, groups=groups, run_dir=tmp_path / "run", progress=False, data_key="toy"
    )
    assert _comparable(regrouped) == _comparable(
        run_cv(models, X, y2, groups=groups, progress=False)
    )
    X3 = X.copy()
    X3[0, 0] += 1.0
    moved = run_cv(models, X3, y2, groups=groups, run_dir=tmp_path / "run", progress=False)
    assert not any(r["resumed"] for r in moved.folds)
    assert _comparable(moved) == _comparable(run_cv(models, X3, y2, groups=groups, progress=False))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (LogisticRegression(C=1.0, max_iter=500), LogisticRegression(C=0.01, max_iter=500)),
        (LogisticRegression(max_iter=500, tol=1e-4), LogisticRegression(max_iter=500, tol=1e-3)),
    ],
)
def test_changed_parameter_under_the_same_name_recomputes(before, after, tmp_path):
    X, y, artists = _toy()
    run = tmp_path / "run"
    run_cv({"m": before}, X, y, groups=artists, run_dir=run, progress=False)
    same = run_cv({"m": before}, X, y, groups=artists, run_dir=run, progress=False)
    assert all(r["resumed"] for r in same.folds)
    changed = run_cv({"m": after}, X, y, groups=artists, run_dir=run, progress=False)
    assert not any(r["resumed"] for r in changed.folds)
    fresh = run_cv({"m": after}, X, y, groups=artists, progress=False)
    assert _comparable(changed) == _comparable(fresh)


def test_fold_key_covers_network_parameters_and_budget():
    """C, epochs and the budget of a named model change its fold key (so its folds recompute)."""
    from mer_core.evaluation.protocol import _fold_key
    from mer_core.experiments import build_estimator

    train, test = np.arange(8), np.arange(8, 10)

    def key(est, **kw):
        args = {"data": "d", "seed": 0, "data_key": "k", **kw}
        return _fold_key("cnn_svm", est, 0, train, test, **args)

    base = build_estimator("cnn_svm", budget="tiny")
    keys = {
        key(base),
        key(build_estimator("cnn_svm", budget="tiny", C=0.5)),
        key(build_estimator("cnn_svm", budget="tiny", epochs=3)),
        key(build_estimator("cnn_svm", budget="quick")),
        key(build_estimator("cnn_svm", budget="paper")),
        key(base, seed=1),
        key(base, data="e"),
        key(base, data_key="l"),
    }
    assert len(keys) == 8
    # where networks are cached and whether a bar is shown change no result
    assert key(base) == key(build_estimator("cnn_svm", budget="tiny", network_cache="/x"))
    assert key(base) == key(base.set_params(progress=False))
    # random_state is replaced by the fold's seed, which the key has
    assert key(base) == key(build_estimator("cnn_svm", budget="tiny", random_state=7))


def test_fold_result_does_not_depend_on_the_estimators_own_random_state(tmp_path):
    """The fold's seed replaces random_state, so folds made with another one resume."""
    from sklearn.ensemble import RandomForestClassifier

    X, y, artists = _toy()

    def run(random_state, run_dir=None):
        forest = RandomForestClassifier(n_estimators=5, max_features=1, random_state=random_state)
        args = {"groups": artists, "progress": False, "data_key": "toy"}
        return run_cv({"forest": forest}, X, y, run_dir=run_dir, **args)

    def preds(cv):
        return [r["y_pred"] for r in sorted(cv.folds, key=lambda r: r["fold"])]

    assert preds(run(0)) == preds(run(7))
    first = run(0, tmp_path / "run")
    again = run(7, tmp_path / "run")
    assert all(r["resumed"] for r in again.folds) and preds(again) == preds(first)


def test_fold_key_sees_every_element_of_long_array_parameters():
    """A parameter is never described by a shortened ``repr`` (numpy elides long arrays)."""
    from mer_core.evaluation.protocol import _fold_key
    from mer_core.models.fusion import FixedSelector

    mask = np.ones(5000, dtype=bool)
    other = mask.copy()
    other[2500] = False
    args = {"data": "d", "seed": 0, "data_key": ""}
    a = _fold_key("m", FixedSelector(mask), 0, [0], [1], **args)
    b = _fold_key("m", FixedSelector(other), 0, [0], [1], **args)
    assert a != b


def _centroid_model(shift=0.0):
    def model(X_train, y_train, X_test, seed):
        classes = np.unique(y_train)
        centres = np.stack([X_train[y_train == c].mean(axis=0) + shift for c in classes])
        d = -((X_test[:, None, :] - centres[None]) ** 2).sum(axis=2)
        return classes[d.argmax(axis=1)], {"decision": d}

    return model


def test_run_cv_accepts_a_callable_model(tmp_path):
    """The docstring's callable model ``(X_train, y_train, X_test, seed) -> (y_pred, extra)``."""
    X, y, artists = _toy()
    run = tmp_path / "run"
    cv = run_cv(
        {"centroid": _centroid_model(), "lr": LogisticRegression(max_iter=500)},
        X,
        y,
        groups=artists,
        run_dir=run,
        progress=False,
    )
    table = summary_table(cv)
    assert table.loc["centroid", "accuracy"] > 0.6
    rec = json.loads((run / "folds" / "centroid" / "fold0.json").read_text())
    assert len(rec["decision"]) == rec["n_test"] and len(rec["decision"][0]) == 4
    again = run_cv(
        {"centroid": _centroid_model()}, X, y, groups=artists, run_dir=run, progress=False
    )
    assert all(r["resumed"] for r in again.folds)
    assert summary_table(again).loc["centroid", "f1"] == table.loc["centroid", "f1"]
    # another callable (here: another closure value) under the same name recomputes
    shifted = run_cv(
        {"centroid": _centroid_model(0.5)}, X, y, groups=artists, run_dir=run, progress=False
    )
    assert not any(r["resumed"] for r in shifted.folds)
    with pytest.raises(MerError, match="must return"):
        run_cv({"bad": lambda *a: a[0]}, X, y, progress=False)
    with pytest.raises(MerError, match="estimator or a callable"):
        run_cv({"bad": 3}, X, y, progress=False)


# ------------------------------------------------------------------ leakage (issue 8)


class _Spy:
    """Records the clip ids (column 0 of X) each step of a spied model is fitted on."""

    def __init__(self):
        self.calls = []

    def __call__(self, step, X):
        self.calls.append((step, frozenset(np.asarray(X)[:, 0].astype(int).tolist())))


SPY = _Spy()


class SpyClassifier(LogisticRegression):
    """Screening, scaling, a "network" and an SVM fitted in turn, each one spied."""

    def fit(self, X, y):
        from sklearn.feature_selection import SelectKBest
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import LinearSVC

        X = np.asarray(X)
        SPY("screening", X)
        self.screen_ = SelectKBest(k=3).fit(X[:, 1:], y)
        SPY("scaling", X)
        self.scaler_ = StandardScaler().fit(self.screen_.transform(X[:, 1:]))
        SPY("network", X)
        super().fit(self.scaler_.transform(self.screen_.transform(X[:, 1:])), y)
        SPY("svm", X)
        self.svm_ = LinearSVC().fit(self.scaler_.transform(self.screen_.transform(X[:, 1:])), y)
        return self

    def decision_function(self, X):
        X = np.asarray(X)
        return self.svm_.decision_function(
            self.scaler_.transform(self.screen_.transform(X[:, 1:]))
        )

    def predict(self, X):
        return self.svm_.classes_[self.decision_function(X).argmax(axis=1)]


def test_run_cv_fits_every_step_on_the_training_fold_only(tmp_path):
    X, y, artists = _toy()
    ids = np.arange(len(y))[:, None].astype(float)
    Xid = np.hstack([ids, X])
    SPY.calls.clear()
    cv = run_cv({"spy": SpyClassifier()}, Xid, y, groups=artists, run_dir=tmp_path, progress=False)
    folds = make_folds(y, groups=artists, n_splits=5, seed=0)
    assert len(SPY.calls) == 4 * len(folds)
    for k, (train, test) in enumerate(folds):
        steps = SPY.calls[4 * k : 4 * k + 4]
        assert [s for s, _ in steps] == ["screening", "scaling", "network", "svm"]
        for step, rows in steps:
            assert rows == set(train.tolist()), f"fold {k}: {step} saw other rows"
            assert not rows & set(test.tolist()), f"fold {k}: {step} saw test clips"
    assert [r["test_index"] for r in cv.folds] == [te.tolist() for _, te in folds]


def test_calibration_floor_is_what_a_perfect_model_shows_by_chance():
    from mer_core.evaluation.metrics import calibration_floor, expected_calibration_error

    rng = np.random.default_rng(0)
    labels = [0, 1, 2, 3]

    def perfect(n):
        """Probabilities that are right: the top class is correct with its probability."""
        top = rng.uniform(0.3, 0.95, n)
        P = np.tile(((1 - top) / 3)[:, None], (1, 4))
        P[:, 0] = top
        correct = rng.random(n) < top
        y = np.where(correct, 0, rng.integers(1, 4, n))
        return P, y

    small, large = perfect(120), perfect(3000)
    assert calibration_floor(small[0]) > 2 * calibration_floor(large[0]) > 0
    # a perfect model's ECE scatters around the floor, far from 0 on 120 clips
    eces = [expected_calibration_error(*perfect(120)[::-1], labels=labels) for _ in range(50)]
    assert abs(np.mean(eces) - calibration_floor(small[0])) < 0.02
    assert calibration_floor(small[0]) == calibration_floor(small[0])  # fixed seed
    with pytest.raises(MerError):
        calibration_floor(np.zeros((0, 4)))


def test_pooled_calibration_pools_each_repeat_out_of_fold():
    from mer_core.evaluation.metrics import expected_calibration_error
    from mer_core.evaluation.protocol import CVResult
    from mer_core.evaluation.report import pooled_calibration, summary_table

    rng = np.random.default_rng(1)
    y = np.array(["a", "b"] * 20)
    folds = []
    pooled = []
    for repeat in range(2):
        order = rng.permutation(40)
        P = rng.dirichlet([1, 1], 40)
        pooled.append(expected_calibration_error(y[order], P, labels=["a", "b"]))
        for k, part in enumerate(np.array_split(np.arange(40), 2)):
            idx = order[part]
            folds.append(
                {
                    "model": "m",
                    "fold": repeat * 2 + k,
                    "test_index": idx.tolist(),
                    "proba": P[part].tolist(),
                    "y_pred": ["a"] * len(idx),
                    "ece": expected_calibration_error(y[idx], P[part], labels=["a", "b"]),
                    **dict.fromkeys(("accuracy", "precision", "recall", "f1"), 0.5),
                    "training_seconds": 1.0,
                }
            )
    cv = CVResult(folds=folds, labels=["a", "b"], y=y, n_splits=2)
    got = pooled_calibration(cv, "m")
    assert got["ece_pooled"] == pytest.approx(np.mean(pooled))
    assert 0 < got["ece_floor"] < 1
    assert summary_table(cv).loc["m", "ece_pooled"] == pytest.approx(np.mean(pooled))
    folds[0]["proba"] = None
    assert pooled_calibration(cv, "m") == {}
