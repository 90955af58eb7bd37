"""Cross-validation of several models on the same folds, resumable and recorded.

The paper gives no train/test protocol. This project uses:

* **stratified k-fold** cross-validation (5 folds by default), **grouped by
  artist** whenever artists are known (``StratifiedGroupKFold``: no artist has
  songs on both sides of a split, so a model cannot score by recognising the
  artist), shuffled with the run's seed;
* **the same folds for every model**, so models can be compared fold by fold
  (paired tests in :mod:`mer_core.evaluation.stats`);
* everything that learns from data (screening, scaling, the networks) is fitted
  inside each training fold only -- the models do it in their ``fit``;
* each fold's seed is ``seed + fold``, so a run is reproducible.

Each (model, fold) result -- predictions, decision values, metrics and timings
-- is written atomically to ``run_dir/folds/<model>/fold<k>.json`` as soon as
it is done, keyed by a digest of the model's parameters, the folds and the
data. A stopped run, started again with the same arguments, resumes from the
finished folds; a changed model or data set recomputes.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mer_core.errors import MerError, ParameterError
from mer_core.evaluation.metrics import METRICS, classification_metrics
from mer_core.io import atomic_write_json, json_digest

__all__ = ["CVResult", "make_folds", "run_cv"]


def make_folds(y, *, groups=None, n_splits: int = 5, seed: int = 0) -> list:
    """Stratified (and, with ``groups``, group-disjoint) folds: ``[(train_idx, test_idx)]``.

    Examples
    --------
    >>> y = ["a", "b"] * 10
    >>> folds = make_folds(y, n_splits=5, seed=0)
    >>> len(folds), sorted(len(te) for _, te in folds)
    (5, [4, 4, 4, 4, 4])
    """
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    y = np.asarray(y)
    if isinstance(n_splits, bool) or not isinstance(n_splits, int) or n_splits < 2:
        raise ParameterError(f"n_splits must be an integer >= 2, got {n_splits!r}")
    _, counts = np.unique(y, return_counts=True)
    if counts.min() < n_splits:
        raise MerError(
            f"the smallest class has {counts.min()} clips, fewer than n_splits={n_splits}"
        )
    if groups is not None:
        groups = np.asarray(groups)
        if len(groups) != len(y):
            raise MerError(f"groups has {len(groups)} entries for {len(y)} clips")
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        folds = list(splitter.split(np.zeros(len(y)), y, groups))
    else:
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        folds = list(splitter.split(np.zeros(len(y)), y))
    return [(np.sort(tr), np.sort(te)) for tr, te in folds]


@dataclass
class CVResult:
    """Per-fold results of a cross-validation run.

    Attributes
    ----------
    folds : list of dict
        One record per (model, fold): ``model``, ``fold``, metrics,
        ``fit_seconds``, ``predict_seconds``, ``test_index``, ``y_pred``,
        ``resumed``.
    labels : list
        Classes in table order.
    y : np.ndarray
        True labels of all clips.
    n_splits : int
    """

    folds: list
    labels: list
    y: np.ndarray
    n_splits: int

    def models(self) -> list[str]:
        seen = []
        for r in self.folds:
            if r["model"] not in seen:
                seen.append(r["model"])
        return seen

    def fold_scores(self, model: str, metric: str) -> np.ndarray:
        rows = sorted((r for r in self.folds if r["model"] == model), key=lambda r: r["fold"])
        return np.array([r[metric] for r in rows], dtype=float)

    def oof_predictions(self, model: str) -> np.ndarray:
        """Out-of-fold prediction of every clip by ``model``."""
        pred = np.empty(len(self.y), dtype=object)
        for r in self.folds:
            if r["model"] == model:
                pred[np.asarray(r["test_index"])] = r["y_pred"]
        return pred


# Parameters that cannot change a fold's result (display, threads, where caches live).
_NEUTRAL_PARAMS = {"progress", "n_jobs", "network_cache"}


def _fold_key(name, estimator, fold, train, test, data_key) -> str:
    params = {
        k: v for k, v in estimator.get_params(deep=False).items() if k not in _NEUTRAL_PARAMS
    }
    return json_digest(
        {
            "model": name,
            "estimator": type(estimator).__name__,
            "params": {k: repr(v) for k, v in sorted(params.items())},
            "fold": fold,
            "train": json_digest(np.asarray(train).tolist()),
            "test": json_digest(np.asarray(test).tolist()),
            "data": data_key,
        },
        length=32,
    )


def _read_fold(path: Path, key: str):
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if record.get("key") == key else None


def run_cv(
    models: dict,
    X,
    y,
    *,
    groups=None,
    n_splits: int = 5,
    seed: int = 0,
    run_dir=None,
    data_key: str = "",
    labels=None,
    progress: bool = True,
    scheduler: str | None = None,
) -> CVResult:
    """Cross-validate every model in ``models`` on the same folds.

    Parameters
    ----------
    models : dict of str -> estimator or callable
        Name -> an unfitted scikit-learn classifier (cloned per fold), or a
        callable ``(X_train, y_train, X_test, seed) -> (y_pred, extra)`` for
        models that need custom handling.
    X : indexable by clip (e.g. :class:`mer_core.models.ClipFeatures`)
    y : array-like of labels
    groups : array-like, optional
        Artist of each clip: folds never split an artist.
    run_dir : path, optional
        Where fold results are written and resumed from.
    data_key : str
        Fingerprint of the data (see :meth:`mer_core.extract.FeatureSet.fingerprint`);
        part of each fold's cache key.
    scheduler : str, optional
        Address of a Dask scheduler: every (model, fold) fit is one task on
        its workers (default ``$MER_SCHEDULER``; unset: here, one after the
        other). See :mod:`mer_core.cluster`.

    Returns
    -------
    CVResult
    """
    from tqdm.auto import tqdm

    from mer_core.cluster import map_tasks, resolve_scheduler

    y = np.asarray(y)
    labels = list(labels) if labels is not None else sorted(np.unique(y).tolist())
    folds = make_folds(y, groups=groups, n_splits=n_splits, seed=seed)
    run_dir = Path(run_dir) if run_dir is not None else None
    done, tasks = {}, []
    total = len(models) * len(folds)
    bar = tqdm(total=total, desc="cross-validation", unit="fit", disable=not progress)
    for k, (train, test) in enumerate(folds):
        for name, model in models.items():
            key = _fold_key(name, model, k, train, test, data_key)
            path = _fold_path(run_dir, name, k)
            record = _read_fold(path, key) if path is not None else None
            if record is not None:
                record["resumed"] = True
                done[k, name] = record
                bar.update(1)
            else:
                tasks.append((name, model, k, train, test, key))
    address = resolve_scheduler(scheduler)
    if address is not None:
        # on a cluster, every fold of one model before the next model, so the
        # CNN-SVM variants find their fold's network already in the network cache
        order = list(models)
        tasks.sort(key=lambda t: (order.index(t[0]), t[2]))
    writable = [run_dir] if run_dir is not None else []
    # networks train with this process's torch thread count wherever they run: the
    # count changes the floating-point sums, and the results must not depend on it
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    fits = map_tasks(
        _fit_fold,
        tasks,
        common=(X, y, seed, labels, threads),
        scheduler=address or "local",
        ordered=False,
        chunk_size=1,
        writable=writable,
    )
    # fold records are written here only, once each, as the fits come back
    for record in fits:
        name, k = record["model"], record["fold"]
        path = _fold_path(run_dir, name, k)
        if path is not None:
            atomic_write_json(path, record)
        done[k, name] = record
        bar.set_postfix_str(f"{name} fold {k + 1}/{len(folds)}")
        bar.update(1)
    bar.close()
    records = [done[k, name] for k in range(len(folds)) for name in models]
    for r in records:
        r["training_seconds"] = training_seconds(r)
    return CVResult(folds=records, labels=labels, y=y, n_splits=n_splits)


def _fold_path(run_dir, name: str, k: int):
    return run_dir / "folds" / name / f"fold{k}.json" if run_dir is not None else None


def _fit_fold(task: tuple, X, y, seed: int, labels: list, threads: int | None = None) -> dict:
    """Fit and score one (model, fold): the fold's record (a task, here or on a worker)."""
    if threads is not None:
        import torch

        if torch.get_num_threads() != threads:
            previous = torch.get_num_threads()
            torch.set_num_threads(threads)
            try:
                return _fit_fold(task, X, y, seed, labels)
            finally:
                torch.set_num_threads(previous)
    from sklearn.base import clone

    name, model, k, train, test, key = task
    est = clone(model)
    params = est.get_params(deep=False)
    if "random_state" in params:
        est.set_params(random_state=seed + k)
    if "progress" in params:
        est.set_params(progress=False)
    X_tr, X_te = X[train], X[test]
    t0 = time.perf_counter()
    est.fit(X_tr, y[train])
    fit_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    pred = est.predict(X_te)
    predict_seconds = time.perf_counter() - t0
    scores = est.decision_function(X_te) if hasattr(est, "decision_function") else None
    metrics = classification_metrics(y[test], pred, labels=labels)
    return {
        "key": key,
        "model": name,
        "estimator": type(est).__name__,
        "fold": k,
        "seed": seed + k,
        **{m: metrics[m] for m in METRICS},
        "per_class": metrics["per_class"],
        "confusion": metrics["confusion"],
        "fit_seconds": fit_seconds,
        "network_seconds": float(getattr(est, "network_seconds_", 0.0) or 0.0),
        "network_cached": bool(getattr(est, "network_cached_", False)),
        "predict_seconds": predict_seconds,
        "n_train": int(len(train)),
        "n_test": int(len(test)),
        "test_index": test.tolist(),
        "y_pred": [_plain(v) for v in pred],
        "decision": None if scores is None else np.round(scores, 6).tolist(),
        "resumed": False,
    }


def training_seconds(record: dict) -> float:
    """A fold's training time: measured fit time, plus the network's own training
    time when the network was read from the network cache instead of trained."""
    extra = record.get("network_seconds", 0.0) if record.get("network_cached") else 0.0
    return float(record["fit_seconds"] + extra)


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v
