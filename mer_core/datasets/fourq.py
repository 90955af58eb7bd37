"""The 4Q audio emotion dataset (Panda, Malheiro & Paiva 2018) in its release layout.

::

    root/
      Q1/ Q2/ Q3/ Q4/                      <song id>.mp3 clips (~30 s previews)
      panda_dataset_taffc_annotations.csv  Song, Quadrant
      panda_dataset_taffc_metadata.csv     Song, Artist, Title, Quadrant, MoodsStr,
                                           MoodsStrSplit, GenresStr, ... (optional)

The song id is the file name without extension (``MT0000040632``). Every clip
is cross-checked: its folder must agree with the annotation file (and with the
metadata file's ``Quadrant`` when it has one); a disagreement, a clip missing
from the annotations or a song in two folders is an error naming the song.
Annotated songs without a clip (a partial copy) are a warning.

``artist`` and ``title`` come from the metadata file, so evaluation can group
folds by artist. ``text`` holds the song's AllMusic mood tags
(``MoodsStrSplit``, else ``MoodsStr``). **Do not feed** ``text`` **to a model
that predicts the quadrant**: the 4Q labels were *derived* from these tags
(the tags found in Warriner's affective norms vote for a quadrant), so using
them as input leaks the label. They are there for inspection and for
lyrics/tags analyses that keep this in mind.

:data:`FOURQ_NOTE` tells a reader of the book how to get the release.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mer_core.audio import AUDIO_EXTENSIONS, find_audio
from mer_core.datasets.manifest import (
    DEFAULT_MAX_IMBALANCE,
    QUADRANTS,
    _listing,
    _warn,
    make_manifest,
    validate_manifest,
)
from mer_core.datasets.table import _column, read_table
from mer_core.errors import MerError

__all__ = ["ANNOTATIONS_FILE", "FOURQ_NOTE", "METADATA_FILE", "is_4q_root", "load_4q"]

ANNOTATIONS_FILE = "panda_dataset_taffc_annotations.csv"
METADATA_FILE = "panda_dataset_taffc_metadata.csv"

#: How to get the real 4Q data (shown by the notebooks when ``data_4q`` is empty).
FOURQ_NOTE = """\
**No real 4Q data was given** (`data_4q` is empty) and no recorded run of it is
committed yet (`book/recorded/4q-dev/`, made by `make record-4q DATA_4Q=...`), so this
part shows the generated stand-in corpora only. The real counterpart of the paper's
"4Q" dataset is the *4Q audio emotion dataset* of Panda, Malheiro & Paiva (IEEE Transactions on
Affective Computing, 2018): 900 clips of about 30 s, 225 per Russell quadrant,
released at <http://mir.dei.uc.pt>. To use it:

```bash
.venv/bin/mer data fetch 4q data/4q       # download, verify, unpack; prints the dataset folder
make reproduce DATA_4Q=data/4q/MER_audio_taffc_dataset   # evaluate on it, rebuild the book
```

(or run this notebook with the parameter `data_4q` set to the folder holding
`Q1` ... `Q4`). The data are for research use only; they are never copied into
this repository.
"""


def is_4q_root(path) -> bool:
    """True when ``path`` holds Q1..Q4 folders and the 4Q annotation file.

    Examples
    --------
    >>> import tempfile
    >>> is_4q_root(tempfile.mkdtemp())
    False
    """
    path = Path(path)
    return (path / ANNOTATIONS_FILE).is_file() and all((path / q).is_dir() for q in QUADRANTS)


def _song_quadrants(path: Path, *, required: bool) -> dict | None:
    """``(table, song column, quadrant column)`` of a 4Q CSV; ``None`` if optional and absent."""
    if not path.is_file():
        if required:
            raise MerError(f"{path}: no such file (the 4Q annotations, columns Song, Quadrant)")
        return None
    table = read_table(path)
    song, quad = _column(table, "song"), _column(table, "quadrant")
    if song is None or (required and quad is None):
        raise MerError(
            f"{path}: expected columns Song and Quadrant, found {', '.join(table.columns)}"
        )
    return table, song, quad


def load_4q(
    root,
    *,
    extensions=AUDIO_EXTENSIONS,
    max_imbalance: float | None = DEFAULT_MAX_IMBALANCE,
    duplicates: str = "warn",
) -> pd.DataFrame:
    """Manifest of the 4Q dataset in its release layout (see the module docstring).

    Parameters
    ----------
    root : str or Path
        Folder holding ``Q1``..``Q4`` and ``panda_dataset_taffc_annotations.csv``.
    extensions : sequence of str
        Audio file extensions to collect (the release has mp3 files).
    max_imbalance, duplicates
        Passed to :func:`~mer_core.datasets.manifest.validate_manifest`.

    Returns
    -------
    pandas.DataFrame
        The manifest with scheme ``"4q"``: ``label`` and ``quadrant`` are the
        quadrant, ``source_id`` the song id, ``artist``/``title``/``text``
        from the metadata file.

    Raises
    ------
    MerError
        A missing folder or annotation file, a clip whose folder disagrees with
        the annotations (naming the song), a clip not annotated, a song in two
        folders, or an empty quadrant.

    Examples
    --------
    >>> import tempfile
    >>> load_4q(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mer_core.errors.MerError: ...: not a 4Q dataset folder: no Q1, Q2, Q3, Q4 folder(s)
    """
    root = Path(root)
    if not root.is_dir():
        raise MerError(f"{root}: no such folder")
    root = root.absolute()
    absent = [q for q in QUADRANTS if not (root / q).is_dir()]
    if absent:
        raise MerError(f"{root}: not a 4Q dataset folder: no {', '.join(absent)} folder(s)")

    table, song_col, quad_col = _song_quadrants(root / ANNOTATIONS_FILE, required=True)
    annotations = _unique_songs(table, song_col, quad_col, root / ANNOTATIONS_FILE)

    clips = {}
    for q in QUADRANTS:
        for f in find_audio(root / q, extensions=extensions):
            song = f.stem
            if song in clips:
                raise MerError(
                    f"song {song} is in two folders: {clips[song][0]} and {f} (in {root})"
                )
            clips[song] = (f, q)

    not_annotated = [str(f) for song, (f, _) in clips.items() if song not in annotations]
    if not_annotated:
        raise MerError(
            f"{len(not_annotated)} clip(s) are not listed in {ANNOTATIONS_FILE}: "
            f"{_listing(not_annotated)}"
        )
    for song, (f, q) in clips.items():
        if annotations[song] != q:
            raise MerError(
                f"song {song}: its clip is in folder {q} ({f}) but {ANNOTATIONS_FILE} says "
                f"{annotations[song]}"
            )
    missing = sorted(set(annotations) - set(clips))
    if missing:
        _warn(
            f"{len(missing)} song(s) of {ANNOTATIONS_FILE} have no clip in {root}: "
            f"{_listing(missing)}"
        )

    meta = _metadata(root, clips)
    records = []
    for song, (f, q) in clips.items():
        info = meta.get(song, {})
        records.append({"path": str(f), "label": q, "source_id": song, **info})
    manifest = make_manifest(records, root=root, scheme="4q", source="4q")
    return validate_manifest(manifest, max_imbalance=max_imbalance, duplicates=duplicates)


def _unique_songs(table, song_col, quad_col, path: Path) -> dict:
    out = {}
    for line, (song, quad) in enumerate(
        zip(table[song_col], table[quad_col], strict=True), start=2
    ):
        quad = quad.strip().upper()
        if quad not in QUADRANTS:
            raise MerError(f"{path} line {line}: song {song} has unknown quadrant {quad!r}")
        if song in out and out[song] != quad:
            raise MerError(f"{path}: song {song} is listed as both {out[song]} and {quad}")
        out[song] = quad
    return out


def _metadata(root: Path, clips: dict) -> dict:
    """``{song: {artist, title, text}}`` from the metadata file, cross-checked."""
    path = root / METADATA_FILE
    found = _song_quadrants(path, required=False)
    if found is None:
        _warn(f"{path} not found: the manifest has no artist, title or mood tags")
        return {}
    table, song_col, quad_col = found
    cols = {name: _column(table, name) for name in ("artist", "title")}
    tags = _column(table, "moodsstrsplit") or _column(table, "moodsstr")
    out = {}
    for line, row in enumerate(table.to_dict("records"), start=2):
        song = row[song_col]
        if song in clips and quad_col is not None:
            quad = row[quad_col].strip().upper()
            if quad and quad != clips[song][1]:
                raise MerError(
                    f"song {song}: its clip is in folder {clips[song][1]} but {METADATA_FILE} "
                    f"line {line} says {quad}"
                )
        out[song] = {
            "artist": row[cols["artist"]] or None if cols["artist"] else None,
            "title": row[cols["title"]] or None if cols["title"] else None,
            "text": row[tags] or None if tags else None,
        }
    absent = sorted(set(clips) - set(out))
    if absent:
        _warn(f"{len(absent)} clip(s) are not in {METADATA_FILE} (no artist): {_listing(absent)}")
    return out
