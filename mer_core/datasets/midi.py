"""Symbolic datasets: labelled MIDI files, rendered to audio, then a normal manifest.

Labels, in this order of precedence:

1. **A label CSV** (VGMIDI style): ``labels_csv``, or the one CSV file at the
   top of ``root`` that has ``valence`` and ``arousal`` columns. A file
   column (``midi``, ``path``, ``file``, ``filename`` or ``fname``, matched
   case-insensitively) names each MIDI file, relative to the CSV's folder or
   to ``root``, or by a file name that is unique under ``root``. The
   quadrant is given by the *signs* of valence and arousal (Q1 ++, Q2 -+,
   Q3 --, Q4 +-); a row with a zero value lies on an axis, has no quadrant and
   is skipped with a warning naming it. MIDI files the CSV does not list
   (VGMIDI's unlabelled pieces) are ignored. ``valence`` and ``arousal`` are
   kept in the manifest.
2. **The file name** (EMOPIA style): ``Q3_<id>_<n>.mid`` is in Q3.
3. **The parent folder**: ``Q2/piece.mid`` is in Q2.

A MIDI file with no label by any of these is an error naming it.

Labels are quadrants. With ``scheme=None`` or ``"4q"`` the label is the
quadrant; with a scheme whose classes map one-to-one to quadrants
(``"emotion"``: Q1 happiness, Q2 anger, Q3 sadness, Q4 relaxation) the class
of that quadrant; ``"ema"`` (two classes in Q1) is refused.

Rendering: every MIDI file is rendered by ``renderer(pm, sr=sr)`` (default
:func:`render_midi`), peak-normalised to 0.9 and written as 16-bit mono WAV
(22050 Hz by default), atomically, under ``out_dir``, mirroring the MIDI
tree: ``<out_dir>/<relative folder>/<stem>-<key>.wav``, where ``key`` hashes
the MIDI file's bytes, the rate and the renderer's name, so an edited MIDI
file is rendered again and an unchanged one is reused. ``out_dir`` must lie
outside ``root``: nothing is ever written next to the user's MIDI files. It
defaults to ``$MER_RENDER_DIR``, else ``~/.cache/mer/rendered/<name of
root>``. The manifest's root is ``out_dir``; its extra column ``midi`` holds
each source MIDI file and ``source_id`` its path relative to ``root``.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from mer_core.audio import DEFAULT_SR, write_wav
from mer_core.datasets.manifest import (
    DEFAULT_MAX_IMBALANCE,
    QUADRANTS,
    _abspath,
    _inside,
    _listing,
    _warn,
    make_manifest,
    quadrant_from_va,
    resolve_scheme,
    validate_manifest,
)
from mer_core.datasets.table import _column, read_table
from mer_core.errors import MerError, ParameterError
from mer_core.validation import check_positive_int

__all__ = [
    "MIDI_EXTENSIONS",
    "default_render_dir",
    "find_midi",
    "load_midi",
    "midi_labels",
    "render_midi",
]

MIDI_EXTENSIONS = (".mid", ".midi")
_FILE_COLUMNS = ("midi", "path", "file", "filename", "fname")
_QUADRANT_PREFIX = re.compile(r"^(Q[1-4])(?:_|$)", re.IGNORECASE)
_PEAK = 0.9


def default_render_dir(root=None) -> Path:
    """``$MER_RENDER_DIR`` if set, else ``~/.cache/mer/rendered[/<name of root>]``."""
    env = os.environ.get("MER_RENDER_DIR")
    base = Path(env) if env else Path.home() / ".cache" / "mer" / "rendered"
    return base / Path(root).absolute().name if root is not None else base


def find_midi(root) -> list[Path]:
    """All MIDI files under ``root`` (recursive, sorted, hidden files and folders skipped).

    Examples
    --------
    >>> import tempfile
    >>> find_midi(tempfile.mkdtemp())
    []
    """
    root = Path(root)
    if not root.is_dir():
        raise MerError(f"{root}: no such folder")
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and Path(name).suffix.lower() in MIDI_EXTENSIONS:
                found.append(Path(dirpath) / name)
    return found


#: Part of every rendered file's name: bump when the default rendering changes.
RENDER_VERSION = 2


def render_midi(pm, *, sr: int = DEFAULT_SR) -> np.ndarray:
    """Mono float32 audio of a :class:`pretty_midi.PrettyMIDI`, by the project's renderer.

    The General MIDI soundfont synthesiser of the generated corpus
    (:func:`mer_core.synth.render.render_pretty_midi`), so labelled MIDI and
    generated music sound alike; it falls back to the additive synthesiser when
    ``tinysoundfont`` is not installed.

    Examples
    --------
    >>> import pretty_midi
    >>> pm = pretty_midi.PrettyMIDI()
    >>> piano = pretty_midi.Instrument(program=0)
    >>> piano.notes.append(pretty_midi.Note(velocity=90, pitch=69, start=0.0, end=0.5))
    >>> pm.instruments.append(piano)
    >>> y = render_midi(pm, sr=8000)
    >>> y.dtype, y.ndim, bool(abs(y).max() > 0)
    (dtype('float32'), 1, True)
    """
    from mer_core.synth.render import render_pretty_midi

    return render_pretty_midi(pm, sr=int(sr))


def _scheme_labels(scheme) -> dict:
    """quadrant -> class of ``scheme`` (one-to-one), or an error."""
    if scheme is None:
        return {q: q for q in QUADRANTS}
    inverse = {}
    for label, q in scheme.quadrant.items():
        inverse.setdefault(q, []).append(label)
    if sorted(inverse) != list(QUADRANTS) or any(len(v) != 1 for v in inverse.values()):
        raise ParameterError(
            f"scheme {scheme.name!r} does not map one class to each quadrant "
            f"({scheme.quadrant}); MIDI quadrant labels cannot be translated to it"
        )
    return {q: v[0] for q, v in inverse.items()}


def _find_labels_csv(root: Path) -> Path | None:
    found = []
    for p in sorted(root.glob("*.csv")):
        if p.name.startswith("."):
            continue
        cols = {c.lower() for c in read_table(p).columns}
        if {"valence", "arousal"} <= cols:
            found.append(p)
    if len(found) > 1:
        raise MerError(
            f"{root}: several label CSVs with valence and arousal columns "
            f"({', '.join(p.name for p in found)}); pass labels_csv= to choose one"
        )
    return found[0] if found else None


def midi_labels(root, *, labels_csv=None) -> pd.DataFrame:
    """The labelled MIDI files of ``root`` (see the module docstring for the rules).

    Returns
    -------
    pandas.DataFrame
        Columns ``midi`` (absolute path), ``quadrant``, ``valence``, ``arousal``
        (``NaN`` without a CSV), sorted by path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("Q3_abc_0.mid", "q1_xyz_1.mid"):
    ...     _ = (d / name).write_bytes(b"")
    >>> midi_labels(d)["quadrant"].tolist()
    ['Q3', 'Q1']
    """
    root = Path(root)
    if not root.is_dir():
        raise MerError(f"{root}: no such folder")
    root = root.absolute()
    files = find_midi(root)
    csv = Path(labels_csv) if labels_csv is not None else _find_labels_csv(root)
    if csv is not None:
        rows = _labels_from_csv(csv, root, files)
    else:
        if not files:
            raise MerError(f"{root}: no MIDI files ({', '.join(MIDI_EXTENSIONS)}) found")
        rows, unlabelled = [], []
        for f in files:
            m = _QUADRANT_PREFIX.match(f.name)
            quadrant = m.group(1).upper() if m else f.parent.name.strip().upper()
            if quadrant not in QUADRANTS:
                unlabelled.append(str(f))
                continue
            rows.append({"midi": _abspath(f), "quadrant": quadrant})
        if unlabelled:
            raise MerError(
                f"{len(unlabelled)} MIDI file(s) have no quadrant label (name Q1_..Q4_ or a "
                f"Q1..Q4 folder, or a CSV with valence and arousal): {_listing(unlabelled)}"
            )
    table = pd.DataFrame(rows, columns=["midi", "quadrant", "valence", "arousal"])
    return table.sort_values("midi", kind="stable").reset_index(drop=True)


def _labels_from_csv(csv: Path, root: Path, files: list[Path]) -> list[dict]:
    table = read_table(csv)
    file_col = next((c for c in map(lambda n: _column(table, n), _FILE_COLUMNS) if c), None)
    v_col, a_col = _column(table, "valence"), _column(table, "arousal")
    if file_col is None or v_col is None or a_col is None:
        raise MerError(
            f"{csv}: a MIDI label CSV needs a file column ({', '.join(_FILE_COLUMNS)}) and "
            f"valence and arousal columns; found {', '.join(table.columns)}"
        )
    by_name = {}
    for f in files:
        by_name.setdefault(f.name, []).append(f)
    rows, axis, absent = [], [], []
    for line, row in enumerate(table.to_dict("records"), start=2):
        name = row[file_col]
        where = f"{csv.name} line {line}"
        if not name:
            raise MerError(f"{csv}: no MIDI file named on line {line}")
        path = _locate(name, csv.parent, root, by_name)
        if path is None:
            absent.append(f"{name} ({where})")
            continue
        try:
            v, a = float(row[v_col]), float(row[a_col])
        except ValueError:
            raise MerError(
                f"{csv} line {line}: valence/arousal of {name} are not numbers "
                f"({row[v_col]!r}, {row[a_col]!r})"
            ) from None
        quadrant = quadrant_from_va(v, a)
        if quadrant is None:
            axis.append(f"{name} ({where})")
            continue
        rows.append({"midi": path, "quadrant": quadrant, "valence": v, "arousal": a})
    if absent:
        raise MerError(f"{len(absent)} MIDI file(s) listed in {csv} not found: {_listing(absent)}")
    if axis:
        _warn(
            f"{len(axis)} MIDI file(s) in {csv} have zero (or non-finite) valence or arousal, "
            f"hence no quadrant, and were skipped: {_listing(axis)}"
        )
    if not rows:
        raise MerError(f"{csv}: no MIDI file with a quadrant label")
    return rows


def _locate(name: str, csv_dir: Path, root: Path, by_name: dict) -> str | None:
    for base in (csv_dir, root):
        p = Path(name) if Path(name).is_absolute() else base / name
        if p.is_file():
            return _abspath(p)
    same = by_name.get(Path(name).name, [])
    if len(same) > 1:
        raise MerError(
            f"MIDI file name {Path(name).name!r} is ambiguous under {root}: {_listing(same)}"
        )
    return _abspath(same[0]) if same else None


def _render_one(midi: str, out: str, sr: int, renderer) -> str | None:
    """Render one MIDI file to ``out``; an error message or None."""
    import pretty_midi

    try:
        pm = pretty_midi.PrettyMIDI(midi)
    except Exception as exc:  # mido/pretty_midi raise many types on bad files
        return f"{midi}: not a readable MIDI file ({type(exc).__name__}: {exc})"
    if not any(inst.notes for inst in pm.instruments):
        return f"{midi}: contains no notes"
    try:
        y = np.asarray(renderer(pm, sr=sr), dtype=np.float32)
    except Exception as exc:
        return f"{midi}: rendering failed ({type(exc).__name__}: {exc})"
    if y.ndim != 1 or y.size == 0 or not np.all(np.isfinite(y)):
        return f"{midi}: rendering produced no usable audio (shape {y.shape})"
    peak = float(np.max(np.abs(y)))
    if peak > 0:
        y = y * (_PEAK / peak)
    write_wav(out, y, sr=sr)
    return None


def load_midi(
    root,
    *,
    scheme=None,
    labels_csv=None,
    out_dir=None,
    sr: int = DEFAULT_SR,
    renderer=None,
    overwrite: bool = False,
    n_jobs: int = 1,
    progress: bool = False,
    allow_empty: bool = False,
    max_imbalance: float | None = DEFAULT_MAX_IMBALANCE,
    duplicates: str = "warn",
) -> pd.DataFrame:
    """Render a folder of labelled MIDI files to WAV and return their manifest.

    Parameters
    ----------
    root : str or Path
        Folder of MIDI files (only read).
    scheme : Scheme or str, optional
        ``None``/``"4q"`` (labels are quadrants) or ``"emotion"``.
    labels_csv : str or Path, optional
        VGMIDI-style CSV of valence and arousal per file (found in ``root``
        when there is exactly one).
    out_dir : str or Path, optional
        Where the WAV files go (outside ``root``); see :func:`default_render_dir`.
    sr : int
        Sampling rate of the WAV files (22050 Hz).
    renderer : callable, optional
        ``renderer(pm, sr=sr) -> 1-D array``; :func:`render_midi` by default.
    overwrite : bool
        Render again even when the WAV file is present.
    n_jobs : int
        Parallel rendering workers.
    progress : bool
        Show a progress bar.
    allow_empty, max_imbalance, duplicates
        Passed to :func:`~mer_core.datasets.manifest.validate_manifest`.

    Raises
    ------
    MerError
        No such folder, ``out_dir`` inside ``root``, an unlabelled MIDI file, or
        MIDI files that cannot be read or rendered (all named; the others are
        rendered and kept).
    """
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    scheme = resolve_scheme(scheme)
    to_label = _scheme_labels(None if scheme is None or scheme.name == "4q" else scheme)
    sr = check_positive_int(sr, "sr")
    root = Path(root)
    if not root.is_dir():
        raise MerError(f"{root}: no such folder")
    root = root.absolute()
    out_dir = Path(_abspath(default_render_dir(root) if out_dir is None else out_dir))
    if _inside(str(out_dir), _abspath(root)):
        raise MerError(
            f"{out_dir}: the rendered audio must go outside the MIDI folder {root} "
            "(nothing is written next to your MIDI files)"
        )
    renderer = render_midi if renderer is None else renderer
    renderer_name = (
        ".".join(str(getattr(renderer, a, "")) for a in ("__module__", "__qualname__")).strip(".")
        or type(renderer).__name__
    )
    labels = midi_labels(root, labels_csv=labels_csv)

    records, todo = [], []
    for row in labels.to_dict("records"):
        midi = Path(row["midi"])
        rel = midi.relative_to(root) if _inside(str(midi), str(root)) else Path(midi.name)
        key = hashlib.sha256()
        key.update(midi.read_bytes())
        key.update(f"|{sr}|{renderer_name}|v{RENDER_VERSION}".encode())
        out = out_dir / rel.parent / f"{rel.stem}-{key.hexdigest()[:12]}.wav"
        if overwrite or not out.is_file():
            todo.append((str(midi), str(out)))
        records.append(
            {
                "path": str(out),
                "label": to_label[row["quadrant"]],
                "quadrant": row["quadrant"],
                "valence": row["valence"],
                "arousal": row["arousal"],
                "source_id": rel.as_posix(),
                "midi": str(midi),
            }
        )
    jobs = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_render_one)(m, o, int(sr), renderer) for m, o in todo
    )
    failed = [
        e
        for e in tqdm(jobs, total=len(todo), desc="render", unit="file", disable=not progress)
        if e is not None
    ]
    if failed:
        raise MerError(f"{len(failed)} MIDI file(s) could not be rendered: {_listing(failed)}")
    manifest = make_manifest(
        records, root=out_dir, scheme=scheme if scheme is not None else "4q", source="midi"
    )
    return validate_manifest(
        manifest, allow_empty=allow_empty, max_imbalance=max_imbalance, duplicates=duplicates
    )
