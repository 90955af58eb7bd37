"""The paper's model: CNN features fused with hand-made features into a linear SVM.

Section 3.2 of the paper: "the output of the last fully connected layer of CNN
is used as the input of the SVM classifier", features of different modalities
are fused at that layer, and "the support vector machine used in CNN-SVM is a
linear support vector machine" (eq. 6, ``f(x) = w * phi(x) + b``).

``fit`` on the training clips only:

1. trains the CNN (:mod:`mer_core.models.training`: SGD, random 10 s crops);
2. takes each clip's embedding (the last hidden fully connected layer, averaged
   over evaluation crops) -- ``use_embedding``;
3. screens the low-level vector (``FeatureScreener``: ``n_screened`` best by
   ANOVA, correlation pruning) -- ``use_lowlevel``;
4. appends the chord vector -- ``use_chords``;
5. appends the text encoding (TF-IDF + SVD of ``X.text``) -- ``use_text``, off
   by default;
6. standardises the concatenation (``StandardScaler``) and fits a
   ``LinearSVC`` (squared hinge, one-vs-rest) on it.

The ablations of the book are switches: ``use_embedding=True,
use_lowlevel=False, use_chords=False`` is "embedding alone"; ``use_chords=False``
removes the chord vector; ``use_embedding=False`` skips the CNN altogether.
By default the SVM is fitted on embeddings of the clips the CNN was trained on
(the CNN-SVM recipe as the paper describes it), which are more separable than
those of unseen clips, so the SVM learns to trust them more than it should;
``cross_fit`` fits it on out-of-fold outputs instead (stacking).
"""

from __future__ import annotations

import numpy as np
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from mer_core.errors import MerError, ParameterError
from mer_core.features.container import ClipFeatures, as_clip_features
from mer_core.models.base import MerClassifier, NetworkMixin
from mer_core.models.fusion import (
    C_grid,
    TextEncoder,
    chord_columns,
    fit_support,
    fit_svm_inputs,
    make_screener,
    musical_mode,
    select_C,
    texture_block,
)
from mer_core.validation import check_bool, check_positive_int

__all__ = ["CNNSVMClassifier"]


class CNNSVMClassifier(NetworkMixin, MerClassifier):
    """CNN embedding + screened low-level + chord (+ text) features -> linear SVM.

    Parameters
    ----------
    architecture : str
        Network of the embedding (key of
        :data:`~mer_core.models.networks.ARCHITECTURES`; ``"yang_cnn"``).
    epochs, batch_size, lr, optimizer, momentum, weight_decay, time_pool, \
crop_frames, validation_fraction, patience, band_pool, real_crops, n_networks, mixup, \
spec_augment
        CNN training, as for :class:`~mer_core.models.neural.CNNClassifier`.
    cnn_output : {"embedding", "logits"}
        What the CNN hands to the SVM: the last hidden fully connected layer
        (the embedding, 128 values per network) or the output layer's values
        before the softmax (one per class; averaged over ``n_networks``).
    cross_fit : int
        Inner folds of the training clips (0: off). The SVM's training rows
        then get the CNN outputs of networks that did not train on them
        (out-of-fold, one network per inner fold), like the outputs of the
        clips it will be asked about, instead of the far more separable
        outputs of clips the CNN has fitted; predictions still use the CNN
        trained on all clips. Costs ``cross_fit`` extra networks. Needs
        ``cnn_output="logits"``: each network's hidden layer has its own
        coordinates, while the output layers all score the same classes.
    predict_with : {"full", "select"}
        Which networks give the CNN block: ``"full"``, the CNN trained on all
        clips (the SVM's training rows get single cross-fitted networks'
        outputs); ``"select"``, chosen on the inner folds that choose ``C``:
        each inner fold also trains a twin network, and the SVM is fitted
        both on the single networks' out-of-fold outputs and on the pairs'
        averaged ones; when the pairs win (best inner macro-F1,
        ``ensemble_scores_``) the SVM keeps them and every network of the
        fit, averaged, gives the CNN block of new clips. Needs ``cross_fit``
        (without it: ``"full"``); costs ``cross_fit`` more networks.
    C : float or sequence of float
        Regularisation of the linear SVM; a sequence is a grid searched by
        3-fold inner cross-validation on the training clips (``C_``,
        ``C_scores_``).
    use_embedding, use_lowlevel, use_chords, use_text : bool
        Feature blocks fused into the SVM's input (see the module docstring).
    use_texture : bool
        Add the log-Mel band statistics of
        :mod:`mer_core.features.texture` (over each clip's real frames).
    use_musical : bool or "select"
        Add the musical descriptors of :mod:`mer_core.features.musical`
        (needs ``musical``); ``"select"`` decides on the inner folds that
        choose ``C``: the block stays only if it raises the inner macro-F1
        (``use_musical_``, ``block_scores_``).
    texture_bands : int
        Groups of Mel bands of the texture block.
    chord_columns : {"all", "summary"}
        The whole chord vector, or its clip-level summary only
        (:data:`~mer_core.models.fusion.CHORD_SUMMARY`).
    screening : {"anova", "mutual_info"} or None
        Screening score of the low-level vector; None keeps every feature.
    n_screened : int, float or "all"
        Low-level features kept (``FeatureScreener``'s ``k``).
    corr_threshold : float
        Largest absolute correlation between kept low-level features.
    text_components : int
        Dimensions of the text encoding.
    svm_max_iter : int
        Iteration cap of ``LinearSVC``.
    svm_scores : None, float or sequence of float
        None: off. Else the ``C`` grid of an RBF-kernel SVM on the hand-made
        blocks (low-level, texture, chords) whose decision values (one per
        class) join the linear SVM's input as one more block
        (``"svm_scores"``), as the CNN's output layer does: cross-fitted on
        the inner folds of ``cross_fit`` (5 when 0) for the training rows,
        each inner fold choosing its own ``C`` on folds of its own
        (:func:`~mer_core.models.fusion.select_C`), and from the RBF SVM
        fitted on all training clips for new ones. The linear SVM then reads
        what a kernel machine makes of the hand-made features beside the
        features themselves.
    random_state : None, int or RandomState
        Seed of the CNN, the screening, the text SVD and the SVM solver.
    n_jobs : int or None
        Torch threads during fit and predict (None: leave torch's setting).
    progress : bool
        Show a tqdm bar over the CNN's epochs.
    network_cache : str or None
        Folder where trained networks are kept, keyed by a digest of the
        training inputs, labels, architecture, training settings, seed and torch
        version. A fit whose key is present loads the network instead of
        training it again (so CNN, CNN-SVM and its ablations share one trained
        network per cross-validation fold). None (default) disables it.

    Attributes
    ----------
    classes_ : np.ndarray
    cnn_ : torch.nn.Module or None
        The trained CNN (None with ``use_embedding=False``).
    history_ : list of dict
        Per-epoch CNN training record (empty without the CNN).
    n_epochs_, best_epoch_ : int
    network_key_ : str or None
        Key of the trained CNN (its folder in ``network_cache``); None without it.
    cross_fitted_ : bool
        Whether the SVM was fitted on out-of-fold CNN outputs (``cross_fit``).
    predict_with_ : str
        ``"all"`` when the CNN block comes from every network averaged (chosen
        with ``predict_with="select"``), else ``"full"``.
    ensemble_scores_ : dict
        With ``predict_with="select"`` and cross-fitting, the best inner
        macro-F1 of the SVM on single networks' outputs (``"full"``) and on
        the pairs' (``"all"``); else empty.
    screener_ : transformer or None
        Fitted low-level screening.
    lowlevel_support_ : np.ndarray of bool or None
        Kept low-level columns.
    text_encoder_ : TextEncoder or None
    scaler_ : StandardScaler
    C_ : float
        The SVM's ``C`` (chosen on inner folds when ``C`` is a grid).
    C_scores_ : dict
        Inner-fold macro-F1 of each ``C`` of the grid (empty for a fixed ``C``).
    temperature_ : float
        Softmax temperature of ``predict_proba``, fitted on the inner folds'
        out-of-fold decision values (:func:`~mer_core.models.fusion.fit_temperature`).
    use_musical_ : bool
        Whether the musical descriptors are in the SVM's input.
    block_scores_ : dict
        With ``use_musical="select"``, the best inner macro-F1 with and without
        the musical descriptors (empty otherwise).
    score_scaler_, score_svm_ : StandardScaler and SVC, or None
        The RBF SVM of ``svm_scores`` (None when off).
    svm_ : LinearSVC
        Fitted on class codes ``0..n_classes-1``; ``svm_.coef_`` has one column per
        fused feature.
    feature_names_ : list of str
        Names of the SVM's input columns (``emb_000``..., low-level names,
        chord names, ``text_00``...).
    blocks_ : dict
        ``block -> [start, stop)`` columns of each fused block in the SVM input.
    input_shapes_ : dict

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 6)
    >>> X = {"log_mel": rng.normal(size=(12, 16, 24)), "chords": rng.normal(size=(12, 3))}
    >>> clf = CNNSVMClassifier(epochs=1, batch_size=4, use_lowlevel=False,
    ...                        random_state=0, progress=False).fit(X, y)
    >>> clf.blocks_
    {'embedding': [0, 128], 'chords': [128, 131]}
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
        cnn_output: str = "embedding",
        cross_fit: int = 0,
        predict_with: str = "full",
        C=0.1,
        use_embedding: bool = True,
        use_lowlevel: bool = True,
        use_chords: bool = True,
        use_text: bool = False,
        use_texture: bool = False,
        use_musical: bool | str = False,
        texture_bands: int = 32,
        chord_columns: str = "all",
        screening: str | None = "anova",
        n_screened=40,
        corr_threshold: float = 0.95,
        text_components: int = 16,
        svm_max_iter: int = 10000,
        svm_scores=None,
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
        self.cnn_output = cnn_output
        self.cross_fit = cross_fit
        self.predict_with = predict_with
        self.C = C
        self.use_embedding = use_embedding
        self.use_lowlevel = use_lowlevel
        self.use_chords = use_chords
        self.use_text = use_text
        self.use_texture = use_texture
        self.use_musical = use_musical
        self.texture_bands = texture_bands
        self.chord_columns = chord_columns
        self.screening = screening
        self.n_screened = n_screened
        self.corr_threshold = corr_threshold
        self.text_components = text_components
        self.svm_max_iter = svm_max_iter
        self.svm_scores = svm_scores
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.progress = progress
        self.network_cache = network_cache

    def _blocks(self) -> list[str]:
        switches = {
            "embedding": check_bool(self.use_embedding, "use_embedding"),
            "lowlevel": check_bool(self.use_lowlevel, "use_lowlevel"),
            "texture": check_bool(self.use_texture, "use_texture"),
            "chords": check_bool(self.use_chords, "use_chords"),
            "musical": musical_mode(self.use_musical) != "off",
            "text": check_bool(self.use_text, "use_text"),
        }
        blocks = [b for b, on in switches.items() if on]
        if not blocks:
            raise MerError("CNNSVMClassifier has nothing to fuse: every use_* switch is False")
        return blocks

    def _fields(self) -> list[str]:
        """The fields the blocks read (``text`` aside)."""
        from mer_core.models.networks import network_input

        blocks = self._blocks()
        fields = []
        if "embedding" in blocks:
            fields.append(network_input(self.architecture))
        if "texture" in blocks and "log_mel" not in fields:
            fields.append("log_mel")
        return fields + [b for b in ("lowlevel", "chords", "musical") if b in blocks]

    def fit(self, X, y):
        """Train the CNN, fuse the feature blocks and fit the linear SVM.

        Parameters
        ----------
        X : ClipFeatures or dict
            Needs ``log_mel`` (embedding), ``lowlevel``, ``chords`` and ``text``
            as the ``use_*`` switches ask.
        y : array-like, shape (n_clips,)

        Returns
        -------
        self
        """
        from mer_core.models.networks import pool_networks
        from mer_core.models.training import torch_session

        grid = C_grid(self.C)
        check_positive_int(self.svm_max_iter, "svm_max_iter")
        if self.cnn_output not in ("embedding", "logits"):
            raise ParameterError(
                f"cnn_output must be 'embedding' or 'logits', got {self.cnn_output!r}"
            )
        blocks = self._blocks()
        if self.cross_fit and self.cnn_output == "embedding" and "embedding" in blocks:
            raise ParameterError(
                f"cross_fit={self.cross_fit!r} needs cnn_output='logits': the hidden layers of "
                "different networks do not share coordinates, their output layers do"
            )
        if self.predict_with not in ("full", "select"):
            raise ParameterError(
                f"predict_with must be 'full' or 'select', got {self.predict_with!r}"
            )
        select = self.predict_with == "select"
        X = as_clip_features(X)
        codes = self._targets(y, len(X))
        who = type(self).__name__
        fields = self._fields()
        for f in fields:
            X.require(f, who)
        if "text" in blocks and X.text is None:
            raise MerError(f"{who}(use_text=True) needs X.text (one string per clip)")
        seed = self._seed()

        parts, names, spans = [], [], {}
        self.cnn_, self.history_, self.n_epochs_, self.best_epoch_ = None, [], 0, 0
        self.network_key_, self.cross_fitted_ = None, False
        pair, inner = None, []
        if "embedding" in blocks:
            with torch_session(seed, self.n_jobs):
                self.cnn_, x, valid, oof, inner = self._fit_cross_fitted(
                    X, codes, seed, twins=select and self._cnn_key() == "logits"
                )
            out = (self._outputs(x, valid) if oof is None else oof)[self._cnn_key()]
            parts.append(out.astype(np.float64))
            if oof is not None and "pair_logits" in oof:
                pair = oof["pair_logits"].astype(np.float64)  # the candidate CNN block
            prefix = "emb" if self.cnn_output == "embedding" else "cnn_logit"
            names += [f"{prefix}_{i:03d}" for i in range(parts[-1].shape[1])]
            del x
        self.screener_ = self.lowlevel_support_ = None
        if "lowlevel" in blocks:
            low = np.asarray(X.lowlevel, dtype=np.float64)
            if self.screening is None:
                self.lowlevel_support_ = np.ones(low.shape[1], dtype=bool)
            else:
                self.screener_ = make_screener(
                    self.screening, self.n_screened, self.corr_threshold, seed
                )
                self.lowlevel_support_ = fit_support(self.screener_, low, codes)
            parts.append(low[:, self.lowlevel_support_])
            names += [
                n
                for n, keep in zip(X.column_names("lowlevel"), self.lowlevel_support_, strict=True)
                if keep
            ]
        if "texture" in blocks:
            check_positive_int(self.texture_bands, "texture_bands")
            block, block_names = texture_block(X, self.texture_bands)
            parts.append(block)
            names += block_names
        self.chord_support_ = None
        if "chords" in blocks:
            chord_names = X.column_names("chords")
            self.chord_support_ = chord_columns(chord_names, self.chord_columns)
            parts.append(np.asarray(X.chords, dtype=np.float64)[:, self.chord_support_])
            names += [n for n, k in zip(chord_names, self.chord_support_, strict=True) if k]
        if "musical" in blocks:
            parts.append(np.asarray(X.musical, dtype=np.float64))
            names += X.column_names("musical")
        self.text_encoder_ = None
        if "text" in blocks:
            check_positive_int(self.text_components, "text_components")
            self.text_encoder_ = TextEncoder(
                n_components=self.text_components, random_state=seed
            ).fit(X.text)
            parts.append(self.text_encoder_.transform(X.text))
            names += [f"text_{i:02d}" for i in range(parts[-1].shape[1])]
        start = 0
        for block, part in zip(blocks, parts, strict=True):
            spans[block] = [start, start + part.shape[1]]
            start += part.shape[1]
        self.score_scaler_ = self.score_svm_ = None
        if self.svm_scores is not None:
            hand = [parts[blocks.index(b)] for b in _SCORED if b in blocks]
            if not hand:
                raise MerError(
                    "svm_scores needs a hand-made block (use_lowlevel, use_texture or use_chords)"
                )
            scores, self.score_scaler_, self.score_svm_ = _cross_fitted_scores(
                np.hstack(hand),
                codes,
                C_grid(self.svm_scores),
                seed=seed,
                n_splits=self.cross_fit or 5,
                groups=X.groups,
            )
            parts.append(scores)
            spans["svm_scores"] = [start, start + scores.shape[1]]
            names += [f"svm_score_{i}" for i in range(scores.shape[1])]
        Z = np.hstack(parts)

        def make(C):
            return LinearSVC(C=C, max_iter=self.svm_max_iter, random_state=seed)

        optional = None
        if musical_mode(self.use_musical) == "select":
            optional = ("musical", *spans["musical"])
        fit = fit_svm_inputs(make, Z, codes, grid, seed=seed, optional=optional, groups=X.groups)
        self.predict_with_, self.ensemble_scores_ = "full", {}
        if pair is not None:  # the pairs' averaged outputs as the CNN block, on the same folds
            lo, hi = spans["embedding"]
            Z_pair = np.hstack([Z[:, :lo], pair, Z[:, hi:]])
            fit_pair = fit_svm_inputs(
                make, Z_pair, codes, grid, seed=seed, optional=optional, groups=X.groups
            )
            self.ensemble_scores_ = {"full": _best(fit), "all": _best(fit_pair)}
            if self.ensemble_scores_["all"] > self.ensemble_scores_["full"]:
                fit, Z = fit_pair, Z_pair
                self.predict_with_ = "all"
                self.cnn_ = pool_networks([*inner, self.cnn_])
        self.scaler_, Zs = fit["scaler"], fit["Zs"]
        self.C_, self.C_scores_ = fit["C"], fit["C_scores"]
        self.temperature_, self.block_scores_ = fit["temperature"], fit["block_scores"]
        if len(fit["keep"]) < Z.shape[1]:  # the musical block was dropped
            lo, hi = spans["musical"]
            names = [names[i] for i in fit["keep"]]
            fields = [f for f in fields if f != "musical"]
            spans = {
                b: [a - (hi - lo) * (a >= hi), e - (hi - lo) * (e > hi)]
                for b, (a, e) in spans.items()
                if b != "musical"
            }
        self.use_musical_ = "musical" in spans
        self._record_shapes(X, fields)
        self.blocks_ = spans
        self.feature_names_ = names
        self.svm_ = make(self.C_).fit(Zs, codes)
        self._fit_novelty(Zs)
        return self

    def _novelty_input(self, X) -> np.ndarray:
        return self.fused_features(X)

    def _cnn_key(self) -> str:
        return "embedding" if self.cnn_output == "embedding" else "logits"

    def _fused(self, X: ClipFeatures) -> np.ndarray:
        from mer_core.models.networks import network_input

        parts: dict[str, np.ndarray] = {}  # in the order of the fused input
        if self.cnn_ is not None:
            key = network_input(self.architecture)
            out = self._outputs(self._pooled(X, key), self._valid(X, key))
            parts["embedding"] = out[self._cnn_key()].astype(np.float64)
        if self.lowlevel_support_ is not None:
            low = np.asarray(X.lowlevel, dtype=np.float64)
            parts["lowlevel"] = low[:, self.lowlevel_support_]
        if "texture" in self.blocks_:
            parts["texture"] = texture_block(X, self.texture_bands)[0]
        if "chords" in self.blocks_:
            chords = np.asarray(X.chords, dtype=np.float64)
            support = getattr(self, "chord_support_", None)
            parts["chords"] = chords if support is None else chords[:, support]
        if "musical" in self.blocks_:
            parts["musical"] = np.asarray(X.musical, dtype=np.float64)
        if self.text_encoder_ is not None:
            if X.text is None:
                raise MerError(
                    "this CNNSVMClassifier was fitted with use_text=True; X.text is missing"
                )
            parts["text"] = self.text_encoder_.transform(X.text)
        if getattr(self, "score_svm_", None) is not None:
            hand = np.hstack([parts[b] for b in _SCORED if b in parts])
            scores = self.score_svm_.decision_function(self.score_scaler_.transform(hand))
            parts["svm_scores"] = scores.reshape(len(scores), -1)
        return np.hstack(list(parts.values()))

    def fused_features(self, X) -> np.ndarray:
        """The standardised SVM input of each clip, ``(n_clips, len(feature_names_))``."""
        check_is_fitted(self, "svm_")
        return self.scaler_.transform(self._fused(self._check_input(X)))

    def _decision_and_representation(self, X) -> tuple[np.ndarray, np.ndarray]:
        Z = self.fused_features(X)
        return self.svm_.decision_function(Z), Z

    def decision_function(self, X) -> np.ndarray:
        """Linear SVM decision values (eq. 6), ``(n_clips, n_classes)`` (1-D for two)."""
        return self.svm_.decision_function(self.fused_features(X))

    def embed(self, X) -> np.ndarray:
        """The CNN embedding of each clip (crop-averaged), ``(n_clips, dim)``."""
        check_is_fitted(self, "svm_")
        if self.cnn_ is None:
            raise MerError("this CNNSVMClassifier was fitted with use_embedding=False")
        from mer_core.models.networks import network_input

        X = self._check_input(X)
        key = network_input(self.architecture)
        return self._outputs(self._pooled(X, key), self._valid(X, key))["embedding"]


#: The hand-made blocks the RBF SVM of ``svm_scores`` reads, in input order.
_SCORED = ("lowlevel", "texture", "chords")


def _cross_fitted_scores(H, codes, grid, *, seed: int, n_splits: int, groups=None):
    """Out-of-fold RBF-SVM decision values of the rows ``H``, and the SVM fitted on all.

    Each of ``n_splits`` inner folds (artist-grouped with ``groups``:
    :func:`~mer_core.evaluation.protocol.inner_folds`) gets the decision values
    of an RBF SVM trained on the other folds, its ``C`` chosen on folds of
    those rows alone; the SVM that scores new clips is trained on every row,
    its ``C`` chosen the same way. Returns ``(scores, scaler, svm)``; without
    enough rows for inner folds, the scores are the full SVM's own.
    """
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from mer_core.evaluation.protocol import inner_folds

    def make(C):
        return SVC(C=C, kernel="rbf", gamma="scale", decision_function_shape="ovr")

    def fit(rows):
        scaler = StandardScaler().fit(H[rows])
        Hs = scaler.transform(H[rows])
        sub = None if groups is None else np.asarray(groups)[rows]
        C, _, _ = select_C(make, Hs, codes[rows], grid, seed=seed, groups=sub)
        return scaler, make(C).fit(Hs, codes[rows])

    def decide(scaler, svm, rows):
        d = svm.decision_function(scaler.transform(H[rows]))
        return d.reshape(len(rows), -1)

    everything = np.arange(len(codes))
    scaler, svm = fit(everything)
    folds = inner_folds(codes, n_splits=n_splits, seed=seed, groups=groups)
    if folds is None:
        return decide(scaler, svm, everything), scaler, svm
    scores = None
    for tr, va in folds:
        d = decide(*fit(tr), va)
        if scores is None:
            scores = np.zeros((len(codes), d.shape[1]))
        scores[va] = d
    return scores, scaler, svm


def _best(fit: dict) -> float:
    """The best inner macro-F1 of a :func:`~mer_core.models.fusion.fit_svm_inputs` choice."""
    scores = list(fit["block_scores"].values()) or list(fit["C_scores"].values())
    return round(float(max(scores)), 6) if scores else float("nan")
