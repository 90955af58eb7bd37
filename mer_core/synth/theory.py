"""Music theory for the generator: scales, chord qualities, roman-numeral progressions.

Progressions are data: roman numerals relative to the *major* scale of the
tonic (``I=0, II=2, III=4, IV=5, V=7, VI=9, VII=11`` semitones), with an
optional ``b``/``#`` prefix, upper case for a major triad, lower case for a
minor one and a suffix for other qualities (``°`` diminished, ``+`` augmented,
``7`` seventh: dominant on an upper-case numeral, minor on a lower-case one,
``°7`` diminished seventh, ``maj7`` major seventh). Minor-key progressions are
therefore written with explicit flats (``i bVI iv V``), as in pop-music
analysis.

The three banks follow the harmonic cues of the literature (Gabrielsson &
Lindström 2010: major mode and simple, consonant harmony go with happiness
and serenity; minor mode with sadness and anger; complex, dissonant harmony
with anger, fear and tension):

* :data:`MAJOR_PROGRESSIONS`: diatonic major-key loops (pop, folk, jazz ii-V),
  mostly major triads;
* :data:`MINOR_PROGRESSIONS`: diatonic natural/harmonic-minor loops, mostly
  minor triads (loops that are rotations of a major-key loop, such as
  ``i bVI bIII bVII`` = ``vi IV I V``, are left out so that the mode is
  audible from the chords, not only from a tonic the listener must infer);
* :data:`TENSE_PROGRESSIONS`: chromatic minor-key loops with the Neapolitan
  ``bII``, the tritone ``bV`` and diminished sevenths, used when a clip's
  dissonance cue is high.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mer_core.errors import ParameterError

__all__ = [
    "PITCH_NAMES",
    "SCALES",
    "CHORD_QUALITIES",
    "MAJOR_PROGRESSIONS",
    "MINOR_PROGRESSIONS",
    "TENSE_PROGRESSIONS",
    "Chord",
    "parse_numeral",
    "parse_progression",
    "key_name",
]

PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

#: Scales as semitone offsets from the tonic.
SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),  # natural minor (aeolian)
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
}

#: Chord qualities: intervals above the root and the suffix used in chord symbols.
CHORD_QUALITIES: dict[str, tuple[tuple[int, ...], str]] = {
    "maj": ((0, 4, 7), ""),
    "min": ((0, 3, 7), "m"),
    "dim": ((0, 3, 6), "dim"),
    "aug": ((0, 4, 8), "aug"),
    "dom7": ((0, 4, 7, 10), "7"),
    "maj7": ((0, 4, 7, 11), "maj7"),
    "min7": ((0, 3, 7, 10), "m7"),
    "dim7": ((0, 3, 6, 9), "dim7"),
    "cluster": ((0, 1, 2, 6), "cl"),  # semitone cluster plus tritone: maximal roughness
}

MAJOR_PROGRESSIONS: tuple[str, ...] = (
    "I V vi IV",
    "I vi IV V",
    "I IV V I",
    "I IV I V",
    "I IV vi V",
    "I iii IV V",
    "I vi ii V7",
    "Imaj7 vi7 ii7 V7",
)
MINOR_PROGRESSIONS: tuple[str, ...] = (
    "i iv v i",
    "i iv i V",
    "i v iv i",
    "i iv bVII i",
    "i bVI iv V",
    "i iv bVI v",
    "i bVII bVI V",
)
TENSE_PROGRESSIONS: tuple[str, ...] = (
    "i bII i vii°7",
    "i #iv° iv V7",
    "i bV i bII",
    "i vii°7 i bII",
    "i bII bVII i°",
)

_NUMERALS = {"I": 0, "II": 2, "III": 4, "IV": 5, "V": 7, "VI": 9, "VII": 11}
_RE = re.compile(r"^(?P<acc>[b#]?)(?P<num>VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)(?P<suf>.*)$")


@dataclass(frozen=True)
class Chord:
    """A chord relative to the tonic: root offset (semitones) and quality name."""

    root: int
    quality: str

    def pitch_classes(self, tonic: int) -> tuple[int, ...]:
        """Pitch classes (0 = C) of this chord in the key of ``tonic``."""
        intervals = CHORD_QUALITIES[self.quality][0]
        return tuple((tonic + self.root + i) % 12 for i in intervals)

    def symbol(self, tonic: int) -> str:
        """Chord symbol such as ``"Am"`` or ``"F#dim7"`` in the key of ``tonic``."""
        return PITCH_NAMES[(tonic + self.root) % 12] + CHORD_QUALITIES[self.quality][1]


def parse_numeral(text: str) -> Chord:
    """Parse one roman numeral (``"bVI"``, ``"vii°7"``, ``"V7"``) into a :class:`Chord`.

    Examples
    --------
    >>> parse_numeral("bVI")
    Chord(root=8, quality='maj')
    >>> parse_numeral("vii°7")
    Chord(root=11, quality='dim7')
    >>> parse_numeral("ii7").symbol(0)
    'Dm7'
    """
    m = _RE.match(str(text))
    if m is None:
        raise ParameterError(f"cannot parse roman numeral {text!r}")
    acc, num, suf = m.group("acc"), m.group("num"), m.group("suf")
    root = (_NUMERALS[num.upper()] + {"": 0, "b": -1, "#": 1}[acc]) % 12
    upper = num.isupper()
    qualities = {
        "": "maj" if upper else "min",
        "7": "dom7" if upper else "min7",
        "maj7": "maj7",
        "°": "dim",
        "o": "dim",
        "°7": "dim7",
        "o7": "dim7",
        "+": "aug",
    }
    if suf not in qualities:
        raise ParameterError(f"unknown chord suffix {suf!r} in roman numeral {text!r}")
    return Chord(root=root, quality=qualities[suf])


def parse_progression(text: str) -> tuple[Chord, ...]:
    """Parse a space-separated roman-numeral progression.

    Examples
    --------
    >>> [c.symbol(9) for c in parse_progression("i bVI iv V")]
    ['Am', 'F', 'Dm', 'E']
    """
    return tuple(parse_numeral(tok) for tok in str(text).split())


def key_name(tonic: int, mode: str) -> str:
    """Readable key name.

    Examples
    --------
    >>> key_name(9, "minor")
    'A minor'
    """
    return f"{PITCH_NAMES[tonic % 12]} {mode}"
