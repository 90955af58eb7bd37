"""The classifiers of the paper: CNN-SVM (its model) and the CNN, SVM and LSTM baselines.

* :class:`CNNSVMClassifier` (the paper's model): CNN embedding + screened
  low-level features + chord vector (+ optional text) -> standardise -> linear
  SVM (eq. 6); reads ``log_mel``, ``lowlevel``, ``chords`` (``text``);
* :class:`CNNClassifier`: the CNN (eq. 1) with its softmax; reads ``log_mel``;
* :class:`SVMClassifier`: screened MFCC statistics and low-level features ->
  RBF SVM; reads ``mfcc``, ``lowlevel``;
* :class:`LSTMClassifier`: bidirectional LSTM over MFCC frames -> softmax;
  reads ``mfcc``.

All four are scikit-learn classifiers (``clone``, ``get_params``,
``set_params``, ``cross_val_score`` work): ``__init__`` only stores
parameters, ``fit(X, y)`` returns ``self`` and sets attributes ending in ``_``,
and ``predict``, ``decision_function``, ``predict_proba`` and ``score`` follow.
``X`` is a :class:`~mer_core.features.container.ClipFeatures` (what
:func:`mer_core.extract.extract_features` returns; a dict of the same arrays
also works), indexable by clip for fold splitting (:func:`subset`); ``fit``
keeps the front end the features were extracted with as ``feature_config_``,
and :meth:`~mer_core.models.base.MerClassifier.input_fields` says which fields
a model reads. ``random_state`` makes fits reproducible
on CPU. Fitted models are saved and loaded without pickle by
:func:`save_model` / :func:`load_model`.

Submodules: :mod:`~mer_core.models.networks` (the torch modules and their registry
:data:`ARCHITECTURES`), :mod:`~mer_core.models.training` (training loop and
settings), :mod:`~mer_core.models.fusion` (screening, text branch),
:mod:`~mer_core.models.persistence` (save/load), :mod:`~mer_core.models.describe`
(the book's tables of the CNN's layers, the training settings and histories).
"""

from mer_core.features.container import ClipFeatures, as_clip_features, subset
from mer_core.models.cnn_svm import CNNSVMClassifier
from mer_core.models.networks import ARCHITECTURES, build_network, lstm, yang_cnn
from mer_core.models.neural import CNNClassifier, LSTMClassifier
from mer_core.models.persistence import load_model, save_model
from mer_core.models.svm import SVMClassifier

__all__ = [
    "ARCHITECTURES",
    "CLASSIFIERS",
    "CNNClassifier",
    "CNNSVMClassifier",
    "ClipFeatures",
    "LSTMClassifier",
    "SVMClassifier",
    "as_clip_features",
    "build_network",
    "load_model",
    "lstm",
    "save_model",
    "subset",
    "yang_cnn",
]

#: The four classifiers by class name: what :func:`save_model` records and
#: :data:`mer_core.experiments.MODELS` names.
CLASSIFIERS = {
    c.__name__: c for c in (CNNSVMClassifier, CNNClassifier, LSTMClassifier, SVMClassifier)
}
