"""Folder-per-class datasets: ``root/<label>/**/<clip>.<audio extension>``.

Rules, documented:

* Class folders are the non-hidden sub-folders of ``root``; every audio file
  below one (recursively, hidden files skipped) is a clip of that class.
* With a scheme, folder names must be its labels, matched case-insensitively
  (``HAPPINESS/`` is ``happiness``); a folder holding audio under any other
  name is an error naming it. Folders holding no audio at all (``docs/``,
  ``__MACOSX/``) are ignored, unless their name is a label: then that class
  is empty, an error unless ``allow_empty=True``.
* Without a scheme the labels are the names of the folders that hold audio
  (sorted); folders without audio are skipped with a warning naming them.
* Audio files lying directly in ``root`` belong to no class: they are skipped
  with a warning naming them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mer_core.audio import AUDIO_EXTENSIONS, find_audio
from mer_core.datasets.manifest import (
    DEFAULT_MAX_IMBALANCE,
    _listing,
    _warn,
    make_manifest,
    resolve_scheme,
    validate_manifest,
)
from mer_core.errors import MerError

__all__ = ["load_folder"]


def load_folder(
    root,
    *,
    scheme=None,
    extensions=AUDIO_EXTENSIONS,
    allow_empty: bool = False,
    max_imbalance: float | None = DEFAULT_MAX_IMBALANCE,
    duplicates: str = "warn",
) -> pd.DataFrame:
    """Manifest of a folder-per-class dataset.

    Parameters
    ----------
    root : str or Path
        The dataset folder, holding one sub-folder per class.
    scheme : Scheme or str, optional
        ``"ema"``, ``"emotion"`` or ``"4q"``; ``None`` infers the labels from
        the folder names.
    extensions : sequence of str
        Audio file extensions to collect.
    allow_empty, max_imbalance, duplicates
        Passed to :func:`~mer_core.datasets.manifest.validate_manifest`.

    Returns
    -------
    pandas.DataFrame
        The manifest (see :mod:`mer_core.datasets.manifest`), sorted by class
        then path; ``source_id`` is the path relative to ``root``.

    Raises
    ------
    MerError
        ``root`` is missing, a folder name is not a label of the scheme, two
        folders name the same label, no class folder holds audio, or a class
        is empty.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from mer_core.audio import write_wav
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for level, label in enumerate(("calm", "Tense")):
    ...     _ = write_wav(root / label / "a.wav", np.full(800, level / 4, np.float32), sr=8000)
    >>> m = load_folder(root)
    >>> m["label"].tolist(), m["source_id"].tolist()
    (['Tense', 'calm'], ['Tense/a.wav', 'calm/a.wav'])
    """
    scheme = resolve_scheme(scheme)
    root = Path(root)
    if not root.is_dir():
        raise MerError(f"{root}: no such folder")
    root = root.absolute()

    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    loose = [p.name for p in root.iterdir() if p.is_file() and p.suffix.lower() in extensions]
    if loose:
        _warn(
            f"{len(loose)} audio file(s) directly in {root} are in no class folder and were "
            f"skipped: {_listing(sorted(loose))}"
        )

    lookup = {name.lower(): name for name in scheme.labels} if scheme is not None else {}
    records, unknown, skipped, seen = [], [], [], {}
    for folder in folders:
        files = find_audio(folder, extensions=extensions)
        label = lookup.get(folder.name.strip().lower()) if scheme is not None else folder.name
        if not files:
            if scheme is None:
                skipped.append(folder.name)
            continue
        if label is None:
            unknown.append(f"{folder.name!r} ({len(files)} audio files)")
            continue
        if label in seen:
            raise MerError(
                f"folders {seen[label]!r} and {folder.name!r} in {root} both name class {label!r}"
            )
        seen[label] = folder.name
        for f in files:
            records.append(
                {"path": str(f), "label": label, "source_id": f.relative_to(root).as_posix()}
            )
    if unknown:
        raise MerError(
            f"unknown class folder{'s' * (len(unknown) > 1)} {', '.join(unknown)} in {root}; "
            f"scheme {scheme.name!r} expects folders named {', '.join(scheme.labels)} "
            "(case-insensitive)"
        )
    if skipped:
        _warn(f"folder(s) without audio in {root} skipped: {_listing(skipped)}")
    if not records:
        raise MerError(
            f"{root}: no class folder with audio files ({', '.join(extensions)}) was found"
        )
    manifest = make_manifest(records, root=root, scheme=scheme, source="folder")
    return validate_manifest(
        manifest, allow_empty=allow_empty, max_imbalance=max_imbalance, duplicates=duplicates
    )
