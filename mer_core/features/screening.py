"""The paper's feature screening, as a scikit-learn transformer.

The paper feeds the classifier "screened" low-level features but does not say
how they were screened. :class:`FeatureScreener` implements the usual filter:
score every feature against the labels, then keep the best ones while pruning
redundant ones.

1. Features are standardised (zero mean, unit variance, on the data given to
   :meth:`~FeatureScreener.fit`); constant features are dropped.
2. Each feature is scored against the class labels: the one-way ANOVA F
   statistic (``method="anova"``, :func:`sklearn.feature_selection.f_classif`)
   or the k-nearest-neighbour estimate of the mutual information
   (``method="mutual_info"``, :func:`sklearn.feature_selection.mutual_info_classif`,
   randomised by ``random_state``).
3. The ranking is walked from the best score down: a feature is dropped when
   its absolute Pearson correlation with a feature already kept exceeds
   ``corr_threshold`` (the better-scored of a redundant pair survives), and
   the walk stops once ``k`` features are kept.

Like every supervised step, screening must be **fitted on the training data
only**: put it inside a :class:`sklearn.pipeline.Pipeline` so that
cross-validation refits it in every training fold. Screened once on all data,
even pure-noise features look predictive (``tests/test_screening.py``: random labels on
60 clips x 2000 noise features score ~0.9 accuracy that way, ~0.5 in a Pipeline).
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin, f_classif, mutual_info_classif
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from mer_core.errors import ParameterError
from mer_core.validation import check_number

__all__ = ["FeatureScreener"]

METHODS = ("anova", "mutual_info")


class FeatureScreener(SelectorMixin, BaseEstimator):
    """Keep the ``k`` best-scoring features, pruning highly correlated ones.

    Parameters
    ----------
    method : {"anova", "mutual_info"}
        Score of a feature against the class labels: ANOVA F statistic or
        mutual information (nats).
    k : int, float or "all"
        How many features to keep at most: a count (clipped to the number of
        features), a fraction of the features in ``(0, 1]`` (rounded up), or
        ``"all"`` (only constant and redundant features are removed).
    corr_threshold : float
        Largest absolute Pearson correlation allowed between two kept
        features, in ``(0, 1]``; 1 disables the redundancy pruning.
    random_state : int, RandomState or None
        Seeds the noise that ``mutual_info_classif`` adds to break ties; use an
        int for reproducible mutual-information scores (ANOVA is deterministic).

    Attributes
    ----------
    scores_ : ndarray of shape (n_features_in_,)
        Score of each feature (0 for constant features; ``inf`` for a feature
        that separates the classes perfectly under ANOVA).
    ranking_ : ndarray of shape (n_features_in_,)
        Rank of each feature by score, 1 for the best (ties broken by column
        order, constant features last).
    support_ : ndarray of shape (n_features_in_,)
        Boolean mask of the kept features.
    redundant_to_ : ndarray of shape (n_features_in_,)
        For a feature pruned as redundant, the index of the kept feature it
        correlates with most; -1 for every other feature.
    k_ : int
        The resolved maximum number of kept features.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 50)
    >>> signal = y + 0.5 * rng.standard_normal(100)
    >>> copy = 2 * signal + 0.1 * rng.standard_normal(100)  # a noisier duplicate
    >>> X = np.column_stack([signal, copy, rng.standard_normal((100, 3))])
    >>> screen = FeatureScreener(k=2).fit(X, y)
    >>> screen.ranking_.tolist()
    [1, 2, 4, 5, 3]
    >>> screen.get_feature_names_out().tolist()  # x1 is pruned as redundant to x0
    ['x0', 'x4']
    >>> screen.redundant_to_.tolist()
    [-1, 0, -1, -1, -1]
    >>> screen.transform(X).shape
    (100, 2)
    """

    def __init__(self, method="anova", k="all", corr_threshold=0.95, random_state=None):
        self.method = method
        self.k = k
        self.corr_threshold = corr_threshold
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    def _resolve_k(self, n_features: int) -> int:
        k = self.k
        if isinstance(k, str):
            if k != "all":
                raise ParameterError(f'k must be a positive int, a fraction or "all", got {k!r}')
            return n_features
        if isinstance(k, numbers.Integral) and not isinstance(k, bool):
            if k < 1:
                raise ParameterError(f"k must be at least 1, got {k!r}")
            return min(int(k), n_features)
        if isinstance(k, numbers.Real) and not isinstance(k, bool) and 0.0 < k <= 1.0:
            return max(1, math.ceil(float(k) * n_features))
        raise ParameterError(f'k must be a positive int, a fraction in (0, 1] or "all", got {k!r}')

    def fit(self, X, y):
        """Score, rank and screen the features of ``X`` against the labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self
        """
        if self.method not in METHODS:
            raise ParameterError(f"method must be one of {METHODS}, got {self.method!r}")
        threshold = check_number(
            self.corr_threshold, "corr_threshold", low=0, high=1, closed="right"
        )
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=False)
        check_classification_targets(y)
        n_samples, n_features = X.shape
        k = self._resolve_k(n_features)

        mean = X.mean(axis=0)
        std = X.std(axis=0)
        constant = std <= 1e-12 * np.maximum(np.abs(mean), np.finfo(float).tiny)
        Z = (X - mean) / np.where(constant, 1.0, std)
        Z[:, constant] = 0.0

        scores = np.zeros(n_features)
        live = np.flatnonzero(~constant)
        if live.size:
            if self.method == "anova":
                with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    F, _ = f_classif(Z[:, live], y)
                # perfect separation gives inf (kept first), a single class nan (no information)
                scores[live] = np.nan_to_num(F, nan=0.0, posinf=np.inf)
            else:
                scores[live] = mutual_info_classif(
                    Z[:, live], y, discrete_features=False, random_state=self.random_state
                )

        # best first; stable, so ties keep column order; constant features last
        order = np.lexsort((np.arange(n_features), -scores, constant))
        ranking = np.empty(n_features, dtype=int)
        ranking[order] = np.arange(1, n_features + 1)

        support = np.zeros(n_features, dtype=bool)
        redundant_to = np.full(n_features, -1)
        kept: list[int] = []
        K = np.empty((k, n_samples))  # standardised kept columns, one per row
        for j in order:
            if len(kept) == k or constant[j]:
                break
            z = Z[:, j]
            if kept:
                r = np.abs(K[: len(kept)] @ z) / n_samples  # |Pearson r| with each kept one
                best = int(np.argmax(r))
                if min(r[best], 1.0) > threshold:
                    redundant_to[j] = kept[best]
                    continue
            K[len(kept)] = z
            kept.append(int(j))
            support[j] = True

        self.scores_ = scores
        self.ranking_ = ranking
        self.support_ = support
        self.redundant_to_ = redundant_to
        self.k_ = k
        return self

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return self.support_
