"""Rendering a :class:`~mer_core.synth.compose.Score` to audio, and mastering it to 16-bit WAV.

Two renderers, recorded per clip in the manifest (``renderer`` column):

``"tinysoundfont"`` (preferred)
    The General MIDI soundfont ``TimGM6mb.sf2`` that ships inside the
    ``pretty_midi`` wheel, played by TinySoundFont (the ``tinysoundfont``
    package, installed with ``pip install --no-deps tinysoundfont==0.3.7``;
    only its synthesiser is used, not its ``pyaudio`` playback). A fresh
    synthesiser is loaded for every clip and note events are applied at exact
    sample positions, so the output depends only on the score.
``"additive"`` (fallback)
    Pure numpy: each program family (:attr:`Instrument.family`) is a
    band-limited wavetable with its own spectral slope, odd/even harmonics,
    ADSR envelope and drive; drums are synthetic (swept sines, filtered
    noise). Used when ``tinysoundfont`` cannot be imported (``renderer="auto"``)
    or on request. It sounds plainer but keeps every cue (pitch, harmony,
    tempo, loudness, articulation, brightness of the timbre family).

Mastering (:func:`master`, shared by both): the artist's reverb (an
exponentially decaying noise impulse response) and low-pass tilt, the clip's
gain, a soft limiter (linear below 0.8 full scale, ``tanh`` knee above, so
loud clips are compressed as in commercial masters), 5 ms fade-in and 30 ms
fade-out, then rounding to 16-bit PCM (no dither, so it is deterministic).
Byte-identical output is guaranteed for the same seed on the same platform
and library versions; other platforms may differ in the last bits.
"""

from __future__ import annotations

import functools
import io
import math
import os
import wave
from pathlib import Path

import numpy as np
import scipy.signal

from mer_core.errors import MerError, ParameterError
from mer_core.synth.compose import Score
from mer_core.synth.instruments import DRUM_KITS, INSTRUMENTS

__all__ = [
    "SR",
    "RENDERERS",
    "soundfont_path",
    "tinysoundfont_available",
    "resolve_renderer",
    "render_score",
    "render_pretty_midi",
    "master",
    "to_pcm16",
    "wav_bytes",
]

SR = 22050
RENDERERS = ("tinysoundfont", "additive")
_TSF_GAIN_DB = -6.0
_MASTER_GAIN = {"tinysoundfont": 1.6, "additive": 0.3}


def soundfont_path() -> Path:
    """Path of the General MIDI soundfont ``TimGM6mb.sf2`` bundled with ``pretty_midi``."""
    import pretty_midi

    path = Path(os.path.dirname(pretty_midi.__file__)) / "TimGM6mb.sf2"
    if not path.is_file():
        raise MerError(f"soundfont not found at {path}; reinstall pretty_midi")
    return path


def tinysoundfont_available() -> bool:
    """Whether the ``tinysoundfont`` synthesiser can be imported."""
    try:
        import tinysoundfont._tinysoundfont  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_renderer(renderer: str = "auto") -> str:
    """``"auto"`` -> ``"tinysoundfont"`` when importable, else ``"additive"``.

    Examples
    --------
    >>> resolve_renderer("additive")
    'additive'
    """
    if renderer == "auto":
        return "tinysoundfont" if tinysoundfont_available() else "additive"
    if renderer not in RENDERERS:
        raise ParameterError(f"renderer must be 'auto' or one of {RENDERERS}, got {renderer!r}")
    if renderer == "tinysoundfont" and not tinysoundfont_available():
        raise ParameterError(
            "renderer 'tinysoundfont' requested but the tinysoundfont package is not "
            "importable (pip install --no-deps tinysoundfont==0.3.7)"
        )
    return renderer


@functools.lru_cache(maxsize=1)
def _soundfont_bytes() -> bytes:
    return soundfont_path().read_bytes()


def _events(score: Score, sr: int):
    """Note events ``(sample, order, channel, pitch, velocity)``; note-offs sort first."""
    ev = []
    chan = 0
    channels = []
    for track in score.tracks:
        if track.is_drum:
            ch = 9
        else:
            ch = chan if chan != 9 else chan + 1
            chan = ch + 1
        channels.append(ch)
        for s, e, p, v in track.notes:
            ev.append((int(round(s * sr)), 1, ch, int(p), int(v)))
            ev.append((max(int(round(e * sr)), int(round(s * sr)) + 1), 0, ch, int(p), 0))
    ev.sort()
    return ev, channels


def _render_tsf(score: Score, sr: int, n: int) -> np.ndarray:
    import tinysoundfont._tinysoundfont as tsf

    sf = tsf.SoundFont(_soundfont_bytes())
    sf.set_output(tsf.OutputMode.Mono, int(sr), _TSF_GAIN_DB)
    sf.set_max_voices(256)
    events, channels = _events(score, sr)
    for track, ch in zip(score.tracks, channels, strict=True):
        sf.channel_set_bank(ch, 0)
        sf.channel_set_preset_number(ch, int(track.program), bool(track.is_drum))
        sf.channel_set_volume(ch, float(track.volume))
    out = np.zeros(n, dtype=np.float32)
    pos = 0
    for sample, kind, ch, pitch, vel in events:
        if sample >= n:
            break
        if sample > pos:
            sf.render(memoryview(out[pos:sample]).cast("B"), False)
            pos = sample
        if kind == 1:
            sf.channel_note_on(ch, pitch, vel / 127.0)
        else:
            sf.channel_note_off(ch, pitch)
    if pos < n:
        sf.render(memoryview(out[pos:n]).cast("B"), False)
    return out.astype(np.float64)


# ---------------------------------------------------------------- additive fallback
#: family -> (harmonic slope, odd harmonics only, attack s, decay s, sustain level,
#: release s, drive)
ADDITIVE_TIMBRES: dict[str, tuple] = {
    "piano": (1.5, False, 0.004, 0.9, 0.0, 0.15, 0.0),
    "epiano": (2.2, False, 0.004, 1.2, 0.1, 0.2, 0.0),
    "mallet": (3.0, False, 0.002, 0.5, 0.0, 0.2, 0.0),
    "organ": (0.9, False, 0.01, 1.0, 1.0, 0.05, 0.0),
    "guitar": (1.6, False, 0.003, 0.7, 0.05, 0.1, 0.0),
    "distortion": (1.0, False, 0.004, 1.0, 0.85, 0.08, 4.0),
    "bass": (1.8, False, 0.005, 0.8, 0.3, 0.08, 0.0),
    "synthbass": (1.0, False, 0.004, 0.5, 0.6, 0.06, 1.5),
    "bowed": (1.3, False, 0.08, 1.0, 0.9, 0.2, 0.0),
    "pad": (2.5, False, 0.35, 1.0, 1.0, 0.5, 0.0),
    "brass": (1.0, False, 0.04, 0.6, 0.85, 0.1, 0.5),
    "reed": (1.2, True, 0.03, 0.6, 0.9, 0.08, 0.0),
    "pipe": (3.0, False, 0.05, 0.6, 0.9, 0.1, 0.0),
    "square": (1.0, True, 0.005, 0.6, 0.9, 0.05, 0.0),
    "saw": (1.0, False, 0.005, 0.6, 0.9, 0.05, 0.0),
}
_TABLE_SIZE = 4096


@functools.lru_cache(maxsize=512)
def _wavetable(slope: float, odd: bool, n_harm: int) -> np.ndarray:
    k = np.arange(1, n_harm + 1)
    amp = k.astype(np.float64) ** -slope
    if odd:
        amp[k % 2 == 0] = 0.0
    phase = 2.0 * np.pi * np.arange(_TABLE_SIZE) / _TABLE_SIZE
    table = np.sin(np.outer(phase, k)) @ amp
    table /= np.max(np.abs(table))
    table.setflags(write=False)
    return table


def _tone(pitch, dur, vel, family, sr):
    slope, odd, att, dec, sus, rel, drive = ADDITIVE_TIMBRES[family]
    f = 440.0 * 2.0 ** ((pitch - 69) / 12.0)
    n_harm = int(max(1, min(24, (0.45 * sr) // f)))
    rel_len = min(rel * 4.0, 1.0)
    n = int((dur + rel_len) * sr)
    t = np.arange(n) / sr
    idx = ((f * t) % 1.0 * _TABLE_SIZE).astype(np.int64)
    y = _wavetable(slope, odd, n_harm)[idx]
    if drive > 0:
        y = np.tanh(drive * y) / math.tanh(drive)
    env = np.where(t < att, t / att, sus + (1.0 - sus) * np.exp(-(t - att) / dec))
    nd = int(dur * sr)
    if nd < n:
        level = env[max(nd - 1, 0)]
        env[nd:] = level * np.exp(-(t[nd:] - dur) / rel)
    return y * env * (vel / 127.0) ** 2


def _drum_samples(kit: int, sr: int, rng: np.random.Generator) -> dict:
    hard = DRUM_KITS.get(kit, ("", 0.5))[1]

    def t_(sec):
        return np.arange(int(sec * sr)) / sr

    def hp(x):
        return np.diff(x, prepend=0.0)

    t = t_(0.4)
    kick = np.sin(2 * np.pi * (45 * t + (65 / 30) * (1 - np.exp(-30 * t)))) * np.exp(-t / 0.18)
    t = t_(0.3)
    noise = rng.standard_normal(t.size)
    snare = (0.5 + hard) * hp(noise) * np.exp(-t / 0.1) + 0.6 * np.sin(
        2 * np.pi * 190 * t
    ) * np.exp(-t / 0.06)
    rim = hp(rng.standard_normal(t_(0.03).size)) * np.exp(-t_(0.03) / 0.008)
    t = t_(0.25)
    hat = hp(hp(rng.standard_normal(t.size))) * np.exp(-t / (0.03 + 0.02 * hard)) * 0.5
    t = t_(0.6)
    ohat = hp(hp(rng.standard_normal(t.size))) * np.exp(-t / 0.2) * 0.4
    t = t_(1.5)
    crash = hp(hp(rng.standard_normal(t.size))) * np.exp(-t / 0.8) * 0.45
    ride = hp(rng.standard_normal(t.size)) * np.exp(-t / 0.5) * 0.25 + 0.1 * np.sin(
        2 * np.pi * 3100 * t
    ) * np.exp(-t / 0.4)
    t = t_(0.4)
    toms = {
        key: np.sin(2 * np.pi * (f0 * t + (f0 / 20) * (1 - np.exp(-20 * t)))) * np.exp(-t / 0.2)
        for key, f0 in ((45, 95.0), (47, 125.0), (50, 160.0))
    }
    out = {36: kick, 38: snare, 37: rim, 42: hat, 44: hat, 46: ohat, 49: crash, 51: ride}
    out.update(toms)
    return out


def _render_additive(score: Score, sr: int, n: int, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(n + 2 * sr, dtype=np.float64)
    for track in score.tracks:
        if track.is_drum:
            samples = _drum_samples(track.program, sr, rng)
            for s, _e, p, v in track.notes:
                x = samples.get(int(p))
                i = int(round(s * sr))
                if x is None or i >= n:
                    continue
                out[i : i + x.size] += track.volume * (v / 127.0) ** 2 * x
            continue
        family = INSTRUMENTS[track.program].family if track.program in INSTRUMENTS else "piano"
        for s, e, p, v in track.notes:
            i = int(round(s * sr))
            if i >= n:
                continue
            y = track.volume * _tone(int(p), max(e - s, 0.02), v, family, sr)
            y = y[: out.size - i]
            out[i : i + y.size] += y
    return out[:n]


# ---------------------------------------------------------------- mastering
def master(y, *, sr: int, reverb: float, tilt: float, gain_db: float, rng) -> np.ndarray:
    """Reverb, tilt, gain, soft limiter and fades (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.ones(2205)
    >>> out = master(y, sr=22050, reverb=0.0, tilt=0.0, gain_db=20.0, rng=np.random.default_rng(0))
    >>> bool(np.abs(out).max() <= 1.0)
    True
    """
    y = np.asarray(y, dtype=np.float64)
    n = y.size
    if reverb > 0:
        t = np.arange(int(1.2 * sr)) / sr
        ir = rng.standard_normal(t.size) * np.exp(-t / 0.3)
        ir *= 1.0 / np.sqrt(np.sum(ir**2))
        y = y + reverb * scipy.signal.oaconvolve(y, ir)[:n]
    if tilt > 0:
        alpha = 1.0 - math.exp(-2.0 * math.pi * 2500.0 / sr)
        lp = scipy.signal.lfilter([alpha], [1.0, alpha - 1.0], y)
        y = (1.0 - tilt) * y + tilt * lp
    y = y * 10.0 ** (gain_db / 20.0)
    knee = 0.8
    mag = np.abs(y)
    over = mag > knee
    y[over] = np.sign(y[over]) * (knee + (1.0 - knee) * np.tanh((mag[over] - knee) / (1.0 - knee)))
    fi, fo = min(n, int(0.005 * sr)), min(n, int(0.03 * sr))
    if fi:
        y[:fi] *= np.linspace(0.0, 1.0, fi, endpoint=False)
    if fo:
        y[n - fo :] *= np.linspace(1.0, 0.0, fo)
    return y


def to_pcm16(y) -> np.ndarray:
    """Round ``[-1, 1]`` floats to 16-bit PCM."""
    return np.round(np.clip(np.asarray(y), -1.0, 1.0) * 32767.0).astype("<i2")


def wav_bytes(pcm16, *, sr: int = SR) -> bytes:
    """A mono 16-bit WAV file as bytes (standard 44-byte header; deterministic).

    Examples
    --------
    >>> import numpy as np
    >>> len(wav_bytes(np.zeros(10, dtype="<i2")))
    64
    """
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sr))
        w.writeframes(np.ascontiguousarray(pcm16, dtype="<i2").tobytes())
    return buf.getvalue()


def render_score(
    score: Score,
    *,
    sr: int = SR,
    renderer: str = "auto",
    rng: np.random.Generator | None = None,
    n_samples: int | None = None,
) -> np.ndarray:
    """Raw (unmastered) mono render of a score, float64, ``n_samples`` long.

    Parameters
    ----------
    score : Score
    sr : int
        Sampling rate.
    renderer : {"auto", "tinysoundfont", "additive"}
    rng : numpy.random.Generator, optional
        Noise source of the additive drums (default: a fixed seed).
    n_samples : int, optional
        Output length; default ``round(score.duration * sr)``.
    """
    name = resolve_renderer(renderer)
    n = int(round(score.duration * sr)) if n_samples is None else int(n_samples)
    if name == "tinysoundfont":
        y = _render_tsf(score, sr, n)
    else:
        y = _render_additive(score, sr, n, rng if rng is not None else np.random.default_rng(0))
    return y * _MASTER_GAIN[name]


def render_pretty_midi(pm, *, sr: int = SR, renderer: str = "auto") -> np.ndarray:
    """Render a :class:`pretty_midi.PrettyMIDI` with the project's renderer (mono float32).

    The MIDI file's instruments keep their General MIDI programs (drums on the
    drum channel) and are played by the same soundfont synthesiser as the
    generated corpus (the additive fallback when ``tinysoundfont`` is absent);
    the result is peak-normalised to 0.9 when louder than that. This is the
    default renderer of :func:`mer_core.datasets.load_midi`.

    Examples
    --------
    >>> import pretty_midi
    >>> pm = pretty_midi.PrettyMIDI()
    >>> piano = pretty_midi.Instrument(program=0)
    >>> piano.notes.append(pretty_midi.Note(velocity=90, pitch=69, start=0.0, end=0.5))
    >>> pm.instruments.append(piano)
    >>> y = render_pretty_midi(pm, sr=22050)
    >>> y.dtype, y.ndim, bool(abs(y).max() > 0)
    (dtype('float32'), 1, True)
    """
    from mer_core.synth.compose import Score, Track

    tracks = [
        Track(
            name=inst.name or f"track{i}",
            program=int(inst.program),
            is_drum=bool(inst.is_drum),
            volume=1.0,
            notes=[(n.start, n.end, n.pitch, n.velocity) for n in inst.notes],
        )
        for i, inst in enumerate(pm.instruments)
        if inst.notes
    ]
    duration = max(float(pm.get_end_time()), 1.0 / sr) + 0.5  # let the last notes ring
    score = Score(duration=duration, tempo=120.0, tracks=tracks)
    y = render_score(score, sr=sr, renderer=renderer)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 0.9:
        y = y * (0.9 / peak)
    return y.astype(np.float32)
