"""Musical descriptors of a clip: articulation, rhythm, dynamics, tonality, modulation.

The low-level vector (:mod:`mer_core.features.lowlevel`) describes the sound's
spectrum frame by frame. Panda, Malheiro & Paiva (2018) showed on the 4Q data
that descriptors of the *music* (how notes start, how regular the pulse is,
how the loudness moves, how tonal the harmony is)
separate the quadrants that spectral shape confuses, the low-arousal pair
(sad vs calm) above all. This module computes a compact set in their spirit
from the **plain** signal (not pre-emphasised: these are the book's additions,
and loudness and harmony are those of the music as heard; on the 4Q
clips the pre-emphasised spectrum gave them less to say), over the clip's
**real** frames only (the zero-fill the paper adds to short clips is ignored).
When the front end runs without pre-emphasis its power spectrogram and
log-Mel image are shared.

Blocks (:func:`musical_names` names every entry):

* **articulation**: onsets picked on the log-Mel onset-strength envelope
  (``librosa.onset.onset_detect``): ``onset_rate`` per second, the
  coefficient of variation of the inter-onset intervals ``ioi_cv``, the
  onsets' peak height over the envelope's mean (``onset_peak_mean`` and
  ``_std``) and the mean rise over the three frames before each onset
  (``attack_slope``, dB);
* **rhythm**: the autocorrelation tempogram of that onset envelope
  (``librosa.feature.tempogram``, 8.9 s windows): its strongest peak, its
  mean and their ratio (``tempogram_peak``, ``tempogram_mean``,
  ``tempogram_ratio``: how clear and steady the pulse is) and the tempo
  (``tempo``, BPM, ``librosa.feature.tempo``);
* **dynamics**: the frame loudness (RMS in dB) at the 5th, 25th,
  50th, 75th and 95th percentile of the frames within 60 dB of the loudest,
  relative to the loudest (``loudness_pNN``), their 5-95 range, and on a 1 s
  scale the standard deviation, mean absolute change and linear slope per
  second (``loudness_1s_std``, ``loudness_1s_change``, ``loudness_slope``);
* **tonality**: from the chroma of :func:`mer_core.chords.chroma`, the gap
  between the best and second-best Krumhansl-Kessler key correlations
  (``key_margin``) and between the best major and best minor key
  (``mode_strength``, positive for major), the same two over 3 s windows
  (mean and std), the chroma's entropy (mean and std over frames), the mean
  and std of the six tonal-centroid coordinates (Harte et al. 2006) and the
  harmonic change detection function (the tonal centroid's frame-to-frame
  distance, mean and std);
* **modulation**: for 8 groups of Mel bands, the share of the loudness
  fluctuation (0.25-20 Hz) in the ranges 0.25-1, 1-3, 3-6 and 6-12 Hz
  (slow swells to fast tremolo and rhythm);
* **spectral entropy** of each frame's normalised power spectrum, mean and std.

Melody (a pYIN pitch track: voiced share, pitch median, range and steps) was
tried and left out: even at quarter-tone resolution it cost 0.3-0.5 s per clip,
several times the rest of the front end, which would break ``mer predict``'s
budget of 0.2 s per clip, for at most a few thousandths of macro-F1 on the 4Q
development clips (chapter 6 lists it among the configurations tried).

The vector is float32 and always finite: silence, or a clip too short for a
statistic, gives 0 there.

Examples
--------
>>> import numpy as np
>>> from mer_core.features.spectral import log_mel, stft_power
>>> sr = 22050
>>> t = np.arange(4 * sr) / sr
>>> y = (np.sin(2 * np.pi * 220 * t) * np.exp(-8 * (t % 0.5))).astype(np.float32)  # A3, 2 notes/s
>>> S = stft_power(y)
>>> v = musical_features(y, sr=sr, S=S, log_mel=log_mel(S=S, sr=sr))
>>> v.shape == (len(musical_names()),), bool(np.isfinite(v).all())
(True, True)
>>> named = dict(zip(musical_names(), v.tolist()))
>>> round(named["onset_rate"]), abs(named["tempo"] - 120) < 5  # notes per second; 120 BPM
(2, True)
"""

from __future__ import annotations

import numpy as np

from mer_core.errors import ParameterError
from mer_core.features.spectral import frames_for, mel_power, power_to_db, spectrogram
from mer_core.validation import check_positive, check_positive_int, check_signal

__all__ = ["musical_features", "musical_names"]

_MODULATION_RANGES = ((0.25, 1.0), (1.0, 3.0), (3.0, 6.0), (6.0, 12.0))
_MODULATION_BANDS = 8
_LOUDNESS_PERCENTILES = (5, 25, 50, 75, 95)


def musical_names() -> list[str]:
    """Names of the entries of :func:`musical_features`, in order.

    Examples
    --------
    >>> names = musical_names()
    >>> len(names), names[0], names[-1]
    (74, 'onset_rate', 'spectral_entropy_std')
    """
    names = ["onset_rate", "ioi_cv", "onset_peak_mean", "onset_peak_std", "attack_slope"]
    names += ["tempogram_peak", "tempogram_mean", "tempogram_ratio", "tempo"]
    names += [f"loudness_p{q:02d}" for q in _LOUDNESS_PERCENTILES]
    names += ["loudness_range", "loudness_1s_std", "loudness_1s_change", "loudness_slope"]
    names += ["key_margin", "mode_strength"]
    names += ["key_margin_3s_mean", "key_margin_3s_std", "mode_strength_3s_mean"]
    names += ["mode_strength_3s_std", "chroma_entropy_mean", "chroma_entropy_std"]
    names += [f"tonal_centroid_{k}_{s}" for k in range(6) for s in ("mean", "std")]
    names += ["harmonic_change_mean", "harmonic_change_std"]
    names += [
        f"modulation_{b}_{lo:g}-{hi:g}hz"
        for lo, hi in _MODULATION_RANGES
        for b in range(_MODULATION_BANDS)
    ]
    names += ["spectral_entropy_mean", "spectral_entropy_std"]
    return names


def _key_correlations(c: np.ndarray) -> np.ndarray:
    """Pearson correlations of a 12-bin chroma with the 24 Krumhansl-Kessler keys
    (C..B major, C..B minor; the profiles of :mod:`mer_core.chords`)."""
    from mer_core.chords import _key_profiles

    sd = c.std()
    if sd <= 1e-12:
        return np.zeros(24)
    return _key_profiles() @ ((c - c.mean()) / sd) / 12.0


def _key_stats(c: np.ndarray) -> tuple[float, float]:
    r = _key_correlations(c)
    if not r.any():
        return 0.0, 0.0
    top = np.sort(r)[::-1]
    return float(top[0] - top[1]), float(r[:12].max() - r[12:].max())


def _tonal_centroid(C: np.ndarray) -> np.ndarray:
    """Harte et al.'s 6-D tonal centroid of each chroma frame (fifths, minor and major thirds)."""
    n = np.arange(12)
    angles = np.stack(
        [
            n * 7 * np.pi / 6,
            n * 7 * np.pi / 6,
            n * 3 * np.pi / 2,
            n * 3 * np.pi / 2,
            n * 2 * np.pi / 3,
            n * 2 * np.pi / 3,
        ]
    )
    phi = np.where(np.arange(6)[:, None] % 2 == 0, np.sin(angles), np.cos(angles))
    phi *= np.array([1.0, 1.0, 1.0, 1.0, 0.5, 0.5])[:, None]
    norm = C.sum(axis=0, keepdims=True)
    return phi @ (C / np.where(norm > 0, norm, 1.0))


def _tonality(C: np.ndarray, frame_rate: float) -> list[float]:
    active = C.any(axis=0)
    if active.sum() < 2:
        return [0.0] * 28
    Ca = C[:, active].astype(np.float64)
    margin, mode = _key_stats(Ca.mean(axis=1))
    w = max(int(round(3.0 * frame_rate)), 1)
    starts = range(0, max(Ca.shape[1] - w, 0) + 1, max(w // 2, 1))
    seg = np.array([_key_stats(Ca[:, s : s + w].mean(axis=1)) for s in starts])
    p = Ca / Ca.sum(axis=0, keepdims=True)
    entropy = -(p * np.log2(np.where(p > 0, p, 1.0))).sum(axis=0)
    T = _tonal_centroid(Ca)
    change = np.linalg.norm(np.diff(T, axis=1), axis=0)
    out = [margin, mode, seg[:, 0].mean(), seg[:, 0].std(), seg[:, 1].mean(), seg[:, 1].std()]
    out += [entropy.mean(), entropy.std()]
    out += [v for k in range(6) for v in (T[k].mean(), T[k].std())]
    out += [change.mean(), change.std()]
    return out


def _onset_envelope(L: np.ndarray) -> np.ndarray:
    """Mean positive log-Mel change per frame (dB), 0 at the first frame."""
    return np.concatenate(([0.0], np.maximum(0.0, np.diff(L, axis=1)).mean(axis=0)))


def _articulation(L: np.ndarray, onset: np.ndarray, sr: float, hop_length: int) -> list[float]:
    import librosa

    seconds = L.shape[1] * hop_length / sr
    mean = onset.mean()
    if mean <= 0 or L.shape[1] < 8:
        return [0.0] * 5
    peaks = librosa.onset.onset_detect(
        onset_envelope=onset, sr=sr, hop_length=hop_length, units="frames"
    )
    ioi = np.diff(peaks)
    ioi_cv = float(ioi.std() / ioi.mean()) if ioi.size > 2 else 0.0
    heights = onset[peaks] / mean if peaks.size else np.zeros(1)
    attack = [L[:, i].mean() - L[:, max(i - 3, 0)].mean() for i in peaks]
    return [
        peaks.size / seconds,
        ioi_cv,
        heights.mean(),
        heights.std(),
        float(np.mean(attack)) if attack else 0.0,
    ]


def _rhythm(onset: np.ndarray, sr: float, hop_length: int) -> list[float]:
    import librosa

    if onset.max() <= 0 or onset.size < 16:
        return [0.0] * 4
    win = min(384, onset.size)
    tg = librosa.feature.tempogram(
        onset_envelope=onset, sr=sr, hop_length=hop_length, win_length=win
    )
    profile = tg.mean(axis=1)[2:]
    tempo = librosa.feature.tempo(onset_envelope=onset, sr=sr, hop_length=hop_length)[0]
    peak, mean = float(profile.max()), float(profile.mean())
    return [peak, mean, peak / mean if mean > 0 else 0.0, float(tempo)]


def _dynamics(y: np.ndarray, n_fft: int, hop_length: int, frame_rate: float) -> list[float]:
    # frame RMS of the signal (centred frames, zero padded, as librosa.feature.rms)
    pad = np.pad(y.astype(np.float64) ** 2, n_fft // 2)
    c = np.concatenate(([0.0], np.cumsum(pad)))
    starts = np.arange(0, max(pad.size - n_fft, 0) + 1, hop_length)
    energy = (c[starts + n_fft] - c[starts]) / n_fft
    if energy.size == 0 or energy.max() <= 0:
        return [0.0] * 9
    db = 10.0 * np.log10(np.maximum(energy, energy.max() * 1e-10))
    loud = db[db > db.max() - 60.0]
    pct = np.percentile(loud, _LOUDNESS_PERCENTILES) - loud.max()
    k = max(int(round(frame_rate)), 1)
    n = db.size // k
    sec = db[: n * k].reshape(n, k).mean(axis=1) if n else db[:1]
    change = np.abs(np.diff(sec)).mean() if sec.size > 1 else 0.0
    slope = np.polyfit(np.arange(sec.size), sec, 1)[0] if sec.size > 2 else 0.0
    return [*pct, pct[-1] - pct[0], sec.std(), change, slope]


def _modulation(L: np.ndarray, frame_rate: float) -> list[float]:
    n_mels = L.shape[0]
    usable = n_mels - n_mels % _MODULATION_BANDS
    B = L[:usable].reshape(_MODULATION_BANDS, -1, L.shape[1]).mean(axis=1)
    F = np.abs(np.fft.rfft(B - B.mean(axis=1, keepdims=True), axis=1)) ** 2
    f = np.fft.rfftfreq(B.shape[1], 1.0 / frame_rate)
    total = F[:, (f > 0.25) & (f < 20.0)].sum(axis=1)
    total = np.where(total > 0, total, np.inf)
    return [
        v for lo, hi in _MODULATION_RANGES for v in F[:, (f >= lo) & (f < hi)].sum(axis=1) / total
    ]


def _spectral_entropy(S: np.ndarray) -> list[float]:
    total = S.sum(axis=0)
    live = total > 0
    if not live.any():
        return [0.0, 0.0]
    p = S[:, live] / total[live]
    h = -(p * np.log2(np.where(p > 0, p, 1.0))).sum(axis=0)
    return [h.mean(), h.std()]


def musical_features(
    y,
    *,
    sr: float,
    S=None,
    log_mel=None,
    n_fft: int = 2048,
    hop_length: int = 512,
    n_mels: int = 128,
    n_valid: int | None = None,
) -> np.ndarray:
    """The clip's vector of musical descriptors, named by :func:`musical_names`.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono signal, **not** pre-emphasised.
    sr : float
        Sampling rate of ``y``.
    S : np.ndarray, shape (1 + n_fft // 2, n_frames), optional
        ``stft_power(y, n_fft=n_fft, hop_length=hop_length)`` when the caller
        has it (shape checked, values trusted).
    log_mel : np.ndarray, shape (n_mels, n_frames'), optional
        ``power_to_db(mel_power(S, sr=sr, n_mels=n_mels))`` when the caller has
        it (it may run on into the zero-fill; only the real frames are used).
    n_fft, hop_length, n_mels : int
        STFT frame and hop, Mel bands.
    n_valid : int, optional
        Real samples at the start of ``y``; the zero-fill after them is ignored.

    Returns
    -------
    np.ndarray, float32, shape (len(musical_names()),)
    """
    from mer_core.chords import chroma

    y = check_signal(y)
    sr = check_positive(sr, "sr")
    hop_length = check_positive_int(hop_length, "hop_length")
    n_mels = check_positive_int(n_mels, "n_mels")
    n_valid = y.shape[-1] if n_valid is None else int(min(max(int(n_valid), 0), y.shape[-1]))
    if n_valid == 0:
        return np.zeros(len(musical_names()), dtype=np.float32)
    if S is None:
        S, n_fft = spectrogram(y[:n_valid], n_fft=n_fft, hop_length=hop_length)
    else:
        S, n_fft = spectrogram(S=S)
    n_real = min(frames_for(max(n_valid, 1), n_fft=n_fft, hop_length=hop_length), S.shape[-1])
    S = np.asarray(S[:, :n_real], dtype=np.float32)
    mel = mel_power(S, sr=sr, n_mels=n_mels)
    if log_mel is None:
        L = power_to_db(mel)
    else:
        L = np.asarray(log_mel)
        if L.ndim != 2 or L.shape[0] != n_mels or L.shape[1] < n_real:
            raise ParameterError(f"log_mel has shape {L.shape}; expected ({n_mels}, >= {n_real})")
        L = L[:, :n_real].astype(np.float32)
    frame_rate = sr / hop_length
    if not np.any(S):
        return np.zeros(len(musical_names()), dtype=np.float32)
    C = chroma(S=S, sr=sr)
    onset = _onset_envelope(L)
    values = _articulation(L, onset, sr, hop_length)
    values += _rhythm(onset, sr, hop_length)
    values += _dynamics(y[:n_valid], n_fft, hop_length, frame_rate)
    values += _tonality(C, frame_rate)
    values += _modulation(L, frame_rate)
    values += _spectral_entropy(S)
    v = np.asarray(values, dtype=np.float64)
    return np.nan_to_num(v, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
