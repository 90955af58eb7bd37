"""Tests of mer_core.features.lowlevel: names, robustness, agreement with librosa, tempo."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from mer_core.errors import ParameterError
from mer_core.features.lowlevel import lowlevel_features, lowlevel_names
from mer_core.features.spectral import dct_matrix, delta, log_mel, mfcc, preemphasis, stft_power

SR = 22050
NAMES = lowlevel_names()


def as_dict(vector, names=NAMES):
    return dict(zip(names, vector.tolist(), strict=True))


def make_signal(seconds=3.0, seed=0):
    """A chirp over amplitude-modulated noise, pre-emphasised as in the paper."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    y = 0.3 * np.sin(2 * np.pi * (300 + 400 * t) * t)
    y += 0.05 * (1 + np.sin(2 * np.pi * 0.7 * t)) * rng.standard_normal(t.size)
    return preemphasis(y.astype(np.float32))


def click_track(bpm, seconds=12.0, seed=0):
    """Decaying noise bursts every 60 / bpm seconds over faint noise."""
    rng = np.random.default_rng(seed)
    y = 0.01 * rng.standard_normal(int(seconds * SR))
    n = int(0.03 * SR)
    burst = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.005 * SR))
    for onset in np.arange(0.1, seconds - 0.1, 60.0 / bpm):
        i = int(onset * SR)
        y[i : i + n] += burst
    return preemphasis(y.astype(np.float32))


@pytest.fixture(scope="module")
def signal():
    return make_signal()


@pytest.fixture(scope="module")
def features(signal):
    return as_dict(lowlevel_features(signal, sr=SR))


# ---------------------------------------------------------------- names and shape


def test_names_match_vector_length(signal):
    assert len(NAMES) == 120 == len(set(NAMES))
    v = lowlevel_features(signal, sr=SR)
    assert v.shape == (120,) and v.dtype == np.float32
    names = lowlevel_names(n_mfcc=13, n_bands=4)
    v = lowlevel_features(signal, sr=SR, n_mfcc=13, n_bands=4)
    assert v.shape == (len(names),) == (10 + 3 * 5 + 9 + 4 * 13,)
    assert names[-1] == "delta_mfcc_12_std" and "spectral_valley_04_mean" in names


def test_names_are_stable():
    assert NAMES[:10] == [
        f"{d}_{s}"
        for d in (
            "spectral_centroid",
            "spectral_bandwidth",
            "spectral_rolloff",
            "spectral_flatness",
            "spectral_flux",
        )
        for s in ("mean", "std")
    ]
    assert NAMES[36:40] == [
        "onset_strength_mean",
        "onset_strength_std",
        "tempo_bpm",
        "pulse_clarity",
    ]
    assert NAMES[40:42] == ["mfcc_00_mean", "mfcc_00_std"]
    assert NAMES[80:82] == ["delta_mfcc_00_mean", "delta_mfcc_00_std"]


# ---------------------------------------------------------------- robustness


def test_silence_gives_the_documented_vector():
    for n_valid in (None, 0):
        f = as_dict(lowlevel_features(np.zeros(SR, dtype=np.float32), sr=SR, n_valid=n_valid))
        assert all(np.isfinite(list(f.values())))
        for name, value in f.items():
            if name.startswith("spectral_flatness_mean"):
                assert value == pytest.approx(1.0, abs=1e-4)
            elif name.startswith("spectral_valley"):
                assert value == pytest.approx(-100.0)
            elif name == "mfcc_00_mean":
                assert value == pytest.approx(-100.0 * np.sqrt(128), rel=1e-5)
            else:
                assert value == pytest.approx(0.0, abs=1e-3), name


@pytest.mark.parametrize("n_samples", [1, 100, SR // 2, 3 * SR])
def test_finite_on_short_clips_and_noise(n_samples):
    rng = np.random.default_rng(n_samples)
    y = rng.standard_normal(n_samples).astype(np.float32)
    v = lowlevel_features(y, sr=SR)
    assert v.shape == (120,) and np.all(np.isfinite(v))
    f = as_dict(v)
    assert 0.0 <= f["spectral_flatness_mean"] <= 1.0
    assert 0.0 <= f["pulse_clarity"] <= 1.0
    assert f["tempo_bpm"] == 0.0 or 30.0 <= f["tempo_bpm"] <= 300.0


def test_float64_input_matches_float32(signal):
    v32 = lowlevel_features(signal, sr=SR)
    v64 = lowlevel_features(signal.astype(np.float64), sr=SR)
    assert v64.dtype == np.float32
    np.testing.assert_allclose(v64, v32, rtol=1e-3, atol=1e-3)


# ---------------------------------------------------------------- agreement with librosa

# every descriptor below equals librosa's to float32 rounding: 1e-4 relative on
# the mean and the std over frames is a generous bound (roll-off may move by one
# bin, 10.8 Hz, in a rare frame where the 85 % point falls on a rounding tie)
LIBROSA = {
    "spectral_centroid": lambda y: librosa.feature.spectral_centroid(y=y, sr=SR),
    "spectral_bandwidth": lambda y: librosa.feature.spectral_bandwidth(y=y, sr=SR),
    "spectral_rolloff": lambda y: librosa.feature.spectral_rolloff(y=y, sr=SR),
    "spectral_flatness": lambda y: librosa.feature.spectral_flatness(y=y),
    "zero_crossing_rate": lambda y: librosa.feature.zero_crossing_rate(y),
    "rms": lambda y: librosa.feature.rms(y=y),
}


@pytest.mark.parametrize("name", sorted(LIBROSA))
def test_agrees_with_librosa(signal, features, name):
    ref = LIBROSA[name](signal)[0]  # librosa defaults: n_fft=2048, hop_length=512
    assert features[f"{name}_mean"] == pytest.approx(ref.mean(), rel=1e-4)
    assert features[f"{name}_std"] == pytest.approx(ref.std(), rel=1e-4)


@pytest.mark.parametrize("f0", [440.0, 9000.0])
def test_bandwidth_of_a_tone_has_no_cancellation_error(f0):
    # a pure tone's bandwidth is tiny next to its centroid: E[f^2] - c^2 in
    # float32 would lose it; same spectrogram as librosa, so the same values
    t = np.arange(SR) / SR
    y = (0.5 * np.sin(2 * np.pi * f0 * t)).astype(np.float32)
    ref = librosa.feature.spectral_bandwidth(S=np.sqrt(stft_power(y)), sr=SR)[0]
    f = as_dict(lowlevel_features(y, sr=SR))
    assert f["spectral_bandwidth_mean"] == pytest.approx(ref.mean(), rel=1e-4)
    assert f["spectral_bandwidth_std"] == pytest.approx(ref.std(), rel=1e-4)


def test_contrast_agrees_with_librosa(signal, features):
    ref = librosa.feature.spectral_contrast(y=signal, sr=SR)
    for k in range(7):
        assert features[f"spectral_contrast_{k:02d}_mean"] == pytest.approx(
            ref[k].mean(), rel=1e-4, abs=1e-3
        )
        assert features[f"spectral_contrast_{k:02d}_std"] == pytest.approx(
            ref[k].std(), rel=1e-3, abs=1e-3
        )


def test_onset_strength_is_librosa_without_its_shift(signal, features):
    ref = librosa.onset.onset_strength(y=signal, sr=SR)
    # librosa delays the envelope by lag + n_fft // (2 * hop) = 3 frames and trims it
    n = ref.size
    S = librosa.power_to_db(librosa.feature.melspectrogram(y=signal, sr=SR))
    ours = np.maximum(np.diff(S, axis=1), 0).mean(axis=0)
    np.testing.assert_allclose(ref[3:], ours[: n - 3], rtol=1e-4, atol=1e-4)
    assert features["onset_strength_mean"] == pytest.approx(ours.mean(), rel=1e-4)
    assert features["onset_strength_std"] == pytest.approx(ours.std(), rel=1e-4)


def test_mfcc_entries_are_mfcc_of_the_same_spectrogram(signal, features):
    C = mfcc(S=stft_power(signal), sr=SR)
    dC = delta(C)
    for k in (0, 3, 19):
        assert features[f"mfcc_{k:02d}_mean"] == pytest.approx(C[k].mean(), rel=1e-4, abs=1e-3)
        assert features[f"mfcc_{k:02d}_std"] == pytest.approx(C[k].std(), rel=1e-4, abs=1e-3)
        assert features[f"delta_mfcc_{k:02d}_std"] == pytest.approx(
            dC[k].std(), rel=1e-3, abs=1e-4
        )


def test_precomputed_spectrogram_gives_the_same_vector(signal):
    S = stft_power(signal)
    np.testing.assert_allclose(
        lowlevel_features(signal, sr=SR, S=S), lowlevel_features(signal, sr=SR), rtol=1e-6
    )


def _front_end(y):
    """What the extraction front end has: the STFT, the 80 dB log-Mel and its MFCC."""
    S = stft_power(y)
    L = log_mel(S=S, sr=SR)
    return S, L, np.einsum("km,mt->kt", dct_matrix(20, 128).astype(L.dtype), L)


def test_a_given_log_mel_gives_the_vector_computed_here(signal):
    S, L, C = _front_end(signal)
    own = lowlevel_features(signal, sr=SR, S=S)
    np.testing.assert_array_equal(lowlevel_features(signal, sr=SR, S=S, log_mel=L), own)
    np.testing.assert_array_equal(lowlevel_features(signal, sr=SR, S=S, log_mel=L, mfcc=C), own)
    # the MFCC of spectral.mfcc (a BLAS product) differs only by float32 rounding
    blas = lowlevel_features(signal, sr=SR, S=S, log_mel=L, mfcc=mfcc(S=S, sr=SR))
    np.testing.assert_allclose(blas, own, rtol=1e-5, atol=1e-5)
    # ... and the given arrays are what is used: shifting them shifts the MFCC entries
    own = as_dict(own)
    shifted = as_dict(lowlevel_features(signal, sr=SR, S=S, log_mel=L + 3.0))
    assert shifted["mfcc_00_mean"] == pytest.approx(own["mfcc_00_mean"] + 3.0 * np.sqrt(128))
    shifted = as_dict(lowlevel_features(signal, sr=SR, S=S, log_mel=L, mfcc=C + 1.0))
    assert shifted["mfcc_03_mean"] == pytest.approx(own["mfcc_03_mean"] + 1.0)


def test_a_given_log_mel_of_the_zero_filled_clip_is_cut_to_the_real_frames(signal):
    n = signal.size
    padded = np.concatenate([signal, np.zeros(SR, dtype=np.float32)])
    S, L, C = _front_end(padded)
    assert L[:, : 1 + n // 512].max() == L.max()  # reused, not recomputed
    own = lowlevel_features(padded, sr=SR, S=S, n_valid=n)
    given = lowlevel_features(padded, sr=SR, S=S, log_mel=L, mfcc=C, n_valid=n)
    np.testing.assert_array_equal(given, own)


def test_a_log_mel_loudest_past_the_real_audio_is_recomputed():
    """A zero-filled clip ending on its loudest click: the given log-Mel's 80 dB floor is
    set by a frame past the real audio (it overlaps the click), not by the real frames."""
    hop = 512
    n = 20 * hop + hop - 1  # the last real frame is centred hop - 1 samples before the end
    t = np.arange(n) / SR
    y = (1e-3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    y[-3:] = [0.9, -0.9, 0.9]  # a click in the last samples
    padded = np.concatenate([y, np.zeros(SR, dtype=np.float32)])
    S, L, C = _front_end(padded)
    n_frames = 1 + n // hop
    assert L[:, :n_frames].max() < L.max()  # the case this test is about
    own = lowlevel_features(padded, sr=SR, S=S, n_valid=n)
    given = lowlevel_features(padded, sr=SR, S=S, log_mel=L, mfcc=C, n_valid=n)
    np.testing.assert_array_equal(given, own)
    # reusing it as it is would have given another vector
    floored = np.maximum(L[:, :n_frames], L.max() - 80.0)
    assert not np.array_equal(floored, log_mel(S=S[:, :n_frames], sr=SR))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"log_mel": np.zeros((64, 200))}, r"log_mel must have 128 rows .* got shape \(64, 200\)"),
        ({"log_mel": np.zeros((128, 3))}, r"at least the \d+ frames .* got shape \(128, 3\)"),
        ({"log_mel": np.zeros((128, 200), dtype=int)}, "log_mel must be floating point"),
        ({"mfcc": np.zeros((20, 200))}, "mfcc needs the log_mel"),
        (
            {"log_mel": np.zeros((128, 200)), "mfcc": np.zeros((13, 200))},
            r"mfcc must have 20 rows",
        ),
    ],
)
def test_a_bad_given_log_mel_or_mfcc_is_refused(signal, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        lowlevel_features(signal, sr=SR, **kwargs)


def test_low_energy_ratio():
    rng = np.random.default_rng(1)
    loud = rng.standard_normal(2 * SR)
    y = np.concatenate([loud, 0.01 * loud]).astype(np.float32)
    assert as_dict(lowlevel_features(y, sr=SR))["low_energy_ratio"] == pytest.approx(0.5, abs=0.02)


# ---------------------------------------------------------------- tempo


@pytest.mark.parametrize("bpm", [120.0, 90.0])
def test_tempo_of_a_click_track(bpm):
    f = as_dict(lowlevel_features(click_track(bpm), sr=SR))
    assert f["tempo_bpm"] == pytest.approx(bpm, rel=0.03)  # frame lags are 2-5 % apart
    assert f["pulse_clarity"] > 0.6


def test_noise_has_no_clear_pulse():
    rng = np.random.default_rng(2)
    f = as_dict(lowlevel_features(rng.standard_normal(12 * SR).astype(np.float32), sr=SR))
    assert f["pulse_clarity"] < 0.3


# ---------------------------------------------------------------- zero-filled clips


def test_n_valid_ignores_the_zero_fill(signal):
    n = signal.size
    padded = np.concatenate([signal, np.zeros(2 * SR + 123, dtype=np.float32)])
    clean = lowlevel_features(signal, sr=SR)
    for S in (None, stft_power(padded)):
        v = lowlevel_features(padded, sr=SR, S=S, n_valid=n)
        np.testing.assert_allclose(v, clean, rtol=1e-4, atol=1e-4)
    # without n_valid the silent tail drags the statistics down
    naive = as_dict(lowlevel_features(padded, sr=SR))
    assert naive["rms_mean"] < 0.7 * as_dict(clean)["rms_mean"]


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "y, kwargs, match",
    [
        (np.zeros((2, SR), np.float32), {}, "mono"),
        (np.zeros(SR, np.int16), {}, "floating"),
        (np.array([0.0, np.nan]), {}, "NaN"),
        (np.zeros(0, np.float32), {}, "non-empty"),
        (np.zeros(SR, np.float32), {"sr": 0}, "sr"),
        (np.zeros(SR, np.float32), {"n_valid": -1}, "n_valid"),
        (np.zeros(SR, np.float32), {"n_valid": SR + 1}, "n_valid"),
        (np.zeros(SR, np.float32), {"n_valid": 10.0}, "n_valid"),
        (np.zeros(SR, np.float32), {"S": np.zeros((1025, 3), np.float32)}, "shape"),
        (np.zeros(SR, np.float32), {"roll_percent": 1.0}, "roll_percent"),
        (np.zeros(SR, np.float32), {"min_bpm": 200.0, "max_bpm": 100.0}, "max_bpm"),
        (np.zeros(SR, np.float32), {"n_mfcc": 40, "n_mels": 20}, "n_mfcc"),
        (np.zeros(SR, np.float32), {"hop_length": 0}, "hop_length"),
        (np.zeros(8000, np.float32), {"sr": 8000}, "Nyquist"),
        (np.zeros(SR, np.float32), {"n_fft": 32}, "too small"),
    ],
)
def test_bad_input_raises_parameter_error(y, kwargs, match):
    kwargs = {"sr": SR, **kwargs}
    with pytest.raises(ParameterError, match=match):
        lowlevel_features(y, **kwargs)


def test_bad_names_arguments():
    with pytest.raises(ParameterError, match="n_mfcc"):
        lowlevel_names(n_mfcc=0)
