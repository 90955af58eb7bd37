"""Tests of mer_core.chords on synthesised harmonic tones (no audio files)."""

from __future__ import annotations

import numpy as np
import pytest

from mer_core import chords
from mer_core.chords import (
    CHORD_LABELS,
    chord_templates,
    chord_vector,
    chord_vector_names,
    chords_from_chroma,
    chroma,
    estimate_chords,
    estimate_key,
)
from mer_core.errors import MerError, ParameterError
from mer_core.features.spectral import preemphasis, stft_power

SR = 22050
HOP = 512
EDGE = 4  # frames at each chord boundary left out of the checks (the window overlaps both)

# MIDI notes, bass an octave or two below the triad
G_MAJ = (43, 55, 59, 62, 67)  # G2 G3 B3 D4 G4
C_MAJ = (36, 48, 60, 64, 67)  # C2 C3 C4 E4 G4
D_MAJ = (38, 50, 62, 66, 69)  # D2 D3 D4 F#4 A4
I_IV_V_I = ((G_MAJ, "G:maj"), (C_MAJ, "C:maj"), (D_MAJ, "D:maj"), (G_MAJ, "G:maj"))


def tone(midis, seconds, *, n_partials=8, decay=0.6, seed=0):
    """Sum of harmonic partials (amplitude ``decay ** (k - 1)``) for each note, float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    y = np.zeros_like(t)
    for m in midis:
        f0 = 440.0 * 2.0 ** ((m - 69) / 12)
        for k in range(1, n_partials + 1):
            if k * f0 < SR / 2:
                y += decay ** (k - 1) * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 2 * np.pi))
    envelope = np.minimum(1.0, t / 0.02) * np.exp(-0.7 * t)
    return (0.1 * y * envelope).astype(np.float32)


def progression(chord_list, *, seconds=2.0, shift=0):
    """Concatenated chords (``shift`` semitones up) and the true label of every frame."""
    y = np.concatenate([tone([m + shift for m in notes], seconds) for notes, _ in chord_list])
    labels = [transpose(label, shift) for _, label in chord_list]
    n_frames = 1 + y.size // HOP
    frame_time = np.arange(n_frames) * HOP / SR
    which = np.minimum((frame_time // seconds).astype(int), len(chord_list) - 1)
    truth = np.asarray(labels)[which]
    boundary = np.zeros(n_frames, dtype=bool)
    for i in range(1, len(chord_list)):
        centre = int(round(i * seconds * SR / HOP))
        boundary[max(0, centre - EDGE) : centre + EDGE] = True
    boundary[:EDGE] = boundary[-EDGE:] = True
    return y, truth, boundary


def transpose(label, shift):
    if label == "N":
        return label
    i = CHORD_LABELS.index(label)
    return CHORD_LABELS[12 * (i // 12) + (i % 12 + shift) % 12]


# ----------------------------------------------------------------------------- basics


def test_labels_and_templates():
    assert len(CHORD_LABELS) == 25
    assert CHORD_LABELS[:3] == ("C:maj", "C#:maj", "D:maj")
    assert CHORD_LABELS[12] == "C:min" and CHORD_LABELS[23] == "B:min" and CHORD_LABELS[-1] == "N"
    T = chord_templates()
    assert T.shape == (25, 12) and not T.flags.writeable
    binary = chord_templates(n_harmonics=1)
    assert binary[:24].sum(axis=1).tolist() == [3.0] * 24
    assert np.flatnonzero(binary[CHORD_LABELS.index("G:maj")]).tolist() == [2, 7, 11]
    assert np.flatnonzero(binary[CHORD_LABELS.index("F#:min")]).tolist() == [1, 6, 9]
    # every template is its root's C template rotated
    for root in range(12):
        np.testing.assert_allclose(T[root], np.roll(T[0], root))
        np.testing.assert_allclose(T[12 + root], np.roll(T[12], root))
    # the triad notes dominate the overtones
    for row in range(24):
        assert np.sort(T[row])[-3] > 2 * np.sort(T[row])[-4]


def test_chroma_shape_dtype_and_peaks():
    y = tone((60, 64, 67), 1.0)
    C = chroma(y, sr=SR)
    assert C.shape == (12, 1 + y.size // HOP) and C.dtype == np.float32
    assert np.all((C >= 0) & (C <= 1))
    mid = C[:, 10:-10]
    np.testing.assert_allclose(mid.max(axis=0), 1.0)
    top3 = np.sort(np.argsort(mid, axis=0)[-3:], axis=0)
    assert np.all(top3 == np.array([[0], [4], [7]]))  # C E G
    assert chroma(y.astype(np.float64), sr=SR).dtype == np.float64


def test_chroma_level_invariant():
    y = tone((57, 60, 64), 1.0)
    np.testing.assert_allclose(chroma(100 * y, sr=SR), chroma(y, sr=SR), atol=1e-4)


def test_chroma_accepts_any_n_fft():
    y = tone((60, 64, 67), 2.0)
    for n_fft in (1024, 4096, 8192):
        S = stft_power(y, n_fft=n_fft, hop_length=HOP)
        C = chroma(S=S, sr=SR)
        assert C.shape == (12, S.shape[-1])
        labels = estimate_chords(S=S, sr=SR)
        assert np.mean(labels[EDGE:-EDGE] == "C:maj") > 0.95, n_fft


def test_chroma_undoes_preemphasis():
    y, _, _ = progression(I_IV_V_I[:2])
    plain = chroma(y, sr=SR)
    S = stft_power(preemphasis(y, coef=0.97))
    assert np.abs(chroma(S=S, sr=SR) - plain).mean() > 0.05  # the bass is lost
    np.testing.assert_allclose(chroma(S=S, sr=SR, preemphasis=0.97), plain, atol=0.05)


# ----------------------------------------------------------------------------- recognition


@pytest.mark.parametrize(
    ("notes", "label"),
    [((60, 64, 67), "C:maj"), ((57, 60, 64), "A:min"), ((48, 60, 64, 67), "C:maj")],
)
def test_triad_recognised(notes, label):
    labels = estimate_chords(tone(notes, 2.0), sr=SR)
    inner = labels[EDGE:-EDGE]
    assert np.mean(inner == label) >= 0.98, np.unique(inner, return_counts=True)


@pytest.mark.parametrize("shift", [0, 3, -5])
def test_progression_recognised(shift):
    y, truth, _ = progression(I_IV_V_I, shift=shift)
    labels = estimate_chords(y, sr=SR)
    assert labels.shape == truth.shape
    accuracy = np.mean(labels == truth)
    assert accuracy >= 0.9, accuracy


def test_estimate_key_of_progression():
    for shift, key in [(0, "G:maj"), (3, "A#:maj"), (-5, "D:maj")]:
        y, _, _ = progression(I_IV_V_I, shift=shift)
        found, strength = estimate_key(chroma(y, sr=SR))
        assert found == key and 0.5 < strength <= 1.0


def test_minor_key_relative_histogram():
    # i - iv - V - i in A minor: A:min D:min E:maj A:min
    a_min, d_min, e_maj = (45, 57, 60, 64, 69), (38, 50, 62, 65, 69), (40, 52, 59, 64, 68)
    y, _, _ = progression(
        [(a_min, "A:min"), (d_min, "D:min"), (e_maj, "E:maj"), (a_min, "A:min")], seconds=1.5
    )
    v = dict(zip(chord_vector_names(), chord_vector(y, sr=SR), strict=True))
    assert v["chord_key_mode"] == 0.0
    assert v["chord_rel_I:min"] > 0.4 and v["chord_rel_IV:min"] > 0.15
    assert v["chord_rel_V:maj"] > 0.15


def test_white_noise_is_no_chord():
    y = (0.1 * np.random.default_rng(1).standard_normal(SR)).astype(np.float32)
    assert np.mean(estimate_chords(y, sr=SR) == "N") >= 0.9


def test_smoothing_removes_a_single_odd_frame():
    C = np.zeros((12, 60))
    C[[0, 4, 7]] = 1.0
    C[:, 30] = 0.0
    C[[7, 11, 2], 30] = 1.0  # one frame of G major
    assert (chords_from_chroma(C) == "C:maj").all()
    assert chords_from_chroma(C, self_prob=1 / 25)[30] == "G:maj"


def test_viterbi_matches_full_matrix():
    rng = np.random.default_rng(3)
    K, n = 25, 80
    log_em = 3.0 * rng.standard_normal((n, K))
    p = 0.9
    logA = np.full((K, K), np.log((1 - p) / (K - 1)))
    np.fill_diagonal(logA, np.log(p))
    delta, back = log_em[0].copy(), np.zeros((n, K), dtype=int)
    for t in range(1, n):
        cand = delta[:, None] + logA
        back[t] = cand.argmax(axis=0)
        delta = cand.max(axis=0) + log_em[t]
    ref = [int(delta.argmax())]
    for t in range(n - 1, 0, -1):
        ref.append(int(back[t, ref[-1]]))
    ref = np.array(ref[::-1])
    path = chords._viterbi_sticky(log_em, p)

    def score(q):
        return log_em[np.arange(n), q].sum() + logA[q[:-1], q[1:]].sum()

    assert score(path) == pytest.approx(score(ref))
    np.testing.assert_array_equal(path, ref)


# ----------------------------------------------------------------------------- chord vector


def test_vector_layout():
    names = chord_vector_names()
    y, _, _ = progression(I_IV_V_I)
    v = chord_vector(y, sr=SR)
    assert v.shape == (len(names),) == (58,) and v.dtype == np.float32
    assert len(set(names)) == len(names) and all(n.startswith("chord_") for n in names)
    assert chord_vector_names(prefix="")[0] == "hist_C:maj"
    d = dict(zip(names, v, strict=True))
    hist = v[:25]
    assert hist.sum() == pytest.approx(1.0, abs=1e-5)
    assert v[25:31].tolist()[:3] == pytest.approx([hist[:12].sum(), hist[12:24].sum(), hist[24]])
    assert v[31:56].sum() == pytest.approx(1.0, abs=1e-5)
    assert d["chord_hist_G:maj"] == pytest.approx(0.5, abs=0.05)
    assert d["chord_rel_I:maj"] == pytest.approx(0.5, abs=0.05)
    assert d["chord_rel_IV:maj"] == pytest.approx(0.25, abs=0.05)
    assert d["chord_rel_V:maj"] == pytest.approx(0.25, abs=0.05)
    assert d["chord_major_share"] > 0.9 and d["chord_key_mode"] == 1.0
    duration = y.size / SR
    assert d["chord_change_rate"] == pytest.approx(3 / duration, rel=0.35)
    assert d["chord_mean_duration"] == pytest.approx(2.0, rel=0.2)
    assert 0 < d["chord_entropy"] < 1


def test_vector_transposition_invariance():
    base, _, _ = progression(I_IV_V_I)
    v0 = chord_vector(base, sr=SR)
    for shift in (3, -5):
        y, _, _ = progression(I_IV_V_I, shift=shift)
        v = chord_vector(y, sr=SR)
        # the relative part (shares, rates, key-relative histogram, mode, strength) is unchanged
        np.testing.assert_allclose(v[25:56], v0[25:56], atol=0.03)
        np.testing.assert_allclose(v[56], v0[56])
        assert abs(v[57] - v0[57]) < 0.1
        # the absolute histogram moves with the music
        assert np.abs(v[:25] - v0[:25]).sum() > 0.9
        np.testing.assert_allclose(np.roll(v0[:12], shift), v[:12], atol=0.03)


def test_silence():
    y = np.zeros(2 * SR, dtype=np.float32)
    assert (estimate_chords(y, sr=SR) == "N").all()
    assert not chroma(y, sr=SR).any()
    assert estimate_key(chroma(y, sr=SR)) == ("N", 0.0)
    v = chord_vector(y, sr=SR)
    assert np.all(np.isfinite(v))
    d = dict(zip(chord_vector_names(), v, strict=True))
    assert d["chord_hist_N"] == d["chord_none_share"] == d["chord_rel_N"] == 1.0
    assert d["chord_key_mode"] == 0.5
    ones = {"chord_hist_N", "chord_none_share", "chord_rel_N", "chord_key_mode"}
    assert all(value == 0.0 for name, value in d.items() if name not in ones)


def test_silent_gaps_are_no_chord():
    y = tone((60, 64, 67), 1.0)
    gap = np.zeros(SR, dtype=np.float32)
    labels = estimate_chords(np.concatenate([gap, y, gap]), sr=SR)
    n = SR // HOP
    assert (labels[: n - 2] == "N").all() and (labels[-n + 6 :] == "N").all()
    assert np.mean(labels[n + EDGE : 2 * n - EDGE] == "C:maj") > 0.95


def test_S_and_C_give_the_same_result_as_y():
    y, _, _ = progression(I_IV_V_I[:2])
    S = stft_power(y)
    C = chroma(y, sr=SR)
    np.testing.assert_array_equal(chroma(S=S, sr=SR), C)
    labels = estimate_chords(y, sr=SR)
    np.testing.assert_array_equal(estimate_chords(S=S, sr=SR), labels)
    np.testing.assert_array_equal(estimate_chords(C=C, sr=SR), labels)
    np.testing.assert_array_equal(chords_from_chroma(C), labels)
    v = chord_vector(y, sr=SR)
    np.testing.assert_array_equal(chord_vector(S=S, sr=SR), v)
    np.testing.assert_array_equal(chord_vector(C=C, sr=SR), v)


def test_batch_dimensions():
    y1 = tone((60, 64, 67), 1.0)
    y2 = tone((57, 60, 64), 1.0)
    Y = np.stack([y1, y2])
    assert chroma(Y, sr=SR).shape == (2, 12, 1 + y1.size // HOP)
    labels = estimate_chords(Y, sr=SR)
    np.testing.assert_array_equal(labels[1], estimate_chords(y2, sr=SR))
    V = chord_vector(Y, sr=SR)
    assert V.shape == (2, 58)
    np.testing.assert_allclose(V[0], chord_vector(y1, sr=SR), atol=1e-6)


# ----------------------------------------------------------------------------- errors


Y = tone((60, 64, 67), 0.5)


@pytest.mark.parametrize(
    ("call", "echo"),
    [
        (lambda: estimate_chords(Y, sr=SR, hop_length=-512), "-512"),
        (lambda: chord_vector(Y, sr=SR, hop_length=0), "0"),
        (lambda: chroma(Y, sr=SR, hop_length=2.5), "2.5"),
        (lambda: estimate_chords(np.array([0.0, np.nan] * 2000), sr=SR), "NaN"),
        (lambda: chroma(Y, sr=-1), "-1"),
        (lambda: chroma(Y, sr=float("nan")), "nan"),
        (lambda: chroma(Y, sr=SR, tuning=0.7), "0.7"),
        (lambda: chroma(Y, sr=SR, tuning="sharp"), "sharp"),
        (lambda: chroma(Y, sr=SR, gamma=0), "0"),
        (lambda: chroma(Y, sr=SR, preemphasis=1.0), "1.0"),
        (lambda: chroma(Y, sr=SR, n_octaves=8), "Nyquist"),
        (lambda: chroma(Y, sr=3000), "Nyquist"),
        (lambda: chroma(sr=SR), "signal"),
        (lambda: chroma(S=np.ones(5), sr=SR), "(5,)"),
        (lambda: chroma(S=-stft_power(Y), sr=SR), "non-negative"),
        (lambda: chords_from_chroma(np.ones((11, 4))), "(11, 4)"),
        (lambda: chords_from_chroma(np.full((12, 4), np.inf)), "infinite"),
        (lambda: chords_from_chroma(np.ones((12, 4)), self_prob=1.0), "1.0"),
        (lambda: chords_from_chroma(np.ones((12, 4)), self_prob=0.01), "0.01"),
        (lambda: chords_from_chroma(np.ones((12, 4)), beta=-1.0), "-1.0"),
        (lambda: chords_from_chroma(np.ones((12, 4)), no_chord_bias=None), "None"),
        (lambda: chords_from_chroma(np.ones((12, 4)), templates=np.ones((24, 12))), "(24, 12)"),
        (lambda: chords_from_chroma(np.ones((12, 4)), templates="major"), "major"),
        (lambda: chord_templates(n_harmonics=0), "0"),
        (lambda: chord_templates(decay=1.5), "1.5"),
        (lambda: estimate_chords(sr=SR), "chromagram"),
        (lambda: estimate_chords(C=np.ones((12, 4)), sr=SR, gamma=3.0), "gamma"),
        (lambda: estimate_key(np.ones((2, 12, 4))), "(2, 12, 4)"),
        (lambda: chord_vector_names(prefix=3), "3"),
    ],
)
def test_bad_parameters(call, echo):
    with pytest.raises(ParameterError) as info:
        call()
    assert echo in str(info.value)
    assert isinstance(info.value, MerError)


def test_near_silent_frames_give_finite_chroma_and_vector():
    """Regression: denormal-level float32 frames (seen in real mp3s) made gamma / ref
    overflow and the chord vector NaN."""
    sr = 22050
    t = np.arange(2 * sr) / sr
    y = (0.3 * np.sin(2 * np.pi * 261.63 * t)).astype(np.float32)
    y[sr // 2 : sr] = 1e-23 * np.sin(2 * np.pi * 440 * t[sr // 2 : sr])  # denormal squares
    for pre in (0.0, 0.97):
        S = stft_power(y)
        assert np.all(np.isfinite(chroma(S=S, sr=sr, preemphasis=pre)))
        assert np.all(np.isfinite(chord_vector(S=S, sr=sr, preemphasis=pre)))
