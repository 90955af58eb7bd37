"""A synthetic, emotion-labelled music corpus: the project's embedded default data.

The paper's EMA and Emotion datasets are not public, so :mod:`mer_core.synth`
composes its own music, conditioned on emotion and deterministic from a seed,
for any of the three labelling schemes (:mod:`mer_core.schemes`):

* :mod:`~mer_core.synth.cues`: the cue model, from a class's (valence,
  arousal) to tempo, mode, dissonance, loudness, articulation, register,
  timbre, percussion (:data:`~mer_core.synth.cues.CUE_TABLE`, with the
  music-psychology references), with scatter and label noise;
* :mod:`~mer_core.synth.theory`: scales, chords, roman-numeral progressions;
* :mod:`~mer_core.synth.instruments`: the General MIDI palette rated for
  harshness;
* :mod:`~mer_core.synth.artists`: pseudo-artists sharing a palette and a
  production style (for grouped cross-validation);
* :mod:`~mer_core.synth.compose`: melody, chords, bass and drums as a score;
* :mod:`~mer_core.synth.render`: the GM soundfont via ``tinysoundfont``, or a
  pure-numpy additive fallback, then mastering to 16-bit WAV;
* :mod:`~mer_core.synth.sizes`: the ``tiny``, ``quick`` and ``paper`` corpus sizes;
* :mod:`~mer_core.synth.corpus`: :func:`generate_corpus` (parallel, cached,
  resumable) and :func:`synthesize_clip`;
* :mod:`~mer_core.synth.baseline`: MFCC and harmony baselines that show how
  hard the corpus is;
* :mod:`~mer_core.synth.examples`: example clips (and their ground truth) for
  the book's first chapters;
* :mod:`~mer_core.synth.cli`: ``mer synth``.

Examples
--------
>>> from mer_core.synth import cue_table
>>> t = cue_table("emotion")
>>> bool(t.loc["anger", "harshness"] > t.loc["relaxation", "harshness"])
True
"""

from mer_core.synth.corpus import (
    MANIFEST_COLUMNS,
    Clip,
    generate_corpus,
    load_ground_truth,
    load_manifest,
    plan_corpus,
    synthesize_clip,
    synthesize_va,
)
from mer_core.synth.cues import (
    CUE_TABLE,
    LABEL_NOISE,
    LATENT_SD,
    cue_means,
    cue_table,
    cue_weights,
    draw_cues,
)
from mer_core.synth.render import RENDERERS, SR, resolve_renderer, tinysoundfont_available
from mer_core.synth.sizes import CORPUS_SIZES, get_corpus_size

__all__ = [
    "CUE_TABLE",
    "LABEL_NOISE",
    "LATENT_SD",
    "CORPUS_SIZES",
    "MANIFEST_COLUMNS",
    "RENDERERS",
    "SR",
    "Clip",
    "cue_means",
    "cue_table",
    "cue_weights",
    "draw_cues",
    "generate_corpus",
    "get_corpus_size",
    "load_ground_truth",
    "load_manifest",
    "plan_corpus",
    "resolve_renderer",
    "synthesize_clip",
    "synthesize_va",
    "tinysoundfont_available",
]
