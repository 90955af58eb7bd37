"""What every classifier of :mod:`mer_core.models` shares.

* targets: any labels (strings or integers); ``classes_`` holds them sorted,
  and the models work on their codes ``0..n_classes-1``;
* ``predict`` is the class of the largest ``decision_function`` value (for two
  classes, the sign of the one-column decision), so ``predict``,
  ``decision_function`` and ``predict_proba`` always agree;
* ``predict_proba`` is the softmax of the decision values divided by a
  temperature (``temperature_``; argmax unchanged): for the SVM-based models
  fitted on inner folds of the training clips (calibrated on clips the SVM
  was not fitted on); for the CNN and LSTM fitted on out-of-fold logits of
  inner networks with ``cross_fit``, else 1 (the network's own softmax);
* ``random_state`` (None, an int, or a ``RandomState``) is turned into one seed
  per ``fit``; with an int, fits are reproducible;
* the network part (:class:`NetworkMixin`) turns the estimator's parameters
  into :class:`~mer_core.models.training.TrainSettings`, trains, and computes
  crop-averaged outputs.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from mer_core.errors import MerError, ParameterError
from mer_core.features.container import ClipFeatures, as_clip_features
from mer_core.validation import check_bool, check_positive_int

__all__ = ["MerClassifier", "NetworkMixin", "PathPredictions", "network_key", "softmax"]


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax (numerically stable).

    Examples
    --------
    >>> softmax(np.array([[0.0, 0.0]]))
    array([[0.5, 0.5]])
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class MerClassifier(ClassifierMixin, BaseEstimator):
    """Base of the package's classifiers (not used directly)."""

    def _targets(self, y, n: int) -> np.ndarray:
        """Validate ``y`` against ``n`` clips, set ``classes_``, return the codes."""
        y = column_or_1d(np.asarray(y), warn=True)
        if len(y) != n:
            raise MerError(f"y has {len(y)} labels for {n} clips")
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise MerError(f"need at least 2 classes to fit a classifier, got {classes.tolist()}")
        self.classes_ = classes
        return codes.astype(np.int64)

    def _seed(self) -> int:
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def input_fields(self) -> list[str]:
        """The :class:`~mer_core.features.container.ClipFeatures` fields ``fit`` reads
        under the current parameters (once fitted: the fields it was fitted on).

        :func:`mer_core.extract.groups_for` turns them into the feature groups to extract.
        """
        if hasattr(self, "input_shapes_"):
            return list(self.input_shapes_)
        return self._fields()

    def _fields(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _check_input(self, X) -> ClipFeatures:
        check_is_fitted(self, "classes_")
        X = as_clip_features(X)
        fitted_on = getattr(self, "feature_config_", None)
        if fitted_on is not None and X.config is not None and X.config != fitted_on:
            raise MerError(
                f"X was extracted with {X.config}, but this {type(self).__name__} was fitted "
                f"on features extracted with {fitted_on}"
            )
        for field, shape in self.input_shapes_.items():
            arr = X.require(field, type(self).__name__)
            fixed = list(shape) if field in ("lowlevel", "chords", "musical") else list(shape[:1])
            got = list(arr.shape[1 : 1 + len(fixed)])
            if got != fixed:
                raise MerError(
                    f"{field} has shape {list(arr.shape[1:])} per clip, but the model was "
                    f"fitted on {list(shape)}"
                )
        return X

    def _record_shapes(self, X: ClipFeatures, fields) -> None:
        """Keep the input shapes and the front end ``X`` was extracted with (its provenance)."""
        self.input_shapes_ = {f: list(getattr(X, f).shape[1:]) for f in fields}
        self.feature_config_ = X.config

    def decision_function(self, X) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def predict(self, X) -> np.ndarray:
        """Predicted class of each clip (the largest decision value).

        Parameters
        ----------
        X : ClipFeatures or dict

        Returns
        -------
        np.ndarray, shape (n_clips,)
            Labels from ``classes_``.
        """
        d = self.decision_function(X)
        idx = (d > 0).astype(int) if d.ndim == 1 else d.argmax(axis=1)
        return self.classes_[idx]

    def _fit_novelty(self, Z: np.ndarray, *, n_components: int = 10, quantile: float = 0.99):
        """Learn how far from the training clips a clip may lie (see :meth:`novelty`).

        ``Z``: the training clips' representation (standardised SVM input, or
        the network embedding). Keeps the mean, the top principal axes with
        their scales, and the ``quantile`` of the training clips' distances as
        the threshold of :meth:`far_from_training`.
        """
        Z = np.asarray(Z, dtype=np.float64)
        mean = Z.mean(axis=0)
        U, S, Vt = np.linalg.svd(Z - mean, full_matrices=False)
        k = int(min(n_components, Vt.shape[0]))
        scale = np.maximum(S[:k] / np.sqrt(max(len(Z) - 1, 1)), 1e-9)
        self.novelty_mean_ = mean
        self.novelty_axes_ = Vt[:k]
        self.novelty_scale_ = scale
        self.novelty_threshold_ = float(np.quantile(self._distance(Z), quantile))

    def _distance(self, Z: np.ndarray) -> np.ndarray:
        proj = (np.asarray(Z, dtype=np.float64) - self.novelty_mean_) @ self.novelty_axes_.T
        return np.sqrt(((proj / self.novelty_scale_) ** 2).sum(axis=1))

    def novelty(self, X) -> np.ndarray:
        """Distance of each clip from the training clips, in units of the threshold.

        The Mahalanobis distance in the top principal axes of the training
        clips' representation, divided by the distance that 99 % of the
        training clips stay within: above 1, a clip is unlike anything the
        model was trained on, and its prediction deserves less trust.
        """
        check_is_fitted(self, "novelty_threshold_")
        return self._novelty_of(self._novelty_input(X))

    def _novelty_of(self, Z: np.ndarray) -> np.ndarray:
        return self._distance(Z) / max(self.novelty_threshold_, 1e-12)

    def far_from_training(self, X) -> np.ndarray:
        """``novelty(X) > 1`` for each clip (see :meth:`novelty`)."""
        return self.novelty(X) > 1.0

    def _novelty_input(self, X) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def _decision_and_representation(self, X) -> tuple[np.ndarray, np.ndarray]:
        """``decision_function(X)`` and the representation :meth:`novelty` measures,
        from one pass over ``X`` where the model computes both at once (overridden)."""
        return self.decision_function(X), self._novelty_input(X)

    def predict_proba(self, X) -> np.ndarray:
        """Softmax of the decision values, shape ``(n_clips, n_classes)`` (see module doc)."""
        return self._proba(self.decision_function(X))

    def _proba(self, d: np.ndarray) -> np.ndarray:
        if d.ndim == 1:
            d = np.column_stack([-d / 2, d / 2])
        return softmax(d / float(getattr(self, "temperature_", 1.0)))

    def predict_paths(
        self, paths, *, cache_dir=None, n_jobs: int = 1, progress: bool = False
    ) -> PathPredictions:
        """Predict audio files, extracting their features as the model's inputs were.

        The front end is the model's ``feature_config_`` (kept by ``fit`` from
        the features it was fitted on, and restored by
        :func:`~mer_core.models.load_model` from the saved model, under its
        digest), so features are always extracted the way the model was
        trained; only the feature groups the model reads are computed. Files
        that cannot be read are reported in ``failures``, not raised.

        Parameters
        ----------
        paths : sequence of str or Path
            Audio files.
        cache_dir : path, optional
            Feature cache (default :func:`mer_core.extract.default_cache_dir`).
        n_jobs : int
            Parallel feature workers.
        progress : bool
            Show a progress bar over files.

        Returns
        -------
        PathPredictions
            ``labels`` and per-class ``proba`` (:meth:`predict_proba`) of each
            file that could be read, with ``classes``, ``scheme`` and ``failures``.
        """
        from mer_core.extract import FeatureConfig, extract_features, groups_for

        check_is_fitted(self, "classes_")
        config = getattr(self, "feature_config_", None)
        if not isinstance(config, FeatureConfig):
            raise MerError(
                f"this {type(self).__name__} carries no feature configuration, so it cannot "
                "read audio; fit it on extract_features(...) or pass "
                "save_model(..., feature_config=...), and load it"
            )
        X = extract_features(
            list(paths),
            config=config,
            groups=groups_for(self.input_shapes_),
            cache_dir=cache_dir,
            n_jobs=n_jobs,
            progress=progress,
        )
        classes = [c.item() if isinstance(c, np.generic) else c for c in self.classes_]
        proba = np.zeros((0, len(classes)))
        novelty = None
        if len(X):  # one pass: the decision values and the novelty share the features
            if hasattr(self, "novelty_threshold_"):
                d, Z = self._decision_and_representation(X)
                novelty = self._novelty_of(Z)
            else:
                d = self.decision_function(X)
            proba = self._proba(d)
        return PathPredictions(
            paths=list(X.paths),
            labels=[classes[i] for i in proba.argmax(axis=1)],
            proba=proba,
            classes=classes,
            scheme=getattr(self, "scheme_", None),
            failures=list(X.failures),
            novelty=novelty,
        )


@dataclass
class PathPredictions:
    """Predictions of audio files (:meth:`MerClassifier.predict_paths`).

    Attributes
    ----------
    paths : list of str
        Files that could be read, in input order.
    labels : list
        Predicted class of each (the largest probability).
    proba : np.ndarray, shape (len(paths), len(classes))
        Per-class probabilities (:meth:`MerClassifier.predict_proba`).
    classes : list
        Column order of ``proba``.
    scheme : str or None
        Label scheme the model was trained on.
    failures : list of dict
        ``{"path", "error"}`` of each file that could not be read.
    novelty : np.ndarray or None
        :meth:`MerClassifier.novelty` of each file (above 1: unlike the
        training music); None for a model saved without it.
    """

    paths: list
    labels: list
    proba: np.ndarray
    classes: list
    scheme: str | None = None
    failures: list = dataclasses.field(default_factory=list)
    novelty: np.ndarray | None = None

    def far(self) -> list[bool]:
        """Whether each file lies far from the training music (``novelty > 1``)."""
        if self.novelty is None:
            return [False] * len(self.paths)
        return [bool(v > 1.0) for v in self.novelty]

    def scores(self) -> list[dict]:
        """``{class: probability}`` of each file, as plain Python numbers."""
        return [
            {str(c): float(v) for c, v in zip(self.classes, row, strict=True)}
            for row in self.proba
        ]


class NetworkMixin:
    """Train and apply the estimator's network (parameters named as in the classifiers)."""

    _net_attr = "cnn_"

    def _settings(self, desc: str):
        from mer_core.models.training import TrainSettings

        check_positive_int(self.time_pool, "time_pool")
        check_positive_int(self.crop_frames, "crop_frames", allow_none=True)
        check_bool(self.progress, "progress")
        if self.n_jobs is not None and (
            isinstance(self.n_jobs, bool)
            or not isinstance(self.n_jobs, numbers.Integral)
            or not (self.n_jobs == -1 or self.n_jobs >= 1)
        ):
            raise ParameterError(
                f"n_jobs must be None, -1 or a positive integer, got {self.n_jobs!r}"
            )
        return TrainSettings(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            optimizer=self.optimizer,
            momentum=self.momentum,
            weight_decay=self.weight_decay,
            crop=self._crop(),
            validation_fraction=self.validation_fraction,
            patience=self.patience,
            mixup=self.mixup,
            spec_augment=self.spec_augment,
            progress=self.progress,
            desc=desc,
        )

    def _crop(self) -> int | None:
        return None if self.crop_frames is None else max(1, self.crop_frames // self.time_pool)

    def _pooled(self, X: ClipFeatures, key: str) -> np.ndarray:
        """The network's input maps: frames averaged by ``time_pool``, bands by ``band_pool``."""
        from mer_core.models.training import pool_time

        x = pool_time(X.require(key, type(self).__name__), self.time_pool)
        k = check_positive_int(self.band_pool, "band_pool")
        if k > 1:
            if x.shape[1] % k:
                raise ParameterError(f"band_pool={k} must divide the {x.shape[1]} input bands")
            x = x.reshape(x.shape[0], x.shape[1] // k, k, x.shape[2]).mean(axis=2)
        return x

    def _valid(self, X: ClipFeatures, key: str) -> np.ndarray | None:
        """Pooled frames of real audio per clip (None: crop anywhere in the window)."""
        if not check_bool(self.real_crops, "real_crops") or X.valid_frames is None:
            return None
        frames = X.require(key, type(self).__name__).shape[2]
        return np.maximum(1, X.real_frames(frames) // self.time_pool)

    def _member_seeds(self, seed: int) -> list[int]:
        k = check_positive_int(self.n_networks, "n_networks")
        return [int(seed) if m == 0 else int((seed + 7919 * m) % 2**31) for m in range(k)]

    def network_signature(self, seed: int) -> str:
        """What the trained network depends on besides the training data.

        Two estimators with the same signature, fitted on the same clips, train
        (or load) the same network: cross-validation on a cluster runs the
        second after the first, so it finds the network in ``network_cache``.
        """
        from mer_core.io import json_digest

        settings = dataclasses.asdict(self._settings(desc=""))
        for k in ("progress", "desc"):
            settings.pop(k, None)
        return json_digest(
            {
                "architecture": self.architecture,
                "settings": settings,
                "inputs": [self.time_pool, self.band_pool, bool(self.real_crops)],
                "seeds": self._member_seeds(seed),
            },
            length=32,
        )

    def _fit_network(self, X: ClipFeatures, codes: np.ndarray, seed: int):
        """Train ``n_networks`` fresh networks (or load them from ``network_cache``).

        Member ``m`` is trained with its own seed (member 0 with ``seed``); with
        more than one member the result is a
        :class:`~mer_core.models.networks.NetworkEnsemble`.

        Returns (network, pooled training maps, pooled real frames or None);
        sets ``history_`` and ``best_epoch_`` (of member 0), ``n_epochs_``,
        ``network_seconds_`` (seconds all members' training took, also when
        loaded), ``network_loaded_seconds_`` (the part of it spent training the
        members loaded from the cache, so not in this fit's own time),
        ``network_cached_`` (every member came from the cache) and
        ``network_key_`` (:func:`network_key` of member 0, whose history is
        ``history_``: its folder name in ``network_cache``).
        """
        import time
        from pathlib import Path

        from mer_core.models.networks import NetworkEnsemble, build_network, network_input
        from mer_core.models.training import band_stats, train_network

        settings = self._settings(desc=type(self).__name__)
        key = network_input(self.architecture)
        x = self._pooled(X, key)
        valid = self._valid(X, key)
        cache = getattr(self, "network_cache", None)
        members, infos, seconds, cached, loaded_seconds = [], [], 0.0, True, 0.0
        stats = None
        keys = []
        for m_seed in self._member_seeds(seed):
            net = build_network(self.architecture, x.shape[1], len(self.classes_))
            keys.append(network_key(self.architecture, settings, m_seed, x, codes, valid))
            entry = None
            if cache is not None:
                entry = Path(cache) / keys[-1]
                loaded = _load_network(entry, net)
                if loaded is not None:
                    members.append(net)
                    infos.append(loaded)
                    seconds += loaded["seconds"]
                    loaded_seconds += loaded["seconds"]
                    continue
            cached = False
            if stats is None:
                stats = band_stats(x)
            net.norm.set_stats(*stats)
            if m_seed != seed:
                torch_seed(m_seed)
            t0 = time.perf_counter()
            info = train_network(
                net, x, codes, settings, np.random.default_rng(m_seed), valid=valid
            )
            info["seconds"] = time.perf_counter() - t0
            seconds += info["seconds"]
            if entry is not None:
                _store_network(entry, net, info, info["seconds"])
            members.append(net)
            infos.append(info)
        self.network_key_ = keys[0]
        self.history_ = infos[0]["history"]
        self.n_epochs_ = infos[0]["n_epochs"]
        self.best_epoch_ = infos[0]["best_epoch"]
        self.network_seconds_ = seconds
        self.network_loaded_seconds_ = loaded_seconds
        self.network_cached_ = cached
        if len(members) == 1:
            net = members[0]
        else:
            net = NetworkEnsemble(members)
            net.architecture = self.architecture
            net.build_args = [x.shape[1], len(self.classes_), len(members)]
        return net, x, valid

    def _fit_cross_fitted(
        self, X: ClipFeatures, codes: np.ndarray, seed: int, *, twins: bool = False
    ):
        """:meth:`_fit_network`, plus out-of-fold outputs of the training clips.

        With ``cross_fit = k`` (0: off), the training clips are split into
        ``k`` stratified inner folds (artist-grouped when ``X.groups`` says
        who made each clip: :func:`~mer_core.evaluation.protocol.inner_folds`);
        each fold's clips are predicted by a
        network trained (or loaded from ``network_cache``) on the other
        folds, with its own seed. These out-of-fold outputs are what a
        network says about music it has not heard, unlike the outputs of the
        network trained on all clips (returned as before, and the one that
        predicts). ``network_seconds_`` and ``network_loaded_seconds_`` then
        count every network, ``network_cached_`` is True only if all were loaded, and
        ``cross_fitted_`` says whether out-of-fold outputs were made (not when
        a class has fewer than ``k`` clips, or there are fewer than ``k`` groups).

        With ``twins``, each inner fold trains a second network on the same
        clips with another seed, and ``ensemble_scores_`` holds the inner
        folds' mean macro-F1 of one network (``"full"``) and of the two
        averaged (``"all"``): whether averaging networks helps, measured on
        clips neither network saw. The out-of-fold outputs then also carry
        the twin's logits (``"twin_logits"``) and the pair's averaged logits
        (``"pair_logits"``), and the twins join
        the inner networks.

        Returns (network, pooled maps, pooled real frames, out-of-fold
        ``{"logits", "embedding"}`` or None, the inner networks: a list, empty
        without cross-fitting).
        """
        from sklearn.metrics import f1_score

        from mer_core.evaluation.protocol import inner_folds
        from mer_core.models.networks import network_input
        from mer_core.models.training import network_outputs

        k = self.cross_fit
        if k != 0 and (check_positive_int(k, "cross_fit") < 2):
            raise ParameterError(f"cross_fit must be 0 (off) or at least 2, got {k!r}")
        oof, seconds, cached, inner, loaded = None, 0.0, True, [], 0.0
        scores = {"full": [], "all": []}
        folds = inner_folds(codes, n_splits=k, seed=seed, groups=X.groups) if k else None
        if folds is not None:
            key = network_input(self.architecture)
            for j, (tr, va) in enumerate(folds):
                inner_seed = int((seed + 104729 * (j + 1)) % 2**31)
                x_va, valid_va = self._pooled(X[va], key), self._valid(X[va], key)
                out = None
                for m_seed in [inner_seed, int((inner_seed + 7919) % 2**31)][: 1 + twins]:
                    torch_seed(m_seed)
                    net, _, _ = self._fit_network(X[tr], codes[tr], m_seed)
                    inner.append(net)
                    seconds += self.network_seconds_
                    loaded += self.network_loaded_seconds_
                    cached = cached and self.network_cached_
                    got = network_outputs(net, x_va, crop=self._crop(), valid=valid_va)
                    if out is None:
                        out = got
                        continue
                    out["twin_logits"] = got["logits"]
                    out["pair_logits"] = (out["logits"] + got["logits"]) / 2
                    for name, logits in (("full", out["logits"]), ("all", out["pair_logits"])):
                        f1 = f1_score(codes[va], logits.argmax(axis=1), average="macro")
                        scores[name].append(f1)
                if oof is None:
                    oof = {n: np.zeros((len(codes), v.shape[1]), v.dtype) for n, v in out.items()}
                for n, v in out.items():
                    oof[n][va] = v
            torch_seed(seed)  # the full network as without cross-fitting
        net, x, valid = self._fit_network(X, codes, seed)
        self.network_seconds_ += seconds
        self.network_loaded_seconds_ += loaded
        self.network_cached_ = self.network_cached_ and cached
        self.cross_fitted_ = oof is not None
        self.ensemble_scores_ = (
            {n: round(float(np.mean(v)), 6) for n, v in scores.items()} if scores["all"] else {}
        )
        return net, x, valid, oof, inner

    def _outputs(self, x: np.ndarray, valid: np.ndarray | None = None) -> dict[str, np.ndarray]:
        from mer_core.models.training import network_outputs, torch_session

        with torch_session(None, self.n_jobs):
            return network_outputs(
                getattr(self, self._net_attr), x, crop=self._crop(), valid=valid
            )


def torch_seed(seed: int) -> None:
    """Reseed torch's global RNG (inside a :func:`~mer_core.models.training.torch_session`)."""
    import torch

    torch.manual_seed(int(seed))


def network_key(architecture: str, settings, seed: int, x, codes, valid=None) -> str:
    """Key of a trained network: a digest of everything its training depends on.

    The name of its folder in ``network_cache`` and the ``network_key_`` of
    the estimator that trained (or loaded) it.
    """
    import hashlib

    import torch

    from mer_core.io import json_digest

    h = hashlib.sha256()
    h.update(np.ascontiguousarray(x).view(np.uint8).ravel())
    h.update(str(x.shape).encode())
    h.update(np.ascontiguousarray(codes, dtype=np.int64).tobytes())
    if valid is not None:
        h.update(b"valid")
        h.update(np.ascontiguousarray(valid, dtype=np.int64).tobytes())
    train = {
        k: v for k, v in dataclasses.asdict(settings).items() if k not in ("progress", "desc")
    }
    key = json_digest(
        {
            "architecture": architecture,
            "settings": train,
            "seed": int(seed),
            "data": h.hexdigest(),
            "torch": torch.__version__,
            "format": 1,
        },
        length=32,
    )
    return key


def _load_network(entry, net):
    """Load a cached network into ``net``; None when absent or unusable (then retrain)."""
    import json

    import torch

    try:
        meta = json.loads((entry / "meta.json").read_text())
        state = torch.load(entry / "weights.pt", map_location="cpu", weights_only=True)
        net.load_state_dict(state)
    except Exception:  # any damage: train again rather than trust the entry
        return None
    return meta


def _store_network(entry, net, info: dict, seconds: float) -> None:
    """Write a trained network to the cache atomically (weights, then its metadata)."""
    import io

    import torch

    from mer_core.io import atomic_write_bytes, atomic_write_json

    buf = io.BytesIO()
    torch.save(net.state_dict(), buf)
    atomic_write_bytes(entry / "weights.pt", buf.getvalue())
    atomic_write_json(
        entry / "meta.json",
        {
            "history": info["history"],
            "n_epochs": info["n_epochs"],
            "best_epoch": info["best_epoch"],
            "seconds": seconds,
        },
    )
