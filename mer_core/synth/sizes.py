"""Corpus sizes: how many clips per class and how long.

==========  =====================================  ===============================
size        clips per class                        clip length
==========  =====================================  ===============================
``tiny``    6                                      5 s (tests)
``quick``   40                                     15 s (experiments, the book)
``paper``   the paper's size split evenly:         the scheme's: 50 s (EMA),
            EMA 1654, Emotion 1677, 4Q 1471        40 s (Emotion, 4Q)
==========  =====================================  ===============================

Without a size the corpus has 50 clips per class of the scheme's length. (A
corpus size is one part of a *run profile*, :data:`mer_core.pipeline.RUN_PROFILES`,
which also picks a training budget; the three share the names ``tiny`` /
``quick`` / ``paper``.)

Clip lengths vary like real excerpts: a fraction ``short_fraction`` of the
clips is *shorter* than the target (a uniform fraction ``short_range`` of it,
so the zero-fill path of the front end is exercised), a fraction
``long_fraction`` is *longer* (up to ``long_max`` times, so truncation to the
first N seconds is exercised too), the rest has exactly the target length.
The manifest's ``duration`` is each clip's real length, ``target_duration``
the size's.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from mer_core.errors import ParameterError

__all__ = ["CORPUS_SIZES", "CorpusSize", "check_duration", "class_counts", "get_corpus_size"]


@dataclass(frozen=True)
class CorpusSize:
    """Size and clip-length policy of a corpus (see the module docstring).

    ``n_per_class=None`` means the paper's dataset size; ``duration=None`` the
    scheme's clip length.
    """

    name: str
    n_per_class: int | None
    duration: float | None
    short_fraction: float = 0.10
    short_range: tuple[float, float] = (0.5, 0.95)
    long_fraction: float = 0.15
    long_max: float = 1.10


CORPUS_SIZES: dict[str, CorpusSize] = {
    "tiny": CorpusSize("tiny", 6, 5.0, short_fraction=0.25, short_range=(0.8, 0.95), long_max=1.2),
    "quick": CorpusSize("quick", 40, 15.0, short_fraction=0.1, short_range=(0.67, 0.95)),
    "paper": CorpusSize("paper", None, None),
    "default": CorpusSize("default", 50, None),
}


def get_corpus_size(name) -> CorpusSize:
    """Look up a corpus size (``None`` -> ``"default"``); a :class:`CorpusSize` passes through.

    Examples
    --------
    >>> get_corpus_size("quick").duration
    15.0
    """
    if isinstance(name, CorpusSize):
        return name
    key = "default" if name is None else str(name).lower()
    if key not in CORPUS_SIZES:
        raise ParameterError(
            f"unknown corpus size {name!r}; expected one of {sorted(CORPUS_SIZES)}"
        )
    return CORPUS_SIZES[key]


def class_counts(scheme, n_per_class) -> dict:
    """Clips per label: an int for every class, a mapping, or ``None`` for the paper's size.

    The paper's total is split as evenly as possible, earlier labels taking the
    remainder.

    Examples
    --------
    >>> from mer_core.schemes import get_scheme
    >>> class_counts(get_scheme("ema"), None)
    {'cheerful': 414, 'excited': 414, 'nervous': 413, 'joyful': 413}
    >>> sum(class_counts(get_scheme("4q"), None).values())
    1471
    """
    labels = scheme.labels
    if n_per_class is None:
        q, r = divmod(scheme.paper_size, len(labels))
        return {lab: q + (1 if i < r else 0) for i, lab in enumerate(labels)}
    if isinstance(n_per_class, dict):
        unknown = set(n_per_class) - set(labels)
        if unknown:
            raise ParameterError(
                f"n_per_class names unknown labels {sorted(unknown)} for scheme {scheme.name!r}"
            )
        counts = {lab: n_per_class.get(lab, 0) for lab in labels}
    else:
        counts = {lab: n_per_class for lab in labels}
        if not isinstance(n_per_class, bool) and isinstance(n_per_class, numbers.Integral):
            if n_per_class <= 0:
                raise ParameterError(
                    f"n_per_class must be a positive integer, got {n_per_class!r}"
                )
    for lab, n in counts.items():
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ParameterError(f"n_per_class must be a positive integer, got {n!r} for {lab!r}")
    if sum(counts.values()) == 0:
        raise ParameterError(f"n_per_class asks for no clips at all: {n_per_class!r}")
    return {lab: int(n) for lab, n in counts.items()}


def check_duration(duration) -> float:
    """A positive, finite clip length in seconds (at most one hour)."""
    if isinstance(duration, bool) or not isinstance(duration, numbers.Real):
        raise ParameterError(f"duration must be a positive number of seconds, got {duration!r}")
    if not (math.isfinite(duration) and 0.5 <= duration <= 3600):
        raise ParameterError(f"duration must be between 0.5 and 3600 s, got {duration!r}")
    return float(duration)
