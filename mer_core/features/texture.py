"""Summary statistics of the log-Mel image: the clip's spectral "texture".

The low-level vector (:mod:`mer_core.features.lowlevel`) describes the spectrum
by a handful of shape descriptors (centroid, roll-off, contrast...). Music
emotion work on the 4Q data (Panda, Malheiro & Paiva 2018) found that
band-wise energy statistics carry much of what separates the quadrants:
loudness and brightness for arousal, and the spread and movement of energy in
each register for the low-arousal pair (sad vs calm). This module summarises
the log-Mel spectrogram the front end already computed, so it costs no STFT.

For ``n_bands`` groups of adjacent Mel bands (the log-Mel rows averaged in
groups), over the clip's **real** frames only (the zero-fill the paper adds to
short clips is ignored):

* ``mel_band_KK_mean``: mean level in dB;
* ``mel_band_KK_std``: standard deviation over time (dynamics of the register);
* ``mel_band_KK_flux``: mean absolute frame-to-frame change (movement).

Examples
--------
>>> import numpy as np
>>> L = np.zeros((8, 10), dtype=np.float32); L[:, ::2] = 6.0
>>> v = mel_band_stats(L, n_bands=2)
>>> mel_band_names(n_bands=2)[:3]
['mel_band_00_mean', 'mel_band_01_mean', 'mel_band_00_std']
>>> v.round(1).tolist()
[3.0, 3.0, 3.0, 3.0, 6.0, 6.0]
"""

from __future__ import annotations

import numpy as np

from mer_core.errors import ParameterError
from mer_core.validation import check_positive_int

__all__ = ["mel_band_names", "mel_band_stats", "mel_band_stats_batch"]


def _check_bands(n_bands, n_mels: int | None = None) -> int:
    n_bands = check_positive_int(n_bands, "n_bands")
    if n_mels is not None and n_mels % n_bands:
        raise ParameterError(f"n_bands={n_bands} must divide the {n_mels} Mel bands")
    return int(n_bands)


def mel_band_names(*, n_bands: int = 32) -> list[str]:
    """Names of the :func:`mel_band_stats` vector, in its order.

    Examples
    --------
    >>> len(mel_band_names()), mel_band_names()[-1]
    (96, 'mel_band_31_flux')
    """
    n_bands = _check_bands(n_bands)
    return [f"mel_band_{k:02d}_{stat}" for stat in ("mean", "std", "flux") for k in range(n_bands)]


def mel_band_stats(log_mel: np.ndarray, *, n_bands: int = 32, n_frames: int | None = None):
    """Mean, standard deviation and flux of grouped log-Mel bands over real frames.

    Parameters
    ----------
    log_mel : np.ndarray, shape (n_mels, n_frames)
        Log-Mel spectrogram in dB (float16 is fine).
    n_bands : int
        Groups of adjacent Mel bands; must divide ``n_mels``.
    n_frames : int, optional
        Frames of real audio (the rest is zero-fill and ignored); all by default.

    Returns
    -------
    np.ndarray, float32, shape (3 * n_bands,)
        Named by :func:`mel_band_names`.
    """
    L = np.asarray(log_mel)
    if L.ndim != 2:
        raise ParameterError(f"log_mel must be (n_mels, n_frames), got shape {L.shape}")
    n_bands = _check_bands(n_bands, L.shape[0])
    t = L.shape[1] if n_frames is None else int(min(max(n_frames, 1), L.shape[1]))
    x = L[:, :t].astype(np.float32).reshape(n_bands, -1, t).mean(axis=1)
    flux = np.abs(np.diff(x, axis=1)).mean(axis=1) if t > 1 else np.zeros(n_bands, np.float32)
    return np.concatenate([x.mean(axis=1), x.std(axis=1), flux]).astype(np.float32)


def mel_band_stats_batch(log_mel: np.ndarray, *, n_bands: int = 32, n_frames=None):
    """:func:`mel_band_stats` of every clip of ``(n_clips, n_mels, n_frames)`` maps.

    Examples
    --------
    >>> import numpy as np
    >>> mel_band_stats_batch(np.zeros((3, 8, 5)), n_bands=4).shape
    (3, 12)
    """
    L = np.asarray(log_mel)
    if L.ndim != 3:
        raise ParameterError(f"log_mel must be (n_clips, n_mels, n_frames), got shape {L.shape}")
    frames = [None] * len(L) if n_frames is None else np.asarray(n_frames)
    if n_frames is not None and frames.shape != (len(L),):
        raise ParameterError(f"n_frames has shape {frames.shape} for {len(L)} clips")
    return np.stack(
        [mel_band_stats(L[i], n_bands=n_bands, n_frames=frames[i]) for i in range(len(L))]
    )
