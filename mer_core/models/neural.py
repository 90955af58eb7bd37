"""The network baselines of the paper's tables: the CNN alone and the LSTM.

Both are scikit-learn classifiers wrapping a registered network
(:data:`~mer_core.models.networks.ARCHITECTURES`) and the training loop of
:mod:`mer_core.models.training`; their ``predict_proba`` is the network's
softmax, averaged over evaluation crops at the logit level, divided by a
temperature fitted on out-of-fold logits when ``cross_fit`` asks for it.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from mer_core.errors import ParameterError
from mer_core.features.container import as_clip_features
from mer_core.models.base import MerClassifier, NetworkMixin
from mer_core.models.fusion import fit_temperature, norm_matched

__all__ = ["CNNClassifier", "LSTMClassifier"]

_NETWORK_PARAMS_DOC = """
    architecture : str
        Key of :data:`~mer_core.models.networks.ARCHITECTURES`.
    epochs : int
        Passes over the training clips (one random crop per clip per pass).
    batch_size : int
        Clips per mini-batch.
    lr : float
        Initial learning rate (cosine decay to 0 over all steps).
    optimizer : {"sgd", "adam"}
        SGD with Nesterov momentum, or Adam.
    momentum : float
        SGD momentum (ignored by Adam).
    weight_decay : float
        L2 penalty on all weights.
    time_pool : int
        Input frames averaged into one before the network (speed; see
        :func:`~mer_core.models.training.pool_time`).
    crop_frames : int or None
        Length of the random training crops and of the evaluation crops, in
        input frames (before pooling); None uses whole clips.
    band_pool : int
        Adjacent input bands averaged into one before the network (2 turns
        128 Mel bands into 64; 1 keeps them).
    real_crops : bool
        Draw training crops and place evaluation crops inside each clip's real
        audio (``X.valid_frames``), never in the zero-fill of short clips.
        False crops anywhere in the analysis window (the book's paper recipe).
    n_networks : int
        Networks trained with different seeds and averaged at the logit level
        (an ensemble; 1: a single network).
    mixup : float
        Mixup's Beta(alpha, alpha) parameter for the training crops (0: off).
    spec_augment : bool
        Two random frequency and two time masks per training crop.
    cross_fit : int
        Inner folds of the training clips, each training one more network
        that predicts the clips it did not see (0: off). Their out-of-fold
        logits fix the softmax temperature (``temperature_``), so the
        probabilities are calibrated on clips the networks were not trained
        on. Costs ``cross_fit`` extra networks.
    predict_with : {"full", "all", "select"}
        Which networks predict: ``"full"``, the one trained on all training
        clips; ``"all"``, that one and the ``cross_fit`` inner networks, their
        logits averaged (an ensemble the cross-fitting has already trained;
        the same as ``"full"`` without cross-fitting); ``"select"``, chosen
        on the inner folds: each inner fold trains a twin network with another
        seed, and ``"all"`` (then with the twins too) is chosen when the
        pairs' averaged logits beat the single networks' in mean inner
        macro-F1 (``ensemble_scores_``), else ``"full"``. Costs ``cross_fit``
        more networks.
    validation_fraction : float
        Share of the training clips held out to pick the best epoch (0: none).
    patience : int or None
        With validation, stop after this many epochs without a better loss.
    random_state : None, int or RandomState
        Seed of initialisation, dropout, crops and batch order.
    n_jobs : int or None
        Torch threads during fit and predict (None: leave torch's setting;
        -1: all CPUs). Determinism holds for a fixed value.
    progress : bool
        Show a tqdm bar over epochs.
    network_cache : str or None
        Folder where trained networks are kept, keyed by a digest of the
        training inputs, labels, architecture, training settings, seed and torch
        version. A fit whose key is present loads the network instead of
        training it again (so CNN, CNN-SVM and its ablations share one trained
        network per cross-validation fold). None (default) disables it.
"""


class _NetworkClassifier(NetworkMixin, MerClassifier):
    def _fields(self) -> list[str]:
        from mer_core.models.networks import network_input

        return [network_input(self.architecture)]

    def fit(self, X, y):
        """Train the network on clips ``X`` with labels ``y``.

        Parameters
        ----------
        X : ClipFeatures or dict
            Needs the field the architecture reads (``log_mel`` or ``mfcc``).
        y : array-like, shape (n_clips,)
            Class labels.

        Returns
        -------
        self
        """
        from mer_core.models.networks import pool_networks
        from mer_core.models.training import torch_session

        X = as_clip_features(X)
        codes = self._targets(y, len(X))
        (key,) = self._fields()
        X.require(key, type(self).__name__)
        seed = self._seed()
        if self.predict_with not in ("full", "all", "select"):
            raise ParameterError(
                f"predict_with must be 'full', 'all' or 'select', got {self.predict_with!r}"
            )
        select = self.predict_with == "select"
        with torch_session(seed, self.n_jobs):
            net, x, valid, oof, inner = self._fit_cross_fitted(X, codes, seed, twins=select)
        chosen = "full" if select else self.predict_with
        scores = self.ensemble_scores_
        if select and scores and scores["all"] > scores["full"]:
            chosen = "all"  # averaging two networks beat one on the inner folds
        if chosen == "all" and inner:
            net = pool_networks([*inner, net])
        setattr(self, self._net_attr, net)
        self.predict_with_ = chosen
        # an ensemble predicts with its members' mean logits at their own scale
        # (norm_matched), so a temperature fitted on fewer networks fits it: a
        # chosen ensemble's on the pairs' out-of-fold logits, made the same way
        if oof is None:
            self.temperature_ = 1.0
        elif chosen == "all" and select:
            pairs = np.stack([oof["logits"], oof["twin_logits"]], axis=1)
            self.temperature_ = fit_temperature(norm_matched(pairs), codes)
        else:
            self.temperature_ = fit_temperature(oof["logits"], codes)
        self._record_shapes(X, [key])
        self._fit_novelty(self._outputs(x, valid)["embedding"])
        return self

    def _novelty_input(self, X) -> np.ndarray:
        return self.embed(X)

    def _network_outputs(self, X) -> dict[str, np.ndarray]:
        """Crop-averaged ``logits`` and ``embedding`` of the clips ``X``."""
        check_is_fitted(self, self._net_attr)
        X = self._check_input(X)
        (key,) = self.input_shapes_
        out = self._outputs(self._pooled(X, key), self._valid(X, key))
        members = out.pop("member_logits", None)
        if members is not None and getattr(self, "predict_with_", "full") == "all":
            n, n_classes = out["logits"].shape
            members = members.reshape(n, -1, n_classes)
            out["logits"] = norm_matched(members).astype(np.float32)
        return out

    @staticmethod
    def _decision(logits: np.ndarray) -> np.ndarray:
        logits = logits.astype(np.float64)
        return logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits

    def _decision_and_representation(self, X) -> tuple[np.ndarray, np.ndarray]:
        out = self._network_outputs(X)
        return self._decision(out["logits"]), out["embedding"]

    def decision_function(self, X) -> np.ndarray:
        """Crop-averaged logits, shape ``(n_clips, n_classes)`` (1-D for two classes)."""
        return self._decision(self._network_outputs(X)["logits"])

    def embed(self, X) -> np.ndarray:
        """The network's embedding of each clip (crop-averaged), ``(n_clips, dim)``."""
        return self._network_outputs(X)["embedding"]


class CNNClassifier(_NetworkClassifier):
    __doc__ = f"""The CNN alone: log-Mel map -> CNN -> softmax (the paper's "CNN" rows).

    Parameters
    ----------{_NETWORK_PARAMS_DOC}
    Attributes
    ----------
    classes_ : np.ndarray
        Class labels, sorted.
    cnn_ : torch.nn.Module
        The trained network (eval mode).
    history_ : list of dict
        Per-epoch ``loss``, ``accuracy`` (training crops), ``lr``, ``seconds``
        (and ``val_loss``, ``val_accuracy``).
    n_epochs_, best_epoch_ : int
        Epochs run, and the epoch whose weights were kept.
    temperature_ : float
        Softmax temperature of ``predict_proba``: fitted on the out-of-fold
        logits with ``cross_fit``, else 1 (the network's own softmax). For an
        ensemble chosen by ``predict_with="select"``, fitted on the pairs'
        out-of-fold logits; an ensemble of ``predict_with="all"`` or
        ``"select"`` predicts with its members' mean logits at their own
        scale (:func:`~mer_core.models.fusion.norm_matched`), so that a
        temperature fitted on fewer networks fits it.
    cross_fitted_ : bool
        Whether ``temperature_`` comes from out-of-fold logits.
    predict_with_ : str
        The networks that predict, ``"full"`` or ``"all"`` (as chosen with
        ``predict_with="select"``).
    ensemble_scores_ : dict
        With ``predict_with="select"`` and cross-fitting, the inner folds' mean
        macro-F1 of one network (``"full"``) and of two averaged (``"all"``);
        else empty.
    input_shapes_ : dict
        Per-clip shape of each input field seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = {{"log_mel": rng.normal(size=(8, 16, 24)).astype(np.float16)}}
    >>> clf = CNNClassifier(epochs=1, batch_size=4, random_state=0, progress=False)
    >>> clf.fit(X, [0, 1] * 4).predict_proba(X).shape
    (8, 2)
    """

    _net_attr = "cnn_"

    def __init__(
        self,
        architecture: str = "yang_cnn",
        *,
        epochs: int = 20,
        batch_size: int = 32,
        lr: float = 0.01,
        optimizer: str = "sgd",
        momentum: float = 0.9,
        weight_decay: float = 5e-4,
        time_pool: int = 4,
        crop_frames: int | None = 432,
        validation_fraction: float = 0.0,
        patience: int | None = None,
        band_pool: int = 1,
        real_crops: bool = False,
        n_networks: int = 1,
        mixup: float = 0.0,
        spec_augment: bool = False,
        cross_fit: int = 0,
        predict_with: str = "full",
        random_state=None,
        n_jobs: int | None = None,
        progress: bool = True,
        network_cache: str | None = None,
    ):
        self.architecture = architecture
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.time_pool = time_pool
        self.crop_frames = crop_frames
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.band_pool = band_pool
        self.real_crops = real_crops
        self.n_networks = n_networks
        self.mixup = mixup
        self.spec_augment = spec_augment
        self.cross_fit = cross_fit
        self.predict_with = predict_with
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.progress = progress
        self.network_cache = network_cache


class LSTMClassifier(_NetworkClassifier):
    __doc__ = f"""The LSTM baseline: MFCC frame sequence -> BiLSTM -> softmax.

    Defaults: Adam (lr 1e-3, no weight decay; LSTMs train far more slowly with
    plain SGD), MFCC frames averaged by 8 (186 ms steps), random 20 s crops.

    Parameters
    ----------{_NETWORK_PARAMS_DOC}
    Attributes
    ----------
    classes_, history_, n_epochs_, best_epoch_, temperature_, cross_fitted_, input_shapes_
    predict_with_, ensemble_scores_
        As for :class:`CNNClassifier`.
    lstm_ : torch.nn.Module
        The trained network (eval mode).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = {{"mfcc": rng.normal(size=(8, 20, 64)).astype(np.float32)}}
    >>> clf = LSTMClassifier(epochs=1, batch_size=4, random_state=0, progress=False)
    >>> clf.fit(X, ["a", "b"] * 4).predict(X).shape
    (8,)
    """

    _net_attr = "lstm_"

    def __init__(
        self,
        architecture: str = "lstm",
        *,
        epochs: int = 30,
        batch_size: int = 32,
        lr: float = 1e-3,
        optimizer: str = "adam",
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        time_pool: int = 8,
        crop_frames: int | None = 864,
        validation_fraction: float = 0.0,
        patience: int | None = None,
        band_pool: int = 1,
        real_crops: bool = False,
        n_networks: int = 1,
        mixup: float = 0.0,
        spec_augment: bool = False,
        cross_fit: int = 0,
        predict_with: str = "full",
        random_state=None,
        n_jobs: int | None = None,
        progress: bool = True,
        network_cache: str | None = None,
    ):
        self.architecture = architecture
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.time_pool = time_pool
        self.crop_frames = crop_frames
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.band_pool = band_pool
        self.real_crops = real_crops
        self.n_networks = n_networks
        self.mixup = mixup
        self.spec_augment = spec_augment
        self.cross_fit = cross_fit
        self.predict_with = predict_with
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.progress = progress
        self.network_cache = network_cache
