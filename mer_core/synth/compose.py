"""Composition: from a clip's cues to a multi-track score (melody, chords, bass, drums).

The score is plain data (:class:`Score`, :class:`Track`, notes as
``(start_s, end_s, pitch, velocity)``); rendering is separate
(:mod:`mer_core.synth.render`). The form is simple pop/folk song form so that
clips sound like music rather than noise:

* **Harmony.** The progression of the cues loops, one or two chords per bar.
  The accompaniment voices every chord in close position around an octave
  below the melody's register, in one of four patterns: ``sustain`` (whole
  chords held, legato), ``arpeggio`` (broken chords), ``stabs`` (short
  repeated chords) and ``power`` (root-fifth-octave eighths, for distorted
  guitars).
* **Melody.** Two-bar motifs built from a rhythm (``note_density`` onsets per
  beat) and a contour (scale steps, leaps more likely for a wide
  ``pitch_range``), arranged ``A A' B A''`` in four-bar phrases; downbeat
  notes snap to chord tones, weak notes may take chromatic neighbours when
  the dissonance is high, and the last phrase note lands on a chord tone.
  Notes sound for ``articulation`` of their inter-onset interval (legato 1,
  staccato about 0.4).
* **Bass.** Chord roots in the low register: ``whole`` notes, ``root_fifth``,
  driving ``eighths`` or a ``walking`` line with chromatic approach notes.
* **Drums.** A groove whose hi-hat subdivision, extra kicks and ghost notes
  grow with ``drum_density``, a crash at each phrase start and tom fills at
  phrase ends for busy grooves; brushes/jazz kits play the ride.
* **Dynamics and timing.** Velocities around the ``velocity`` cue with
  downbeat accents, a swell over each phrase and ``velocity_sd`` scatter;
  onsets are displaced by ``timing_jitter_ms``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from mer_core.io import json_digest
from mer_core.synth.theory import SCALES

__all__ = ["Track", "Score", "compose"]

# GM percussion keys
KICK, RIM, SNARE, CHH, PHH, OHH, CRASH, RIDE = 36, 37, 38, 42, 44, 46, 49, 51
TOM_LO, TOM_MID, TOM_HI = 45, 47, 50
TRACK_VOLUME = {"melody": 0.8, "comp": 0.7, "bass": 0.8, "drums": 0.75}


@dataclass
class Track:
    """One part: a GM program (or drum kit) and its notes ``(start_s, end_s, pitch, velocity)``."""

    name: str
    program: int
    is_drum: bool
    volume: float
    notes: list = field(default_factory=list)


@dataclass
class Score:
    """A multi-track score of ``duration`` seconds."""

    duration: float
    tempo: float
    tracks: list = field(default_factory=list)

    @property
    def n_notes(self) -> int:
        """Number of notes over all tracks."""
        return sum(len(t.notes) for t in self.tracks)

    def digest(self) -> str:
        """Short stable digest of the whole score (times rounded to microseconds)."""
        return json_digest(
            {
                "duration": round(self.duration, 6),
                "tracks": [
                    [
                        t.name,
                        t.program,
                        t.is_drum,
                        round(t.volume, 6),
                        [[round(s, 6), round(e, 6), int(p), int(v)] for s, e, p, v in t.notes],
                    ]
                    for t in self.tracks
                ],
            }
        )

    def to_pretty_midi(self):
        """The score as a :class:`pretty_midi.PrettyMIDI` object (e.g. to save a MIDI file)."""
        import pretty_midi

        pm = pretty_midi.PrettyMIDI(initial_tempo=float(self.tempo))
        for t in self.tracks:
            inst = pretty_midi.Instrument(program=int(t.program), is_drum=t.is_drum, name=t.name)
            for s, e, p, v in t.notes:
                inst.notes.append(pretty_midi.Note(velocity=int(v), pitch=int(p), start=s, end=e))
            pm.instruments.append(inst)
        return pm


def _vel(x) -> int:
    return int(min(127, max(1, round(x))))


def _nearest(pitches, target):
    pitches = np.asarray(pitches)
    return int(pitches[np.argmin(np.abs(pitches - target))])


def _voice(pcs, centre):
    """Close-position voicing of pitch classes around ``centre`` (MIDI)."""
    out = []
    for pc in pcs:
        base = centre - 6
        p = base + ((pc - base) % 12)
        out.append(p)
    return sorted(set(out))


def _timeline(cues, n_bars, bar, beat):
    """List of ``(t0, t1, chord_pcs)`` chord spans."""
    pcs = cues["chord_pitch_classes"]
    per_bar = int(cues["chords_per_bar"])
    span = bar / per_bar
    return [(i * span, (i + 1) * span, pcs[i % len(pcs)]) for i in range(n_bars * per_bar)]


def _chord_at(timeline, t):
    span = timeline[0][1] - timeline[0][0]
    return timeline[min(len(timeline) - 1, max(0, int(t // span)))][2]


def _motif(rng, cues, meter):
    """Rhythm (onsets in beats over two bars) and contour (scale steps) of a motif."""
    dens = cues["note_density"]
    step = 0.5 if dens <= 1.8 else 0.25
    n_slots = int(round(2 * meter / step))
    p_on = min(0.95, max(0.08, dens * step))
    onsets = [0.0]
    for s in range(1, n_slots):
        if rng.random() < p_on or (s * step == meter and rng.random() < 0.7):
            onsets.append(s * step)
    leap_p = 0.08 + 0.2 * (cues["pitch_range"] - 5.0) / 15.0
    steps = []
    for _ in onsets:
        if rng.random() < leap_p:
            steps.append(int(rng.choice([-5, -4, -3, 3, 4, 5])))
        else:
            steps.append(int(rng.choice([-2, -1, 0, 1, 2], p=[0.15, 0.3, 0.1, 0.3, 0.15])))
    return onsets, steps


def _vary(rng, motif, n_changes=2):
    onsets, steps = motif
    steps = list(steps)
    for _ in range(n_changes):
        i = int(rng.integers(len(steps)))
        steps[i] = int(rng.choice([-2, -1, 1, 2]))
    return onsets, steps


def _melody(rng, cues, timeline, n_bars, bar, beat, jitter):
    meter = cues["meter"]
    tonic = cues["key"]
    scale_name = cues["mode"]
    if scale_name == "minor" and any(
        "V7" in tok or tok == "V" for tok in cues["progression"].split()
    ):
        scale_name = "harmonic_minor"
    scale = {(tonic + s) % 12 for s in SCALES[scale_name]}
    centre, span = cues["register"], max(7.0, cues["pitch_range"])
    lo, hi = int(round(centre - span / 2)), int(round(centre + span / 2))
    pool = [p for p in range(lo, hi + 1) if p % 12 in scale]
    if len(pool) < 5:
        pool = [p for p in range(lo - 6, hi + 7) if p % 12 in scale]
    motif_a, motif_b = _motif(rng, cues, meter), _motif(rng, cues, meter)
    form = [motif_a, _vary(rng, motif_a), motif_b, _vary(rng, motif_a, 3)]
    notes = []
    art, vel0, vsd = cues["articulation"], cues["velocity"], cues["velocity_sd"]
    diss = cues["dissonance"]
    unit_len = 2 * bar
    n_units = int(math.ceil(n_bars / 2))
    for u in range(n_units):
        onsets, steps = form[u % 4]
        if u % 4 == 2 and rng.random() < 0.5:
            onsets, steps = _motif(rng, cues, meter)  # fresh B sections now and then
        t_unit = u * unit_len
        idx = pool.index(_nearest(pool, centre + rng.normal(0, 2)))
        last = u % 4 == 3
        for j, (ob, st) in enumerate(zip(onsets, steps, strict=True)):
            if j > 0:
                idx += st
                if idx < 0 or idx >= len(pool):  # reflect at the edges of the range
                    idx = -idx if idx < 0 else 2 * (len(pool) - 1) - idx
                    idx = min(max(idx, 0), len(pool) - 1)
            t = t_unit + ob * beat
            chord = _chord_at(timeline, t)
            pitch = pool[idx]
            on_beat = abs(ob - round(ob)) < 1e-9
            final = last and j == len(onsets) - 1
            if (on_beat and round(ob) % meter == 0) or final:
                cands = [i for i, p in enumerate(pool) if p % 12 in chord]
                if final and tonic in chord:  # phrase cadence on the tonic
                    cands = [i for i, p in enumerate(pool) if p % 12 == tonic] or cands
                if cands:
                    idx = min(cands, key=lambda i: abs(i - idx))
                    pitch = pool[idx]
            elif not on_beat and rng.random() < 0.3 * diss:
                pitch += int(rng.choice([-1, 1]))
            nxt = onsets[j + 1] * beat if j + 1 < len(onsets) else unit_len
            ioi = nxt - ob * beat
            dur = ioi * art if not final else max(ioi - beat, beat) * max(art, 0.7)
            phase = ((t % (4 * bar)) / (4 * bar)) * math.pi
            v = vel0 + 6.0 * math.sin(phase) - 3.0 + (8.0 if ob % meter == 0 else 0.0)
            v += (3.0 if on_beat else 0.0) + vsd * rng.standard_normal()
            start = max(0.0, t + jitter * rng.standard_normal())
            notes.append((start, start + max(0.05, dur), int(pitch), _vel(v)))
    return notes


def _comp(rng, cues, timeline, beat, jitter, centre):
    style = cues["comp_style"]
    art, vel = cues["articulation"], cues["velocity"] - 8.0
    vsd = cues["velocity_sd"] * 0.5
    notes = []
    for t0, t1, pcs in timeline:
        voicing = _voice(pcs, centre)
        span = t1 - t0
        if style == "sustain":
            for p in voicing:
                notes.append(
                    (t0, t0 + span * 0.98, p, _vel(vel - 6 + vsd * rng.standard_normal()))
                )
        elif style == "arpeggio":
            step = beat / 2
            order = voicing + [voicing[0] + 12]
            for k in range(int(round(span / step))):
                s = t0 + k * step + jitter * rng.standard_normal()
                p = order[k % len(order)]
                notes.append(
                    (
                        max(0.0, s),
                        s + step * (0.6 + art),
                        p,
                        _vel(vel + vsd * rng.standard_normal()),
                    )
                )
        elif style == "stabs":
            step = beat / 2 if cues["note_density"] > 1.6 else beat
            for k in range(int(round(span / step))):
                if step == beat / 2 and k % 2 == 0 and rng.random() < 0.5:
                    continue  # off-beat skank
                s = max(0.0, t0 + k * step + jitter * rng.standard_normal())
                a = 4.0 if k == 0 else 0.0
                for p in voicing:
                    notes.append(
                        (s, s + step * art, p, _vel(vel + a + vsd * rng.standard_normal()))
                    )
        else:  # power chords
            root = pcs[0]
            r = 40 + ((root - 40) % 12)
            step = beat / 2
            for k in range(int(round(span / step))):
                s = max(0.0, t0 + k * step + jitter * rng.standard_normal())
                length = step * (0.55 if art < 0.7 else 0.95)
                v = _vel(vel + 10 + (6 if k % 2 == 0 else 0) + vsd * rng.standard_normal())
                for p in (r, r + 7, r + 12):
                    notes.append((s, s + length, p, v))
    return notes


def _bass(rng, cues, timeline, beat, jitter, centre):
    style = cues["bass_style"]
    art, vel = max(0.5, cues["articulation"]), cues["velocity"] - 2.0
    vsd = cues["velocity_sd"] * 0.5
    notes = []
    for i, (t0, t1, pcs) in enumerate(timeline):
        root = centre - 6 + ((pcs[0] - (centre - 6)) % 12)
        fifth = root + 7 if root + 7 <= centre + 9 else root - 5
        span = t1 - t0
        n_beats = max(1, int(round(span / beat)))
        if style == "whole":
            hits = [(0.0, span * 0.97, root)]
        elif style == "root_fifth":
            half = max(1, n_beats // 2)
            hits = [(0.0, half * beat * art, root)]
            if n_beats >= 2:
                hits.append((half * beat, (n_beats - half) * beat * art, fifth))
        elif style == "eighths":
            hits = [(k * beat / 2, beat / 2 * art, root) for k in range(2 * n_beats)]
        else:  # walking
            nxt = timeline[(i + 1) % len(timeline)][2][0]
            nxt_p = _nearest([nxt + 12 * o for o in range(-1, 8)], root)
            line = [root, root + (3 if (pcs[0] + 3) % 12 in pcs else 4), fifth]
            hits = []
            for k in range(n_beats):
                p = line[k % 3] if k < n_beats - 1 else nxt_p + int(rng.choice([-1, 1]))
                hits.append((k * beat, beat * art, p))
        for off, length, p in hits:
            s = max(0.0, t0 + off + jitter * rng.standard_normal())
            a = 6.0 if off == 0.0 else 0.0
            notes.append(
                (s, s + max(0.05, length), int(p), _vel(vel + a + vsd * rng.standard_normal()))
            )
    return notes


def _drums(rng, cues, n_bars, bar, beat, jitter):
    dens, meter = cues["drum_density"], cues["meter"]
    vel, vsd = cues["velocity"], cues["velocity_sd"] * 0.5
    soft_kit = cues["drum_kit"] in (32, 40)
    cym = RIDE if soft_kit or rng.random() < 0.2 else CHH
    hat_step = 1.0 if dens < 1.6 else (0.5 if dens < 3.4 else 0.25)
    extra_kicks = [
        k * 0.5 for k in range(1, 2 * meter) if k % 2 == 1 and rng.random() < 0.25 * (dens - 2.5)
    ]
    ghost = [
        k * 0.25 for k in range(4 * meter) if k % 2 == 1 and rng.random() < 0.15 * (dens - 3.5)
    ]
    backbeat = [1, 3] if meter == 4 else [1, 2]
    kicks = [0.0, 2.0] if meter == 4 else [0.0]
    snare = RIM if dens < 1.2 else SNARE
    notes = []

    def hit(t, key, v):
        s = max(0.0, t + 0.5 * jitter * rng.standard_normal())
        notes.append((s, s + 0.1, key, _vel(v + vsd * rng.standard_normal())))

    for b in range(n_bars):
        t0 = b * bar
        phrase_pos = b % 4
        fill = phrase_pos == 3 and dens > 2.8
        for k in range(int(round(meter / hat_step))):
            pos = k * hat_step
            if fill and pos >= meter - 1:
                break
            acc = 8.0 if abs(pos - round(pos)) < 1e-9 else 0.0
            hit(t0 + pos * beat, cym, vel - 14 + acc)
        for pos in kicks + extra_kicks:
            hit(t0 + pos * beat, KICK, vel + 2)
        for pos in backbeat:
            if not (fill and pos >= meter - 1):
                hit(t0 + pos * beat, snare, vel - (6 if meter == 3 and pos == 2 else 0))
        for pos in ghost:
            hit(t0 + pos * beat, SNARE, vel - 30)
        if phrase_pos == 0 and dens > 2.2:
            hit(t0, CRASH, vel)
        if fill:
            for k, key in enumerate((TOM_HI, TOM_HI, TOM_MID, TOM_LO)):
                hit(t0 + (meter - 1 + 0.25 * k) * beat, key, vel - 4 + 2 * k)
    return notes


def compose(cues: dict, *, duration: float, rng: np.random.Generator) -> Score:
    """Write the score of one clip from its cues (see the module docstring).

    Parameters
    ----------
    cues : dict
        As returned by :func:`mer_core.synth.cues.draw_cues`.
    duration : float
        Length of the clip in seconds; the score covers it (notes may ring past).
    rng : numpy.random.Generator
        The clip's ``"compose"`` stream.

    Returns
    -------
    Score

    Examples
    --------
    >>> import numpy as np
    >>> from mer_core.synth.cues import draw_cues
    >>> cues = draw_cues(0.8, 0.6, rng=np.random.default_rng(0))
    >>> score = compose(cues, duration=4.0, rng=np.random.default_rng(1))
    >>> [t.name for t in score.tracks][:3]
    ['melody', 'comp', 'bass']
    """
    beat = 60.0 / cues["tempo_bpm"]
    bar = cues["meter"] * beat
    n_bars = int(math.ceil(duration / bar)) + 1
    jitter = cues["timing_jitter_ms"] / 1000.0
    timeline = _timeline(cues, n_bars, bar, beat)
    comp_centre = int(round(min(67.0, max(50.0, cues["register"] - 10.0))))
    bass_centre = int(round(38.0 + (cues["register"] - 69.0) / 4.0))
    comp_volume = TRACK_VOLUME["comp"] * (0.8 if cues["comp_style"] == "sustain" else 1.0)
    tracks = [
        Track(
            "melody",
            cues["melody_program"],
            False,
            TRACK_VOLUME["melody"],
            _melody(rng, cues, timeline, n_bars, bar, beat, jitter),
        ),
        Track(
            "comp",
            cues["comp_program"],
            False,
            comp_volume,
            _comp(rng, cues, timeline, beat, jitter, comp_centre),
        ),
        Track(
            "bass",
            cues["bass_program"],
            False,
            TRACK_VOLUME["bass"],
            _bass(rng, cues, timeline, beat, jitter, bass_centre),
        ),
    ]
    if cues["drums"]:
        tracks.append(
            Track(
                "drums",
                cues["drum_kit"],
                True,
                TRACK_VOLUME["drums"],
                _drums(rng, cues, n_bars, bar, beat, jitter),
            )
        )
    for t in tracks:
        t.notes = sorted(n for n in t.notes if n[0] < duration)
    return Score(duration=float(duration), tempo=float(cues["tempo_bpm"]), tracks=tracks)
