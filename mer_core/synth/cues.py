"""The cue model: from a class's (valence, arousal) to the musical cues of one clip.

Every class of every scheme sits at a point ``(v, a)`` of Russell's (1980)
valence-arousal plane (:mod:`mer_core.schemes`), so one model serves the
three schemes. A clip is made in three steps:

1. **Scatter.** The clip's own position is the class's plus Gaussian noise,
   ``v' = v + N(0, LATENT_SD)``, ``a' = a + N(0, LATENT_SD)`` (clipped to
   ``[-1, 1]``): songs of one class differ, and neighbouring classes overlap.
2. **Cues.** Each cue of :data:`CUE_TABLE` is a linear function of ``v'``,
   ``a'`` and the *tension* ``t = max(0, -v') * max(0, a')`` (the negative,
   active corner: anger, fear, nervousness), plus its own Gaussian noise,
   clipped to a plausible range; probability cues use the same linear
   predictor through a logistic function. Linear, additive cue effects are
   what Eerola, Friberg & Bresin (2013) measured for the primary cues.
3. **Choices.** Mode, key, progression, meter, instruments, accompaniment
   and bass patterns are drawn from those cues (:func:`draw_cues`).

The signs and rough sizes of the weights follow the cue summaries of Juslin &
Laukka (2004) and Gabrielsson & Lindström (2010):

==============  ==============================================================
cue             literature (J&L 2004; G&L 2010)
==============  ==============================================================
tempo           fast: happiness, anger; slow: sadness, tenderness/calm
mode            major: happiness, serenity; minor: sadness, anger
dissonance      dissonant/complex harmony: anger, fear; consonant: happy, calm
sound level     loud: anger, happiness; soft: sadness, tenderness
level variab.   large: fear; small: happiness, sadness
articulation    staccato: happiness, anger, fear; legato: sadness, tenderness
pitch/register  high: happiness (and fear); low: sadness
pitch range     wide: joy; narrow: sadness, tenderness
timbre          sharp (many harmonics): anger; soft: sadness, tenderness;
                bright: happiness
rhythm/drums    active, many percussive events: anger, happiness, excitement
microtiming     irregular timing: fear, tension
==============  ==============================================================

The weights are listed by :func:`cue_weights`; :func:`cue_table` evaluates
them at each class of a scheme.

Label noise: a fraction :data:`LABEL_NOISE` of clips draws its cues from
another class of the scheme (its ``cue_source``) while keeping its own label,
as with disagreeing annotators; the ground truth flags them (``noise_label``).

References
----------
Eerola, T., Friberg, A. & Bresin, R. (2013). Emotional expression in music:
contribution, linearity, and additivity of primary musical cues. *Frontiers in
Psychology* 4, 487.

Gabrielsson, A. & Lindström, E. (2010). The role of structure in the musical
expression of emotions. In P. N. Juslin & J. A. Sloboda (eds.), *Handbook of
Music and Emotion*, pp. 367-400. Oxford University Press.

Juslin, P. N. & Laukka, P. (2004). Expression, perception, and induction of
musical emotions: a review and a questionnaire study of everyday listening.
*Journal of New Music Research* 33(3), 217-238.

Russell, J. A. (1980). A circumplex model of affect. *Journal of Personality
and Social Psychology* 39(6), 1161-1178.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mer_core.synth.instruments import DRUM_KITS, INSTRUMENTS, TIMBRE_KERNEL
from mer_core.synth.theory import (
    MAJOR_PROGRESSIONS,
    MINOR_PROGRESSIONS,
    TENSE_PROGRESSIONS,
    Chord,
    key_name,
    parse_progression,
)
from mer_core.validation import check_number

__all__ = [
    "Cue",
    "CUE_TABLE",
    "LATENT_SD",
    "LABEL_NOISE",
    "cue_means",
    "cue_table",
    "cue_weights",
    "draw_cues",
]

#: Standard deviation of a clip's scatter around its class's (valence, arousal).
LATENT_SD = 0.15
#: Fraction of clips whose cues are drawn from another class (label noise).
LABEL_NOISE = 0.04


@dataclass(frozen=True)
class Cue:
    """One row of the cue table.

    ``value = base + valence * v + arousal * a + tension * t`` (+ ``N(0, noise)``
    for ``kind="linear"``, clipped to ``[lo, hi]``); for ``kind="logistic"``
    the value is the probability ``1 / (1 + exp(-value))``.
    """

    kind: str
    base: float
    valence: float = 0.0
    arousal: float = 0.0
    tension: float = 0.0
    noise: float = 0.0
    lo: float = -math.inf
    hi: float = math.inf
    unit: str = ""
    effect: str = ""

    def mean(self, v: float, a: float) -> float:
        """Value at ``(v, a)`` without noise (a probability for logistic cues)."""
        t = max(0.0, -v) * max(0.0, a)
        x = self.base + self.valence * v + self.arousal * a + self.tension * t
        if self.kind == "logistic":
            return 1.0 / (1.0 + math.exp(-x))
        return float(min(max(x, self.lo), self.hi))

    def draw(self, v: float, a: float, rng: np.random.Generator) -> float:
        """Value at ``(v, a)`` with the cue's own noise."""
        if self.kind == "logistic":
            return self.mean(v, a)
        t = max(0.0, -v) * max(0.0, a)
        x = self.base + self.valence * v + self.arousal * a + self.tension * t
        x += self.noise * rng.standard_normal()
        return float(min(max(x, self.lo), self.hi))


_JL = "Juslin & Laukka 2004"
_GL = "Gabrielsson & Lindström 2010"

#: The cue table (data, not scattered constants); see the module docstring.
CUE_TABLE: dict[str, Cue] = {
    "tempo_bpm": Cue(
        "linear", 100.0, valence=6.0, arousal=46.0, tension=6.0, noise=10.0, lo=50, hi=190,
        unit="BPM", effect=f"fast: happiness, anger; slow: sadness, calm ({_JL}; {_GL})",
    ),
    "p_major": Cue(
        "logistic", 0.0, valence=5.0,
        unit="probability", effect=f"major: happiness, serenity; minor: sadness, anger ({_GL})",
    ),
    "dissonance": Cue(
        "linear", 0.08, valence=-0.12, arousal=0.05, tension=0.9, noise=0.10, lo=0.0, hi=1.0,
        unit="0-1", effect=f"dissonant, complex harmony: anger, fear ({_GL})",
    ),
    "velocity": Cue(
        "linear", 72.0, arousal=30.0, tension=8.0, noise=7.0, lo=25, hi=122,
        unit="MIDI velocity", effect=f"loud: anger, happiness; soft: sadness, tenderness ({_JL})",
    ),
    "velocity_sd": Cue(
        "linear", 7.0, arousal=2.0, tension=8.0, noise=2.0, lo=2, hi=25,
        unit="MIDI velocity", effect=f"large sound-level variability: fear ({_JL})",
    ),
    "articulation": Cue(
        "linear", 0.72, valence=-0.03, arousal=-0.26, noise=0.08, lo=0.3, hi=1.0,
        unit="sounding/inter-onset",
        effect=f"staccato: happiness, anger, fear; legato: sadness, tenderness ({_JL}; {_GL})",
    ),
    "register": Cue(
        "linear", 69.0, valence=4.5, arousal=3.0, noise=3.0, lo=52, hi=86,
        unit="MIDI pitch", effect=f"high pitch: happiness; low pitch: sadness ({_GL})",
    ),
    "pitch_range": Cue(
        "linear", 11.0, valence=2.0, arousal=4.0, noise=2.0, lo=5, hi=20,
        unit="semitones", effect=f"wide range: joy; narrow: sadness, tenderness ({_GL})",
    ),
    "note_density": Cue(
        "linear", 1.3, arousal=0.85, tension=0.4, noise=0.3, lo=0.4, hi=3.5,
        unit="melody notes/beat", effect=f"many, fast notes: high arousal ({_GL})",
    ),
    "p_drums": Cue(
        "logistic", 0.8, arousal=3.5, tension=1.0,
        unit="probability", effect=f"percussive, active rhythm: high arousal ({_GL})",
    ),
    "drum_density": Cue(
        "linear", 2.2, arousal=1.7, tension=2.5, noise=0.5, lo=0.5, hi=6.0,
        unit="hits/beat", effect=f"many percussion hits: anger, excitement ({_JL})",
    ),
    "harshness": Cue(
        "linear", 0.34, arousal=0.17, tension=0.55, noise=0.10, lo=0.0, hi=1.0,
        unit="0-1", effect=f"sharp timbre: anger; soft: sadness, tenderness ({_JL}; {_GL})",
    ),
    "p_fast_harmony": Cue(
        "logistic", -0.8, arousal=1.6,
        unit="probability", effect=f"two chords per bar: faster harmonic rhythm, activity ({_GL})",
    ),
    "timing_jitter_ms": Cue(
        "linear", 6.0, tension=18.0, noise=2.0, lo=0.0, hi=40.0,
        unit="ms", effect=f"irregular microtiming: fear, tension ({_JL})",
    ),
    "gain_db": Cue(
        "linear", 0.0, noise=2.0, lo=-8.0, hi=6.0,
        unit="dB", effect="mastering level: a nuisance, unrelated to emotion",
    ),
}  # fmt: skip


def _check_va(valence, arousal):
    return (
        check_number(valence, "valence", low=-1, high=1),
        check_number(arousal, "arousal", low=-1, high=1),
    )


def cue_weights():
    """:data:`CUE_TABLE` as a DataFrame (one row per cue: kind, weights, noise, range, effect).

    Examples
    --------
    >>> w = cue_weights()
    >>> float(w.loc["tempo_bpm", "arousal"]) > 0 > float(w.loc["articulation", "arousal"])
    True
    """
    import dataclasses

    import pandas as pd

    rows = {name: dataclasses.asdict(cue) for name, cue in CUE_TABLE.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("cue")


def cue_means(valence: float, arousal: float) -> dict:
    """Expected value of every cue at ``(valence, arousal)`` (before scatter and noise).

    Examples
    --------
    >>> m = cue_means(0.8, 0.6)   # happiness
    >>> round(m["tempo_bpm"]), round(m["p_major"], 2)
    (132, 0.98)
    """
    v, a = _check_va(valence, arousal)
    return {name: cue.mean(v, a) for name, cue in CUE_TABLE.items()}


def cue_table(scheme="emotion"):
    """The cue table evaluated at each class of a scheme, as a DataFrame (classes x cues).

    Examples
    --------
    >>> t = cue_table("emotion")
    >>> bool(t.loc["sadness", "tempo_bpm"] < t.loc["happiness", "tempo_bpm"])
    True
    """
    import pandas as pd

    from mer_core.schemes import get_scheme

    sch = get_scheme(scheme) if isinstance(scheme, str) else scheme
    rows = {lab: cue_means(*sch.valence_arousal[lab]) for lab in sch.labels}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(sch.name)


def _softmax_choice(rng, options, weights):
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    return options[int(rng.choice(len(options), p=w))]


def _choose_program(rng, role, harshness, artist):
    progs = [p for p, ins in INSTRUMENTS.items() if role in ins.roles]
    match = [
        math.exp(-0.5 * ((INSTRUMENTS[p].harshness - harshness) / TIMBRE_KERNEL) ** 2)
        for p in progs
    ]
    aff = [artist.program_affinity.get(p, 1.0) if artist is not None else 1.0 for p in progs]
    return int(
        _softmax_choice(rng, progs, [m * f + 1e-9 for m, f in zip(match, aff, strict=True)])
    )


def _choose_kit(rng, harshness, artist):
    kits = sorted(DRUM_KITS)
    w = [
        math.exp(-0.5 * ((DRUM_KITS[k][1] - harshness) / 0.2) ** 2)
        * (artist.kit_affinity.get(k, 1.0) if artist is not None else 1.0)
        for k in kits
    ]
    return int(_softmax_choice(rng, kits, w))


_TENSIONS = {1: "b9", 6: "#11", 2: "9", 11: "maj7"}


def _realise_chords(rng, progression, tonic, dissonance):
    """Chord symbols and pitch classes (root first), with dissonant alterations."""
    symbols, pcs = [], []
    for chord in parse_progression(progression):
        quality = chord.quality
        if rng.random() < 0.6 * dissonance**2:
            quality = "cluster" if (dissonance > 0.6 and rng.random() < 0.5) else "dim"
        c = Chord(chord.root, quality)
        notes = list(c.pitch_classes(tonic))
        sym = c.symbol(tonic)
        if rng.random() < dissonance:
            extra = int(rng.choice(list(_TENSIONS)))
            pc = (tonic + c.root + extra) % 12
            if pc not in notes:
                notes.append(pc)
                sym += f"(add{_TENSIONS[extra]})"
        symbols.append(sym)
        pcs.append(notes)
    return symbols, pcs


def draw_cues(valence: float, arousal: float, *, rng: np.random.Generator, artist=None) -> dict:
    """Draw every cue of one clip whose cue source sits at ``(valence, arousal)``.

    Parameters
    ----------
    valence, arousal : float
        Position of the class the cues come from, in ``[-1, 1]``.
    rng : numpy.random.Generator
        The clip's ``"cues"`` stream (:func:`mer_core.synth.seeds.clip_streams`).
    artist : mer_core.synth.artists.Artist, optional
        Composer whose palette and production style bias the draws.

    Returns
    -------
    dict
        JSON-serialisable cues: the scattered position (``valence_drawn``,
        ``arousal_drawn``, ``tension``), every continuous cue of
        :data:`CUE_TABLE` and the discrete choices (``mode``, ``key``,
        ``progression``, ``chords``, ``meter``, programs, styles, ...).

    Examples
    --------
    >>> import numpy as np
    >>> c = draw_cues(-0.7, 0.8, rng=np.random.default_rng(1))   # anger
    >>> sorted(c)[:4]
    ['arousal', 'arousal_drawn', 'articulation', 'articulation_label']
    >>> c["mode"] in ("major", "minor")
    True
    """
    v0, a0 = _check_va(valence, arousal)
    v = float(np.clip(v0 + LATENT_SD * rng.standard_normal(), -1.0, 1.0))
    a = float(np.clip(a0 + LATENT_SD * rng.standard_normal(), -1.0, 1.0))
    c: dict = {"valence": v0, "arousal": a0, "valence_drawn": v, "arousal_drawn": a}
    c["tension"] = max(0.0, -v) * max(0.0, a)
    for name, cue in CUE_TABLE.items():
        c[name] = cue.draw(v, a, rng)
    if artist is not None:
        c["tempo_bpm"] = float(np.clip(c["tempo_bpm"] * artist.tempo_scale, 45.0, 200.0))
        c["velocity"] = float(np.clip(c["velocity"] + artist.velocity_offset, 20.0, 125.0))
        c["gain_db"] += artist.gain_db
    # harmony
    c["mode"] = "major" if rng.random() < c["p_major"] else "minor"
    c["key"] = int(rng.integers(12))
    c["key_name"] = key_name(c["key"], c["mode"])
    if c["mode"] == "minor" and rng.random() < c["dissonance"] ** 1.5:
        bank, bank_name = TENSE_PROGRESSIONS, "tense"
    elif c["mode"] == "minor":
        bank, bank_name = MINOR_PROGRESSIONS, "minor"
    else:
        bank, bank_name = MAJOR_PROGRESSIONS, "major"
    c["progression"] = bank[int(rng.integers(len(bank)))]
    c["progression_bank"] = bank_name
    c["chords"], c["chord_pitch_classes"] = _realise_chords(
        rng, c["progression"], c["key"], c["dissonance"]
    )
    # rhythm and form
    p_triple = artist.p_triple if artist is not None else 0.15
    c["meter"] = 3 if rng.random() < p_triple else 4
    c["chords_per_bar"] = 2 if (c["meter"] == 4 and rng.random() < c["p_fast_harmony"]) else 1
    c["drums"] = bool(rng.random() < c["p_drums"])
    c["drum_kit"] = _choose_kit(rng, c["harshness"], artist)
    c["drum_kit_name"] = DRUM_KITS[c["drum_kit"]][0]
    # instrumentation: harshness and the artist's palette only, never the mode
    for role in ("melody", "comp", "bass"):
        prog = _choose_program(rng, role, c["harshness"], artist)
        c[f"{role}_program"] = prog
        c[f"{role}_instrument"] = INSTRUMENTS[prog].name
    art, a01 = c["articulation"], (a + 1.0) / 2.0
    c["articulation_label"] = (
        "legato" if art >= 0.8 else ("staccato" if art < 0.55 else "detached")
    )
    comp_styles = ("sustain", "arpeggio", "stabs", "power")
    distorted = INSTRUMENTS[c["comp_program"]].family == "distortion"
    w = [art**3 * (1.3 - a01), 0.6, 2.0 * (1.0 - art) * (0.2 + a01), 3.0 if distorted else 0.0]
    c["comp_style"] = _softmax_choice(rng, comp_styles, w)
    bass_styles = ("whole", "root_fifth", "eighths", "walking")
    w = [1.5 * (1.0 - a01) + 0.05, 0.8, 1.5 * a01 + 2.0 * c["tension"], 0.4]
    c["bass_style"] = _softmax_choice(rng, bass_styles, w)
    if artist is not None:
        c.update({"reverb": artist.reverb, "tilt": artist.tilt})
    else:
        c.update({"reverb": 0.2, "tilt": 0.2})
    return {k: (round(x, 6) if isinstance(x, float) else x) for k, x in c.items()}
