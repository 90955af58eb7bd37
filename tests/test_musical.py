"""The musical descriptors (mer_core.features.musical) and their place in extraction and models."""

import numpy as np
import pytest

from mer_core.errors import MerError, ParameterError
from mer_core.extract import FeatureConfig, feature_names, groups_for, signal_features
from mer_core.features.musical import musical_features, musical_names
from mer_core.features.spectral import log_mel, stft_power

SR = 22050


def _notes(freqs, *, rate=2.0, seconds=6.0, decay=8.0):
    """Decaying notes at ``rate`` per second cycling through ``freqs`` (Hz)."""
    t = np.arange(int(seconds * SR)) / SR
    k = (t * rate).astype(int)
    f = np.asarray(freqs, dtype=float)[k % len(freqs)]
    phase = 2 * np.pi * np.cumsum(f) / SR
    return (np.sin(phase) * np.exp(-decay * (t % (1.0 / rate)))).astype(np.float32)


def _named(y, **kw):
    S = stft_power(y)
    v = musical_features(y, sr=SR, S=S, log_mel=log_mel(S=S, sr=SR), **kw)
    return dict(zip(musical_names(), v.tolist(), strict=True))


def test_names_match_the_vector_and_are_unique():
    names = musical_names()
    assert len(set(names)) == len(names)
    v = musical_features(_notes([220.0]), sr=SR)
    assert v.shape == (len(names),) and v.dtype == np.float32 and np.isfinite(v).all()


def test_onsets_and_tempo_follow_the_notes():
    slow = _named(_notes([220.0], rate=2.0))
    fast = _named(_notes([220.0], rate=4.0))
    assert slow["onset_rate"] == pytest.approx(2.0, abs=0.3)
    assert fast["onset_rate"] == pytest.approx(4.0, abs=0.5)
    assert slow["ioi_cv"] < 0.2  # a strict pulse
    assert slow["tempo"] == pytest.approx(120.0, rel=0.05)
    assert fast["tempo"] == pytest.approx(240.0, rel=0.05) or fast["tempo"] == pytest.approx(
        120.0, rel=0.05
    )  # a tempo estimate may take half the pulse


def test_a_crescendo_has_a_rising_loudness_slope_and_range():
    t = np.arange(6 * SR) / SR
    tone = np.sin(2 * np.pi * 330 * t)
    steady = _named((0.3 * tone).astype(np.float32))
    rising = _named((0.3 * tone * np.geomspace(0.01, 1.0, t.size)).astype(np.float32))
    assert rising["loudness_slope"] > 5.0 > abs(steady["loudness_slope"])
    assert rising["loudness_range"] > steady["loudness_range"] + 20


def _progression(chords, seconds_each=1.5):
    """Triads (semitones above middle C) one after the other."""
    t = np.arange(int(seconds_each * SR)) / SR
    parts = [sum(np.sin(2 * np.pi * 261.63 * 2 ** (p / 12) * t) for p in c) for c in chords]
    return (0.2 * np.concatenate(parts)).astype(np.float32)


def test_mode_strength_is_positive_for_major_and_negative_for_minor():
    major = _named(_progression([[0, 4, 7], [5, 9, 12], [7, 11, 14], [0, 4, 7]]))  # C: I IV V I
    minor = _named(_progression([[9, 12, 16], [2, 5, 9], [4, 8, 11], [9, 12, 16]]))  # a: i iv V i
    assert major["mode_strength"] > 0 > minor["mode_strength"]


def test_zero_fill_is_ignored():
    y = _notes([220.0, 330.0], seconds=4.0)
    padded = np.concatenate([y, np.zeros(3 * SR, dtype=np.float32)])
    a = musical_features(y, sr=SR)
    b = musical_features(padded, sr=SR, n_valid=len(y))
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_silence_gives_zeros():
    v = musical_features(np.zeros(2 * SR, dtype=np.float32), sr=SR)
    assert not v.any()
    assert not musical_features(_notes([220.0]), sr=SR, n_valid=0).any()


def test_bad_input_is_a_parameter_error():
    with pytest.raises(ParameterError, match="log_mel has shape"):
        musical_features(_notes([220.0]), sr=SR, log_mel=np.zeros((5, 3)))
    with pytest.raises(ParameterError):
        musical_features(np.array([0.0, np.nan]), sr=SR)


def test_extraction_group_and_cache_names():
    cfg = FeatureConfig(duration=3.0)
    y = np.concatenate([_notes([220.0], seconds=2.0), np.zeros(SR, dtype=np.float32)])
    out = signal_features(y, config=cfg, n_valid=2 * SR, groups=("musical",))
    assert set(out) == {"musical"}
    assert out["musical"]["vector"].shape == (len(musical_names()),)
    assert feature_names("musical", config=cfg) == musical_names()
    assert groups_for(["musical"]) == ("musical",)
    # the group keys on the settings it uses, not on n_mfcc
    assert cfg.group_params("musical") == FeatureConfig(duration=3.0, n_mfcc=13).group_params(
        "musical"
    )


def _toy(n=24, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    d = len(musical_names())
    X = {
        "lowlevel": rng.normal(size=(n, 5)),
        "chords": rng.normal(size=(n, 58)),
        "musical": rng.normal(size=(n, d)) + 2.0 * y[:, None],
    }
    return X, y


def test_svm_reads_the_musical_block_only_when_asked():
    from mer_core.models.svm import SVMClassifier

    X, y = _toy()
    on = SVMClassifier(use_mfcc_stats=False, use_musical=True, screening=None).fit(X, y)
    off = SVMClassifier(use_mfcc_stats=False, screening=None).fit(X, y)
    assert on.feature_names_[-len(musical_names()) :] == musical_names()
    assert len(on.feature_names_) == len(off.feature_names_) + len(musical_names())
    assert on.score(X, y) > off.score(X, y)
    with pytest.raises(MerError, match="musical"):
        on.predict({"lowlevel": X["lowlevel"]})


def test_cnn_svm_fuses_the_musical_block():
    from mer_core.models.cnn_svm import CNNSVMClassifier

    X, y = _toy()
    clf = CNNSVMClassifier(
        use_embedding=False, use_chords=False, use_musical=True, screening=None
    ).fit(X, y)
    d = len(musical_names())
    assert clf.blocks_ == {"lowlevel": [0, 5], "musical": [5, 5 + d]}
    assert clf.predict(X).shape == (len(y),)
