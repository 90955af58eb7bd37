"""The hand-made feature blocks fused with the CNN embedding.

* :func:`make_screener` builds the low-level feature screening step:
  :class:`mer_core.features.screening.FeatureScreener` (score against the
  labels, keep the ``k`` best while pruning features correlated above
  ``corr_threshold``). It is always fitted on the training clips only.
* :class:`FixedSelector` is what a fitted screener reduces to in a saved model:
  the boolean mask of the kept columns.
* :func:`mfcc_stats` summarises an MFCC sequence (mean and standard deviation
  of each coefficient over frames) for the SVM baseline.
* :class:`TextEncoder` is the optional text branch of the paper's section 3.2:
  TF-IDF (sublinear term frequency, l2-normalised) of each clip's text (tags or
  lyrics) reduced by truncated SVD (latent semantic analysis) to a few dense
  dimensions. The paper passes text through the CNN; with a few hundred clips
  a learned text CNN would overfit, so the book uses this fixed, fitted-on-train
  encoding and fuses it at the same place (the SVM's input).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_selection import SelectorMixin
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from mer_core.errors import MerError, ParameterError
from mer_core.validation import check_positive

__all__ = [
    "CHORD_SUMMARY",
    "C_grid",
    "FixedSelector",
    "TextEncoder",
    "chord_columns",
    "fit_svm_inputs",
    "fit_temperature",
    "make_screener",
    "mfcc_stats",
    "mfcc_stats_names",
    "musical_mode",
    "norm_matched",
    "select_C",
    "select_blocks",
    "texture_block",
]

#: The chord vector's clip-level summary: shares of major / minor / no chord,
#: change rate, mean duration, entropy, and the estimated key's mode and
#: strength (the 24 absolute-root and 25 key-relative histogram bins left out).
CHORD_SUMMARY = (
    "chord_major_share",
    "chord_minor_share",
    "chord_none_share",
    "chord_change_rate",
    "chord_mean_duration",
    "chord_entropy",
    "chord_key_mode",
    "chord_key_strength",
)


def C_grid(C) -> list[float]:
    """``C`` as a list: one positive number, or a grid to search on inner folds.

    Examples
    --------
    >>> C_grid(0.5), C_grid((1, 0.1))
    ([0.5], [1.0, 0.1])
    """
    grid = list(C) if isinstance(C, list | tuple | np.ndarray) else [C]
    if not grid:
        raise ParameterError("C must be a positive number or a non-empty grid, got []")
    return [check_positive(c, "C") for c in grid]


def chord_columns(names, which: str) -> np.ndarray:
    """Boolean mask of the chord-vector columns to use: ``"all"`` or ``"summary"``.

    Examples
    --------
    >>> chord_columns(["chord_hist_N", "chord_entropy"], "summary").tolist()
    [False, True]
    """
    if which == "all":
        return np.ones(len(names), dtype=bool)
    if which != "summary":
        raise ParameterError(f"chord_columns must be 'all' or 'summary', got {which!r}")
    mask = np.array([n in CHORD_SUMMARY for n in names], dtype=bool)
    if not mask.any():
        raise MerError("the chord vector has none of the summary columns (unnamed columns?)")
    return mask


def texture_block(X, n_bands: int) -> tuple[np.ndarray, list[str]]:
    """Log-Mel band statistics of every clip over its real frames, with their names.

    See :mod:`mer_core.features.texture`; ``X`` is a
    :class:`~mer_core.features.container.ClipFeatures` with ``log_mel``.
    """
    from mer_core.features.texture import mel_band_names, mel_band_stats_batch

    L = X.require("log_mel", "the texture block")
    frames = X.real_frames(L.shape[2])
    return mel_band_stats_batch(L, n_bands=n_bands, n_frames=frames).astype(np.float64), (
        mel_band_names(n_bands=n_bands)
    )


def musical_mode(value) -> str:
    """``use_musical`` as ``"on"``, ``"off"`` or ``"select"`` (chosen on inner folds).

    Examples
    --------
    >>> musical_mode(True), musical_mode(False), musical_mode("select")
    ('on', 'off', 'select')
    """
    if isinstance(value, str) and value == "select":
        return "select"
    if not isinstance(value, bool | np.bool_):
        raise ParameterError(f"use_musical must be True, False or 'select', got {value!r}")
    return "on" if value else "off"


def _inner_scores(make, Z: np.ndarray, y: np.ndarray, grid, folds):
    """Inner-fold mean macro-F1 and out-of-fold decision values of each ``C``."""
    from sklearn.metrics import f1_score

    n_classes = len(np.unique(y))
    scores, decisions = {}, {}
    for C in grid:
        f1, D = [], np.zeros((len(y), n_classes))
        for tr, va in folds:
            model = make(C).fit(Z[tr], y[tr])
            d = model.decision_function(Z[va])
            D[va] = np.column_stack([-d / 2, d / 2]) if d.ndim == 1 else d
            f1.append(f1_score(y[va], D[va].argmax(axis=1), average="macro"))
        scores[C], decisions[C] = float(np.mean(f1)), D
    return scores, decisions


def fit_svm_inputs(
    make, Z: np.ndarray, y: np.ndarray, grid, *, seed: int, optional=None, groups=None
):
    """Standardise a design matrix and choose, on inner folds, ``C`` and an optional block.

    ``optional`` is None or ``(name, lo, hi)``: the columns ``[lo, hi)`` of a
    block that stays only if it raises the inner macro-F1
    (:func:`select_blocks`, candidates ``"without <name>"`` and ``"with <name>"``);
    without it, :func:`select_C`. A dropped block's columns leave the matrix
    and the scaler is fitted again on what remains. ``groups`` (the artist of
    each row, or None) keeps each group inside one inner fold.

    Returns
    -------
    dict
        ``scaler`` (fitted on the kept columns), ``Zs`` (the kept columns,
        standardised), ``keep`` (indices of the kept columns of ``Z``), ``C``,
        ``C_scores``, ``temperature`` and ``block_scores`` (empty without
        ``optional``).
    """
    scaler = StandardScaler().fit(Z)
    Zs = scaler.transform(Z)
    keep = np.arange(Z.shape[1])
    if optional is None:
        C, report, temperature = select_C(make, Zs, y, grid, seed=seed, groups=groups)
        blocks = {}
    else:
        name, lo, hi = optional
        without = np.r_[0:lo, hi : Z.shape[1]]
        choice, C, report, temperature, blocks = select_blocks(
            make,
            {f"without {name}": Zs[:, without], f"with {name}": Zs},
            y,
            grid,
            seed=seed,
            groups=groups,
        )
        if choice == f"without {name}":
            keep = without
            scaler = StandardScaler().fit(Z[:, keep])
            Zs = scaler.transform(Z[:, keep])
    return {
        "scaler": scaler,
        "Zs": Zs,
        "keep": keep,
        "C": C,
        "C_scores": report,
        "temperature": temperature,
        "block_scores": blocks,
    }


def select_C(
    make, Z: np.ndarray, y: np.ndarray, grid, *, seed: int, n_splits: int = 3, groups=None
):
    """Pick ``C`` by inner cross-validation on the training rows, and calibrate.

    ``make(C)`` returns an unfitted classifier with a ``decision_function``;
    ``Z`` is the standardised training matrix. Each ``C`` of ``grid`` is scored
    by the mean macro-F1 over ``n_splits`` stratified folds of the training rows,
    never the test fold of an outer evaluation (with ``groups``, each group's
    rows stay in one fold: :func:`~mer_core.features.container.inner_folds`);
    ties go to the smaller ``C``
    (the stronger regularisation). The out-of-fold decision values of the
    chosen ``C`` then fix the softmax temperature (:func:`fit_temperature`),
    so the model's probabilities are calibrated on clips it was not fitted on.

    Returns
    -------
    (float, dict, float)
        The chosen ``C``, ``{"C": mean inner macro-F1}`` (keys ``f"{C:g}"``;
        empty for a single ``C``) and the temperature (1.0 when the training
        rows are too few for inner folds).
    """
    _, C, report, temperature, _ = select_blocks(
        make, {"": Z}, y, grid, seed=seed, n_splits=n_splits, groups=groups
    )
    return C, report, temperature


def select_blocks(
    make, candidates: dict, y: np.ndarray, grid, *, seed: int, n_splits: int = 3, groups=None
):
    """Pick one of several feature sets and its ``C`` on the same inner folds.

    ``candidates`` maps a name to a standardised training matrix (same rows,
    different columns). Every ``(candidate, C)`` pair is scored as in
    :func:`select_C`, on the same ``n_splits`` stratified folds; the best mean
    inner macro-F1 wins, ties going to the earlier candidate and then the
    smaller ``C``. The winner's out-of-fold decision values fix the
    temperature.

    Returns
    -------
    (str, float, dict, float, dict)
        The chosen candidate, its ``C``, ``{"C": inner macro-F1}`` of the
        chosen candidate (empty for a single ``C``), the temperature, and
        ``{candidate: best inner macro-F1}`` (empty for a single candidate).
        When the rows cannot be cut into inner folds (too few clips of a
        class, too few groups): the first candidate, the smallest ``C``,
        ``{}``, 1.0, ``{}``.

    Examples
    --------
    >>> from sklearn.svm import LinearSVC
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 30)
    >>> signal = y[:, None] + rng.normal(scale=0.5, size=(60, 1))
    >>> noise = rng.normal(size=(60, 1))
    >>> choice = select_blocks(lambda C: LinearSVC(C=C), {"noise": noise,
    ...                        "signal": np.hstack([noise, signal])}, y, [1.0], seed=0)
    >>> choice[0]
    'signal'
    """
    from mer_core.evaluation.protocol import inner_folds

    grid = sorted(float(c) for c in grid)
    names = list(candidates)
    folds = inner_folds(y, n_splits=n_splits, seed=seed, groups=groups)
    if folds is None:
        return names[0], grid[0], {}, 1.0, {}
    best, results = None, {}
    for name in names:
        scores, decisions = _inner_scores(make, candidates[name], y, grid, folds)
        results[name] = (scores, decisions)
        for C in grid:
            key = (round(scores[C], 10), -names.index(name), -C)
            if best is None or key > best[0]:
                best = (key, name, C)
    _, name, C = best
    scores, decisions = results[name]
    report = {f"{c:g}": v for c, v in scores.items()} if len(grid) > 1 else {}
    blocks = {n: max(r[0].values()) for n, r in results.items()} if len(names) > 1 else {}
    return name, C, report, fit_temperature(decisions[C], y), blocks


def fit_temperature(decision: np.ndarray, y: np.ndarray) -> float:
    """The temperature ``T`` minimising the log-loss of ``softmax(decision / T)``.

    Temperature scaling (Guo et al. 2017) rescales all scores of a clip by one
    number, so the predicted class never changes; only how sure the model
    says it is. Searched in ``[0.01, 100]`` on a log scale.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([[4.0, 0.0], [0.0, 4.0], [4.0, 0.0], [4.0, 0.0]])
    >>> t = fit_temperature(d, np.array([0, 1, 1, 0]))
    >>> t > 1  # one confident mistake in four: soften
    True
    """
    from scipy.optimize import minimize_scalar

    D = np.asarray(decision, dtype=np.float64)
    y = np.asarray(y)

    def nll(log_t):
        z = D / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -float(logp[np.arange(len(y)), y].mean())

    res = minimize_scalar(nll, bounds=(np.log(0.01), np.log(100.0)), method="bounded")
    return float(np.exp(res.x))


def norm_matched(member_logits: np.ndarray) -> np.ndarray:
    """Each clip's mean logits over an ensemble's members, at the members' own scale.

    Averaging networks' logits shrinks them wherever the networks disagree,
    so an ensemble of many looks less sure than any of its members, and a
    temperature fitted for fewer networks (the out-of-fold logits of single
    networks or of pairs) would leave its probabilities too soft. Here the
    centred mean of each clip's member logits is rescaled to the mean length
    of the members' centred logits: the decision (argmax) is the plain
    average's, its scale does not depend on how many members there are, and
    it uses nothing but the clip's own logits.

    Parameters
    ----------
    member_logits : np.ndarray, shape (n_clips, n_members, n_classes)

    Returns
    -------
    np.ndarray, shape (n_clips, n_classes)

    Examples
    --------
    >>> import numpy as np
    >>> m = np.array([[[2.0, -2.0], [-1.0, 1.0]]])  # two members that disagree
    >>> m.mean(axis=1)
    array([[ 0.5, -0.5]])
    >>> norm_matched(m)
    array([[ 1.5, -1.5]])
    """
    z = np.asarray(member_logits, dtype=np.float64)
    if z.ndim != 3:
        raise ParameterError(
            f"member_logits must be (n_clips, n_members, n_classes), got shape {z.shape}"
        )
    z = z - z.mean(axis=2, keepdims=True)
    mean = z.mean(axis=1)
    length = np.linalg.norm(mean, axis=1, keepdims=True)
    target = np.linalg.norm(z, axis=2).mean(axis=1, keepdims=True)
    scale = np.divide(target, length, out=np.ones_like(length), where=length > 0)
    return mean * scale


def make_screener(method: str, k, corr_threshold: float, random_state=None):
    """An unfitted screening transformer (see the module docstring).

    Parameters
    ----------
    method : str
        ``"anova"`` or ``"mutual_info"``.
    k : int, float or "all"
        Features kept at most (``FeatureScreener``'s ``k``).
    corr_threshold : float
        Largest absolute correlation between kept features.
    random_state : int or None
        Seed (mutual information only).

    Examples
    --------
    >>> type(make_screener("anova", 10, 0.95)).__name__
    'FeatureScreener'
    """
    from mer_core.features.screening import FeatureScreener

    return FeatureScreener(
        method=method, k=k, corr_threshold=corr_threshold, random_state=random_state
    )


def fit_support(screener, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fit ``screener`` on ``(X, y)`` and return its boolean column mask."""
    screener.fit(X, y)
    support = np.asarray(screener.get_support(), dtype=bool)
    if not support.any():
        raise MerError("feature screening kept no feature (are all low-level features constant?)")
    return support


class FixedSelector(SelectorMixin, BaseEstimator):
    """Select columns by a stored boolean mask (a fitted screener, reduced).

    Parameters
    ----------
    support : array-like of bool
        Mask of the kept columns.

    Examples
    --------
    >>> import numpy as np
    >>> FixedSelector([True, False, True]).fit().transform(np.arange(6).reshape(2, 3))
    array([[0, 2],
           [3, 5]])
    """

    def __init__(self, support=None):
        self.support = support

    def fit(self, X=None, y=None):
        self.support_ = np.asarray(self.support, dtype=bool)
        self.n_features_in_ = int(self.support_.shape[0])
        return self

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return self.support_


def mfcc_stats(mfcc: np.ndarray, *, chunk: int = 64) -> np.ndarray:
    """Mean and standard deviation of each coefficient over frames.

    Parameters
    ----------
    mfcc : np.ndarray, shape (n, n_mfcc, n_frames)

    Returns
    -------
    np.ndarray, shape (n, 2 * n_mfcc)
        Means first, then standard deviations (names: :func:`mfcc_stats_names`).

    Examples
    --------
    >>> import numpy as np
    >>> mfcc_stats(np.array([[[0.0, 2.0], [1.0, 1.0]]]))
    array([[1., 1., 1., 0.]])
    """
    out = []
    for start in range(0, len(mfcc), chunk):
        block = np.asarray(mfcc[start : start + chunk], dtype=np.float64)
        out.append(np.concatenate([block.mean(axis=2), block.std(axis=2)], axis=1))
    return np.concatenate(out) if out else np.zeros((0, 2 * mfcc.shape[1]))


def mfcc_stats_names(n_mfcc: int) -> list[str]:
    """Names of :func:`mfcc_stats`'s columns (``mfccseq_03_mean``...)."""
    return [f"mfccseq_{i:02d}_mean" for i in range(n_mfcc)] + [
        f"mfccseq_{i:02d}_std" for i in range(n_mfcc)
    ]


class TextEncoder(TransformerMixin, BaseEstimator):
    """TF-IDF + truncated SVD of one text per clip (the optional text branch).

    ``fit`` learns the vocabulary (at most ``max_features`` terms seen in at
    least ``min_df`` texts), the inverse document frequencies and the SVD
    directions; ``transform`` recomputes TF-IDF from those stored arrays only
    (so a saved and reloaded encoder gives the same numbers) and projects it.

    Parameters
    ----------
    n_components : int
        Output dimensions (clipped to the vocabulary size and clip count minus 1).
    max_features : int
        Largest vocabulary.
    min_df : int
        Minimum number of texts a term must appear in.
    random_state : int or None
        Seed of the randomised SVD.

    Examples
    --------
    >>> texts = ["sad slow piano", "happy upbeat pop", "sad dark ballad", "happy dance pop"]
    >>> TextEncoder(n_components=2, random_state=0).fit(texts).transform(texts).shape
    (4, 2)
    """

    def __init__(
        self, n_components: int = 16, max_features: int = 5000, min_df: int = 1, random_state=None
    ):
        self.n_components = n_components
        self.max_features = max_features
        self.min_df = min_df
        self.random_state = random_state

    def fit(self, texts, y=None):
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = list(texts)
        vec = TfidfVectorizer(
            max_features=self.max_features, min_df=self.min_df, sublinear_tf=True
        )
        try:
            tfidf = vec.fit_transform(texts)
        except ValueError as exc:  # empty vocabulary
            raise MerError(f"the text branch found no usable words in the texts: {exc}") from None
        vocabulary = vec.get_feature_names_out()
        k = min(int(self.n_components), len(vocabulary) - 1, len(texts) - 1)
        if k < 1:
            raise MerError(
                f"the text branch needs at least 2 distinct words and 2 clips, got "
                f"{len(vocabulary)} words in {len(texts)} texts"
            )
        svd = TruncatedSVD(n_components=k, random_state=self.random_state).fit(tfidf)
        self.vocabulary_ = np.asarray(vocabulary, dtype=str)
        self.idf_ = np.asarray(vec.idf_, dtype=np.float64)
        self.components_ = np.asarray(svd.components_, dtype=np.float64)
        return self

    def transform(self, texts) -> np.ndarray:
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.preprocessing import normalize

        check_is_fitted(self, "components_")
        counts = CountVectorizer(vocabulary=self.vocabulary_.tolist()).transform(list(texts))
        tf = counts.astype(np.float64)
        tf.data = 1.0 + np.log(tf.data)  # sublinear term frequency
        tfidf = normalize(tf.multiply(self.idf_[None, :]).tocsr())
        return np.asarray(tfidf @ self.components_.T)
