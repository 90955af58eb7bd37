"""Example clips of the generated corpus, for the book's first chapters.

:func:`example_clip` finds the first clip of a class in a wanted mode (major
or minor) exactly as :func:`~mer_core.synth.generate_corpus` would write it;
:func:`clip_summary` and :func:`ground_truth_table` say what the generator
wrote (key, tempo, chords, instruments); :func:`chord_vector_change` compares
two chord vectors part by part (chapter 2's transposition check). Nothing
here reads or writes a file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mer_core.errors import MerError, ParameterError

__all__ = ["chord_vector_change", "clip_summary", "example_clip", "ground_truth_table"]


def example_clip(
    scheme: str = "emotion",
    label: str | None = None,
    *,
    mode: str | None = None,
    seed: int = 0,
    size: str = "quick",
    max_index: int = 20,
):
    """The first generated clip of a class (index 0, 1, ...) whose drawn mode is ``mode``.

    Parameters
    ----------
    scheme, label :
        The class (see :func:`mer_core.synth.synthesize_clip`).
    mode : {"major", "minor"}, optional
        Wanted mode of the clip's key (None: the first clip).
    size : str
        A corpus size (:data:`~mer_core.synth.sizes.CORPUS_SIZES`: ``tiny``,
        ``quick``, ``paper``): the clip has the length that size gives it (a
        run profile names its size: :attr:`mer_core.pipeline.RunProfile.corpus_size`).
    max_index : int
        Clips tried before giving up.

    Returns
    -------
    mer_core.synth.Clip

    Examples
    --------
    >>> clip = example_clip("emotion", "sadness", mode="minor", size="tiny")
    >>> clip.cues["mode"], clip.cues["label"]
    ('minor', 'sadness')
    """
    from mer_core.synth.corpus import synthesize_clip

    if mode not in (None, "major", "minor"):
        raise ParameterError(f"mode must be 'major', 'minor' or None, got {mode!r}")
    for index in range(max_index):
        clip = synthesize_clip(scheme=scheme, label=label, index=index, seed=seed, size=size)
        if mode is None or clip.cues["mode"] == mode:
            return clip
    raise MerError(f"no {mode} clip among the first {max_index} of {scheme}/{label}")


def clip_summary(clip) -> str:
    """One line (Markdown) describing a generated clip: id, length, key, tempo, instruments.

    Examples
    --------
    >>> clip = example_clip("emotion", "sadness", size="tiny")
    >>> clip_summary(clip)[:38]
    '`emotion_sadness_0000` (sadness): 5.0 '
    """
    c = clip.cues
    return (
        f"`{c['clip_id']}` ({c['label']}): {len(clip.audio) / clip.sr:.1f} s at {clip.sr} Hz, "
        f"written in {c['key_name']}, {c['tempo_bpm']:.0f} BPM, progression "
        f"{c['progression']}; instruments: {', '.join(c['instruments'])}."
    )


def ground_truth_table(clips: dict) -> pd.DataFrame:
    """What the generator wrote for some clips (columns: the given names; rows: what).

    Examples
    --------
    >>> t = ground_truth_table({"sad": example_clip("emotion", "sadness", size="tiny")})
    >>> list(t.index)[:3], list(t.columns)
    (['clip', 'class', 'key'], ['sad'])
    """
    rows = {}
    for name, clip in clips.items():
        c = clip.cues
        rows[name] = {
            "clip": c["clip_id"],
            "class": c["label"],
            "key": c["key_name"],
            "progression": c["progression"],
            "chords written": " ".join(c["chords"]),
            "tempo (BPM)": round(float(c["tempo_bpm"]), 1),
            "instruments": ", ".join(c["instruments"]),
        }
    # one column per clip: the long chord lists wrap in a narrow page
    return pd.DataFrame.from_dict(rows, orient="columns").astype(str)


def chord_vector_change(a, b) -> pd.DataFrame:
    """How much each part of two chord vectors differs (sum of absolute differences).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros(58); b = a.copy(); b[0] = 0.5
    >>> chord_vector_change(a, b)["sum |difference|"].tolist()
    [0.5, 0.0, 0.0, 0.0]
    """
    from mer_core.plots import chord_vector_parts

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    rows = {
        part: {"elements": sl.stop - sl.start, "sum |difference|": float(np.abs(a - b)[sl].sum())}
        for part, sl in chord_vector_parts().items()
    }
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "part"
    return df
