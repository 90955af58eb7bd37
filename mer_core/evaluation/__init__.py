"""The evaluation protocol (the paper's section 4, done with honest statistics).

* :mod:`~mer_core.evaluation.metrics`: accuracy, macro precision / recall / F1,
  per-class scores and the confusion matrix of one set of predictions;
* :mod:`~mer_core.evaluation.stats`: means with 95 % t-intervals over folds,
  the corrected resampled paired t-test and McNemar's test;
* :mod:`~mer_core.evaluation.protocol`: stratified (artist-grouped when
  artists are known) k-fold cross-validation of several models on the same
  folds, resumable, recorded with config, seed, versions and data fingerprint;
* :mod:`~mer_core.evaluation.report`: a run's summary, paired tests, per-class
  scores and its ``results.json`` record;
* :mod:`~mer_core.evaluation.tables`: the book's tables of a run's record,
  beside the paper's numbers (:mod:`mer_core.paper`), and its verdicts;
* :mod:`~mer_core.evaluation.pages`: those tables styled for the book, and a
  results chapter's section for one run.
"""

from mer_core.evaluation.metrics import classification_metrics
from mer_core.evaluation.stats import corrected_paired_ttest, mcnemar_test, mean_ci

__all__ = ["classification_metrics", "corrected_paired_ttest", "mcnemar_test", "mean_ci"]
