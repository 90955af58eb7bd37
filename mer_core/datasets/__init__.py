"""Real-data loaders: every dataset becomes one tidy manifest (a pandas DataFrame).

* :mod:`~mer_core.datasets.manifest`: the manifest format (:data:`COLUMNS`),
  :func:`validate_manifest`, :func:`find_duplicates`, :class:`DatasetWarning`;
* :mod:`~mer_core.datasets.folder`: :func:`load_folder`, one folder per class;
* :mod:`~mer_core.datasets.table`: :func:`load_csv`, a CSV manifest;
* :mod:`~mer_core.datasets.fourq`: :func:`load_4q`, the 4Q release layout with
  artists, titles and mood tags;
* :mod:`~mer_core.datasets.midi`: :func:`load_midi`, labelled MIDI files
  (EMOPIA names, VGMIDI valence/arousal CSV) rendered to WAV;
* :mod:`~mer_core.datasets.dispatch`: :func:`load_dataset`, choosing the
  loader from what the source is;
* :mod:`~mer_core.datasets.summary`: :func:`check_audio`, :func:`summarize`,
  and for the book :func:`~mer_core.datasets.summary.dataset_overview` and
  :func:`~mer_core.datasets.summary.example_players`;
* :mod:`~mer_core.datasets.fetch`: :func:`fetch_4q`, the resumable, verified
  download of the 4Q release;
* :mod:`~mer_core.datasets.cli`: ``mer data info`` and ``mer data fetch``.

User data is only ever read: loaders write nothing (except :func:`load_midi`,
which renders into its own output folder, never next to the MIDI files).

Examples
--------
>>> from mer_core.datasets import COLUMNS
>>> COLUMNS[:3]
('path', 'label', 'artist')
"""

from mer_core.datasets.dispatch import KINDS, detect_source, load_dataset
from mer_core.datasets.fetch import OFFICIAL_COUNTS, OFFICIAL_URL, check_counts, fetch_4q
from mer_core.datasets.folder import load_folder
from mer_core.datasets.fourq import is_4q_root, load_4q
from mer_core.datasets.manifest import (
    COLUMNS,
    DatasetWarning,
    class_counts,
    find_duplicates,
    make_manifest,
    validate_manifest,
)
from mer_core.datasets.midi import load_midi, render_midi
from mer_core.datasets.summary import check_audio, format_summary, summarize, summary_to_dict
from mer_core.datasets.table import load_csv

__all__ = [
    "COLUMNS",
    "KINDS",
    "OFFICIAL_COUNTS",
    "OFFICIAL_URL",
    "DatasetWarning",
    "check_audio",
    "check_counts",
    "class_counts",
    "detect_source",
    "fetch_4q",
    "find_duplicates",
    "format_summary",
    "is_4q_root",
    "load_4q",
    "load_csv",
    "load_dataset",
    "load_folder",
    "load_midi",
    "make_manifest",
    "render_midi",
    "summarize",
    "summary_to_dict",
    "validate_manifest",
]
