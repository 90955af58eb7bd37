"""Sanity baselines on a generated corpus: how hard is it, and what carries the labels?

Two feature sets, each classified by ``StandardScaler`` + RBF ``SVC`` (scikit-
learn defaults, ``C=1``, ``gamma="scale"``) in stratified k-fold
cross-validation (optionally grouped by pseudo-artist):

``"mfcc"`` (timbre and loudness)
    Mean and standard deviation over frames of 20 MFCCs
    (:func:`mer_core.features.mfcc`, 2048-point frames, hop 512): 40 values.
``"harmony"`` (pitch content only, level-invariant)
    From a constant-Q transform (``librosa.cqt``, one bin per semitone from C1,
    hop 1024, tuning fixed at 0) folded into a chromagram of C3-B6 and a bass
    chromagram of C1-B2, each frame normalised to unit sum: the best
    correlations of the clip's mean chroma with the 12 major and with the 12
    minor Krumhansl-Kessler key profiles and their difference (3), the mean
    over frames of the major-minus-minor third above the frame's bass note
    (1), the fraction of frames whose best-correlated triad is major, minor or
    diminished (3), the mean difference between the best major and the best
    minor triad correlation (1), the mean best triad correlation (1), the
    entropy of the mean chroma (1, high for clusters and chromaticism), and
    the mean chroma rotated to the estimated key's tonic (12): 22 values.
``"both"``
    The two concatenated.

The corpus is designed (:mod:`mer_core.synth.cues`) so that ``"mfcc"`` stays
well below 90 % and ``"harmony"`` separates classes that differ in valence,
which timbre alone does not.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from mer_core.errors import ParameterError
from mer_core.io import atomic_path, json_digest

__all__ = [
    "FEATURE_SETS",
    "clip_features",
    "corpus_features",
    "baseline_accuracy",
    "binary_target",
    "mfcc_svm_accuracy",
    "harmony_svm_accuracy",
]

FEATURE_SETS = ("mfcc", "harmony", "both")
TARGETS = ("label", "valence", "arousal")
_FEATURES_VERSION = 4
_FMIN_C1 = (
    32.703195662574764  # Hz  # part of the cache key: bump when a feature definition changes
)

# Krumhansl & Kessler (1982) key profiles, tonic first.
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def _triad_templates() -> np.ndarray:
    """36 zero-mean, unit-norm templates: 12 major, 12 minor, 12 diminished triads."""
    out = []
    for intervals in ((0, 4, 7), (0, 3, 7), (0, 3, 6)):
        for root in range(12):
            t = np.zeros(12)
            t[[(root + i) % 12 for i in intervals]] = 1.0
            t -= t.mean()
            out.append(t / np.linalg.norm(t))
    return np.array(out)


_TRIADS = _triad_templates()


def _corr_all_keys(chroma_mean, profile):
    c = chroma_mean - chroma_mean.mean()
    out = np.empty(12)
    for k in range(12):
        p = np.roll(profile, k)
        p = p - p.mean()
        out[k] = float(c @ p / (np.linalg.norm(c) * np.linalg.norm(p) + 1e-12))
    return out


def harmony_features(y, *, sr: int = 22050) -> np.ndarray:
    """The 22 harmony features of one signal (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(22050) / 22050
    >>> y = sum(np.sin(2 * np.pi * f * t) for f in (130.8, 261.6, 329.6, 392.0))  # C major
    >>> f = harmony_features(y.astype(np.float32))
    >>> f.shape, bool(f[4] > 0.9), bool(f[3] > 0)  # frames matched by a major triad; M3 > m3
    ((22,), True, True)
    """
    import librosa

    y = np.asarray(y, dtype=np.float32)
    C = np.abs(librosa.cqt(y, sr=sr, hop_length=1024, fmin=_FMIN_C1, n_bins=84, tuning=0.0))
    C = C**2  # power in semitone bins C1..B7
    bass = C[:24].reshape(2, 12, -1).sum(axis=0)  # C1..B2 (33-123 Hz)
    chroma = C[24:72].reshape(4, 12, -1).sum(axis=0)  # C3..B6 (131-1976 Hz)
    energy = chroma.sum(axis=0)
    keep = energy > 1e-3 * (energy.max() + 1e-20)
    if keep.any():
        chroma, bass = chroma[:, keep], bass[:, keep]
    frames = chroma / (chroma.sum(axis=0, keepdims=True) + 1e-20)
    mean = frames.mean(axis=1)
    mean = mean / (mean.sum() + 1e-20)
    r_maj, r_min = _corr_all_keys(mean, _KK_MAJOR), _corr_all_keys(mean, _KK_MINOR)
    key = int(np.argmax(np.concatenate([r_maj, r_min]))) % 12
    b = np.argmax(bass, axis=0)  # the frame's bass pitch class
    cols = np.arange(frames.shape[1])
    third = float(np.mean(frames[(b + 4) % 12, cols] - frames[(b + 3) % 12, cols]))
    centred = frames - frames.mean(axis=0, keepdims=True)
    centred /= np.linalg.norm(centred, axis=0, keepdims=True) + 1e-20
    scores = _TRIADS @ centred  # (36, n_frames) correlations with the triads
    quality = np.bincount(np.argmax(scores, axis=0) // 12, minlength=3)[:3] / scores.shape[1]
    maj_min = float(np.mean(scores[:12].max(axis=0) - scores[12:24].max(axis=0)))
    entropy = float(-np.sum(mean * np.log(mean + 1e-20)) / np.log(12))
    summary = [
        r_maj.max(),
        r_min.max(),
        r_maj.max() - r_min.max(),
        third,
        *quality,
        maj_min,
        float(scores.max(axis=0).mean()),
        entropy,
    ]
    return np.concatenate([summary, np.roll(mean, -key)]).astype(np.float64)


def mfcc_stats(y, *, sr: int = 22050, n_mfcc: int = 20) -> np.ndarray:
    """Mean and standard deviation over frames of ``n_mfcc`` MFCCs (``2 * n_mfcc`` values)."""
    from mer_core.features import mfcc

    M = mfcc(np.asarray(y, dtype=np.float32), sr=sr, n_mfcc=n_mfcc)
    return np.concatenate([M.mean(axis=1), M.std(axis=1)]).astype(np.float64)


def clip_features(path, *, sr: int = 22050) -> dict:
    """``{"mfcc": (40,), "harmony": (22,)}`` for one WAV file."""
    import soundfile as sf

    y, file_sr = sf.read(os.fspath(path), dtype="float32", always_2d=False)
    if file_sr != sr:
        raise ParameterError(f"{path}: expected {sr} Hz, got {file_sr} Hz")
    if y.ndim > 1:
        y = y.mean(axis=1)
    return {"mfcc": mfcc_stats(y, sr=sr), "harmony": harmony_features(y, sr=sr)}


def corpus_features(out_dir, *, n_jobs: int = 1, cache: bool = True):
    """Features of every clip of a generated corpus, cached in ``baseline_features.npz``.

    Returns
    -------
    features : dict
        ``{"mfcc": (n, 40), "harmony": (n, 22)}`` in manifest order.
    manifest : pandas.DataFrame
    """
    from joblib import Parallel, delayed

    from mer_core.synth.corpus import load_manifest

    out = Path(out_dir)
    manifest = load_manifest(out)
    key = json_digest([_FEATURES_VERSION, manifest["sha256"].tolist()])
    cache_path = out / "baseline_features.npz"
    if cache and cache_path.is_file():
        with np.load(cache_path) as z:
            if str(z["key"]) == key:
                return {"mfcc": z["mfcc"], "harmony": z["harmony"]}, manifest
    if n_jobs == 1:
        feats = [clip_features(p) for p in manifest["filepath"]]
    else:
        feats = Parallel(n_jobs=n_jobs)(delayed(clip_features)(p) for p in manifest["filepath"])
    X = {name: np.stack([f[name] for f in feats]) for name in ("mfcc", "harmony")}
    if cache:
        with atomic_path(cache_path) as tmp:
            np.savez(tmp, key=np.array(key), **X)
    return X, manifest


def baseline_accuracy(
    out_dir,
    *,
    features: str = "mfcc",
    n_splits: int = 5,
    seed: int = 0,
    grouped: bool = False,
    labels=None,
    target: str = "label",
    n_jobs: int = 1,
) -> dict:
    """Cross-validated accuracy of standardise + RBF SVC on one feature set.

    Parameters
    ----------
    out_dir : path-like
        A corpus written by :func:`mer_core.synth.generate_corpus`.
    features : {"mfcc", "harmony", "both"}
    n_splits : int
        Folds of :class:`~sklearn.model_selection.StratifiedKFold` (shuffled
        with ``seed``), or of ``StratifiedGroupKFold`` by artist if ``grouped``.
    labels : sequence of str, optional
        Restrict to these classes (e.g. a valence pair).
    target : {"label", "valence", "arousal"}
        What to predict: the class, or a binary ``"high"``/``"low"`` split of
        the classes' valence or arousal coordinate (:mod:`mer_core.schemes`)
        at the midpoint between the lowest and the highest class (the sign
        for Emotion and 4Q; for EMA, nervous vs the rest for valence and
        excited/nervous vs cheerful/joyful for arousal).
    n_jobs : int
        Processes for feature extraction.

    Returns
    -------
    dict
        ``accuracy`` (mean over folds), ``std``, ``folds``, ``n_clips``,
        ``chance`` (majority-class rate), ``features``, ``labels``.
    """
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if features not in FEATURE_SETS:
        raise ParameterError(f"features must be one of {FEATURE_SETS}, got {features!r}")
    if target not in TARGETS:
        raise ParameterError(f"target must be one of {TARGETS}, got {target!r}")
    X_all, manifest = corpus_features(out_dir, n_jobs=n_jobs)
    X = X_all["mfcc"] if features == "mfcc" else X_all["harmony"]
    if features == "both":
        X = np.hstack([X_all["mfcc"], X_all["harmony"]])
    y = manifest["label"].to_numpy()
    mask = np.ones(len(y), bool) if labels is None else np.isin(y, list(labels))
    if labels is not None and mask.sum() == 0:
        raise ParameterError(f"none of the labels {labels!r} are in the corpus")
    X, y, groups = X[mask], y[mask], manifest["artist"].to_numpy()[mask]
    classes = sorted(set(y.tolist()))
    if target != "label":
        y = binary_target(y, manifest["scheme"].iloc[0], target)
    model = make_pipeline(StandardScaler(), SVC(kernel="rbf"))
    if grouped:
        cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        scores = cross_val_score(model, X, y, cv=cv, groups=groups)
    else:
        cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        scores = cross_val_score(model, X, y, cv=cv)
    _, counts = np.unique(y, return_counts=True)
    return {
        "features": features,
        "accuracy": float(scores.mean()),
        "std": float(scores.std()),
        "folds": [float(s) for s in scores],
        "n_clips": int(len(y)),
        "chance": float(counts.max() / counts.sum()),
        "labels": classes,
        "target": target,
        "grouped": bool(grouped),
    }


def binary_target(labels, scheme, axis: str) -> np.ndarray:
    """``"high"``/``"low"`` valence or arousal of each label (midpoint split, see above).

    Examples
    --------
    >>> binary_target(["anger", "relaxation"], "emotion", "valence").tolist()
    ['low', 'high']
    >>> binary_target(["cheerful", "excited", "nervous", "joyful"], "ema", "arousal").tolist()
    ['low', 'high', 'high', 'low']
    """
    from mer_core.schemes import get_scheme

    sch = get_scheme(scheme)
    k = {"valence": 0, "arousal": 1}[axis]
    coord = {lab: sch.valence_arousal[lab][k] for lab in sch.labels}
    mid = 0.5 * (min(coord.values()) + max(coord.values()))
    return np.array(["high" if coord[str(lab)] > mid else "low" for lab in labels])


def mfcc_svm_accuracy(manifest_dir, **kwargs) -> dict:
    """:func:`baseline_accuracy` with the 20-MFCC mean/std features."""
    return baseline_accuracy(manifest_dir, features="mfcc", **kwargs)


def harmony_svm_accuracy(manifest_dir, **kwargs) -> dict:
    """:func:`baseline_accuracy` with the chroma/harmony features only."""
    return baseline_accuracy(manifest_dir, features="harmony", **kwargs)
