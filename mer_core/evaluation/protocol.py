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
it is done, keyed by a digest of everything that can change that result: the
model's class and every parameter (a callable's source), the fold and its
train and test indices, the ordered clips (every feature array) with their
labels and groups, the seed, the caller's ``data_key`` (files and feature
configuration) and the library versions. A stopped run, started again with the
same arguments, resumes from the finished folds; anything else recomputes, so a
run into an existing folder always equals a fresh run.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mer_core.environment import package_versions
from mer_core.errors import MerError, ParameterError
from mer_core.evaluation.metrics import classification_metrics, expected_calibration_error
from mer_core.io import atomic_write_json, json_digest
from mer_core.names import METRICS

__all__ = ["CVResult", "inner_choices", "inner_folds", "make_folds", "run_cv"]


def make_folds(y, *, groups=None, n_splits: int = 5, seed: int = 0) -> list:
    """Stratified (and, with ``groups``, group-disjoint) folds: ``[(train_idx, test_idx)]``.

    Examples
    --------
    >>> y = ["a", "b"] * 10
    >>> folds = make_folds(y, n_splits=5, seed=0)
    >>> len(folds), sorted(len(te) for _, te in folds)
    (5, [4, 4, 4, 4, 4])
    """
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
    return _stratified_folds(y, n_splits=n_splits, seed=seed, groups=groups)


def _stratified_folds(y: np.ndarray, *, n_splits: int, seed: int, groups=None) -> list:
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    if groups is not None:
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        folds = splitter.split(np.zeros(len(y)), y, groups)
    else:
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        folds = splitter.split(np.zeros(len(y)), y)
    return [(np.sort(tr), np.sort(te)) for tr, te in folds]


def inner_folds(y, *, n_splits: int, seed: int, groups=None) -> list | None:
    """Stratified folds of a training part, keeping each group's clips together.

    The folds a model cuts inside ``fit`` (to choose ``C`` and the optional
    blocks, to cross-fit its networks), cut as :func:`make_folds` cuts the
    outer ones: with ``groups`` (the artists) no group is on both sides, so
    what the inner folds reward is what the outer artist-grouped evaluation
    (and music by new artists) rewards.

    Returns
    -------
    list of (np.ndarray, np.ndarray) or None
        ``[(train_idx, test_idx)]`` with sorted indices; None when the clips
        cannot be split so: a class with fewer than ``n_splits`` clips, fewer
        than ``n_splits`` groups, or a fold whose training part misses a class.

    Examples
    --------
    >>> y = [0, 1] * 6
    >>> groups = ["a", "a", "b", "b", "c", "c", "d", "d", "e", "e", "f", "f"]
    >>> folds = inner_folds(y, n_splits=3, seed=0, groups=groups)
    >>> all(not {groups[i] for i in tr} & {groups[i] for i in te} for tr, te in folds)
    True
    >>> inner_folds(y, n_splits=3, seed=0, groups=["a", "b"] * 6) is None
    True
    """
    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < n_splits:
        return None
    if groups is not None:
        groups = np.asarray(groups)
        if len(groups) != len(y):
            raise MerError(f"groups has {len(groups)} entries for {len(y)} clips")
        if len(np.unique(groups)) < n_splits:
            return None
    folds = _stratified_folds(y, n_splits=n_splits, seed=int(seed) % 2**32, groups=groups)
    if any(len(te) == 0 or len(np.unique(y[tr])) < len(classes) for tr, te in folds):
        return None
    return folds


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


# Parameters that cannot change a fold's result: display, where caches live, and
# ``random_state``, which _fit_fold replaces by the fold's seed (part of the key).
# So a repeat run on its own (``evaluate_manifest(seed=seed + 1000 * r)``) leaves
# folds that the full run resumes.
_NEUTRAL_PARAMS = {"progress", "network_cache", "random_state"}


def _describe(value):
    """A JSON form of a parameter value that changes whenever the value does.

    Estimators are described by class and (recursively) parameters, arrays by
    a digest of their bytes, callables by name and source: never by a ``repr``
    that scikit-learn or numpy may shorten with ``...``.
    """
    import functools
    import hashlib
    import inspect

    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return {type(value).__name__: [_describe(v) for v in value]}
    if isinstance(value, dict):
        return {"dict": sorted([repr(k), _describe(v)] for k, v in value.items())}
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "O":
            return {"object_array": [_describe(v) for v in value.ravel()], "shape": value.shape}
        data = hashlib.sha256(np.ascontiguousarray(value).view(np.uint8).ravel()).hexdigest()
        return {"array": data, "shape": list(value.shape), "dtype": str(value.dtype)}
    if hasattr(value, "get_params") and not isinstance(value, type):
        params = value.get_params(deep=False)
        return {
            "class": f"{type(value).__module__}.{type(value).__qualname__}",
            "params": {k: _describe(v) for k, v in sorted(params.items())},
        }
    if isinstance(value, functools.partial):
        return {
            "partial": _describe(value.func),
            "args": _describe(value.args),
            "keywords": _describe(value.keywords),
        }
    if callable(value):
        plain = inspect.isroutine(value) or isinstance(value, type)
        target = value if plain else type(value)  # a callable object: its class's code
        name = f"{getattr(target, '__module__', '')}.{getattr(target, '__qualname__', '')}"
        try:
            code = inspect.getsource(target)
        except (OSError, TypeError):
            code = getattr(getattr(target, "__code__", None), "co_code", b"").hex() or name
        closure = [c.cell_contents for c in (getattr(value, "__closure__", None) or ())]
        state = None if plain else getattr(value, "__dict__", None)
        return {
            "state": _describe(state),
            "callable": name,
            "source": hashlib.sha256(code.encode()).hexdigest(),
            "defaults": _describe(getattr(value, "__defaults__", None)),
            "kwdefaults": _describe(getattr(value, "__kwdefaults__", None)),
            "closure": _describe(closure),
        }
    return {"type": f"{type(value).__module__}.{type(value).__qualname__}", "repr": repr(value)}


def _describe_model(model) -> dict:
    """The estimator (class and every parameter that can change a result) or callable."""
    if hasattr(model, "get_params"):
        desc = _describe(model)
        desc["params"] = {k: v for k, v in desc["params"].items() if k not in _NEUTRAL_PARAMS}
        return desc
    return _describe(model)


def _data_digest(X, y, groups, labels) -> str:
    """Digest of the ordered clips (every feature array of X), their labels and groups."""
    import hashlib

    h = hashlib.sha256()

    def add(tag: str, arr) -> None:
        h.update(tag.encode())
        if arr is None:
            h.update(b"<none>")
            return
        if isinstance(arr, list | tuple) and not all(isinstance(v, str) for v in arr):
            arr = np.asarray(arr)
        if isinstance(arr, np.ndarray) and arr.dtype.kind not in "OUS":
            h.update(f"{arr.dtype.str}{arr.shape}".encode())
            h.update(np.ascontiguousarray(arr).view(np.uint8).ravel())
        else:
            h.update(json.dumps([str(v) for v in np.asarray(arr, dtype=object).ravel()]).encode())

    if hasattr(X, "fields") and hasattr(X, "column_names"):  # ClipFeatures
        for f in ("log_mel", "mfcc", "lowlevel", "chords", "musical"):
            add(f, getattr(X, f))
        add("text", X.text)
        add("lowlevel_names", X.lowlevel_names)
        add("chord_names", X.chord_names)
    elif hasattr(X, "to_numpy"):  # pandas
        add("X", X.to_numpy())
        add("columns", [str(c) for c in getattr(X, "columns", [])])
    else:
        add("X", np.asarray(X))
    add("y", np.asarray(y))
    add("groups", None if groups is None else np.asarray(groups))
    add("labels", [str(v) for v in labels])
    return h.hexdigest()


#: The distributions a fold's result depends on (part of its cache key).
_FOLD_VERSIONS = ("mer-core", "numpy", "scikit-learn", "torch", "scipy")


def _fold_key(name, model, fold, train, test, *, data, seed, data_key) -> str:
    """Digest of everything that can change a fold's result.

    The model's name, class and parameters (or a callable's source), the fold,
    its train and test indices, the ordered data with labels and groups
    (``data``), the run's seed, the caller's ``data_key`` (feature
    configuration, files) and the versions of the libraries.
    """
    return json_digest(
        {
            "model": name,
            "estimator": _describe_model(model),
            "fold": fold,
            "seed": int(seed),
            "train": json_digest(np.asarray(train).tolist()),
            "test": json_digest(np.asarray(test).tolist()),
            "data": data,
            "data_key": data_key,
            "versions": package_versions(_FOLD_VERSIONS),
            "format": 4,
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
        Name -> an unfitted scikit-learn classifier (cloned per fold, its
        ``random_state`` set to the fold's seed), or a callable
        ``(X_train, y_train, X_test, seed) -> (y_pred, extra)`` for models that
        need custom handling: ``y_pred`` holds one label per test clip and
        ``extra`` is None or a dict whose optional ``"decision"`` entry (the
        test clips' decision values) is recorded. A callable's fit and predict
        are timed together as ``fit_seconds``.
    X : indexable by clip (e.g. :class:`mer_core.models.ClipFeatures`)
    y : array-like of labels
    groups : array-like, optional
        Artist of each clip: folds never split an artist.
    run_dir : path, optional
        Where fold results are written and resumed from.
    data_key : str
        Fingerprint of what ``X`` does not show, such as the files and the
        feature configuration (see :func:`mer_core.experiments.evaluate_manifest`);
        part of each fold's key, beside a digest of ``X``, ``y`` and ``groups``
        themselves.
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
    for name, model in models.items():
        if not (callable(model) or hasattr(model, "fit")):
            raise ParameterError(
                f"model {name!r} must be a scikit-learn estimator or a callable, "
                f"got {type(model).__name__}"
            )
    folds = make_folds(y, groups=groups, n_splits=n_splits, seed=seed)
    run_dir = Path(run_dir) if run_dir is not None else None
    data = _data_digest(X, y, groups, labels) if run_dir is not None else None
    done, tasks = {}, []
    total = len(models) * len(folds)
    bar = tqdm(total=total, desc="cross-validation", unit="fit", disable=not progress)
    for k, (train, test) in enumerate(folds):
        for name, model in models.items():
            path = _fold_path(run_dir, name, k)
            key = record = None
            if path is not None:
                key = _fold_key(
                    name, model, k, train, test, data=data, seed=seed, data_key=data_key
                )
                record = _read_fold(path, key)
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
        _fit_task,
        tasks,
        common=(X, y, seed, labels, threads),
        scheduler=address or "local",
        ordered=False,
        chunk_size=1,
        writable=writable,
        after=_network_order(tasks, seed),
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


def _network_order(tasks: list, seed: int) -> dict[int, int]:
    """``{i: j}``: task ``i`` trains the same network as the earlier task ``j`` (same
    fold, same :meth:`~mer_core.models.base.NetworkMixin.network_signature`), so on a
    cluster it waits for ``j`` and loads the network from the cache."""
    first, after = {}, {}
    for i, (_, model, k, *_rest) in enumerate(tasks):
        signature = getattr(model, "network_signature", None)
        if signature is None or getattr(model, "network_cache", None) is None:
            continue
        owner = first.setdefault((k, signature(seed + k)), i)
        if owner != i:
            after[i] = owner
    return after


def _fold_path(run_dir, name: str, k: int):
    return run_dir / "folds" / name / f"fold{k}.json" if run_dir is not None else None


def _fit_task(task: tuple, X, y, seed: int, labels: list, threads: int | None = None) -> dict:
    """One (model, fold) fit: the fold's record (a task, here or on a worker)."""
    if threads is not None:
        import torch

        if torch.get_num_threads() != threads:
            previous = torch.get_num_threads()
            torch.set_num_threads(threads)
            try:
                return _fit_task(task, X, y, seed, labels)
            finally:
                torch.set_num_threads(previous)
    name, model, k, train, test, key = task
    record = _fit_fold(name, model, X, y, train, test, seed + k, labels)
    record.update(key=key, fold=k)
    return record


def _fit_fold(name, model, X, y, train, test, seed: int, labels) -> dict:
    """Fit ``model`` on the training clips only and score it on the test clips."""
    from sklearn.base import clone

    X_tr, X_te = X[train], X[test]
    est = None
    if hasattr(model, "fit"):
        est = clone(model)
        params = est.get_params(deep=False)
        if "random_state" in params:
            est.set_params(random_state=seed)
        if "progress" in params:
            est.set_params(progress=False)
        t0 = time.perf_counter()
        est.fit(X_tr, y[train])
        fit_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        pred = est.predict(X_te)
        predict_seconds = time.perf_counter() - t0
        scores = est.decision_function(X_te) if hasattr(est, "decision_function") else None
        proba = _proba(est, X_te, labels)
        kind = type(est).__name__
    else:  # a callable: fit and predict in one call, timed together
        t0 = time.perf_counter()
        out = model(X_tr, y[train], X_te, seed)
        fit_seconds, predict_seconds = time.perf_counter() - t0, 0.0
        if not (isinstance(out, tuple) and len(out) == 2):
            raise MerError(f"model {name!r} must return (y_pred, extra), got {type(out).__name__}")
        pred, extra = out
        if extra is not None and not isinstance(extra, dict):
            raise MerError(f"model {name!r}: extra must be None or a dict, got {type(extra)}")
        scores = None if extra is None else extra.get("decision")
        proba = None if extra is None else extra.get("proba")
        kind = getattr(model, "__qualname__", type(model).__name__)
    pred = np.asarray(pred)
    if pred.shape != (len(test),):
        raise MerError(f"model {name!r} predicted shape {pred.shape} for {len(test)} test clips")
    metrics = classification_metrics(y[test], pred, labels=labels)
    return {
        "model": name,
        "estimator": kind,
        "seed": seed,
        **{m: metrics[m] for m in METRICS},
        "per_class": metrics["per_class"],
        "confusion": metrics["confusion"],
        "fit_seconds": fit_seconds,
        "network_seconds": float(getattr(est, "network_seconds_", 0.0) or 0.0),
        "network_cached": bool(getattr(est, "network_cached_", False)),
        "network_loaded_seconds": float(getattr(est, "network_loaded_seconds_", 0.0) or 0.0),
        "network_key": getattr(est, "network_key_", None),
        "predict_seconds": predict_seconds,
        "n_train": int(len(train)),
        "n_test": int(len(test)),
        "test_index": test.tolist(),
        "y_pred": [_plain(v) for v in pred],
        "decision": None if scores is None else np.round(np.asarray(scores), 6).tolist(),
        "selection": inner_choices(est),
        "proba": None if proba is None else np.round(np.asarray(proba), 6).tolist(),
        "ece": None
        if proba is None
        else expected_calibration_error(y[test], proba, labels=labels),
        "resumed": False,
    }


def training_seconds(record: dict) -> float:
    """A fold's training time: measured fit time, plus the training time of the
    networks read from the network cache instead of trained (all of them, in
    records made before ``network_loaded_seconds`` was kept, only when every
    network was read)."""
    if "network_loaded_seconds" in record:
        return float(record["fit_seconds"] + record["network_loaded_seconds"])
    extra = record.get("network_seconds", 0.0) if record.get("network_cached") else 0.0
    return float(record["fit_seconds"] + extra)


def _proba(est, X_te, labels) -> np.ndarray | None:
    """Class probabilities in ``labels`` order (None for a model without them)."""
    if not hasattr(est, "predict_proba"):
        return None
    proba = np.asarray(est.predict_proba(X_te), dtype=np.float64)
    classes = [str(c) for c in getattr(est, "classes_", labels)]
    if sorted(classes) != sorted(str(c) for c in labels):
        return None  # a class missing from the training part: no full distribution
    return proba[:, [classes.index(str(c)) for c in labels]]


def inner_choices(est) -> dict | None:
    """What the estimator chose on inner folds of its training part.

    Its ``C`` with each candidate's inner macro-F1, the softmax temperature
    fitted there (when not 1), whether it kept the musical descriptors (with
    the inner macro-F1 with and without them), whether its network
    outputs were cross-fitted, and which networks predict (with the inner
    macro-F1 of one network and of two averaged); None when it chose nothing.
    """
    selection = {}
    if getattr(est, "C_scores_", None):
        selection.update(C=float(est.C_), inner_f1=dict(est.C_scores_))
    temperature = float(getattr(est, "temperature_", 1.0))
    if temperature != 1.0:
        selection["temperature"] = round(temperature, 6)
    if getattr(est, "block_scores_", None):
        selection.update(musical=bool(est.use_musical_), block_inner_f1=dict(est.block_scores_))
    if getattr(est, "cross_fitted_", False):
        selection["cross_fitted"] = int(est.cross_fit)
    if getattr(est, "ensemble_scores_", None):
        selection.update(predict_with=est.predict_with_, ensemble_inner_f1=est.ensemble_scores_)
    return selection or None


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v
