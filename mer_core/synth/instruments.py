"""General MIDI instrumentation: the timbre palette, each program rated for harshness.

Timbre is one of the strongest emotion cues (Juslin & Laukka 2004, table 4;
Gabrielsson & Lindström 2010, table 14.2): *sharp*, bright timbres with many
high harmonics (distorted guitar, brass, sawtooth leads) go with anger and
fear, *soft* timbres with few harmonics (flute, pads, strings, nylon guitar)
with sadness and tenderness, bright but not harsh ones (piano, mallets,
trumpet, violin) with happiness. Every program below carries a ``harshness``
in ``[0, 1]`` (our rating of its spectral sharpness and attack in the
TimGM6mb soundfont); a clip draws each part's program with a probability that
falls off with the distance between the program's harshness and the clip's
``harshness`` cue (a Gaussian kernel of width :data:`TIMBRE_KERNEL`),
multiplied by the composer's affinity for the program
(:mod:`mer_core.synth.artists`).

Because the harshness cue depends on arousal and on the negative-active
corner only (see :mod:`mer_core.synth.cues`), instrument choice is drawn
independently of mode and valence for the low-arousal classes (sadness vs
relaxation) and for the positive-valence classes (e.g. cheerful vs joyful):
those pairs can only be told apart by harmony, register and articulation.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Instrument", "INSTRUMENTS", "DRUM_KITS", "ROLES", "TIMBRE_KERNEL", "program_name"]

#: Width of the Gaussian kernel matching a program's harshness to the cue.
TIMBRE_KERNEL = 0.14

ROLES = ("melody", "comp", "bass")


@dataclass(frozen=True)
class Instrument:
    """A General MIDI program usable by the generator.

    Attributes
    ----------
    program : int
        GM program number, 0-based (0 = Acoustic Grand Piano).
    name : str
        GM name.
    roles : tuple of str
        Parts it may play: ``"melody"``, ``"comp"`` (chords) and/or ``"bass"``.
    harshness : float
        0 (soft, few harmonics, slow attack) to 1 (distorted, many harmonics).
    family : str
        Timbre family, used by the additive fallback renderer.
    """

    program: int
    name: str
    roles: tuple[str, ...]
    harshness: float
    family: str


_TABLE = [
    # program, name, roles, harshness, family
    (0, "Acoustic Grand Piano", ("melody", "comp"), 0.35, "piano"),
    (1, "Bright Acoustic Piano", ("melody", "comp"), 0.45, "piano"),
    (4, "Electric Piano 1", ("melody", "comp"), 0.25, "epiano"),
    (11, "Vibraphone", ("melody",), 0.20, "mallet"),
    (12, "Marimba", ("melody",), 0.30, "mallet"),
    (16, "Drawbar Organ", ("comp",), 0.50, "organ"),
    (24, "Acoustic Guitar (nylon)", ("melody", "comp"), 0.18, "guitar"),
    (25, "Acoustic Guitar (steel)", ("melody", "comp"), 0.38, "guitar"),
    (27, "Electric Guitar (clean)", ("melody", "comp"), 0.42, "guitar"),
    (29, "Overdriven Guitar", ("melody", "comp"), 0.80, "distortion"),
    (30, "Distortion Guitar", ("melody", "comp"), 0.95, "distortion"),
    (32, "Acoustic Bass", ("bass",), 0.20, "bass"),
    (33, "Electric Bass (finger)", ("bass",), 0.35, "bass"),
    (34, "Electric Bass (pick)", ("bass",), 0.55, "bass"),
    (35, "Fretless Bass", ("bass",), 0.22, "bass"),
    (38, "Synth Bass 1", ("bass",), 0.75, "synthbass"),
    (43, "Contrabass", ("bass",), 0.28, "bowed"),
    (40, "Violin", ("melody",), 0.45, "bowed"),
    (42, "Cello", ("melody",), 0.30, "bowed"),
    (46, "Orchestral Harp", ("comp",), 0.15, "guitar"),
    (48, "String Ensemble 1", ("comp",), 0.30, "bowed"),
    (49, "String Ensemble 2", ("comp",), 0.20, "bowed"),
    (52, "Choir Aahs", ("comp",), 0.20, "pad"),
    (56, "Trumpet", ("melody",), 0.65, "brass"),
    (57, "Trombone", ("melody",), 0.60, "brass"),
    (61, "Brass Section", ("comp",), 0.72, "brass"),
    (62, "Synth Brass 1", ("comp",), 0.70, "brass"),
    (65, "Alto Sax", ("melody",), 0.55, "reed"),
    (68, "Oboe", ("melody",), 0.45, "reed"),
    (71, "Clarinet", ("melody",), 0.30, "reed"),
    (73, "Flute", ("melody",), 0.15, "pipe"),
    (80, "Lead 1 (square)", ("melody",), 0.78, "square"),
    (81, "Lead 2 (sawtooth)", ("melody",), 0.88, "saw"),
    (88, "Pad 1 (new age)", ("comp",), 0.15, "pad"),
    (89, "Pad 2 (warm)", ("comp",), 0.10, "pad"),
]

#: The palette, keyed by GM program.
INSTRUMENTS: dict[int, Instrument] = {
    p: Instrument(program=p, name=n, roles=r, harshness=h, family=f) for p, n, r, h, f in _TABLE
}

#: GM drum kits (bank 128 presets of the soundfont) and their harshness.
DRUM_KITS: dict[int, tuple[str, float]] = {
    40: ("Brush", 0.10),
    32: ("Jazz", 0.25),
    8: ("Room", 0.40),
    0: ("Standard", 0.50),
    25: ("TR-808", 0.55),
    24: ("Electronic", 0.65),
    16: ("Power", 0.85),
}


def program_name(program: int) -> str:
    """GM name of a palette program.

    Examples
    --------
    >>> program_name(30)
    'Distortion Guitar'
    """
    return INSTRUMENTS[int(program)].name
