"""The paper's audio front end (its section 2.3, eqs. 2-5), implemented here.

Pre-emphasis (eqs. 2-3), the short-time Fourier transform (eq. 4), a Mel
filterbank of ``n_mels`` filters, the log and the DCT-II to order ``n_mfcc``
(eq. 5). Functions are pure, take the signal first and everything else by
keyword, and return arrays shaped ``(..., n_features, n_frames)`` like librosa.

Choices the paper leaves open (documented defaults, all overridable):

* pre-emphasis factor ``coef=0.97`` (the usual value);
* ``n_fft=2048`` samples (93 ms at 22.05 kHz), ``hop_length=512`` (23 ms),
  periodic Hann window, frames centred with zero padding;
* ``n_mels=128`` Slaney-normalised triangular filters on the Slaney Mel scale
  between 0 Hz and ``sr / 2`` (librosa's defaults, so results are comparable);
* log compression ``10 * log10(max(S, 1e-10))`` with an 80 dB floor below the
  clip's maximum;
* ``n_mfcc=20`` coefficients from an orthonormal DCT-II.

With these settings :func:`mfcc` equals ``librosa.feature.mfcc`` to within
2e-3 (dB-scaled units) in float32 and 1e-6 in float64
(``tests/test_spectral.py``); it is faster because the transform is done with
:mod:`scipy.fft` in the input's precision, the Mel filterbank is applied as a
sparse matrix, and the filterbank and DCT matrices are cached.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.fft
import scipy.sparse

from mer_core.errors import ParameterError
from mer_core.validation import check_number, check_positive, check_positive_int, check_signal

__all__ = [
    "preemphasis",
    "stft_power",
    "mel_filterbank",
    "mel_power",
    "dct_matrix",
    "power_to_db",
    "log_mel",
    "mfcc",
    "delta",
    "hz_to_mel",
    "mel_to_hz",
    "frames_for",
    "spectrogram",
]

AMIN = 1e-10
TOP_DB = 80.0


def preemphasis(y, *, coef: float = 0.97) -> np.ndarray:
    """Pre-emphasise a signal: ``y[n] = x[n] - coef * x[n - 1]`` (eqs. 2-3).

    This is the first-order high-pass filter ``H(z) = 1 - coef * z^-1`` of the
    paper's eq. (2). The first sample is kept as it is (``x[-1] = 0``), so the
    output has the input's length, dtype and shape; the filter runs along the
    last axis.

    Parameters
    ----------
    y : np.ndarray, shape (..., n_samples)
        Audio signal (floating point).
    coef : float
        Pre-emphasis factor ``mu`` in ``[0, 1)``; 0 returns a copy of ``y``.

    Returns
    -------
    np.ndarray
        The pre-emphasised signal.

    Examples
    --------
    >>> import numpy as np
    >>> preemphasis(np.array([1.0, 1.0, 1.0, 0.0]), coef=0.5)
    array([ 1. ,  0.5,  0.5, -0.5])
    """
    y = check_signal(y)
    coef = check_number(coef, "coef", low=0, high=1, closed="left")
    out = np.empty_like(y)
    out[..., 0] = y[..., 0]
    np.subtract(y[..., 1:], y.dtype.type(coef) * y[..., :-1], out=out[..., 1:])
    return out


def frames_for(n_samples: int, *, n_fft: int = 2048, hop_length: int = 512, center: bool = True):
    """Number of frames :func:`stft_power` gives for a signal of ``n_samples`` samples.

    Centred frames pad ``n_fft // 2`` zeros at both ends, so there are
    ``1 + (n_samples + 2 * (n_fft // 2) - n_fft) // hop_length`` of them
    (``1 + n_samples // hop_length`` for an even ``n_fft``); uncentred,
    ``1 + (n_samples - n_fft) // hop_length``.

    Examples
    --------
    >>> frames_for(22050 * 40, hop_length=512)
    1723
    >>> frames_for(22050, n_fft=2048, hop_length=512, center=False)
    40
    """
    pad = 2 * (n_fft // 2) if center else 0
    return 1 + (n_samples + pad - n_fft) // hop_length


@functools.lru_cache(maxsize=16)
def _window(n_fft: int, dtype: str) -> np.ndarray:
    # periodic Hann window (the DFT-even form used for spectral analysis)
    n = np.arange(n_fft)
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft)).astype(dtype)


def stft_power(
    y, *, n_fft: int = 2048, hop_length: int = 512, center: bool = True, power: float = 2.0
) -> np.ndarray:
    """Short-time power spectrum ``|X(m, k)|^power`` (eq. 4).

    The signal is cut into frames of ``n_fft`` samples every ``hop_length``
    samples (centred, zero padded at both ends when ``center``), each frame is
    multiplied by a periodic Hann window and transformed with a real FFT.

    Parameters
    ----------
    y : np.ndarray, shape (..., n_samples)
    n_fft, hop_length : int
        Frame length and hop, in samples.
    center : bool
        Pad ``n_fft // 2`` zeros at both ends so frame ``t`` is centred on
        sample ``t * hop_length``.
    power : float
        1 for magnitude, 2 for power.

    Returns
    -------
    np.ndarray, shape (..., 1 + n_fft // 2, n_frames)
        Computed in the input's precision (float32 in, float32 out).

    Examples
    --------
    >>> import numpy as np
    >>> S = stft_power(np.zeros(22050, dtype=np.float32))
    >>> S.shape, S.dtype
    ((1025, 44), dtype('float32'))
    """
    y = check_signal(y)
    n_fft = check_positive_int(n_fft, "n_fft")
    hop_length = check_positive_int(hop_length, "hop_length")
    power = check_positive(power, "power")
    if y.dtype not in (np.float32, np.float64):
        y = y.astype(np.float32)
    if center:
        pad = [(0, 0)] * (y.ndim - 1) + [(n_fft // 2, n_fft // 2)]
        y = np.pad(y, pad)
    if y.shape[-1] < n_fft:
        raise ParameterError(
            f"signal of {y.shape[-1]} samples is shorter than n_fft={n_fft}; use center=True"
        )
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft, axis=-1)[..., ::hop_length, :]
    frames = frames * _window(n_fft, y.dtype.str)
    spec = scipy.fft.rfft(frames, n=n_fft, axis=-1, workers=1)
    if power == 2.0:
        out = spec.real**2 + spec.imag**2
    elif power == 1.0:
        out = np.abs(spec)
    else:
        out = np.abs(spec) ** power
    return np.ascontiguousarray(np.swapaxes(out, -1, -2))


def spectrogram(y=None, *, S=None, n_fft: int = 2048, hop_length: int = 512):
    """The power spectrogram a feature works on, and its ``n_fft``.

    The package's one "signal or spectrogram" resolver (librosa's features
    share ``librosa.core.spectrum._spectrogram`` the same way): every function
    that takes a signal ``y`` *or* a precomputed power spectrogram ``S``
    (:func:`mel_power`, :func:`log_mel`, :func:`mfcc`,
    :func:`~mer_core.chords.chroma` and the chord functions built on it,
    :func:`~mer_core.features.lowlevel.lowlevel_features`) gets it here. A
    given ``S`` wins: its shape and dtype are checked (its values are trusted)
    and ``n_fft`` is ``2 * (S.shape[-2] - 1)``. Otherwise
    ``S = stft_power(y, n_fft=n_fft, hop_length=hop_length)``.

    Parameters
    ----------
    y : np.ndarray, shape (..., n_samples), optional
        Signal, used when ``S`` is not given.
    S : np.ndarray, shape (..., 1 + n_fft // 2, n_frames), optional
        Power spectrogram (:func:`stft_power`).
    n_fft, hop_length : int
        STFT frame and hop, used with ``y``.

    Returns
    -------
    S : np.ndarray, float32 or float64
        Other real dtypes are converted to float32.
    n_fft : int

    Examples
    --------
    >>> import numpy as np
    >>> S, n_fft = spectrogram(np.zeros(4096, dtype=np.float32))
    >>> S.shape, n_fft
    ((1025, 9), 2048)
    >>> spectrogram(S=S[:513])[1]
    1024
    """
    if S is None:
        if y is None:
            raise ParameterError("needs a signal y or a power spectrogram S, got neither")
        n_fft = check_positive_int(n_fft, "n_fft")
        return stft_power(y, n_fft=n_fft, hop_length=hop_length), n_fft
    S = np.asarray(S)
    if S.ndim < 2 or S.shape[-2] < 2 or S.shape[-1] == 0:
        raise ParameterError(
            f"S must be a power spectrogram shaped (..., 1 + n_fft // 2, n_frames), "
            f"got shape {S.shape}"
        )
    if S.dtype.kind not in "biuf":
        raise ParameterError(f"S must be a real power spectrogram, got dtype {S.dtype}")
    if S.dtype not in (np.float32, np.float64):
        S = S.astype(np.float32)
    return S, 2 * (S.shape[-2] - 1)


def hz_to_mel(freq):
    """Hz to Mel on the Slaney scale (linear below 1 kHz, logarithmic above).

    Examples
    --------
    >>> float(hz_to_mel(1000.0))
    15.0
    """
    freq = np.asarray(freq, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = freq / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    log_t = freq >= min_log_hz
    return np.where(
        log_t, min_log_mel + np.log(np.maximum(freq, min_log_hz) / min_log_hz) / logstep, mels
    )


def mel_to_hz(mels):
    """Mel (Slaney scale) to Hz; the inverse of :func:`hz_to_mel`.

    Examples
    --------
    >>> float(mel_to_hz(15.0))
    1000.0
    """
    mels = np.asarray(mels, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * mels
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    log_t = mels >= min_log_mel
    return np.where(log_t, min_log_hz * np.exp(logstep * (mels - min_log_mel)), freqs)


def _mel_params(sr, n_fft, n_mels, fmin, fmax) -> tuple[float, int, int, float, float]:
    """Checked filterbank parameters, normalised so equal filterbanks share a cache entry."""
    sr_ = check_positive(sr, "sr")
    n_fft = check_positive_int(n_fft, "n_fft")
    n_mels = check_positive_int(n_mels, "n_mels")
    fmin_ = check_number(fmin, "fmin")
    fmax_ = sr_ / 2.0 if fmax is None else check_number(fmax, "fmax")
    if not 0.0 <= fmin_ < fmax_ <= sr_ / 2.0:
        raise ParameterError(f"need 0 <= fmin < fmax <= sr/2, got fmin={fmin!r}, fmax={fmax!r}")
    return sr_, n_fft, n_mels, fmin_, fmax_


@functools.lru_cache(maxsize=32)
def _mel_filterbank(sr: float, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    fft_freqs = np.linspace(0.0, sr / 2.0, 1 + n_fft // 2)
    mel_pts = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_pts)
    ramps = mel_pts[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    # Slaney normalisation: each filter has unit area in Hz
    weights *= (2.0 / (mel_pts[2 : n_mels + 2] - mel_pts[:n_mels]))[:, None]
    weights.setflags(write=False)
    return weights


def mel_filterbank(
    *, sr: float, n_fft: int = 2048, n_mels: int = 128, fmin: float = 0.0, fmax=None
) -> np.ndarray:
    """Triangular Mel filterbank of ``n_mels`` filters (the paper's ``M``).

    Filters are spaced evenly on the Slaney Mel scale from ``fmin`` to ``fmax``
    (default ``sr / 2``) and normalised to unit area, as in ``librosa.filters.mel``.

    Returns
    -------
    np.ndarray, shape (n_mels, 1 + n_fft // 2)
        Read-only (it is cached).

    Examples
    --------
    >>> fb = mel_filterbank(sr=22050, n_fft=2048, n_mels=40)
    >>> fb.shape
    (40, 1025)
    """
    return _mel_filterbank(*_mel_params(sr, n_fft, n_mels, fmin, fmax))


@functools.lru_cache(maxsize=32)
def _sparse_mel_filterbank(
    sr: float, n_fft: int, n_mels: int, fmin: float, fmax: float, dtype: str
) -> scipy.sparse.csr_array:
    # the package's one sparse Mel filterbank (mel_power, and through it log_mel, mfcc and
    # lowlevel_features): each filter touches a few bins, ~99 % of the matrix is zeros
    return scipy.sparse.csr_array(_mel_filterbank(sr, n_fft, n_mels, fmin, fmax).astype(dtype))


def mel_power(S, *, sr: float, n_mels: int = 128, fmin: float = 0.0, fmax=None) -> np.ndarray:
    """Apply the Mel filterbank to a power spectrogram: ``(..., n_mels, n_frames)``.

    ``n_fft`` is ``2 * (S.shape[-2] - 1)``. Each triangular filter touches only
    a few FFT bins, so the product is done with a cached sparse matrix (20-25x
    faster than a dense BLAS product on one core, and free of BLAS thread
    contention when clips are processed in parallel).

    Examples
    --------
    >>> import numpy as np
    >>> S = np.ones((1025, 3), dtype=np.float32)
    >>> mel_power(S, sr=22050, n_mels=40).shape
    (40, 3)
    """
    S, n_fft = spectrogram(S=S)
    fb = _sparse_mel_filterbank(*_mel_params(sr, n_fft, n_mels, fmin, fmax), S.dtype.str)
    if S.ndim == 2:
        return np.asarray(fb @ S)
    flat = S.reshape(-1, *S.shape[-2:])
    return np.stack([np.asarray(fb @ x) for x in flat]).reshape(
        *S.shape[:-2], fb.shape[0], S.shape[-1]
    )


@functools.lru_cache(maxsize=32)
def _dct_matrix(n_out: int, n_in: int) -> np.ndarray:
    m = np.arange(n_in)
    k = np.arange(n_out)[:, None]
    basis = np.cos(np.pi * k * (2 * m + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    basis[0] /= np.sqrt(2.0)
    basis.setflags(write=False)
    return basis


def dct_matrix(n_mfcc: int, n_mels: int) -> np.ndarray:
    """Orthonormal DCT-II matrix of eq. (5), shape ``(n_mfcc, n_mels)``.

    Row ``n`` is ``cos(pi * n * (m + 0.5) / M)`` for filters ``m = 0..M-1``,
    scaled so the full ``M x M`` matrix is orthonormal (as ``scipy.fft.dct``
    with ``norm="ortho"``).

    Examples
    --------
    >>> import numpy as np
    >>> D = dct_matrix(8, 8)
    >>> bool(np.allclose(D @ D.T, np.eye(8)))
    True
    """
    n_mfcc = check_positive_int(n_mfcc, "n_mfcc")
    n_mels = check_positive_int(n_mels, "n_mels")
    if n_mfcc > n_mels:
        raise ParameterError(f"n_mfcc={n_mfcc} cannot exceed n_mels={n_mels}")
    return _dct_matrix(n_mfcc, n_mels)


def power_to_db(S, *, ref: float = 1.0, amin: float = AMIN, top_db: float | None = TOP_DB):
    """Power to decibels, ``10 log10(max(S, amin) / ref)``, floored ``top_db`` below the max.

    The floor is taken per spectrogram (over the last two axes).

    Examples
    --------
    >>> import numpy as np
    >>> power_to_db(np.array([[1.0, 10.0, 0.0]]), top_db=None)
    array([[  0.,  10., -100.]])
    """
    S = np.asarray(S)
    log_spec = 10.0 * np.log10(np.maximum(S, amin))
    log_spec -= 10.0 * np.log10(max(amin, ref))
    if top_db is not None:
        top_db = check_number(top_db, "top_db", low=0)
        peak = log_spec.max(axis=(-2, -1), keepdims=True) if log_spec.ndim >= 2 else log_spec.max()
        log_spec = np.maximum(log_spec, peak - top_db)
    return log_spec


def log_mel(
    y=None,
    *,
    sr: float,
    S=None,
    n_fft: int = 2048,
    hop_length: int = 512,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax=None,
    top_db: float | None = TOP_DB,
) -> np.ndarray:
    """Log-Mel spectrogram in dB: the CNN's input "image".

    Parameters
    ----------
    y : np.ndarray, shape (..., n_samples), optional
        Signal; ignored when a power spectrogram ``S`` is given.
    sr : float
        Sampling rate of ``y``.
    S : np.ndarray, shape (..., 1 + n_fft // 2, n_frames), optional
        Precomputed power spectrogram (:func:`stft_power`), to share one STFT
        between features.

    Returns
    -------
    np.ndarray, shape (..., n_mels, n_frames)

    Examples
    --------
    >>> import numpy as np
    >>> y = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050).astype(np.float32)
    >>> log_mel(y, sr=22050, n_mels=64).shape
    (64, 44)
    """
    S, _ = spectrogram(y, S=S, n_fft=n_fft, hop_length=hop_length)
    return power_to_db(mel_power(S, sr=sr, n_mels=n_mels, fmin=fmin, fmax=fmax), top_db=top_db)


def mfcc(
    y=None,
    *,
    sr: float,
    S=None,
    n_mfcc: int = 20,
    n_fft: int = 2048,
    hop_length: int = 512,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax=None,
    top_db: float | None = TOP_DB,
) -> np.ndarray:
    """Mel-frequency cepstral coefficients (eqs. 4-5).

    Framing and Hann window, power spectrum (eq. 4), ``n_mels`` Mel filters,
    log (dB), then an orthonormal DCT-II keeping orders ``0 .. n_mfcc - 1``
    (eq. 5, whose ``L`` is ``n_mfcc`` and ``M`` is ``n_mels``).

    Parameters
    ----------
    y : np.ndarray, shape (..., n_samples), optional
        Signal (pre-emphasise it first with :func:`preemphasis` to follow the
        paper); ignored when ``S`` is given.
    sr : float
        Sampling rate.
    S : np.ndarray, optional
        Precomputed power spectrogram from :func:`stft_power`.
    n_mfcc : int
        MFCC order ``L``.

    Returns
    -------
    np.ndarray, shape (..., n_mfcc, n_frames)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.standard_normal(22050).astype(np.float32)
    >>> mfcc(y, sr=22050, n_mfcc=13).shape
    (13, 44)
    """
    n_mfcc = check_positive_int(n_mfcc, "n_mfcc")
    L = log_mel(
        y,
        sr=sr,
        S=S,
        n_fft=n_fft,
        hop_length=hop_length,
        n_mels=n_mels,
        fmin=fmin,
        fmax=fmax,
        top_db=top_db,
    )
    D = dct_matrix(n_mfcc, L.shape[-2]).astype(L.dtype, copy=False)
    return np.matmul(D, L)


def delta(X, *, width: int = 9, order: int = 1) -> np.ndarray:
    """Local derivative of a feature sequence along time (Savitzky-Golay, like librosa).

    Edges are handled by interpolation (a polynomial fit inside the window), as
    ``librosa.feature.delta(..., mode="interp")``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(20, dtype=float)[None, :]
    >>> bool(np.allclose(delta(X), 1.0))
    True
    """
    import scipy.signal

    X = np.asarray(X)
    width = check_positive_int(width, "width")
    if width < 3 or width % 2 == 0:
        raise ParameterError(f"width must be an odd integer >= 3, got {width!r}")
    if order not in (1, 2):
        raise ParameterError(f"order must be 1 or 2, got {order!r}")
    if X.shape[-1] < width:
        width = max(3, X.shape[-1] - (1 - X.shape[-1] % 2))
        if X.shape[-1] < 3:
            return np.zeros_like(X)
    return scipy.signal.savgol_filter(
        X, window_length=width, polyorder=order, deriv=order, axis=-1, mode="interp"
    ).astype(X.dtype, copy=False)
