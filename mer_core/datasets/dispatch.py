"""One entry point, :func:`load_dataset`, choosing the loader from what ``source`` is.

=====================================================  =============================
``source``                                             loader
=====================================================  =============================
a ``.csv`` file                                        :func:`~.table.load_csv`
a folder with ``Q1``..``Q4`` and the 4Q annotations    :func:`~.fourq.load_4q`
a folder holding a ``manifest.csv`` (e.g. a generated  :func:`~.table.load_csv` on it
corpus from ``mer synth``)
a folder whose sub-folders hold audio files            :func:`~.folder.load_folder`
a folder holding MIDI files (and no class folders)     :func:`~.midi.load_midi`
=====================================================  =============================
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mer_core.audio import find_audio
from mer_core.datasets.folder import load_folder
from mer_core.datasets.fourq import is_4q_root, load_4q
from mer_core.datasets.manifest import resolve_scheme
from mer_core.datasets.midi import find_midi, load_midi
from mer_core.datasets.table import load_csv
from mer_core.errors import MerError, ParameterError

__all__ = ["KINDS", "detect_source", "load_dataset"]

KINDS = ("4q", "csv", "folder", "midi")
#: A folder holding this file is read through it (it carries artists and cues).
MANIFEST_NAME = "manifest.csv"


def detect_source(source) -> str:
    """Which kind of dataset ``source`` is: one of :data:`KINDS`.

    Examples
    --------
    >>> detect_source("labels.csv")
    'csv'
    >>> import tempfile
    >>> detect_source(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mer_core.errors.MerError: ...: not a dataset: ...
    """
    source = Path(source)
    if source.suffix.lower() == ".csv" and not source.is_dir():
        return "csv"
    if not source.exists():
        raise MerError(f"{source}: no such file or folder")
    if not source.is_dir():
        raise MerError(f"{source}: not a dataset (expected a folder or a .csv manifest)")
    if is_4q_root(source):
        return "4q"
    if (source / MANIFEST_NAME).is_file():
        return "csv"
    subfolders = [p for p in source.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if any(find_audio(p) for p in subfolders):
        return "folder"
    if find_midi(source):
        return "midi"
    raise MerError(
        f"{source}: not a dataset: no class sub-folders with audio files, no MIDI files, and "
        "not the 4Q layout (Q1..Q4 folders with panda_dataset_taffc_annotations.csv)"
    )


def load_dataset(source, *, scheme=None, **options) -> pd.DataFrame:
    """Load any supported dataset as a manifest (see the table in the module docstring).

    Parameters
    ----------
    source : str or Path
        A folder or a CSV manifest.
    scheme : Scheme or str, optional
        The labelling scheme; a 4Q folder is always ``"4q"`` (any other scheme
        is an error), MIDI quadrants are ``"4q"`` unless ``"emotion"`` is asked.
    **options
        Passed to the chosen loader (e.g. ``root=`` for a CSV, ``out_dir=`` for
        MIDI, ``allow_empty=``, ``max_imbalance=``, ``duplicates=`` for all but 4Q's
        ``allow_empty``).

    Returns
    -------
    pandas.DataFrame
        The manifest; ``manifest.attrs["source"]`` says which loader read it.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from mer_core.audio import write_wav
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for i, label in enumerate(("anger", "happiness", "relaxation", "sadness")):
    ...     _ = write_wav(root / label / "x.wav", np.full(800, 0.1 * i, np.float32), sr=8000)
    >>> m = load_dataset(root, scheme="emotion")
    >>> m.attrs["source"], len(m), m["quadrant"].tolist()
    ('folder', 4, ['Q2', 'Q1', 'Q4', 'Q3'])
    """
    kind = detect_source(source)
    resolved = resolve_scheme(scheme)
    if kind == "4q":
        if resolved is not None and resolved.name != "4q":
            raise ParameterError(
                f"{source} is the 4Q dataset (labels Q1..Q4); scheme {resolved.name!r} does "
                "not apply to it"
            )
        return load_4q(source, **options)
    if kind == "csv":
        path = Path(source)
        return load_csv(
            path / MANIFEST_NAME if path.is_dir() else path, scheme=resolved, **options
        )
    if kind == "folder":
        return load_folder(source, scheme=resolved, **options)
    return load_midi(source, scheme=resolved, **options)
