"""CSV manifests: a table with ``path`` and ``label`` columns (plus optional ones).

Format, documented:

* Column names are matched case-insensitively, surrounding spaces ignored.
  ``path`` and ``label`` are required; ``artist``, ``title``, ``text``,
  ``valence``, ``arousal``, ``quadrant`` and ``source_id`` are taken when
  present; any other column is kept, after the standard ones.
* ``path`` is relative to ``root`` when given, else to the CSV file's folder;
  absolute paths are accepted when they lie inside that dataset root.
* With a scheme, labels are matched case-insensitively and written in the
  scheme's spelling; an unknown label is an error naming the label, the CSV
  and its line. Without a scheme the labels found are the classes.
* The file is read as UTF-8 (with or without BOM), falling back to
  Windows-1252 for older exports. It is only read.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from mer_core.datasets.manifest import (
    COLUMNS,
    DEFAULT_MAX_IMBALANCE,
    _abspath,
    _inside,
    _listing,
    canonical_label,
    make_manifest,
    resolve_path,
    resolve_scheme,
    validate_manifest,
)
from mer_core.errors import MerError

__all__ = ["load_csv", "read_table"]


def read_table(path) -> pd.DataFrame:
    """Read a CSV file as strings, columns stripped; a clear error naming the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.csv"
    >>> _ = p.write_bytes("Path , Label\\nx.wav,caf\\xe9\\n".encode("cp1252"))
    >>> read_table(p).to_dict("records")
    [{'Path': 'x.wav', 'Label': 'café'}]
    """
    path = Path(path)
    if not path.is_file():
        raise MerError(f"{path}: no such file")
    last = None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError as exc:
            last = exc
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            raise MerError(f"{path}: not a readable CSV table ({exc})") from None
        table.columns = [str(c).strip() for c in table.columns]
        return table.apply(lambda col: col.str.strip())
    raise MerError(f"{path}: not a readable CSV table ({last})")


def _column(table: pd.DataFrame, name: str):
    """The actual column matching ``name`` case-insensitively, or None."""
    for col in table.columns:
        if col.lower() == name:
            return col
    return None


def load_csv(
    manifest_csv,
    *,
    root=None,
    scheme=None,
    allow_empty: bool = False,
    max_imbalance: float | None = DEFAULT_MAX_IMBALANCE,
    duplicates: str = "warn",
) -> pd.DataFrame:
    """Manifest of a dataset described by a CSV file.

    Parameters
    ----------
    manifest_csv : str or Path
        CSV with ``path`` and ``label`` columns (see the module docstring).
    root : str or Path, optional
        The dataset folder: relative paths start there and must stay inside
        it (``../`` out of it is an error); absolute paths may point anywhere
        unless a root is given. Defaults to the CSV file's folder.
    scheme : Scheme or str, optional
        Labels must belong to it; ``None`` takes the labels found.
    allow_empty, max_imbalance, duplicates
        Passed to :func:`~mer_core.datasets.manifest.validate_manifest`.

    Returns
    -------
    pandas.DataFrame
        The manifest (see :mod:`mer_core.datasets.manifest`).

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from mer_core.audio import write_wav
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for q in ("Q1", "Q2", "Q3", "Q4"):
    ...     _ = write_wav(d / "clips" / f"{q}.wav", np.full(800, 0.01 * int(q[1]), np.float32),
    ...                   sr=8000)
    >>> rows = "".join(f"clips/{q}.wav,{q.lower()},Band {q}\\n" for q in ("Q1", "Q2", "Q3", "Q4"))
    >>> _ = (d / "m.csv").write_text("path,label,artist\\n" + rows)
    >>> m = load_csv(d / "m.csv", scheme="4q")
    >>> m[["label", "artist", "quadrant"]].iloc[1].tolist()
    ['Q2', 'Band Q2', 'Q2']
    """
    scheme = resolve_scheme(scheme)
    manifest_csv = Path(manifest_csv)
    table = read_table(manifest_csv)
    where = manifest_csv.name
    cols = {}
    for name in ("path", "label"):
        cols[name] = _column(table, name)
        if cols[name] is None:
            raise MerError(
                f"{manifest_csv}: no {name!r} column; the columns are "
                f"{', '.join(table.columns) or '(none)'}"
            )
    base = Path(root) if root is not None else manifest_csv.parent
    if not base.is_dir():
        raise MerError(f"{base}: no such folder (the dataset root for {manifest_csv})")
    for name in ("path", "label"):
        empty = [i + 2 for i in table.index[table[cols[name]] == ""]]
        if empty:
            raise MerError(f"{manifest_csv}: no {name} on line(s) {_listing(empty)}")

    rename = {}
    for name in COLUMNS:
        col = _column(table, name)
        if col is not None:
            rename[col] = name
    table = table.rename(columns=rename)
    for name in ("valence", "arousal"):
        if name in table:
            values = pd.to_numeric(table[name].replace("", None), errors="coerce")
            bad = table.index[values.isna() & (table[name] != "")]
            if len(bad):
                raise MerError(
                    f"{manifest_csv}: {name} is not a number on line(s) "
                    f"{_listing(i + 2 for i in bad)} (e.g. {table.loc[bad[0], name]!r})"
                )
            table[name] = values
    for name in ("artist", "title", "text", "quadrant", "source_id"):
        if name in table:
            table[name] = table[name].replace("", None)

    records = table.to_dict("records")
    climbing, absolute = [], False
    for line, rec in enumerate(records, start=2):
        given = str(rec["path"]).strip()
        rec["path"] = resolve_path(given, base)
        if os.path.isabs(given):
            absolute = True
        elif not _inside(rec["path"], _abspath(base)):
            climbing.append(given)
        if scheme is not None:
            rec["label"] = canonical_label(rec["label"], scheme, where=f"{where} line {line}")
    if climbing:
        raise MerError(
            f"{manifest_csv}: {len(climbing)} relative path(s) climb out of the folder they "
            f"are relative to ({base}): {_listing(climbing)}; write them as absolute paths, "
            "or put the CSV in (or give as root) a folder that holds every clip"
        )
    # Absolute paths are the user's own files wherever they are (only an explicit
    # root confines them): the dataset root is then the folder that holds them all.
    if absolute and root is None:
        base = Path(os.path.commonpath([_abspath(base), *(r["path"] for r in records)]))
    manifest = make_manifest(records, root=base, scheme=scheme, source="csv")
    return validate_manifest(
        manifest, allow_empty=allow_empty, max_imbalance=max_imbalance, duplicates=duplicates
    )
