"""Scores of one set of predictions: the paper's four metrics and more.

The paper reports accuracy, precision, recall and F1 without saying how the
four classes are averaged; this project uses the **macro** average (each class
counts equally), the usual choice for balanced 4-class emotion data, and also
reports every per-class score and the confusion matrix.
"""

from __future__ import annotations

import numpy as np

from mer_core.errors import ParameterError

__all__ = ["calibration_floor", "classification_metrics", "expected_calibration_error"]


def classification_metrics(y_true, y_pred, *, labels) -> dict:
    """Accuracy, macro precision / recall / F1, per-class scores and confusion matrix.

    A class that is never predicted has precision 0 (and a class absent from
    ``y_true`` has recall 0), as scikit-learn's ``zero_division=0``.

    Parameters
    ----------
    y_true, y_pred : sequence
        True and predicted labels.
    labels : sequence
        Every class, in the order used for per-class scores and the matrix.

    Returns
    -------
    dict
        ``accuracy``, ``precision``, ``recall``, ``f1`` (macro), ``per_class``
        (``{label: {precision, recall, f1, support}}``) and ``confusion``
        (rows: true class, columns: predicted class).

    Examples
    --------
    >>> m = classification_metrics(["a", "a", "b", "b"], ["a", "b", "b", "b"], labels=["a", "b"])
    >>> m["accuracy"], round(m["f1"], 3), m["confusion"]
    (0.75, 0.733, [[1, 1], [0, 2]])
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    labels = list(labels)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or y_true.size == 0:
        raise ParameterError(
            f"y_true and y_pred must be non-empty 1-D and of equal length, got shapes "
            f"{y_true.shape} and {y_pred.shape}"
        )
    index = {label: i for i, label in enumerate(labels)}
    unknown = sorted({str(v) for v in np.concatenate([y_true, y_pred]) if v not in index})
    if unknown:
        raise ParameterError(f"labels {unknown} are not among the classes {labels}")
    k = len(labels)
    t = np.array([index[v] for v in y_true])
    p = np.array([index[v] for v in y_pred])
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (t, p), 1)
    tp = np.diag(cm).astype(float)
    predicted = cm.sum(axis=0)
    support = cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(k), where=denom > 0)
    return {
        "accuracy": float(tp.sum() / cm.sum()),
        "precision": float(precision.mean()),
        "recall": float(recall.mean()),
        "f1": float(f1.mean()),
        "per_class": {
            str(label): {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion": cm.tolist(),
    }


def expected_calibration_error(y_true, proba, *, labels, n_bins: int = 10) -> float:
    """Expected calibration error of the top-class probability (Guo et al. 2017).

    Clips are binned by the probability of their predicted class into
    ``n_bins`` equal-width bins; the ECE is the clip-weighted mean over bins of
    ``|accuracy - mean confidence|``. 0 is perfectly calibrated.

    Parameters
    ----------
    y_true : sequence
        True labels.
    proba : array-like, shape (n_clips, n_classes)
        Predicted probabilities, columns in the order of ``labels``.
    labels : sequence
        The classes, in column order.

    Examples
    --------
    >>> expected_calibration_error(["a", "b"], [[0.9, 0.1], [0.2, 0.8]], labels=["a", "b"])
    0.15
    """
    y_true = np.asarray(y_true)
    P = np.asarray(proba, dtype=np.float64)
    labels = list(labels)
    if P.ndim != 2 or P.shape != (len(y_true), len(labels)) or len(y_true) == 0:
        raise ParameterError(
            f"proba must have shape ({len(y_true)}, {len(labels)}), got {P.shape}"
        )
    index = {label: i for i, label in enumerate(labels)}
    t = np.array([index[v] for v in y_true])
    conf = P.max(axis=1)
    correct = (P.argmax(axis=1) == t).astype(float)
    return round(_binned_gap(conf, correct, n_bins), 12)


def _binned_gap(conf: np.ndarray, correct: np.ndarray, n_bins: int) -> float:
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in np.unique(bins):
        sel = bins == b
        ece += sel.mean() * abs(correct[sel].mean() - conf[sel].mean())
    return float(ece)


def calibration_floor(proba, *, n_bins: int = 10, n_draws: int = 200, seed: int = 0) -> float:
    """The ECE a perfectly calibrated model would show on these clips, by chance.

    With few clips per bin, the accuracy of a bin scatters around its mean
    confidence even when every probability is exactly right, so the
    :func:`expected_calibration_error` of a finite test set is above 0 for a
    perfect model. This is its expectation: each clip is drawn right with the
    probability the model gives its predicted class (``n_draws`` times, a
    fixed ``seed``), and the ECE of the draws is averaged. An ECE near this
    floor is as good as the sample can show.

    Examples
    --------
    >>> p = np.tile([0.7, 0.1, 0.1, 0.1], (100, 1))
    >>> 0.0 < calibration_floor(p) < 0.1
    True
    """
    P = np.asarray(proba, dtype=np.float64)
    if P.ndim != 2 or len(P) == 0:
        raise ParameterError(f"proba must be a non-empty 2-D array, got shape {P.shape}")
    conf = P.max(axis=1)
    rng = np.random.default_rng(seed)
    draws = [
        _binned_gap(conf, (rng.random(len(conf)) < conf).astype(float), n_bins)
        for _ in range(int(n_draws))
    ]
    return round(float(np.mean(draws)), 12)
