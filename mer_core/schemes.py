"""The paper's three labelling schemes (its section 3.1), in one registry.

=========  =================================================  ==========
scheme     classes                                            clip length
=========  =================================================  ==========
``ema``    cheerful, excited, nervous, joyful                 first 50 s
``emotion`` anger, happiness, relaxation, sadness             first 40 s
``4q``     Q1, Q2, Q3, Q4 (Russell quadrants)                 first 40 s
=========  =================================================  ==========

Every class is placed in Russell's valence-arousal plane, so the schemes can be
compared and a generated corpus can draw musical cues from the class's
position. Quadrants: Q1 positive valence / high arousal, Q2 negative / high,
Q3 negative / low, Q4 positive / low.

* Emotion -> quadrant: happiness Q1, anger Q2, sadness Q3, relaxation Q4
  (the standard mapping used for the 4Q dataset by Panda et al. 2018).
* EMA: the paper's four EMA labels are all positive or high-arousal words, so
  they do not cover the four quadrants. The documented placement used here is
  excited Q1 (high arousal, positive), nervous Q2 (high arousal, negative),
  cheerful Q1 (positive, moderately high arousal) and joyful Q1/Q4 border
  (positive, moderate arousal). EMA therefore separates mostly along arousal
  and valence *within* the positive half plus one negative class; the
  coordinates below make that explicit rather than forcing a quadrant.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mer_core.errors import ParameterError

__all__ = ["QUADRANT_MEANINGS", "Scheme", "SCHEMES", "describe_label", "get_scheme"]

#: What each Russell quadrant means, in words.
QUADRANT_MEANINGS = {
    "Q1": "positive valence, high arousal: happy, excited",
    "Q2": "negative valence, high arousal: angry, tense",
    "Q3": "negative valence, low arousal: sad",
    "Q4": "positive valence, low arousal: calm, relaxed",
}


@dataclass(frozen=True)
class Scheme:
    """A 4-class labelling scheme of the paper.

    Attributes
    ----------
    name : str
        Registry key.
    labels : tuple of str
        Class names, in the order used for tables and confusion matrices.
    duration : float
        Seconds of each clip the paper keeps (zero-filled when shorter).
    paper_size : int
        Number of clips the paper reports for the dataset.
    quadrant : dict
        Class -> Russell quadrant ("Q1".."Q4").
    valence_arousal : dict
        Class -> (valence, arousal), each in [-1, 1].
    """

    name: str
    labels: tuple[str, ...]
    duration: float
    paper_size: int
    quadrant: dict = field(default_factory=dict)
    valence_arousal: dict = field(default_factory=dict)

    def index(self, label: str) -> int:
        """Position of ``label`` in :attr:`labels`; a clear error for unknown labels."""
        try:
            return self.labels.index(label)
        except ValueError:
            raise ParameterError(
                f"unknown label {label!r} for scheme {self.name!r}; expected one of {self.labels}"
            ) from None


SCHEMES: dict[str, Scheme] = {
    "ema": Scheme(
        name="ema",
        labels=("cheerful", "excited", "nervous", "joyful"),
        duration=50.0,
        paper_size=1654,
        quadrant={"cheerful": "Q1", "excited": "Q1", "nervous": "Q2", "joyful": "Q4"},
        valence_arousal={
            "cheerful": (0.7, 0.4),
            "excited": (0.5, 0.85),
            "nervous": (-0.55, 0.6),
            "joyful": (0.8, 0.05),
        },
    ),
    "emotion": Scheme(
        name="emotion",
        labels=("anger", "happiness", "relaxation", "sadness"),
        duration=40.0,
        paper_size=1677,
        quadrant={"happiness": "Q1", "anger": "Q2", "sadness": "Q3", "relaxation": "Q4"},
        valence_arousal={
            "happiness": (0.8, 0.6),
            "anger": (-0.7, 0.8),
            "sadness": (-0.7, -0.6),
            "relaxation": (0.6, -0.6),
        },
    ),
    "4q": Scheme(
        name="4q",
        labels=("Q1", "Q2", "Q3", "Q4"),
        duration=40.0,
        paper_size=1471,
        quadrant={"Q1": "Q1", "Q2": "Q2", "Q3": "Q3", "Q4": "Q4"},
        valence_arousal={
            "Q1": (0.6, 0.6),
            "Q2": (-0.6, 0.6),
            "Q3": (-0.6, -0.6),
            "Q4": (0.6, -0.6),
        },
    ),
}


def get_scheme(name: str) -> Scheme:
    """Look up a scheme by name (case-insensitive).

    Examples
    --------
    >>> get_scheme("emotion").labels
    ('anger', 'happiness', 'relaxation', 'sadness')
    >>> get_scheme("4Q").duration
    40.0
    """
    key = str(name).lower()
    if key not in SCHEMES:
        raise ParameterError(f"unknown scheme {name!r}; expected one of {sorted(SCHEMES)}")
    return SCHEMES[key]


def describe_label(scheme, label: str) -> str:
    """A class label with what it means, e.g. ``"Q3 (negative valence, low arousal: sad)"``.

    Examples
    --------
    >>> describe_label("4q", "Q3")
    'Q3 (negative valence, low arousal: sad)'
    >>> describe_label("emotion", "sadness")
    'sadness (Q3: negative valence, low arousal)'
    """
    try:
        sch = get_scheme(scheme) if isinstance(scheme, str) else scheme
    except ValueError:  # an unknown scheme: the label alone
        return str(label)
    quadrant = sch.quadrant.get(label)
    if quadrant is None:
        return str(label)
    meaning = QUADRANT_MEANINGS[quadrant]
    if quadrant == label:
        return f"{label} ({meaning})"
    return f"{label} ({quadrant}: {meaning.split(':')[0]})"
