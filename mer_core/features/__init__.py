"""Features of the paper's section 2.3 and its abstract.

* :mod:`mer_core.features.spectral`: pre-emphasis, STFT, Mel filterbank, log-Mel and MFCC
  (eqs. 2-5), and the one "signal or spectrogram" resolver every feature uses;
* :mod:`mer_core.features.lowlevel`: the named vector of low-level descriptors per clip;
* :mod:`mer_core.features.musical`: the book's musical descriptors (articulation, rhythm,
  dynamics, tonality, loudness modulation) per clip;
* :mod:`mer_core.features.texture`: log-Mel band statistics per clip;
* :mod:`mer_core.features.screening`: the feature screening, a scikit-learn transformer.
"""

from mer_core.features.lowlevel import lowlevel_features, lowlevel_names
from mer_core.features.musical import musical_features, musical_names
from mer_core.features.spectral import (
    dct_matrix,
    delta,
    hz_to_mel,
    log_mel,
    mel_filterbank,
    mel_power,
    mel_to_hz,
    mfcc,
    power_to_db,
    preemphasis,
    spectrogram,
    stft_power,
)


def __getattr__(name):
    # FeatureScreener pulls in scikit-learn (about 1 s): load it on first use.
    if name == "FeatureScreener":
        from mer_core.features.screening import FeatureScreener

        return FeatureScreener
    raise AttributeError(f"module 'mer_core.features' has no attribute {name!r}")


__all__ = [
    "FeatureScreener",
    "lowlevel_features",
    "lowlevel_names",
    "musical_features",
    "musical_names",
    "delta",
    "dct_matrix",
    "hz_to_mel",
    "log_mel",
    "mel_filterbank",
    "mel_power",
    "mel_to_hz",
    "mfcc",
    "power_to_db",
    "preemphasis",
    "spectrogram",
    "stft_power",
]
