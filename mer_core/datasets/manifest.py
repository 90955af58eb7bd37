"""The one tidy manifest format shared by every loader, and its validation.

A *manifest* is a :class:`pandas.DataFrame` with one row per clip and the
columns of :data:`COLUMNS`, always all of them and in that order (unknown
values are missing, ``NaN``); a loader may append extra columns after them
(e.g. ``midi`` for rendered MIDI files, or any extra column of a CSV):

==============  ===========================================================
``path``        absolute path of the audio file (``str``)
``label``       class name; with a scheme, exactly one of its labels
``artist``      performer, where known (lets evaluation group folds by artist)
``title``       song title, where known
``text``        free text, where known: lyrics or tags (4Q: AllMusic moods)
``valence``     per-clip valence annotation, where the source gives one
``arousal``     per-clip arousal annotation, where the source gives one
``quadrant``    Russell quadrant ``"Q1"``..``"Q4"``: the scheme's placement
                of the class (:attr:`mer_core.schemes.Scheme.quadrant`)
``source_id``   the clip's id in its source (4Q song id, relative path, ...)
==============  ===========================================================

``valence`` and ``arousal`` hold *per-clip* annotations only; the class-level
coordinates of a scheme stay in :attr:`mer_core.schemes.Scheme.valence_arousal`.
``manifest.attrs`` carries ``root`` (the dataset folder every path lies in),
``scheme`` (its name or ``None``), ``labels`` (class order) and ``source``
(which loader made it).

:func:`validate_manifest` checks a manifest and returns a validated copy.
Problems that make the data unusable are errors (:class:`MerError` naming the
file or label); problems a user may knowingly accept are
:class:`DatasetWarning`:

* **error**: a missing column or value, a relative path, an unknown label, the
  same path listed twice, a path outside the dataset root (checked on the
  normalised path, so ``..`` cannot escape; symbolic links inside the root
  are followed, not rejected), a missing file (an entry that exists but is
  not a regular file, such as a FIFO or a folder named ``x.wav``, is kept and
  reported where the audio is read, like a damaged file), and a class of the scheme with
  no clip (unless ``allow_empty=True``, then a warning: the paper's schemes
  are all 4-class, and a 4-class model trained on three classes is a mistake
  one should have to ask for);
* **warning**: the same content under two names (``duplicates="warn"``; use
  ``"error"`` to refuse or ``"ignore"`` to skip the check), and strong class
  imbalance (largest / smallest class above ``max_imbalance``), with the
  counts.

Nothing on disk is ever modified; duplicate detection only reads files (sizes
first, then the first 64 KiB, and a full SHA-256 only for files that still
match).
"""

from __future__ import annotations

import os
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from mer_core.errors import MerError, ParameterError
from mer_core.io import file_digest, not_regular_file
from mer_core.schemes import Scheme, get_scheme

__all__ = [
    "COLUMNS",
    "DatasetWarning",
    "canonical_label",
    "class_counts",
    "find_duplicates",
    "make_manifest",
    "quadrant_from_va",
    "validate_manifest",
]

#: Columns of every manifest, in order.
COLUMNS = (
    "path",
    "label",
    "artist",
    "title",
    "text",
    "valence",
    "arousal",
    "quadrant",
    "source_id",
)
_TEXT_COLUMNS = ("artist", "title", "text", "quadrant", "source_id")
_FLOAT_COLUMNS = ("valence", "arousal")
QUADRANTS = ("Q1", "Q2", "Q3", "Q4")
DEFAULT_MAX_IMBALANCE = 2.0
_HEAD_BYTES = 1 << 16
_SHOW = 5  # how many offending items an error message lists


class DatasetWarning(UserWarning):
    """A dataset problem the user may accept: imbalance, duplicates, skipped files."""


def _warn(message: str) -> None:
    warnings.warn(message, DatasetWarning, stacklevel=3)


def _listing(items, *, show: int = _SHOW) -> str:
    items = [str(i) for i in items]
    more = f" and {len(items) - show} more" if len(items) > show else ""
    return ", ".join(items[:show]) + more


def resolve_scheme(scheme) -> Scheme | None:
    """``None``, a :class:`Scheme` or a scheme name -> ``Scheme`` or ``None``."""
    if scheme is None or isinstance(scheme, Scheme):
        return scheme
    return get_scheme(scheme)


def canonical_label(label, scheme, *, where: str = "") -> str:
    """The scheme's spelling of ``label`` (matched case-insensitively, spaces stripped).

    Parameters
    ----------
    label : str
        A class name as found in the data (folder name, CSV cell, ...).
    scheme : Scheme or str
    where : str
        Where the label was found, for the error message.

    Raises
    ------
    MerError
        ``label`` is not a label of the scheme; the message names it.

    Examples
    --------
    >>> canonical_label(" q3 ", "4q")
    'Q3'
    >>> canonical_label("Happiness", "emotion")
    'happiness'
    """
    scheme = resolve_scheme(scheme)
    key = str(label).strip().lower()
    for name in scheme.labels:
        if name.lower() == key:
            return name
    at = f" in {where}" if where else ""
    raise MerError(
        f"unknown label {str(label)!r}{at}; scheme {scheme.name!r} expects one of "
        f"{', '.join(scheme.labels)} (case-insensitive)"
    )


def quadrant_from_va(valence: float, arousal: float) -> str | None:
    """Russell quadrant from the signs of valence and arousal (``None`` on an axis).

    Examples
    --------
    >>> quadrant_from_va(0.4, 0.9), quadrant_from_va(-1, 1), quadrant_from_va(-1, -1)
    ('Q1', 'Q2', 'Q3')
    >>> quadrant_from_va(0.2, -0.5), quadrant_from_va(0.0, 0.5)
    ('Q4', None)
    """
    v, a = float(valence), float(arousal)
    if not (np.isfinite(v) and np.isfinite(a)) or v == 0 or a == 0:
        return None
    if a > 0:
        return "Q1" if v > 0 else "Q2"
    return "Q4" if v > 0 else "Q3"


def _abspath(path) -> str:
    return os.path.normpath(os.path.abspath(os.fspath(path)))


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def make_manifest(records, *, root, scheme=None, labels=None, source: str = "") -> pd.DataFrame:
    """Assemble loader rows into the manifest layout (no validation, no I/O).

    Parameters
    ----------
    records : list of dict
        One dict per clip with at least ``path`` and ``label``; missing
        standard columns become ``NaN``; other keys become extra columns.
    root : str or Path
        The dataset folder (stored in ``attrs["root"]``).
    scheme : Scheme or str, optional
    labels : sequence of str, optional
        Class order; the scheme's labels by default, else the sorted labels found.
    source : str
        Name of the loader, stored in ``attrs["source"]``.

    Examples
    --------
    >>> m = make_manifest([{"path": "/data/a.wav", "label": "Q2"}], root="/data", scheme="4q")
    >>> list(m.columns) == list(COLUMNS), m.loc[0, "quadrant"], m.attrs["labels"]
    (True, 'Q2', ('Q1', 'Q2', 'Q3', 'Q4'))
    """
    scheme = resolve_scheme(scheme)
    frame = pd.DataFrame.from_records(list(records))
    for col in ("path", "label"):
        if col not in frame.columns:
            frame[col] = pd.Series(dtype="str")
    for col in _TEXT_COLUMNS:
        if col not in frame.columns:
            frame[col] = np.nan
    for col in _FLOAT_COLUMNS:
        frame[col] = pd.to_numeric(frame[col], errors="coerce") if col in frame else np.nan
    if scheme is not None and len(frame):
        mapped = frame["label"].map(scheme.quadrant)
        frame["quadrant"] = frame["quadrant"].where(frame["quadrant"].notna(), mapped)
    elif len(frame):
        as_quadrant = frame["label"].where(frame["label"].isin(QUADRANTS))
        frame["quadrant"] = frame["quadrant"].where(frame["quadrant"].notna(), as_quadrant)
    for col in ("path", "label", *_TEXT_COLUMNS):
        frame[col] = frame[col].astype("str")
    extra = [c for c in frame.columns if c not in COLUMNS]
    frame = frame[list(COLUMNS) + extra]
    if labels is None:
        labels = scheme.labels if scheme is not None else sorted(frame["label"].dropna().unique())
    labels = tuple(str(x) for x in labels)
    if len(frame):
        order = {name: i for i, name in enumerate(labels)}
        key = frame["label"].map(order).fillna(len(labels))
        frame = frame.assign(_k=key).sort_values(["_k", "path"], kind="stable").drop(columns="_k")
        frame = frame.reset_index(drop=True)
    frame.attrs.update(
        root=_abspath(root),
        scheme=None if scheme is None else scheme.name,
        labels=labels,
        source=source,
    )
    return frame


def class_counts(manifest: pd.DataFrame) -> pd.Series:
    """Clips per class, in the manifest's label order (zero for empty classes).

    Examples
    --------
    >>> m = make_manifest([{"path": "/d/a.wav", "label": "Q4"}], root="/d", scheme="4q")
    >>> class_counts(m).to_dict()
    {'Q1': 0, 'Q2': 0, 'Q3': 0, 'Q4': 1}
    """
    labels = list(manifest.attrs.get("labels") or sorted(manifest["label"].dropna().unique()))
    extra = [x for x in manifest["label"].dropna().unique() if x not in labels]
    counts = manifest["label"].value_counts().reindex(labels + extra, fill_value=0)
    counts.index.name = "label"
    return counts.rename("clips").astype(int)


def find_duplicates(manifest: pd.DataFrame) -> pd.DataFrame:
    """Files with identical content listed under different paths.

    Only reads files: sizes first, then a digest of the first 64 KiB, and a
    full SHA-256 only for files that still match.

    Returns
    -------
    pandas.DataFrame
        Columns ``digest``, ``path``, ``label``, one row per file in a group
        of two or more identical files (empty when there is none).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("a.wav", "b.wav", "c.wav"):
    ...     _ = (d / name).write_bytes(b"same" if name != "c.wav" else b"other")
    >>> m = make_manifest([{"path": str(d / n), "label": "Q1"} for n in ("a.wav", "b.wav",
    ...                    "c.wav")], root=d, scheme="4q")
    >>> [pathlib.Path(p).name for p in find_duplicates(m)["path"]]
    ['a.wav', 'b.wav']
    """
    paths = [str(p) for p in manifest["path"]]
    labels = [str(x) for x in manifest["label"]]
    by_size = defaultdict(list)
    for i, p in enumerate(paths):
        if not_regular_file(p) is not None:
            continue  # missing or not a regular file (never opened: a FIFO would block)
        by_size[os.path.getsize(p)].append(i)
    groups = defaultdict(list)
    for idx in by_size.values():
        if len(idx) < 2:
            continue
        by_head = defaultdict(list)
        for i in idx:
            with open(paths[i], "rb") as fh:
                by_head[fh.read(_HEAD_BYTES)].append(i)
        for same in by_head.values():
            if len(same) < 2:
                continue
            for i in same:
                groups[file_digest(paths[i])].append(i)
    rows = [
        {"digest": d, "path": paths[i], "label": labels[i]}
        for d, idx in sorted(groups.items(), key=lambda kv: paths[kv[1][0]])
        if len(idx) > 1
        for i in idx
    ]
    return pd.DataFrame(rows, columns=["digest", "path", "label"])


def validate_manifest(
    manifest: pd.DataFrame,
    *,
    scheme=None,
    root=None,
    check_files: bool = True,
    allow_empty: bool = False,
    max_imbalance: float | None = DEFAULT_MAX_IMBALANCE,
    duplicates: str = "warn",
) -> pd.DataFrame:
    """Check a manifest against a scheme and its dataset root; return a validated copy.

    Parameters
    ----------
    manifest : pandas.DataFrame
        At least ``path`` and ``label``; missing standard columns are added.
    scheme : Scheme or str, optional
        Labels must belong to it (case-insensitive; the copy uses the scheme's
        spelling). Defaults to ``manifest.attrs["scheme"]``; ``None`` accepts
        any label.
    root : str or Path, optional
        Every path must lie inside it. Defaults to ``manifest.attrs["root"]``;
        when neither is given the check is skipped.
    check_files : bool
        Require every path to be an existing file.
    allow_empty : bool
        A scheme class without clips is a warning instead of an error.
    max_imbalance : float or None
        Warn when the largest class has more than this many times the clips of
        the smallest (``None``: never).
    duplicates : {"warn", "error", "ignore"}
        What to do about identical content under two names.

    Returns
    -------
    pandas.DataFrame
        A copy in the manifest layout with ``attrs`` set.

    Raises
    ------
    MerError
        See the module docstring for the list; each message names the file or
        label at fault.

    Examples
    --------
    >>> rows = [{"path": f"/d/{q}.wav", "label": q.lower()} for q in ("Q1", "Q2", "Q3", "Q4")]
    >>> m = make_manifest(rows, root="/d")
    >>> validate_manifest(m, scheme="4q", check_files=False)["label"].tolist()
    ['Q1', 'Q2', 'Q3', 'Q4']
    >>> validate_manifest(m, scheme="emotion", check_files=False)
    Traceback (most recent call last):
    ...
    mer_core.errors.MerError: unknown label 'q1' (1 clip, e.g. /d/Q1.wav); scheme 'emotion' ...
    """
    if not isinstance(manifest, pd.DataFrame):
        raise ParameterError(
            f"a manifest must be a pandas DataFrame, got {type(manifest).__name__}"
        )
    if duplicates not in ("warn", "error", "ignore"):
        raise ParameterError(f"duplicates must be 'warn', 'error' or 'ignore', got {duplicates!r}")
    if max_imbalance is not None and not max_imbalance >= 1:
        raise ParameterError(f"max_imbalance must be >= 1 or None, got {max_imbalance!r}")
    missing = [c for c in ("path", "label") if c not in manifest.columns]
    if missing:
        raise MerError(
            f"manifest lacks column(s) {', '.join(missing)}; "
            f"it has {', '.join(map(str, manifest.columns))}"
        )
    attrs = dict(manifest.attrs)
    if scheme is None and attrs.get("scheme"):
        scheme = attrs["scheme"]
    scheme = resolve_scheme(scheme)
    root = attrs.get("root") if root is None else root
    root = None if root is None else _abspath(root)

    if len(manifest) == 0:
        raise MerError(f"the manifest of {root or 'this dataset'} has no clips")
    frame = manifest.copy()
    for col in ("path", "label"):
        bad = frame.index[frame[col].isna() | (frame[col].astype("str").str.strip() == "")]
        if len(bad):
            where = _listing(f"row {i}" + _row_path(frame, i) for i in bad)
            raise MerError(f"manifest has {len(bad)} row(s) with no {col}: {where}")
    frame["path"] = frame["path"].astype("str")
    frame["label"] = frame["label"].astype("str").str.strip()

    relative = [p for p in frame["path"] if not os.path.isabs(p)]
    if relative:
        raise MerError(
            f"manifest paths must be absolute, got {_listing(relative)} "
            "(load a CSV with load_csv to resolve relative paths)"
        )

    if scheme is not None:
        lookup = {name.lower(): name for name in scheme.labels}
        unknown = list(dict.fromkeys(x for x in frame["label"] if x.lower() not in lookup))
        if unknown:
            first = unknown[0]
            rows = frame.index[frame["label"] == first]
            n = len(rows)
            raise MerError(
                f"unknown label {first!r} ({n} clip{'s' * (n != 1)}, e.g. "
                f"{frame.loc[rows[0], 'path']}); scheme {scheme.name!r} expects one of "
                f"{', '.join(scheme.labels)} (case-insensitive)"
                + (f"; other unknown labels: {_listing(unknown[1:])}" if len(unknown) > 1 else "")
            )
        frame["label"] = frame["label"].map(lambda x: lookup[x.lower()])
        labels = scheme.labels
    else:
        labels = attrs.get("labels") or tuple(sorted(frame["label"].unique()))
        labels = tuple(labels) + tuple(
            x for x in sorted(frame["label"].unique()) if x not in labels
        )

    norm = frame["path"].map(_abspath)
    repeated = norm[norm.duplicated(keep=False)]
    if len(repeated):
        first = repeated.iloc[0]
        times = int((norm == first).sum())
        others = sorted(set(repeated) - {first})
        raise MerError(
            f"{first} is listed {times} times in the manifest"
            + (f"; so are {_listing(others)}" if others else "")
        )
    if root is not None:
        outside = [p for p in norm if not _inside(p, root)]
        if outside:
            raise MerError(
                f"{len(outside)} manifest path(s) lie outside the dataset root {root}: "
                f"{_listing(outside)}"
            )
    frame["path"] = norm
    if check_files:
        # a missing file is an error; an entry that exists but is not a regular file (a
        # folder named x.wav, a FIFO, a symbolic-link loop) is kept, to be reported and
        # skipped where the audio is read, like a damaged file
        absent = [p for p in norm if not os.path.lexists(p)]
        if absent:
            raise MerError(
                f"{len(absent)} file(s) in the manifest do not exist: {_listing(absent)}"
            )

    out = make_manifest(
        frame.to_dict("records"),
        root=root if root is not None else _common_root(norm),
        scheme=scheme,
        labels=labels,
        source=attrs.get("source", ""),
    )
    counts = class_counts(out)
    empty = [name for name, n in counts.items() if n == 0]
    if empty:
        msg = (
            f"class{'es' * (len(empty) > 1)} {', '.join(map(repr, empty))} "
            f"ha{'ve' if len(empty) > 1 else 's'} no clips in the dataset at {out.attrs['root']}"
        )
        if not allow_empty:
            raise MerError(msg + " (pass allow_empty=True to accept)")
        _warn(msg)
    nonzero = counts[counts > 0]
    if max_imbalance is not None and len(nonzero) > 1:
        ratio = nonzero.max() / nonzero.min()
        if ratio > max_imbalance:
            _warn(
                f"strong class imbalance in {out.attrs['root']}: "
                + ", ".join(f"{k} {v}" for k, v in counts.items())
                + f" (largest/smallest = {ratio:.1f} > {max_imbalance:g})"
            )
    if duplicates != "ignore" and check_files:
        dup = find_duplicates(out)
        if len(dup):
            groups = [" = ".join(g["path"]) for _, g in dup.groupby("digest", sort=False)]
            msg = (
                f"{len(groups)} group(s) of identical files under different names: "
                f"{_listing(groups, show=3)}"
            )
            if duplicates == "error":
                raise MerError(msg)
            _warn(msg)
    return out


def _row_path(frame: pd.DataFrame, i) -> str:
    value = frame.loc[i, "path"] if "path" in frame else None
    return f" ({value})" if isinstance(value, str) and value.strip() else ""


def _common_root(paths) -> str:
    paths = list(paths)
    return os.path.commonpath([os.path.dirname(p) for p in paths]) if paths else os.sep


def resolve_path(value: str, base: Path) -> str:
    """Absolute, normalised path of ``value`` (relative ones are taken from ``base``)."""
    p = Path(str(value).strip())
    return _abspath(p if p.is_absolute() else Path(base) / p)
