"""Pre-emphasis and MFCC against their formulas and reference implementations."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.fft
import scipy.signal

from mer_core.errors import ParameterError
from mer_core.features import (
    dct_matrix,
    delta,
    log_mel,
    mel_filterbank,
    mfcc,
    power_to_db,
    preemphasis,
    stft_power,
)

SR = 22050


@pytest.fixture(scope="module")
def music():
    """Five seconds of a harmonic signal with noise and an envelope."""
    rng = np.random.default_rng(0)
    t = np.arange(5 * SR) / SR
    y = sum(0.2 / k * np.sin(2 * np.pi * 220 * k * t) for k in range(1, 8))
    y = y * (0.5 + 0.5 * np.sin(2 * np.pi * 0.7 * t)) + 0.01 * rng.standard_normal(t.size)
    return y.astype(np.float32)


@pytest.mark.parametrize("coef", [0.0, 0.5, 0.97])
def test_preemphasis_formula_and_lfilter(music, coef):
    x = music.astype(np.float64)
    y = preemphasis(x, coef=coef)
    expected = x.copy()
    expected[1:] = x[1:] - coef * x[:-1]  # eq. (3), x(-1) = 0
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(y, scipy.signal.lfilter([1.0, -coef], [1.0], x), atol=1e-12)


def test_preemphasis_keeps_shape_dtype_and_batches(music):
    batch = np.stack([music, music[::-1]])
    out = preemphasis(batch)
    assert out.shape == batch.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out[1], preemphasis(music[::-1]))


@pytest.mark.parametrize("bad", [-0.1, 1.0, 2, "x"])
def test_preemphasis_bad_coef(bad):
    with pytest.raises(ParameterError, match=repr(bad).strip("'")):
        preemphasis(np.ones(4), coef=bad)


def test_preemphasis_boosts_high_frequencies():
    t = np.arange(SR) / SR
    low = np.sin(2 * np.pi * 100 * t)
    high = np.sin(2 * np.pi * 8000 * t)
    gain = lambda s: np.std(preemphasis(s)) / np.std(s)  # noqa: E731
    assert gain(high) > 1.5 and gain(low) < 0.1


def test_stft_matches_librosa(music):
    ours = stft_power(music.astype(np.float64))
    ref = np.abs(librosa.stft(music.astype(np.float64), n_fft=2048, hop_length=512)) ** 2
    np.testing.assert_allclose(ours, ref, rtol=1e-7, atol=1e-9)


def test_mel_filterbank_matches_librosa():
    np.testing.assert_allclose(
        mel_filterbank(sr=SR, n_fft=2048, n_mels=128),
        librosa.filters.mel(sr=SR, n_fft=2048, n_mels=128),
        rtol=1e-5,
        atol=1e-8,
    )
    with pytest.raises(ParameterError, match="fmax=30000"):
        mel_filterbank(sr=SR, fmax=30000)


def test_dct_is_eq5_orthonormal_dct_ii():
    D = dct_matrix(13, 40)
    x = np.random.default_rng(1).standard_normal(40)
    np.testing.assert_allclose(D @ x, scipy.fft.dct(x, type=2, norm="ortho")[:13], atol=1e-12)
    # eq. (5): C(n) proportional to sum_m s(m) cos(pi n (m - 0.5) / M), m = 1..M
    m = np.arange(1, 41)
    c3 = np.sum(x * np.cos(np.pi * 3 * (m - 0.5) / 40)) * np.sqrt(2 / 40)
    assert D[3] @ x == pytest.approx(c3)


# The documented tolerance: our MFCC equals librosa's to 2e-3 (dB-scaled units,
# values up to ~600) in float32, and to 1e-6 in float64.
@pytest.mark.parametrize(("dtype", "atol"), [(np.float32, 2e-3), (np.float64, 1e-6)])
@pytest.mark.parametrize(
    ("n_mfcc", "n_mels", "n_fft", "hop"), [(20, 128, 2048, 512), (13, 40, 1024, 256)]
)
def test_mfcc_equals_librosa(music, dtype, atol, n_mfcc, n_mels, n_fft, hop):
    y = preemphasis(music.astype(dtype))
    ours = mfcc(y, sr=SR, n_mfcc=n_mfcc, n_mels=n_mels, n_fft=n_fft, hop_length=hop)
    ref = librosa.feature.mfcc(
        y=y, sr=SR, n_mfcc=n_mfcc, n_mels=n_mels, n_fft=n_fft, hop_length=hop
    )
    assert ours.shape == ref.shape == (n_mfcc, 1 + len(y) // hop)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=atol)


def test_log_mel_equals_librosa(music):
    ours = log_mel(music, sr=SR, n_mels=96)
    ref = librosa.power_to_db(librosa.feature.melspectrogram(y=music, sr=SR, n_mels=96))
    np.testing.assert_allclose(ours, ref, atol=2e-3)


def test_80_db_floor_on_a_zero_filled_clip_equals_librosa(music):
    """The paper's zero-fill gives digital silence: > 80 dB of range, so the floor acts."""
    y = np.concatenate([music[: 2 * SR], np.zeros(3 * SR, np.float32)])
    raw = log_mel(y, sr=SR, n_mels=96, top_db=None)
    assert raw.max() - raw.min() > 120  # the silent frames sit at the -100 dB amin
    ours = log_mel(y, sr=SR, n_mels=96)
    assert ours.max() - ours.min() == pytest.approx(80.0)  # floored 80 dB below the peak
    assert (ours == ours.min()).mean() > 0.5  # the silent part (and more) is at the floor
    ref = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=SR, n_mels=96))
    np.testing.assert_allclose(ours, ref, atol=2e-3)
    ours = mfcc(preemphasis(y), sr=SR)
    ref = librosa.feature.mfcc(y=preemphasis(y), sr=SR, n_mfcc=20)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=2e-3)


def test_shared_spectrogram_gives_same_features(music):
    S = stft_power(music)
    np.testing.assert_array_equal(mfcc(S=S, sr=SR), mfcc(music, sr=SR))
    np.testing.assert_array_equal(log_mel(S=S, sr=SR), log_mel(music, sr=SR))


def test_batched_mfcc(music):
    batch = np.stack([music, 0.5 * music])
    out = mfcc(batch, sr=SR)
    assert out.shape[:2] == (2, 20)
    np.testing.assert_allclose(out[0], mfcc(music, sr=SR), atol=1e-3)


def test_silence_is_finite():
    z = np.zeros(SR, np.float32)
    assert np.all(np.isfinite(mfcc(z, sr=SR))) and np.all(np.isfinite(log_mel(z, sr=SR)))
    assert power_to_db(np.zeros((2, 2)), top_db=None).min() == pytest.approx(-100.0)


def test_bad_signals():
    with pytest.raises(ParameterError, match="NaN"):
        mfcc(np.array([0.0, np.nan] * 2000), sr=SR)
    with pytest.raises(ParameterError, match="shape"):
        mfcc(np.zeros(0), sr=SR)
    with pytest.raises(ParameterError, match="n_mfcc must be a positive integer, got 0"):
        mfcc(np.zeros(4096), sr=SR, n_mfcc=0)
    with pytest.raises(ParameterError, match="hop_length must be a positive integer, got -1"):
        stft_power(np.zeros(4096), hop_length=-1)


def test_delta_matches_librosa(music):
    M = mfcc(music, sr=SR)
    np.testing.assert_allclose(delta(M), librosa.feature.delta(M), atol=1e-3)
    np.testing.assert_allclose(delta(M, order=2), librosa.feature.delta(M, order=2), atol=1e-3)
    assert delta(M[:, :2]).shape == (20, 2)


# ---------------------------------------------------------------- one front-end core


def test_spectrogram_resolver_prefers_a_given_S(music):
    from mer_core.features.spectral import spectrogram

    S, n_fft = spectrogram(music, n_fft=1024, hop_length=256)
    np.testing.assert_array_equal(S, stft_power(music, n_fft=1024, hop_length=256))
    assert n_fft == 1024
    given, n_fft = spectrogram(music, S=S[..., :10], n_fft=4096)  # S wins, n_fft from its bins
    assert given.shape == (513, 10) and n_fft == 1024
    as_float, _ = spectrogram(S=np.ones((5, 3), dtype=np.int64))
    assert as_float.dtype == np.float32


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "signal y or a power spectrogram S"),
        ({"S": np.ones(5)}, r"got shape \(5,\)"),
        ({"S": np.ones((1, 4))}, r"got shape \(1, 4\)"),
        ({"S": np.ones((5, 0))}, r"got shape \(5, 0\)"),
        ({"S": np.ones((5, 3), dtype=complex)}, "real power spectrogram, got dtype complex128"),
    ],
)
def test_spectrogram_resolver_rejects(kwargs, match):
    from mer_core.features.spectral import spectrogram

    with pytest.raises(ParameterError, match=match):
        spectrogram(**kwargs)


@pytest.mark.parametrize("n_fft", [2048, 2047, 1000, 255])
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("n", [4096, 4097, 5000, 5119])
def test_frames_for_counts_the_frames_of_stft_power(n_fft, center, n):
    from mer_core.features.spectral import frames_for

    S = stft_power(np.zeros(n, np.float32), n_fft=n_fft, hop_length=256, center=center)
    assert frames_for(n, n_fft=n_fft, hop_length=256, center=center) == S.shape[-1]


def test_one_sparse_mel_filterbank_serves_every_user(music):
    """log_mel, mfcc and the low-level features share one cached filterbank object."""
    from mer_core.features import lowlevel_features, spectral

    cache = spectral._sparse_mel_filterbank
    cache.cache_clear()
    log_mel(music, sr=SR)
    mfcc(music, sr=SR)
    lowlevel_features(music, sr=SR)
    mel_power_default = spectral.mel_power(stft_power(music), sr=SR, fmax=SR / 2)
    info = cache.cache_info()
    assert (info.misses, info.currsize) == (1, 1) and info.hits == 3
    np.testing.assert_array_equal(mel_power_default, spectral.mel_power(stft_power(music), sr=SR))
    key = (float(SR), 2048, 128, 0.0, SR / 2.0, np.dtype(np.float32).str)
    assert cache(*key) is cache(*key)
