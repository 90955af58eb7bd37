"""Statistics over cross-validation folds.

* :func:`mean_ci`: mean, standard deviation and a 95 % Student-t interval over
  folds. Fold scores are not independent (training sets overlap), so this
  interval is optimistic; it is reported as a description of fold-to-fold
  spread, and the model comparisons use the corrected test below.
* :func:`corrected_paired_ttest`: Nadeau & Bengio's (2003) corrected
  resampled t-test of the per-fold difference between two models evaluated on
  the same folds; the variance is inflated by ``1/k + n_test/n_train`` to
  account for overlapping training sets (Bouckaert & Frank 2004 recommend it).
* :func:`mcnemar_test`: McNemar's exact test on the pooled out-of-fold
  predictions of two models (Dietterich 1998): does one model get right the
  clips the other gets wrong more often than chance?
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as _st

from mer_core.errors import ParameterError

__all__ = ["corrected_paired_ttest", "mcnemar_test", "mean_ci"]


def mean_ci(values, *, confidence: float = 0.95) -> dict:
    """Mean, sample standard deviation and Student-t interval of fold scores.

    Examples
    --------
    >>> r = mean_ci([0.70, 0.72, 0.74, 0.71, 0.73])
    >>> round(r["mean"], 3), round(r["std"], 4), round(r["ci_low"], 3), round(r["ci_high"], 3)
    (0.72, 0.0158, 0.700, 0.740)
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)):
        raise ParameterError(f"need a non-empty 1-D array of finite scores, got {values!r}")
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must be in (0, 1), got {confidence!r}")
    mean = float(x.mean())
    if x.size == 1:
        return {"mean": mean, "std": 0.0, "ci_low": mean, "ci_high": mean, "n": 1}
    std = float(x.std(ddof=1))
    half = float(_st.t.ppf(0.5 + confidence / 2, df=x.size - 1) * std / math.sqrt(x.size))
    return {"mean": mean, "std": std, "ci_low": mean - half, "ci_high": mean + half, "n": x.size}


def corrected_paired_ttest(a, b, *, test_fraction: float) -> dict:
    """Nadeau-Bengio corrected resampled t-test of ``a - b`` over folds.

    Parameters
    ----------
    a, b : sequence of float
        Scores of two models on the same folds.
    test_fraction : float
        ``n_test / n_train`` of one fold (``1 / (k - 1)`` for k-fold CV).

    Returns
    -------
    dict
        ``mean_diff``, ``t``, ``p`` (two-sided) and ``df``.

    Examples
    --------
    >>> r = corrected_paired_ttest([0.8, 0.82, 0.79, 0.81, 0.8], [0.7, 0.71, 0.72, 0.69, 0.7],
    ...                            test_fraction=0.25)
    >>> round(r["mean_diff"], 3), r["p"] < 0.01
    (0.1, True)
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or a.size < 2:
        raise ParameterError(f"need two equal-length score lists of >= 2 folds, got {a!r}, {b!r}")
    if not test_fraction > 0:
        raise ParameterError(f"test_fraction must be positive, got {test_fraction!r}")
    d = a - b
    k = d.size
    var = d.var(ddof=1)
    mean = float(d.mean())
    if var == 0:
        p = 1.0 if mean == 0 else 0.0
        return {
            "mean_diff": mean,
            "t": math.copysign(math.inf, mean) if mean else 0.0,
            "p": p,
            "df": k - 1,
        }
    t = mean / math.sqrt((1.0 / k + test_fraction) * var)
    p = float(2 * _st.t.sf(abs(t), df=k - 1))
    return {"mean_diff": mean, "t": float(t), "p": p, "df": k - 1}


def mcnemar_test(y_true, pred_a, pred_b) -> dict:
    """McNemar's exact test: do models A and B err on different clips by chance?

    Returns
    -------
    dict
        ``a_only`` (clips only A got right), ``b_only`` (only B got right) and
        the two-sided exact binomial ``p``.

    Examples
    --------
    >>> y = [0] * 40
    >>> a = [0] * 35 + [1] * 5
    >>> b = [0] * 20 + [1] * 20
    >>> r = mcnemar_test(y, a, b)
    >>> r["a_only"], r["b_only"], r["p"] < 0.001
    (15, 0, True)
    """
    y_true, pred_a, pred_b = (np.asarray(v) for v in (y_true, pred_a, pred_b))
    if not (y_true.shape == pred_a.shape == pred_b.shape) or y_true.ndim != 1:
        raise ParameterError("y_true, pred_a and pred_b must be 1-D and of equal length")
    ok_a = pred_a == y_true
    ok_b = pred_b == y_true
    a_only = int(np.sum(ok_a & ~ok_b))
    b_only = int(np.sum(~ok_a & ok_b))
    n = a_only + b_only
    p = 1.0 if n == 0 else float(_st.binomtest(a_only, n, 0.5).pvalue)
    return {"a_only": a_only, "b_only": b_only, "p": p}
