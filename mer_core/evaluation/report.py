"""Tables and records of a cross-validation run (what the book reads).

:func:`summary_table` gives, per model, every metric's mean, standard deviation
and 95 % interval over folds plus the training time; :func:`paired_tests`
compares a reference model (CNN-SVM) with each other model on the same folds;
:func:`write_results` stores tidy CSVs and one JSON record with the config,
seed, package versions (:func:`mer_core.environment.environment`) and data
fingerprint, all written atomically. The book's tables made from such a record
are in :mod:`mer_core.evaluation.tables`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from mer_core.environment import environment
from mer_core.evaluation.protocol import CVResult
from mer_core.evaluation.stats import corrected_paired_ttest, mcnemar_test, mean_ci
from mer_core.io import atomic_write_bytes, atomic_write_json
from mer_core.names import METRICS

__all__ = [
    "confusion_matrix",
    "paired_tests",
    "per_class_table",
    "pooled_calibration",
    "selections",
    "summary_table",
    "tidy_folds",
    "write_results",
]


def tidy_folds(cv: CVResult) -> pd.DataFrame:
    """One row per (model, fold, metric): the long format of every fold score."""
    rows = []
    for r in cv.folds:
        for metric in (*METRICS, "training_seconds", "predict_seconds"):
            rows.append(
                {
                    "model": r["model"],
                    "fold": r["fold"],
                    "metric": metric,
                    "value": float(r[metric]),
                }
            )
    return pd.DataFrame(rows)


def summary_table(cv: CVResult) -> pd.DataFrame:
    """Mean, std and 95 % t-interval over folds of each metric, one row per model."""
    rows = []
    for model in cv.models():
        row = {"model": model}
        for metric in (*METRICS, "training_seconds"):
            s = mean_ci(cv.fold_scores(model, metric))
            row[metric] = s["mean"]
            row[f"{metric}_std"] = s["std"]
            row[f"{metric}_ci_low"] = s["ci_low"]
            row[f"{metric}_ci_high"] = s["ci_high"]
        ece = [r.get("ece") for r in cv.folds if r["model"] == model]
        if ece and all(e is not None for e in ece):
            s = mean_ci(ece)
            row["ece"], row["ece_ci_low"], row["ece_ci_high"] = (
                s["mean"],
                s["ci_low"],
                s["ci_high"],
            )
            row.update(pooled_calibration(cv, model))
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")


def pooled_calibration(cv: CVResult, model: str) -> dict:
    """ECE of each repeat's pooled out-of-fold probabilities, and its chance floor.

    One test fold holds too few clips for a steady ECE (a perfectly
    calibrated model scores well above 0 on 120 clips), so the out-of-fold
    probabilities of every clip are pooled per repeat of the cross-validation
    (fold ``r * n_splits + k`` belongs to repeat ``r``). Returns
    ``{"ece_pooled", "ece_floor"}``, means over repeats; the floor is
    :func:`~mer_core.evaluation.metrics.calibration_floor` of the same
    probabilities. Empty when a fold has no probabilities.
    """
    from mer_core.evaluation.metrics import calibration_floor, expected_calibration_error

    records = [r for r in cv.folds if r["model"] == model]
    if not records or any(r.get("proba") is None for r in records):
        return {}
    ece, floor = [], []
    for repeat in sorted({r["fold"] // cv.n_splits for r in records}):
        part = [r for r in records if r["fold"] // cv.n_splits == repeat]
        index = np.concatenate([np.asarray(r["test_index"], dtype=int) for r in part])
        proba = np.vstack([np.asarray(r["proba"], dtype=np.float64) for r in part])
        ece.append(expected_calibration_error(cv.y[index], proba, labels=cv.labels))
        floor.append(calibration_floor(proba, seed=repeat))
    return {"ece_pooled": float(np.mean(ece)), "ece_floor": float(np.mean(floor))}


def selections(cv: CVResult) -> dict:
    """What each model chose on the inner folds of every training part.

    ``{model: [{"fold": k, "C": ..., "inner_f1": {...}, "temperature": ...,
    "musical": ..., "block_inner_f1": {...}, "cross_fitted": ...}, ...]}`` in
    fold order, for the models that chose anything (see
    :func:`mer_core.evaluation.protocol.run_cv`'s ``selection``).
    """
    out: dict[str, list] = {}
    for r in sorted(cv.folds, key=lambda r: (r["model"], r["fold"])):
        if r.get("selection"):
            out.setdefault(r["model"], []).append({"fold": r["fold"], **r["selection"]})
    return {m: out[m] for m in cv.models() if m in out}


def paired_tests(cv: CVResult, *, reference: str = "cnn_svm", pairs=None) -> pd.DataFrame:
    """The reference model against each other model, on the same folds.

    Columns: mean F1 and accuracy differences (reference minus other), the
    corrected resampled t-test p-values for both, and McNemar's exact test on
    the pooled out-of-fold predictions. ``pairs``, a sequence of
    ``(reference, other)``, tests those pairs instead (both in the run).
    """
    models = cv.models()
    if pairs is None:
        if reference not in models:
            return pd.DataFrame()
        pairs = [(reference, m) for m in models if m != reference]
    frac = 1.0 / (cv.n_splits - 1)
    rows = []
    for reference, model in pairs:
        if reference not in models or model not in models:
            continue
        ref_pred = cv.oof_predictions(reference)
        row = {"reference": reference, "model": model}
        for metric in ("f1", "accuracy"):
            t = corrected_paired_ttest(
                cv.fold_scores(reference, metric),
                cv.fold_scores(model, metric),
                test_fraction=frac,
            )
            row[f"{metric}_diff"] = t["mean_diff"]
            row[f"{metric}_t"] = t["t"]
            row[f"{metric}_p"] = t["p"]
        m = mcnemar_test(cv.y, ref_pred, cv.oof_predictions(model))
        row.update(mcnemar_ref_only=m["a_only"], mcnemar_other_only=m["b_only"], mcnemar_p=m["p"])
        rows.append(row)
    return pd.DataFrame(rows)


def per_class_table(cv: CVResult) -> pd.DataFrame:
    """Per-class precision, recall and F1: mean over folds, one row per (model, class)."""
    rows = []
    for model in cv.models():
        recs = [r for r in cv.folds if r["model"] == model]
        for label in cv.labels:
            row = {"model": model, "class": label}
            for m in ("precision", "recall", "f1"):
                row[m] = float(np.mean([r["per_class"][str(label)][m] for r in recs]))
            rows.append(row)
    return pd.DataFrame(rows)


def confusion_matrix(cv: CVResult, model: str) -> pd.DataFrame:
    """Confusion matrix of ``model`` summed over folds (rows true, columns predicted)."""
    total = sum(np.asarray(r["confusion"]) for r in cv.folds if r["model"] == model)
    labels = [str(v) for v in cv.labels]
    return pd.DataFrame(
        total, index=pd.Index(labels, name="true"), columns=pd.Index(labels, name="predicted")
    )


def _write_csv(df: pd.DataFrame, path: Path, **kw) -> None:
    atomic_write_bytes(path, df.to_csv(**kw).encode("utf-8"), only_if_changed=True)


#: Fields of a run record that differ between a run and its resumed re-run.
VOLATILE = ("wall_seconds", "resumed_folds", "execution")


def write_results(
    cv: CVResult, out_dir, *, record: dict, reference: str = "cnn_svm", ablations=()
) -> dict:
    """Write ``folds.csv``, ``summary.csv``, ``per_class.csv``, ``paired_tests.csv``
    and ``results.json`` (the record: config, seed, versions, data fingerprint,
    summary, tests, confusion matrices and what each model chose on inner folds)
    into ``out_dir``; returns the JSON record. ``ablations``, pairs ``(model,
    ablation)``, are tested fold by fold too (the record's ``ablation_tests``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = summary_table(cv)
    tests = paired_tests(cv, reference=reference)
    per_class = per_class_table(cv)
    _write_csv(tidy_folds(cv), out / "folds.csv", index=False)
    _write_csv(summary, out / "summary.csv")
    _write_csv(per_class, out / "per_class.csv", index=False)
    _write_csv(tests, out / "paired_tests.csv", index=False)
    full = {
        **record,
        "environment": environment(),
        "labels": [str(v) for v in cv.labels],
        "n_splits": cv.n_splits,
        "n_clips": int(len(cv.y)),
        "summary": summary.reset_index().to_dict(orient="records"),
        "paired_tests": tests.to_dict(orient="records"),
        "ablation_tests": paired_tests(cv, pairs=list(ablations)).to_dict(orient="records"),
        "confusion": {m: confusion_matrix(cv, m).values.tolist() for m in cv.models()},
        "selection": selections(cv),
        "resumed_folds": int(sum(r["resumed"] for r in cv.folds)),
    }
    # A resumed run that reproduces the stored record leaves the file untouched, so
    # `make` does not see new results (and does not re-execute the notebooks).
    path = out / "results.json"
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        old = None
    new = json.loads(json.dumps(full, default=str))
    if old is not None and _stable(old) == _stable(new):
        return {**old, **{k: full[k] for k in VOLATILE if k in full}}
    atomic_write_json(path, full)
    return full


def _stable(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in VOLATILE}
