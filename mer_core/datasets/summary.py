"""Audio checks and the dataset summary (headers only: fast, nothing decoded).

:func:`check_audio` tries :func:`mer_core.audio.audio_info` on every file of a
manifest and *reports* the unreadable ones instead of stopping at the first;
:func:`summarize` gives counts, durations, sample rates, channels and artists,
ready for the book (DataFrames) or for JSON (:func:`summary_to_dict`);
:func:`format_summary` is the text ``mer data info`` prints;
:func:`dataset_overview` sets summaries beside the paper's datasets and
:func:`example_players` embeds the first clip(s) of each class for listening
(chapter 3).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from mer_core.audio import audio_info, load_audio
from mer_core.datasets.manifest import class_counts
from mer_core.errors import MerError, ParameterError

__all__ = [
    "audio_table",
    "check_audio",
    "dataset_overview",
    "example_players",
    "format_summary",
    "summarize",
    "summary_json",
    "summary_to_dict",
]

_BAD_COLUMNS = ["path", "label", "error"]


def _require(manifest) -> None:
    if not isinstance(manifest, pd.DataFrame) or not {"path", "label"} <= set(manifest.columns):
        raise ParameterError("expected a manifest: a DataFrame with 'path' and 'label' columns")


def audio_table(manifest: pd.DataFrame, *, decode: bool = False) -> pd.DataFrame:
    """Header facts of every clip: ``samplerate``, ``channels``, ``duration``, ``error``.

    Parameters
    ----------
    manifest : pandas.DataFrame
    decode : bool
        Also decode each file (slow) to catch damage past the header.

    Returns
    -------
    pandas.DataFrame
        Same index as ``manifest``; ``error`` is ``None`` for good files, and
        the header columns are missing (``NaN``) for bad ones.
    """
    _require(manifest)
    rows = []
    for path in manifest["path"]:
        try:
            info = audio_info(path)
            if decode:
                load_audio(path, sr=info["samplerate"])
            rows.append({**info, "error": None})
        except MerError as exc:
            rows.append({"error": str(exc)})
        except OSError as exc:  # e.g. permission denied
            rows.append({"error": f"{path}: {exc.strerror or exc}"})
    cols = ["samplerate", "channels", "duration", "error"]
    return pd.DataFrame(rows, index=manifest.index).reindex(columns=cols)


def check_audio(manifest: pd.DataFrame, *, decode: bool = False) -> pd.DataFrame:
    """The manifest's unreadable audio files, each with the reason; never raises for them.

    Returns
    -------
    pandas.DataFrame
        Columns ``path``, ``label``, ``error``; empty when every file is readable.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from mer_core.audio import write_wav
    >>> from mer_core.datasets.manifest import make_manifest
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_wav(d / "ok.wav", np.zeros(800, np.float32), sr=8000)
    >>> _ = (d / "bad.wav").write_bytes(b"not audio")
    >>> m = make_manifest([{"path": str(d / n), "label": "Q1"} for n in ("ok.wav", "bad.wav")],
    ...                   root=d, scheme="4q")
    >>> report = check_audio(m)
    >>> len(report), pathlib.Path(report["path"].iloc[0]).name
    (1, 'bad.wav')
    """
    return _bad_files(manifest, audio_table(manifest, decode=decode))


def summarize(manifest: pd.DataFrame) -> dict:
    """Counts, durations, sample rates, channels and artists of a dataset.

    Returns
    -------
    dict
        ``root``, ``scheme``, ``n_clips``, ``n_readable``,
        ``total_duration_s``;
        ``per_class``: DataFrame indexed by label with ``clips``, ``artists``,
        ``duration_min``, ``duration_median``, ``duration_max`` (seconds);
        ``samplerates`` and ``channels``: ``{value: clips}``;
        ``n_artists`` (``None`` when no clip has an artist),
        ``clips_per_artist``: Series artist -> clips, most first (``None``
        likewise), ``clips_without_artist``;
        ``unreadable``: the :func:`check_audio` report.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from mer_core.audio import write_wav
    >>> from mer_core.datasets.manifest import make_manifest
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> rows = []
    >>> for i, (label, artist, sec) in enumerate([("Q1", "A", 1.0), ("Q1", "B", 2.0),
    ...                                          ("Q2", "A", 0.5)]):
    ...     _ = write_wav(d / f"{i}.wav", np.zeros(int(sec * 8000), np.float32), sr=8000)
    ...     rows.append({"path": str(d / f"{i}.wav"), "label": label, "artist": artist})
    >>> s = summarize(make_manifest(rows, root=d, scheme="4q"))
    >>> s["per_class"].loc["Q1", ["clips", "duration_max"]].to_dict()
    {'clips': 2.0, 'duration_max': 2.0}
    >>> s["n_artists"], s["clips_per_artist"].to_dict()
    (2, {'A': 2, 'B': 1})
    >>> s["samplerates"], s["channels"]
    ({8000: 3}, {1: 3})
    """
    _require(manifest)
    table = audio_table(manifest)
    ok = table["error"].isna()
    counts = class_counts(manifest)
    labels = manifest["label"]
    durations = table.loc[ok, "duration"].astype(float).groupby(labels[ok])
    artists = manifest["artist"] if "artist" in manifest else pd.Series(np.nan, manifest.index)
    per_class = pd.DataFrame(
        {
            "clips": counts,
            "artists": artists.groupby(labels).nunique().reindex(counts.index, fill_value=0),
            "duration_min": durations.min().reindex(counts.index),
            "duration_median": durations.median().reindex(counts.index),
            "duration_max": durations.max().reindex(counts.index),
        }
    )
    per_class.index.name = "label"
    per_class["artists"] = per_class["artists"].astype(int)
    has_artist = artists.notna()
    clips_per_artist = None
    if has_artist.any():
        clips_per_artist = artists[has_artist].value_counts()
        clips_per_artist.index.name = "artist"
        clips_per_artist = clips_per_artist.rename("clips")

    def tally(col):
        values = table.loc[ok, col].astype(int).value_counts().sort_index()
        return {int(k): int(v) for k, v in values.items()}

    return {
        "root": manifest.attrs.get("root"),
        "scheme": manifest.attrs.get("scheme"),
        "n_clips": int(len(manifest)),
        "n_readable": int(ok.sum()),
        "total_duration_s": float(table.loc[ok, "duration"].astype(float).sum()),
        "per_class": per_class,
        "samplerates": tally("samplerate"),
        "channels": tally("channels"),
        "n_artists": None if clips_per_artist is None else int(len(clips_per_artist)),
        "clips_per_artist": clips_per_artist,
        "clips_without_artist": int((~has_artist).sum()),
        "unreadable": _bad_files(manifest, table),
    }


def _bad_files(manifest: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The :func:`check_audio` report from an :func:`audio_table` already computed."""
    bad = table["error"].notna()
    return pd.DataFrame(
        {
            "path": manifest.loc[bad, "path"].to_numpy(),
            "label": manifest.loc[bad, "label"].to_numpy(),
            "error": table.loc[bad, "error"].to_numpy(),
        },
        columns=_BAD_COLUMNS,
    )


def _round(x, digits=3):
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else round(float(x), digits)


def summary_to_dict(summary: dict) -> dict:
    """A JSON-serialisable version of :func:`summarize`'s result."""
    per_class = {
        str(label): {
            "clips": int(row["clips"]),
            "artists": int(row["artists"]),
            "duration_min": _round(row["duration_min"]),
            "duration_median": _round(row["duration_median"]),
            "duration_max": _round(row["duration_max"]),
        }
        for label, row in summary["per_class"].iterrows()
    }
    cpa = summary["clips_per_artist"]
    out = {k: summary[k] for k in ("root", "scheme", "n_clips", "n_readable", "n_artists")}
    out.update(
        total_duration_s=_round(summary["total_duration_s"], 1),
        per_class=per_class,
        samplerates={str(k): v for k, v in summary["samplerates"].items()},
        channels={str(k): v for k, v in summary["channels"].items()},
        clips_without_artist=summary["clips_without_artist"],
        clips_per_artist=None
        if cpa is None
        else {
            "min": int(cpa.min()),
            "median": float(cpa.median()),
            "max": int(cpa.max()),
            "top": {str(k): int(v) for k, v in cpa.head(10).items()},
        },
        unreadable=summary["unreadable"].to_dict("records"),
    )
    return out


def format_summary(summary: dict) -> str:
    """The summary as readable text (what ``mer data info`` prints)."""
    d = summary_to_dict(summary)
    lines = [
        f"dataset: {d['root']}",
        f"scheme: {d['scheme'] or '(labels from the data)'}",
        f"clips: {d['n_clips']} ({d['n_readable']} readable), "
        f"{d['total_duration_s'] / 3600:.2f} h in all",
        "",
        summary["per_class"].round(2).to_string(),
        "",
        "sample rates: " + ", ".join(f"{k} Hz: {v}" for k, v in d["samplerates"].items()),
        "channels: " + ", ".join(f"{k}: {v}" for k, v in d["channels"].items()),
    ]
    cpa = d["clips_per_artist"]
    if cpa is None:
        lines.append("artists: unknown")
    else:
        top = ", ".join(f"{k} ({v})" for k, v in list(cpa["top"].items())[:5])
        lines.append(
            f"artists: {d['n_artists']} ({d['clips_without_artist']} clips without one); "
            f"clips per artist min {cpa['min']}, median {cpa['median']:g}, max {cpa['max']}; "
            f"most: {top}"
        )
    if d["unreadable"]:
        lines.append(f"unreadable files: {len(d['unreadable'])}")
        lines.extend(f"  {item['error']}" for item in d["unreadable"])
    else:
        lines.append("unreadable files: none")
    return "\n".join(lines)


def summary_json(summary: dict) -> str:
    """:func:`summary_to_dict` as indented JSON text."""
    return json.dumps(summary_to_dict(summary), indent=2, sort_keys=False)


def dataset_overview(summaries: dict) -> pd.DataFrame:
    """The corpora of :func:`mer_core.datasets.summarize` beside the paper's datasets.

    Parameters
    ----------
    summaries : dict
        Scheme -> :func:`~mer_core.datasets.summarize` result.

    Returns
    -------
    pandas.DataFrame
        Rows: schemes; the paper's clip count and window, and the corpus's
        clips, hours, median clip length and artists.

    Examples
    --------
    >>> per_class = pd.DataFrame({"duration_median": [5.0, 4.0]}, index=["Q1", "Q2"])
    >>> s = {"n_clips": 12, "total_duration_s": 54.0, "per_class": per_class, "n_artists": 3}
    >>> dataset_overview({"4q": s}).loc["4Q", ["paper: clips", "here: clips"]].tolist()
    [1471, 12]
    """
    from mer_core.names import SCHEME_TITLES
    from mer_core.schemes import get_scheme

    rows = {}
    for scheme, s in summaries.items():
        sch = get_scheme(scheme)
        per_class = s["per_class"]
        rows[SCHEME_TITLES.get(scheme, scheme)] = {
            "classes": ", ".join(sch.labels),
            "paper: clips": sch.paper_size,
            "paper: window (s)": sch.duration,
            "here: clips": s["n_clips"],
            "here: hours": round(s["total_duration_s"] / 3600, 2),
            "here: median length (s)": float(per_class["duration_median"].median()),
            "here: artists": s["n_artists"] if s["n_artists"] is not None else "–",
        }
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "dataset"
    return df


def example_players(manifest: pd.DataFrame, *, seconds: float = 8.0, per_class: int = 1):
    """An HTML table with an audio player for the first clip(s) of every class.

    Each clip is read (mono, its first ``seconds``) and embedded once, as a
    16-bit WAV at its own level (not normalised), so an executed notebook
    plays without the data.

    Returns
    -------
    IPython.display.HTML

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, pandas as pd
    >>> from mer_core.audio import write_wav
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> paths = [write_wav(d / f"{q}.wav", np.zeros(8000, np.float32), sr=8000) for q in "ab"]
    >>> html = example_players(pd.DataFrame({"path": paths, "label": ["Q1", "Q2"]}), seconds=0.5)
    >>> html.data.count("<audio"), "<b>Q2</b>" in html.data
    (2, True)
    """
    from IPython.display import HTML, Audio

    if not math.isfinite(seconds) or seconds <= 0:
        raise ParameterError(f"seconds must be positive, got {seconds!r}")
    cells = []
    for label, rows in manifest.groupby("label", sort=False):
        for _, row in rows.head(per_class).iterrows():
            sr = int(audio_info(row["path"])["samplerate"])
            y = load_audio(row["path"], sr=sr, duration=seconds, pad=False)
            # not normalised: the clips keep their relative loudness (an emotion cue)
            player = Audio(np.clip(y, -1.0, 1.0), rate=sr, normalize=False)._repr_html_()
            artist = row.get("artist")
            who = "" if not isinstance(artist, str) else f" — {artist}"
            cells.append(
                f"<tr><td><b>{label}</b></td><td>{Path(row['path']).name}{who}</td>"
                f"<td>{player}</td></tr>"
            )
    head = f"<tr><th>class</th><th>clip</th><th>first {seconds:g} s</th></tr>"
    return HTML(f"<table>{head}{''.join(cells)}</table>")
