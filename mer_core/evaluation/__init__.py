"""The evaluation protocol (the paper's section 4, done with honest statistics).

* :mod:`~mer_core.evaluation.metrics`: accuracy, macro precision / recall / F1,
  per-class scores and the confusion matrix of one set of predictions;
* :mod:`~mer_core.evaluation.stats`: means with 95 % t-intervals over folds,
  the corrected resampled paired t-test and McNemar's test;
* :mod:`~mer_core.evaluation.protocol`: stratified (artist-grouped when
  artists are known) k-fold cross-validation of several models on the same
  folds, resumable, recorded with config, seed, versions and data fingerprint.
"""

from mer_core.evaluation.metrics import classification_metrics
from mer_core.evaluation.stats import corrected_paired_ttest, mcnemar_test, mean_ci

__all__ = ["classification_metrics", "corrected_paired_ttest", "mcnemar_test", "mean_ci"]
