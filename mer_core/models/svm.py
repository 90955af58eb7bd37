"""The SVM baseline of the paper's tables: an SVM on hand-made features only.

Features per clip: the mean and standard deviation of every MFCC over frames
(from the ``mfcc`` sequence) and the low-level descriptor vector, screened
together on the training clips (:func:`~mer_core.models.fusion.make_screener`:
the ``n_screened`` best by ANOVA F, pruning features correlated above
``corr_threshold``; the low-level vector carries MFCC statistics of its own,
and those exact duplicates are pruned by the correlation rule), optionally
followed by the chord vector (off by default: it is the paper's new feature,
credited to CNN-SVM), standardised, into an RBF-kernel ``SVC``.

The paper fixes a *linear* SVM only for CNN-SVM; for the baseline the book takes
the usual choice for a few hundred clips of a hundred-odd descriptors: an RBF
kernel (``gamma="scale"``, ``C=1``), one-vs-one internally, with one-vs-rest
decision values.
"""

from __future__ import annotations

import numpy as np
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted

from mer_core.errors import MerError
from mer_core.features.container import ClipFeatures, as_clip_features
from mer_core.models.base import MerClassifier
from mer_core.models.fusion import (
    C_grid,
    chord_columns,
    fit_support,
    fit_svm_inputs,
    make_screener,
    mfcc_stats,
    mfcc_stats_names,
    musical_mode,
    texture_block,
)
from mer_core.validation import check_bool, check_positive_int

__all__ = ["SVMClassifier"]


class SVMClassifier(MerClassifier):
    """SVM on screened hand-made features (the paper's "SVM" rows).

    Parameters
    ----------
    C : float or sequence of float
        SVM regularisation; a sequence is a grid searched by 3-fold inner
        cross-validation on the training clips (``C_``, ``C_scores_``).
    kernel : str
        ``SVC`` kernel ("rbf", "linear", "poly", "sigmoid").
    gamma : "scale", "auto" or float
        RBF kernel width.
    use_mfcc_stats : bool
        Include MFCC means and standard deviations (needs ``mfcc``).
    use_lowlevel : bool
        Include the low-level vector (needs ``lowlevel``).
    use_chords : bool
        Append the chord vector, unscreened (needs ``chords``).
    use_texture : bool
        Append the log-Mel band statistics of :mod:`mer_core.features.texture`,
        unscreened (needs ``log_mel``).
    use_musical : bool or "select"
        Append the musical descriptors of :mod:`mer_core.features.musical`,
        unscreened (needs ``musical``); ``"select"`` decides on the inner
        folds that choose ``C``: the block stays only if it raises the inner
        macro-F1 (``use_musical_``, ``block_scores_``).
    texture_bands : int
        Groups of Mel bands of the texture block.
    chord_columns : {"all", "summary"}
        The whole chord vector or its clip-level summary
        (:data:`~mer_core.models.fusion.CHORD_SUMMARY`).
    screening : {"anova", "mutual_info"} or None
        Screening score; None keeps every hand-made feature.
    n_screened : int, float or "all"
        Features kept by the screening (``FeatureScreener``'s ``k``).
    corr_threshold : float
        Largest absolute correlation between kept features.
    random_state : None, int or RandomState
        Seed of the screening (mutual information only); the SVM is deterministic.

    Attributes
    ----------
    classes_ : np.ndarray
    screener_ : transformer or None
        The fitted screening step.
    support_ : np.ndarray of bool
        Kept columns of the hand-made block (MFCC statistics, then low-level).
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
    svm_ : SVC
        Fitted on class codes ``0..n_classes-1``.
    feature_names_ : list of str
        Names of the SVM's input columns.
    input_shapes_ : dict

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 10)
    >>> X = {"lowlevel": rng.normal(size=(20, 5)) + y[:, None]}
    >>> SVMClassifier(use_mfcc_stats=False).fit(X, y).score(X, y)
    1.0
    """

    def __init__(
        self,
        C=1.0,
        *,
        kernel: str = "rbf",
        gamma="scale",
        use_mfcc_stats: bool = True,
        use_lowlevel: bool = True,
        use_chords: bool = False,
        use_texture: bool = False,
        use_musical: bool | str = False,
        texture_bands: int = 32,
        chord_columns: str = "all",
        screening: str | None = "anova",
        n_screened=40,
        corr_threshold: float = 0.95,
        random_state=None,
    ):
        self.C = C
        self.kernel = kernel
        self.gamma = gamma
        self.use_mfcc_stats = use_mfcc_stats
        self.use_lowlevel = use_lowlevel
        self.use_chords = use_chords
        self.use_texture = use_texture
        self.use_musical = use_musical
        self.texture_bands = texture_bands
        self.chord_columns = chord_columns
        self.screening = screening
        self.n_screened = n_screened
        self.corr_threshold = corr_threshold
        self.random_state = random_state

    def _fields(self) -> list[str]:
        used = {
            "mfcc": check_bool(self.use_mfcc_stats, "use_mfcc_stats"),
            "lowlevel": check_bool(self.use_lowlevel, "use_lowlevel"),
            "chords": check_bool(self.use_chords, "use_chords"),
            "log_mel": check_bool(self.use_texture, "use_texture"),
            "musical": musical_mode(self.use_musical) != "off",
        }
        if not used["mfcc"] and not used["lowlevel"]:
            raise MerError("SVMClassifier needs use_mfcc_stats or use_lowlevel (or both)")
        return [f for f, on in used.items() if on]

    def _hand_block(self, X: ClipFeatures, fields) -> tuple[np.ndarray, list[str]]:
        blocks, names = [], []
        if "mfcc" in fields:
            mfcc = X.require("mfcc", "SVMClassifier(use_mfcc_stats=True)")
            blocks.append(mfcc_stats(mfcc))
            names += mfcc_stats_names(mfcc.shape[1])
        if "lowlevel" in fields:
            blocks.append(
                np.asarray(
                    X.require("lowlevel", "SVMClassifier(use_lowlevel=True)"), dtype=np.float64
                )
            )
            names += X.column_names("lowlevel")
        return np.hstack(blocks), names

    def _design(self, X: ClipFeatures) -> np.ndarray:
        hand, _ = self._hand_block(X, list(self.input_shapes_))
        parts = [hand[:, self.support_]]
        if "log_mel" in self.input_shapes_:
            parts.append(texture_block(X, self.texture_bands)[0])
        if "chords" in self.input_shapes_:
            chords = np.asarray(X.chords, dtype=np.float64)
            support = getattr(self, "chord_support_", None)
            parts.append(chords if support is None else chords[:, support])
        if "musical" in self.input_shapes_:
            parts.append(np.asarray(X.musical, dtype=np.float64))
        return np.hstack(parts)

    def fit(self, X, y):
        """Screen, standardise and fit the SVM on clips ``X`` with labels ``y``.

        Returns
        -------
        self
        """
        grid = C_grid(self.C)
        X = as_clip_features(X)
        codes = self._targets(y, len(X))
        fields = self._fields()
        seed = self._seed()
        hand, names = self._hand_block(X, fields)
        if self.screening is None:
            self.screener_ = None
            self.support_ = np.ones(hand.shape[1], dtype=bool)
        else:
            self.screener_ = make_screener(
                self.screening, self.n_screened, self.corr_threshold, seed
            )
            self.support_ = fit_support(self.screener_, hand, codes)
        feature_names = [n for n, keep in zip(names, self.support_, strict=True) if keep]
        if "log_mel" in fields:
            check_positive_int(self.texture_bands, "texture_bands")
            X.require("log_mel", "SVMClassifier(use_texture=True)")
            feature_names += texture_block(X[:1], self.texture_bands)[1]
        self.chord_support_ = None
        if "chords" in fields:
            X.require("chords", "SVMClassifier(use_chords=True)")
            chord_names = X.column_names("chords")
            self.chord_support_ = chord_columns(chord_names, self.chord_columns)
            feature_names += [
                n for n, k in zip(chord_names, self.chord_support_, strict=True) if k
            ]
        if "musical" in fields:
            X.require("musical", "SVMClassifier(use_musical=True)")
            feature_names += X.column_names("musical")
        self._record_shapes(X, fields)
        Z = self._design(X)

        def make(C):
            return SVC(C=C, kernel=self.kernel, gamma=self.gamma, decision_function_shape="ovr")

        optional = None
        if musical_mode(self.use_musical) == "select":  # the design's last block
            optional = ("musical", Z.shape[1] - X.musical.shape[1], Z.shape[1])
        fit = fit_svm_inputs(make, Z, codes, grid, seed=seed, optional=optional, groups=X.groups)
        self.scaler_, Zs = fit["scaler"], fit["Zs"]
        self.C_, self.C_scores_ = fit["C"], fit["C_scores"]
        self.temperature_, self.block_scores_ = fit["temperature"], fit["block_scores"]
        if len(fit["keep"]) < Z.shape[1]:  # the musical block was dropped
            fields = [f for f in fields if f != "musical"]
            feature_names = [feature_names[i] for i in fit["keep"]]
            self._record_shapes(X, fields)
        self.use_musical_ = "musical" in fields
        self.svm_ = make(self.C_).fit(Zs, codes)
        self.feature_names_ = feature_names
        self._fit_novelty(Zs)
        return self

    def _novelty_input(self, X) -> np.ndarray:
        check_is_fitted(self, "svm_")
        return self.scaler_.transform(self._design(self._check_input(X)))

    def _decision_and_representation(self, X) -> tuple[np.ndarray, np.ndarray]:
        Z = self._novelty_input(X)
        return self.svm_.decision_function(Z), Z

    def decision_function(self, X) -> np.ndarray:
        """One-vs-rest SVM decision values, ``(n_clips, n_classes)`` (1-D for two classes)."""
        check_is_fitted(self, "svm_")
        X = self._check_input(X)
        return self.svm_.decision_function(self.scaler_.transform(self._design(X)))
