"""The package's one set of parameter checks (mer_core.validation) and their users."""

from __future__ import annotations

import numpy as np
import pytest

from mer_core.errors import MerError, ParameterError
from mer_core.validation import (
    check_bool,
    check_int,
    check_number,
    check_positive,
    check_positive_int,
    check_signal,
)


@pytest.mark.parametrize(
    ("check", "value", "expected"),
    [
        (check_positive_int, 3, 3),
        (check_positive_int, np.int64(2048), 2048),
        (check_positive, 22050, 22050.0),
        (check_positive, np.float32(0.5), 0.5),
        (check_positive, np.array(2.0), 2.0),
        (check_bool, np.True_, True),
    ],
)
def test_accepted_values_come_back_in_their_canonical_type(check, value, expected):
    out = check(value, "x")
    assert out == expected and type(out) is type(expected)


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (check_positive_int, 0, "n must be a positive integer, got 0"),
        (check_positive_int, -512, "n must be a positive integer, got -512"),
        (check_positive_int, 2.0, "n must be a positive integer, got 2.0"),
        (check_positive_int, True, "n must be a positive integer, got True"),
        (check_positive_int, "8", "n must be a positive integer, got '8'"),
        (check_positive_int, None, "n must be a positive integer, got None"),
        (check_positive, 0, "n must be a positive number, got 0"),
        (check_positive, -1.5, "n must be a positive number, got -1.5"),
        (check_positive, float("inf"), "n must be a positive number, got inf"),
        (check_positive, float("nan"), "n must be a positive number, got nan"),
        (check_positive, "fast", "n must be a positive number, got 'fast'"),
        (check_positive, [1.0], "n must be a positive number, got [1.0]"),
        (check_positive, False, "n must be a positive number, got False"),
        (check_bool, 1, "n must be True or False, got 1"),
        (check_bool, "yes", "n must be True or False, got 'yes'"),
    ],
)
def test_each_check_rejects_with_the_value_echoed(check, value, message):
    with pytest.raises(ParameterError) as info:
        check(value, "n")
    assert str(info.value) == message
    assert isinstance(info.value, MerError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "value", "message"),
    [
        ({"low": 0, "high": 1, "closed": "left"}, 1.0, "a number in [0, 1), got 1.0"),
        ({"low": 0, "high": 1, "closed": "right"}, 0, "a number in (0, 1], got 0"),
        ({"low": 0, "high": 1, "closed": "neither"}, 1, "a number in (0, 1), got 1"),
        ({"low": -0.5, "high": 0.5}, 0.7, "a number in [-0.5, 0.5], got 0.7"),
        ({"low": 0}, -1e-3, "a non-negative number, got -0.001"),
        ({"low": 30, "closed": "neither"}, 30.0, "a number > 30, got 30.0"),
        ({"high": 1}, 2, "a number <= 1, got 2"),
        ({}, float("-inf"), "a finite number, got -inf"),
        ({}, None, "a finite number, got None"),
        ({"low": 0, "allow_none": True}, -1, "a non-negative number or None, got -1"),
    ],
)
def test_check_number_bounds_and_message(kwargs, value, message):
    with pytest.raises(ParameterError) as info:
        check_number(value, "x", **kwargs)
    assert str(info.value) == f"x must be {message}"


def test_check_number_bounds_are_inclusive_as_asked():
    assert check_number(0, "x", low=0, high=1, closed="left") == 0.0
    assert check_number(1, "x", low=0, high=1, closed="right") == 1.0
    assert check_number(None, "x", allow_none=True) is None
    with pytest.raises(ParameterError, match="closed must be one of"):
        check_number(0.5, "x", low=0, high=1, closed="open")


def test_check_int_bounds_and_none():
    assert check_int(0, "n_valid", low=0, high=5) == 0
    assert check_positive_int(None, "crop", allow_none=True) is None
    with pytest.raises(ParameterError, match=r"n_valid must be an integer in \[0, 5\], got 6"):
        check_int(6, "n_valid", low=0, high=5)
    with pytest.raises(ParameterError, match="crop must be a positive integer or None, got 0"):
        check_positive_int(0, "crop", allow_none=True)
    with pytest.raises(ParameterError, match="k must be a non-negative integer, got -1"):
        check_int(-1, "k", low=0)


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.zeros(0), "y must be a non-empty signal, got shape (0,)"),
        (np.float64(1.0), "y must be a non-empty signal, got shape ()"),
        (np.zeros(4, dtype=np.int16), "y must be floating point, got dtype int16"),
        (np.array([0.0, np.inf]), "y contains NaN or infinite samples"),
    ],
)
def test_check_signal(y, message):
    with pytest.raises(ParameterError) as info:
        check_signal(y)
    assert str(info.value) == message


# ------------------------------------------------- the package's functions use them


def _train_settings(**kw):
    from mer_core.models.training import TrainSettings

    return TrainSettings(**kw)


def _pool_time(factor):
    from mer_core.models.training import pool_time

    return pool_time(np.zeros((1, 1, 8), dtype=np.float32), factor)


def _cnn(n_mels):
    from mer_core.models.networks import YangCNN

    return YangCNN(n_mels=n_mels)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: _train_settings(epochs=0), "epochs must be a positive integer, got 0"),
        (lambda: _train_settings(crop=-4), "crop must be a positive integer or None, got -4"),
        (lambda: _train_settings(lr=0.0), "lr must be a positive number, got 0.0"),
        (lambda: _train_settings(momentum=1.0), "momentum must be a number in [0, 1), got 1.0"),
        (lambda: _train_settings(mixup=-0.2), "mixup must be a non-negative number, got -0.2"),
        (lambda: _train_settings(spec_augment=1), "spec_augment must be True or False, got 1"),
        (lambda: _pool_time(0), "time_pool must be a positive integer, got 0"),
        (lambda: _cnn(n_mels=True), "n_mels must be a positive integer, got True"),
    ],
)
def test_models_use_the_shared_checks(call, message):
    with pytest.raises(ParameterError) as info:
        call()
    assert str(info.value) == message


def test_front_end_uses_the_shared_checks():
    from mer_core.audio import load_audio
    from mer_core.chords import chroma
    from mer_core.features import mel_filterbank, preemphasis, stft_power
    from mer_core.features.texture import mel_band_names
    from mer_core.models.fusion import C_grid

    y = np.zeros(4096, dtype=np.float32)
    cases = [
        (lambda: stft_power(y, n_fft=0), "n_fft must be a positive integer, got 0"),
        (lambda: stft_power(y, power=-2), "power must be a positive number, got -2"),
        (lambda: preemphasis(y, coef=1), "coef must be a number in [0, 1), got 1"),
        (lambda: mel_filterbank(sr=-22050), "sr must be a positive number, got -22050"),
        (lambda: chroma(y, sr=22050, gamma=-1), "gamma must be a positive number, got -1"),
        (lambda: mel_band_names(n_bands=0), "n_bands must be a positive integer, got 0"),
        (lambda: C_grid([1.0, -0.1]), "C must be a positive number, got -0.1"),
        (lambda: load_audio("x.wav", sr=0), "sr must be a positive integer, got 0"),
    ]
    for call, message in cases:
        with pytest.raises(ParameterError) as info:
            call()
        assert str(info.value) == message
