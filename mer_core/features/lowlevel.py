"""Low-level descriptors of a clip as one named vector (the paper's "low-level features").

The paper combines MFCCs with "low-level features" that it screens before
classification (:mod:`mer_core.features.screening`) but does not list. This
module computes the usual set of frame-wise timbre, energy and rhythm
descriptors from **one** shared STFT and summarises each over time, so the
whole vector of a 40 s clip costs a few milliseconds once the spectrogram
exists.

The signal is the **pre-emphasised** one: the paper pre-emphasises (eqs. 2-3,
:func:`~mer_core.features.spectral.preemphasis`) before every feature, so pass
the same ``y`` (and optionally the same :func:`~mer_core.features.spectral.stft_power`
spectrogram ``S``, and the log-Mel and MFCC computed from it) that feeds the
MFCC and log-Mel front end. Frames are those
of :func:`~mer_core.features.spectral.stft_power`: ``n_fft`` samples every
``hop_length``, centred, zero padded, periodic Hann window.

Frame-wise descriptors (``|X|`` is the magnitude spectrum, ``f`` the bin
frequencies; definitions follow ``librosa.feature`` so values are comparable):

* ``spectral_centroid``: ``sum(f |X|) / sum(|X|)`` in Hz;
* ``spectral_bandwidth``: ``sqrt(sum(|X| (f - centroid)^2) / sum(|X|))`` in Hz;
* ``spectral_rolloff``: the lowest bin frequency below which 85 %
  (``roll_percent``) of ``sum(|X|)`` lies, in Hz;
* ``spectral_flatness``: geometric over arithmetic mean of the power spectrum
  ``max(|X|^2, 1e-10)``, in ``[0, 1]``;
* ``spectral_flux``: Euclidean distance between successive unit-norm magnitude
  spectra, in ``[0, sqrt(2)]`` (level independent; a silent frame counts as the
  zero vector; computed from inner products, so accurate to about 1e-3);
* ``spectral_contrast_KK`` and ``spectral_valley_KK``: octave-band contrast of
  Jiang et al. (2002) as in ``librosa.feature.spectral_contrast``
  (``n_bands`` octaves from ``contrast_fmin`` Hz plus the band above, peak and
  valley = means of the top and bottom 2 % of the band's magnitudes, in
  librosa's dB of magnitude, ``10 log10 |X|``, floored 80 dB below the clip's
  maximum); ``KK = 00`` is the band below ``contrast_fmin``;
* ``zero_crossing_rate``: sign changes per sample in the time-domain frame
  (samples with ``|y| <= 1e-10`` count as positive; crossings are counted
  inside the signal only, as librosa's edge padding does);
* ``rms``: root mean square of the (rectangular, zero padded) time-domain
  frame, as ``librosa.feature.rms(y=...)``;
* ``onset_strength``: spectral flux of the log-Mel spectrogram, the mean over
  the ``n_mels`` bands of ``max(0, L[t] - L[t-1])`` in dB (librosa's
  ``onset_strength`` without its alignment shift);
* ``mfcc_NN`` and ``delta_mfcc_NN``: MFCCs of the same spectrogram
  (identical to ``mfcc(S=S, sr=sr, n_mfcc=n_mfcc, n_mels=n_mels)``) and their
  9-frame Savitzky-Golay derivative (:func:`~mer_core.features.spectral.delta`).

Each frame-wise descriptor contributes its mean and (population) standard
deviation over frames, ``<name>_mean`` and ``<name>_std`` (valleys only their
mean). Clip-level descriptors complete the vector:

* ``low_energy_ratio``: fraction of frames whose RMS is below the clip's mean
  RMS (Tzanetakis and Cook 2002);
* ``tempo_bpm``: the tempo whose lag maximises the autocorrelation of the
  mean-removed onset-strength envelope, weighted by a log-normal prior
  centred at ``start_bpm`` with ``std_bpm`` octaves (as librosa's ``tempo``),
  searched between ``min_bpm`` and ``max_bpm`` among local maxima and refined
  to a fractional lag by parabolic interpolation;
* ``pulse_clarity``: the normalised autocorrelation (``1`` at lag 0) at that
  lag, clipped to ``[0, 1]``: near 1 for a strict pulse, near 0 for none.

**Zero-filled clips.** The paper cuts every clip to a fixed length and
zero-fills shorter ones. Give the number of real samples as ``n_valid`` and
only the first ``1 + n_valid // hop_length`` frames are summarised: exactly
the frames the unpadded clip would have, and (because
:func:`~mer_core.features.spectral.stft_power` pads with zeros) equal to
them, so a zero-filled clip gets the vector of its unpadded self.

**Speed.** Everything is vectorised numpy on the shared spectrogram: the Mel
projection is the package's one cached sparse product
(:func:`~mer_core.features.spectral.mel_power`), sums over bins are taken in
32-bin blocks (accurate in float32, and without BLAS, whose threads stall when
the cores are busy), the roll-off is located block by block and the
time-domain RMS and zero-crossing counts come from running sums at the frame
edges. With ``S`` given, a 40 s clip at 22.05 kHz takes about 13-15 ms on one
core (a quarter of it the sorts of the spectral contrast); the STFT itself
adds about 15 ms. Given the ``log_mel`` and ``mfcc`` of that ``S`` too (as
:mod:`mer_core.extract` does), the Mel projection, the decibels and the DCT
are skipped: about 40 % less (11 ms instead of 20 ms, measured on a busy core).

**Silence.** The vector is always finite. A digitally silent clip (or
``n_valid=0``) gives 0 for every centroid, bandwidth, roll-off, flux,
contrast, zero-crossing, RMS, onset, low-energy, tempo and pulse-clarity entry
and every std; spectral flatness 1 (the floored spectrum is flat); valleys
``-100`` (``10 log10 1e-10``); ``mfcc_00_mean = -100 * sqrt(n_mels)`` (the
-100 dB floor) and all other MFCC and delta entries 0. ``tempo_bpm`` and
``pulse_clarity`` are 0 whenever no autocorrelation peak lies in the search
range (silence, a constant envelope, a clip shorter than two beats).
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.fft

from mer_core.errors import ParameterError
from mer_core.features.spectral import (
    AMIN,
    TOP_DB,
    dct_matrix,
    delta,
    frames_for,
    mel_power,
    power_to_db,
    spectrogram,
    stft_power,
)
from mer_core.validation import (
    check_int,
    check_number,
    check_positive,
    check_positive_int,
    check_signal,
)

__all__ = ["lowlevel_features", "lowlevel_names"]

ZCR_THRESHOLD = 1e-10
CONTRAST_QUANTILE = 0.02

# the first frame-wise descriptors, in output order
_SPECTRAL = ("spectral_centroid", "spectral_bandwidth", "spectral_rolloff", "spectral_flatness")


def lowlevel_names(*, n_mfcc: int = 20, n_bands: int = 6) -> list[str]:
    """Names of the entries of :func:`lowlevel_features`, in order.

    The order is stable: spectral shape (centroid, bandwidth, roll-off,
    flatness, flux), octave contrast and valleys, zero-crossing rate, RMS,
    low-energy ratio, onset strength, tempo and pulse clarity, MFCCs, delta
    MFCCs. Indices are zero-padded to two digits (``mfcc_03_std``).

    Parameters
    ----------
    n_mfcc : int
        Number of MFCCs, as passed to :func:`lowlevel_features`.
    n_bands : int
        Number of contrast octaves; there are ``n_bands + 1`` contrast bands.

    Returns
    -------
    list of str
        ``5 * 2 + 3 * (n_bands + 1) + 9 + 4 * n_mfcc`` names (120 by default).

    Examples
    --------
    >>> names = lowlevel_names()
    >>> len(names)
    120
    >>> names[:3]
    ['spectral_centroid_mean', 'spectral_centroid_std', 'spectral_bandwidth_mean']
    >>> names.index("tempo_bpm"), names[-1]
    (38, 'delta_mfcc_19_std')
    """
    n_mfcc = check_positive_int(n_mfcc, "n_mfcc")
    n_bands = check_positive_int(n_bands, "n_bands")

    def pair(name):
        return [f"{name}_mean", f"{name}_std"]

    width = max(2, len(str(max(n_mfcc, n_bands + 1) - 1)))
    names: list[str] = []
    for name in (*_SPECTRAL, "spectral_flux"):
        names += pair(name)
    for k in range(n_bands + 1):
        names += pair(f"spectral_contrast_{k:0{width}d}")
    names += [f"spectral_valley_{k:0{width}d}_mean" for k in range(n_bands + 1)]
    names += pair("zero_crossing_rate") + pair("rms") + ["low_energy_ratio"]
    names += pair("onset_strength") + ["tempo_bpm", "pulse_clarity"]
    for prefix in ("mfcc", "delta_mfcc"):
        for k in range(n_mfcc):
            names += pair(f"{prefix}_{k:0{width}d}")
    return names


@functools.lru_cache(maxsize=16)
def _contrast_bands(sr: float, n_fft: int, n_bands: int, fmin: float) -> tuple:
    """Row ranges ``(lo, hi, n_quantile)`` of librosa's octave bands."""
    freq = np.fft.rfftfreq(n_fft, 1.0 / sr)
    octa = np.zeros(n_bands + 2)
    octa[1:] = fmin * 2.0 ** np.arange(n_bands + 1)
    if np.any(octa[:-1] >= 0.5 * sr):
        raise ParameterError(
            f"contrast band edge {octa[-2]:g} Hz (contrast_fmin={fmin!r}, n_bands={n_bands}) "
            f"reaches the Nyquist frequency {sr / 2:g} Hz"
        )
    bands = []
    for k, (f_low, f_high) in enumerate(zip(octa[:-1], octa[1:], strict=True)):
        idx = np.flatnonzero((freq >= f_low) & (freq <= f_high))
        if idx.size == 0:
            raise ParameterError(
                f"n_fft={n_fft} is too small for contrast band {k} ({f_low:g}-{f_high:g} Hz)"
            )
        first = int(idx[0]) - 1 if k > 0 else 0  # each band also takes the bin below it
        last = len(freq) - 1 if k == n_bands else int(idx[-1])
        count = last - first + 1
        hi = last + 1 if k == n_bands else last  # ... and all but the top one drop their last
        n_q = max(1, int(np.rint(CONTRAST_QUANTILE * count)))
        bands.append((first, hi, n_q))
    return tuple(bands)


def _range_sums(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, dtype) -> np.ndarray:
    """``[x[a:b].sum() for a, b in zip(lo, hi)]`` (float64) in one pass over ``x``.

    Sums between consecutive cut points are taken in ``dtype`` (they span at
    most one hop), their running total in float64.
    """
    n = x.shape[0]
    if n == 0:
        return np.zeros(lo.shape)
    cuts = np.sort(np.concatenate(([0], lo, hi)))
    cuts = cuts[(cuts < n) & (np.diff(cuts, prepend=-1) > 0)]
    parts = np.add.reduceat(x, cuts, dtype=dtype)
    cum = np.concatenate(([0.0], np.cumsum(parts, dtype=np.float64)))
    edges = np.append(cuts, n)
    return cum[np.searchsorted(edges, hi)] - cum[np.searchsorted(edges, lo)]


def _time_domain(y: np.ndarray, n_frames: int, n_fft: int, hop_length: int):
    """Frame-wise RMS and zero-crossing rate of ``y``, framed like the STFT."""
    n = y.shape[0]
    start = np.arange(n_frames) * hop_length - n_fft // 2
    stop = start + n_fft
    lo, hi = np.clip(start, 0, n), np.clip(stop, 0, n)
    energy = _range_sums(y * y, lo, hi, y.dtype)
    rms = np.sqrt(np.maximum(energy, 0.0) / n_fft)
    # crossing j lies between samples j and j + 1; a frame owns the pairs inside it
    negative = y < -ZCR_THRESHOLD
    crossing = negative[1:] != negative[:-1]
    c_hi = np.clip(stop - 1, 0, n - 1)
    c_lo = np.minimum(lo, c_hi)
    zcr = _range_sums(crossing.view(np.uint8), c_lo, c_hi, np.int32) / n_fft
    return rms, zcr


BLOCK = 32  # rows per partial sum over frequency bins


def _bin_sums(X: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Partial sums of ``weights[:, None] * X`` over blocks of ``BLOCK`` bins, shape (n_blocks, T).

    Sums over bins are done block-wise in numpy (no BLAS: OpenBLAS threads are
    ~30x slower when the machine's cores are busy) and short enough to stay
    accurate in float32; callers add the blocks up in float64.
    """
    n_bins, n_frames = X.shape
    n_main = (n_bins // BLOCK) * BLOCK
    main = X[:n_main].reshape(-1, BLOCK, n_frames)
    rest = X[n_main:]
    if weights is None:
        parts = [main.sum(axis=1), rest.sum(axis=0, keepdims=True)]
    else:
        w = weights.astype(X.dtype)
        parts = [
            np.einsum("bkt,bk->bt", main, w[:n_main].reshape(-1, BLOCK)),
            np.einsum("ft,f->t", rest, w[n_main:])[None],
        ]
    return np.concatenate(parts) if n_main < n_bins else parts[0]


def _spectral_shape(S: np.ndarray, M: np.ndarray, freq: np.ndarray, roll_percent: float):
    """Centroid, bandwidth, roll-off and flatness of every frame."""
    n_bins, n_frames = M.shape
    # moments about each block's centre frequency fc: the float32 partial sums
    # then stay small, and the variance about the centroid c is assembled in
    # float64 as sum_b [S2_b + 2 (fc_b - c) S1_b + (fc_b - c)^2 S0_b]
    # without the cancellation of E[f^2] - c^2
    block_of = np.arange(n_bins) // BLOCK
    fc = np.bincount(block_of, freq) / np.bincount(block_of)
    offset = freq - fc[block_of]
    blocks = _bin_sums(M)
    s0 = blocks.astype(np.float64)
    s1 = _bin_sums(M, offset).astype(np.float64)
    s2 = _bin_sums(M, offset * offset).astype(np.float64)
    m0 = s0.sum(axis=0)
    sounding = m0 > 0
    safe = np.where(sounding, m0, 1.0)
    centroid = np.where(sounding, (s1 + fc[:, None] * s0).sum(axis=0) / safe, 0.0)
    dev = fc[:, None] - centroid
    spread = (s2 + 2.0 * dev * s1 + dev * dev * s0).sum(axis=0)
    bandwidth = np.sqrt(np.maximum(np.where(sounding, spread / safe, 0.0), 0.0))

    # roll-off: the first bin whose cumulative magnitude reaches roll_percent of
    # the total, found in its block first (no full cumulative sum over bins)
    cum = np.cumsum(blocks, axis=0)
    threshold = roll_percent * cum[-1]
    frames = np.arange(n_frames)
    j = np.minimum(np.sum(cum < threshold, axis=0), cum.shape[0] - 1)
    before = np.where(j > 0, cum[np.maximum(j - 1, 0), frames], 0.0)
    rows = j * BLOCK + np.arange(BLOCK)[:, None]
    inside = M[np.minimum(rows, n_bins - 1), frames]
    inside[rows >= n_bins] = 0.0
    within = before + np.cumsum(inside, axis=0)
    rolloff = freq[np.minimum(j * BLOCK + np.sum(within < threshold, axis=0), n_bins - 1)]

    # flatness: exp(mean(log P)) / mean(P) of the floored power spectrum P
    floored = np.maximum(S, S.dtype.type(AMIN))
    arithmetic = _bin_sums(floored).sum(axis=0, dtype=np.float64) / n_bins
    log_mean = _bin_sums(np.log(floored, out=floored)).sum(axis=0, dtype=np.float64) / n_bins
    flatness = np.exp(log_mean) / arithmetic
    return centroid, bandwidth, rolloff, flatness


def _flux(M: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """Distance between successive unit-norm magnitude spectra (length n_frames - 1).

    ``|u - v|^2 = |u|^2 + |v|^2 - 2 u.v`` with ``|u|`` 1 for a sounding frame
    and 0 for a silent one; ``energy`` is ``sum(|X|^2)`` per frame.
    """
    norm = np.sqrt(energy)
    sounding = norm > 0
    scale = np.divide(1.0, norm, out=np.zeros_like(norm), where=sounding)
    dots = np.einsum("ft,ft->t", M[:, 1:], M[:, :-1]).astype(np.float64)
    sq = sounding[1:].astype(float) + sounding[:-1] - 2.0 * dots * scale[1:] * scale[:-1]
    return np.sqrt(np.clip(sq, 0.0, 2.0))


def _contrast(M: np.ndarray, bands: tuple):
    peak = np.empty((len(bands), M.shape[1]), dtype=M.dtype)
    valley = np.empty_like(peak)
    for k, (lo, hi, n_q) in enumerate(bands):
        sub = M[lo:hi]
        if n_q == 1:
            valley[k], peak[k] = sub.min(axis=0), sub.max(axis=0)
        else:
            ordered = np.sort(sub, axis=0)
            valley[k] = ordered[:n_q].mean(axis=0)
            peak[k] = ordered[-n_q:].mean(axis=0)
    valley_db = power_to_db(valley)
    return power_to_db(peak) - valley_db, valley_db


def _tempo(onset, frame_rate, *, start_bpm, std_bpm, min_bpm, max_bpm):
    """Tempo (BPM) and pulse clarity from the onset envelope's autocorrelation."""
    n = onset.shape[0]
    max_lag = min(int(np.ceil(60.0 * frame_rate / min_bpm)), n - 2)
    min_lag = max(1, int(np.floor(60.0 * frame_rate / max_bpm)))
    if max_lag < min_lag:
        return 0.0, 0.0
    x = onset - onset.mean()
    size = scipy.fft.next_fast_len(2 * n, real=True)
    spec = scipy.fft.rfft(x, size)
    ac = scipy.fft.irfft(spec.real**2 + spec.imag**2, size)[: max_lag + 2]
    if ac[0] <= 0:
        return 0.0, 0.0
    ac = ac / ac[0]
    lags = np.arange(min_lag, max_lag + 1)
    a = ac[lags]
    peaks = (a > ac[lags - 1]) & (a >= ac[lags + 1]) & (a > 0)
    if not np.any(peaks):
        return 0.0, 0.0
    bpm = 60.0 * frame_rate / lags
    prior = np.exp(-0.5 * ((np.log2(bpm) - np.log2(start_bpm)) / std_bpm) ** 2)
    lag = int(lags[np.argmax(np.where(peaks, a * prior, -np.inf))])
    left, mid, right = ac[lag - 1], ac[lag], ac[lag + 1]
    curvature = left - 2.0 * mid + right
    shift = 0.0 if curvature >= 0 else float(np.clip(0.5 * (left - right) / curvature, -0.5, 0.5))
    clarity = float(np.clip(mid - 0.25 * (left - right) * shift, 0.0, 1.0))
    tempo = float(np.clip(60.0 * frame_rate / (lag + shift), min_bpm, max_bpm))
    return tempo, clarity


def _given_log_mel(log_mel, mfcc, *, n_mels: int, n_mfcc: int, n_frames: int):
    """The caller's log-Mel and MFCC cut to the ``n_frames`` real frames, or ``(None, None)``.

    ``(None, None)`` (recompute from ``S``) when no log-Mel is given, or when
    its loudest frame lies past the real ones: its 80 dB floor is then not
    the one of the real frames (see :func:`lowlevel_features`).
    """
    given = {}
    for name, value, rows in (("log_mel", log_mel, n_mels), ("mfcc", mfcc, n_mfcc)):
        if value is None:
            continue
        X = np.asarray(value)
        if X.ndim != 2 or X.shape[0] != rows or X.shape[1] < n_frames:
            raise ParameterError(
                f"{name} must have {rows} rows and at least the {n_frames} frames of the real "
                f"audio, got shape {X.shape}"
            )
        if not np.issubdtype(X.dtype, np.floating):
            raise ParameterError(f"{name} must be floating point, got dtype {X.dtype}")
        given[name] = X
    if "mfcc" in given and "log_mel" not in given:
        raise ParameterError("mfcc needs the log_mel it was computed from")
    if "log_mel" not in given:
        return None, None
    L = given["log_mel"]
    if L[:, :n_frames].max() != L.max():
        return None, None
    C = given.get("mfcc")
    return (
        np.ascontiguousarray(L[:, :n_frames], dtype=np.float32 if L.dtype == np.float16 else None),
        None if C is None else np.ascontiguousarray(C[:, :n_frames]),
    )


def lowlevel_features(
    y,
    *,
    sr: float,
    S=None,
    log_mel=None,
    mfcc=None,
    n_fft: int = 2048,
    hop_length: int = 512,
    n_mfcc: int = 20,
    n_mels: int = 128,
    n_valid: int | None = None,
    roll_percent: float = 0.85,
    n_bands: int = 6,
    contrast_fmin: float = 200.0,
    start_bpm: float = 120.0,
    std_bpm: float = 1.0,
    min_bpm: float = 30.0,
    max_bpm: float = 300.0,
) -> np.ndarray:
    """The clip's vector of low-level descriptors, named by :func:`lowlevel_names`.

    All descriptors share one STFT (see the module docstring for their
    definitions, the treatment of zero-filled clips and the values given to
    silence).

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono signal, floating point, **pre-emphasised** as the paper does
        before feature extraction (:func:`~mer_core.features.spectral.preemphasis`).
    sr : float
        Sampling rate of ``y``.
    S : np.ndarray, shape (1 + n_fft // 2, n_frames), optional
        ``stft_power(y, n_fft=n_fft, hop_length=hop_length)``, when the caller
        already has it (its shape is checked, its values are trusted).
    log_mel : np.ndarray, shape (n_mels, n_frames), optional
        ``power_to_db(mel_power(S, sr=sr, n_mels=n_mels))`` (the 80 dB floor of
        :func:`~mer_core.features.spectral.log_mel`), when the caller already
        has it; it may run on past the real audio (more frames, zero-fill
        included), only the real frames are used. It is reused when its
        loudest frame is a real one, so its floor is theirs (always, unless a
        zero-filled clip is loudest in the frames overlapping its end, where it
        is recomputed from ``S``); the result is then identical to computing
        it here. Shape checked, values trusted.
    mfcc : np.ndarray, shape (n_mfcc, n_frames), optional
        ``dct_matrix(n_mfcc, n_mels) @ log_mel`` of that ``log_mel`` (needs it).
    n_fft, hop_length : int
        Frame length and hop in samples (the STFT's and the time-domain frames').
    n_mfcc, n_mels : int
        MFCC order and number of Mel filters (also used by the onset strength).
    n_valid : int, optional
        Number of real samples at the start of ``y``; the rest is zero fill
        that the statistics ignore. ``None`` means all of ``y``; 0 gives the
        silence vector.
    roll_percent : float
        Energy fraction of the roll-off frequency, in ``(0, 1)``.
    n_bands, contrast_fmin : int, float
        Octave bands of the spectral contrast, starting at ``contrast_fmin`` Hz.
    start_bpm, std_bpm : float
        Centre (BPM) and width (octaves) of the tempo prior.
    min_bpm, max_bpm : float
        Tempo search range.

    Returns
    -------
    np.ndarray, shape (len(lowlevel_names(n_mfcc=n_mfcc, n_bands=n_bands)),)
        float32, finite.

    Raises
    ------
    ParameterError
        On a bad signal, spectrogram or parameter.

    Examples
    --------
    >>> import numpy as np
    >>> sr = 22050
    >>> t = np.arange(2 * sr) / sr
    >>> y = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    >>> v = lowlevel_features(y, sr=sr)
    >>> v.shape, v.dtype
    ((120,), dtype('float32'))
    >>> feats = dict(zip(lowlevel_names(), v.tolist()))
    >>> round(feats["spectral_centroid_mean"]), round(feats["rms_mean"], 2)  # a 1 kHz tone
    (1008, 0.35)
    >>> silent = lowlevel_features(np.zeros(sr, dtype=np.float32), sr=sr)
    >>> bool(np.isfinite(silent).all()), float(silent[lowlevel_names().index("tempo_bpm")])
    (True, 0.0)
    """
    y = check_signal(y)
    if y.ndim != 1:
        raise ParameterError(f"y must be a mono signal (1-D), got shape {y.shape}")
    sr = check_positive(sr, "sr")
    n_fft = check_positive_int(n_fft, "n_fft")
    hop_length = check_positive_int(hop_length, "hop_length")
    n_mfcc = check_positive_int(n_mfcc, "n_mfcc")
    n_mels = check_positive_int(n_mels, "n_mels")
    n_bands = check_positive_int(n_bands, "n_bands")
    roll_percent = check_number(roll_percent, "roll_percent", low=0, high=1, closed="neither")
    contrast_fmin = check_positive(contrast_fmin, "contrast_fmin")
    start_bpm = check_positive(start_bpm, "start_bpm")
    std_bpm = check_positive(std_bpm, "std_bpm")
    min_bpm = check_positive(min_bpm, "min_bpm")
    max_bpm = check_number(max_bpm, "max_bpm", low=min_bpm, closed="neither")
    D = dct_matrix(n_mfcc, n_mels)
    bands = _contrast_bands(sr, n_fft, n_bands, contrast_fmin)
    if y.dtype not in (np.float32, np.float64):
        y = y.astype(np.float32)

    n_samples = y.shape[0]
    n_valid = check_int(n_valid, "n_valid", low=0, high=n_samples, allow_none=True)
    n_valid = n_samples if n_valid is None else n_valid
    if S is not None:
        S, _ = spectrogram(S=S)
        expected = (1 + n_fft // 2, frames_for(n_samples, n_fft=n_fft, hop_length=hop_length))
        if S.shape != expected:
            raise ParameterError(
                f"S must be stft_power(y, n_fft={n_fft}, hop_length={hop_length}) of shape "
                f"{expected}, got shape {S.shape}"
            )
    n_frames = frames_for(max(n_valid, 1), n_fft=n_fft, hop_length=hop_length)
    L, C = _given_log_mel(log_mel, mfcc, n_mels=n_mels, n_mfcc=n_mfcc, n_frames=n_frames)

    if n_valid == 0:  # no real audio: the vector of one silent frame
        y, S, L, C = np.zeros(1, dtype=y.dtype), None, None, None
    else:
        y = y[:n_valid]
    S = stft_power(y, n_fft=n_fft, hop_length=hop_length) if S is None else S[:, :n_frames]

    # spectral shape
    M = np.sqrt(S)
    freq = np.fft.rfftfreq(n_fft, 1.0 / sr)
    centroid, bandwidth, rolloff, flatness = _spectral_shape(S, M, freq, roll_percent)
    flux = _flux(M, _bin_sums(S).sum(axis=0, dtype=np.float64))
    contrast, valley = _contrast(M, bands)

    # time domain
    rms, zcr = _time_domain(y, n_frames, n_fft, hop_length)
    low_energy = float(np.mean(rms < rms.mean()))

    # log-Mel: onset strength, tempo, MFCC
    if L is None:
        L, C = power_to_db(mel_power(S, sr=sr, n_mels=n_mels), top_db=TOP_DB), None
    onset = np.maximum(L[:, 1:] - L[:, :-1], 0.0).mean(axis=0, dtype=np.float64)
    tempo, clarity = _tempo(
        onset,
        sr / hop_length,
        start_bpm=start_bpm,
        std_bpm=std_bpm,
        min_bpm=min_bpm,
        max_bpm=max_bpm,
    )
    if C is None:
        C = np.einsum("km,mt->kt", D.astype(L.dtype, copy=False), L)  # no BLAS threads
    dC = delta(C)

    def stats(X):
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        if X.shape[-1] == 0:
            return np.zeros(2 * X.shape[0])
        return np.stack([X.mean(axis=-1), X.std(axis=-1)], axis=-1).ravel()

    out = np.concatenate(
        [
            stats(np.stack([centroid, bandwidth, rolloff, flatness])),
            stats(flux),
            stats(contrast),
            valley.mean(axis=-1, dtype=np.float64),
            stats(np.stack([zcr, rms])),
            [low_energy],
            stats(onset),
            [tempo, clarity],
            stats(C),
            stats(dC),
        ]
    )
    return out.astype(np.float32)
