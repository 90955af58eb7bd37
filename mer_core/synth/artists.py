"""Pseudo-artists ("composers"): a style shared by many clips, so grouped CV is possible.

Real emotion datasets hold several songs per artist and album, and a
classifier can learn the artist's sound instead of the emotion (the "album
effect"). The synthetic corpus reproduces this: each scheme has
:data:`ARTISTS_PER_CLASS` pseudo-artists per class, each with

* an affinity for every program of the palette and every drum kit (log-normal
  weights multiplying the timbre match, so an artist favours some instruments
  whatever the emotion);
* a production style: reverb amount, a low-pass "warmth" tilt, a mastering
  gain, a small tempo scale and velocity offset, a preference for 3/4 time.

Every artist has a *home* class (artists are dealt to classes in turn); a clip
is assigned an artist of its home class with probability :data:`P_HOME` and
any artist otherwise. Production and palette are therefore mildly correlated
with the label, as in real collections, and a split grouped by ``artist``
(e.g. :class:`sklearn.model_selection.StratifiedGroupKFold`) measures how much
a classifier relies on them. An artist depends only on ``(seed, scheme,
index)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mer_core.synth.instruments import DRUM_KITS, INSTRUMENTS
from mer_core.synth.seeds import artist_rng

__all__ = ["Artist", "ARTISTS_PER_CLASS", "P_HOME", "make_artists", "choose_artist"]

ARTISTS_PER_CLASS = 4
P_HOME = 0.5


@dataclass(frozen=True)
class Artist:
    """A pseudo-artist's style (see the module docstring)."""

    name: str
    index: int
    home_label: str
    tempo_scale: float
    velocity_offset: float
    p_triple: float
    reverb: float
    tilt: float
    gain_db: float
    program_affinity: dict = field(default_factory=dict, repr=False)
    kit_affinity: dict = field(default_factory=dict, repr=False)

    def summary(self) -> dict:
        """JSON-friendly description (without the affinity tables)."""
        return {
            "artist": self.name,
            "home_label": self.home_label,
            "tempo_scale": round(self.tempo_scale, 4),
            "velocity_offset": round(self.velocity_offset, 2),
            "p_triple": round(self.p_triple, 3),
            "reverb": round(self.reverb, 3),
            "tilt": round(self.tilt, 3),
            "gain_db": round(self.gain_db, 2),
        }


def make_artists(scheme, *, seed: int) -> list[Artist]:
    """The pseudo-artists of a scheme's corpus.

    Parameters
    ----------
    scheme : mer_core.schemes.Scheme
    seed : int
        Corpus seed.

    Examples
    --------
    >>> from mer_core.schemes import get_scheme
    >>> artists = make_artists(get_scheme("emotion"), seed=0)
    >>> len(artists), artists[0].name, artists[1].home_label
    (16, 'composer_00', 'happiness')
    """
    out = []
    n = ARTISTS_PER_CLASS * len(scheme.labels)
    for j in range(n):
        rng = artist_rng(seed, scheme.name, j)
        programs = sorted(INSTRUMENTS)
        affinity = np.exp(0.9 * rng.standard_normal(len(programs)))
        kits = sorted(DRUM_KITS)
        kit_aff = np.exp(0.9 * rng.standard_normal(len(kits)))
        out.append(
            Artist(
                name=f"composer_{j:02d}",
                index=j,
                home_label=scheme.labels[j % len(scheme.labels)],
                tempo_scale=float(np.exp(0.07 * rng.standard_normal())),
                velocity_offset=float(rng.normal(0.0, 5.0)),
                p_triple=float(rng.uniform(0.0, 0.3)),
                reverb=float(rng.uniform(0.0, 0.45)),
                tilt=float(rng.uniform(0.0, 0.6)),
                gain_db=float(rng.normal(0.0, 2.0)),
                program_affinity=dict(zip(programs, affinity.tolist(), strict=True)),
                kit_affinity=dict(zip(kits, kit_aff.tolist(), strict=True)),
            )
        )
    return out


def choose_artist(artists, label: str, u_home: float, u_pick: float) -> Artist:
    """A clip's artist from two uniforms in ``[0, 1)``: a home artist of ``label`` if
    ``u_home < P_HOME``, else any artist; ``u_pick`` picks within the pool.

    Examples
    --------
    >>> from mer_core.schemes import get_scheme
    >>> artists = make_artists(get_scheme("emotion"), seed=0)
    >>> choose_artist(artists, "sadness", 0.1, 0.0).home_label
    'sadness'
    """
    home = [a for a in artists if a.home_label == label]
    pool = home if (home and u_home < P_HOME) else list(artists)
    return pool[min(len(pool) - 1, int(u_pick * len(pool)))]
