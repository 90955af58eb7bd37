"""The one feature container: :class:`ClipFeatures`.

:func:`~mer_core.extract.extract_features` returns it, and every classifier of
:mod:`mer_core.models` takes it as ``X`` (``model.fit(extract_features(paths), y)``).
It holds per-clip arrays aligned on their first axis (one row per clip):

=================  ==========================  ======================================
field              shape                       used by
=================  ==========================  ======================================
``log_mel``        ``(n, n_mels, n_frames)``   CNN, CNN-SVM (the CNN's input map)
``mfcc``           ``(n, n_mfcc, n_frames)``   LSTM, SVM (MFCC statistics)
``lowlevel``       ``(n, d_lowlevel)``         SVM, CNN-SVM (screened inside ``fit``)
``chords``         ``(n, d_chords)``           CNN-SVM (and SVM if asked)
``musical``        ``(n, d_musical)``          SVM, CNN-SVM (the book's recipe)
``text``           ``n`` strings               CNN-SVM with ``use_text=True``
``valid_frames``   ``(n,)`` integers           networks and texture statistics: frames
                                               of real audio before the zero-fill
=================  ==========================  ======================================

Any field may be missing (``None``) when no model asked for needs it, and
``lowlevel_names`` / ``chord_names`` name the vector columns (the ``musical``
columns are always :func:`~mer_core.features.musical.musical_names`). Features that
came from audio also carry where they came from:

=================  ======================================================================
provenance         meaning
=================  ======================================================================
``config``         the :class:`~mer_core.extract.FeatureConfig` they were extracted with
                   (a model fitted on them keeps it as ``feature_config_``, and a saved
                   model re-applies it to new audio)
``paths``          the file of each clip, in input order (failed files left out)
``index``          position of each clip's file in the input list
``digests``        SHA-256 of each file's bytes (the cache key and data fingerprint)
``n_valid``        samples of real audio per clip (``valid_frames`` follows from it)
``failures``       ``{"path", "error"}`` of each file that could not be read
``n_computed``     (clip, group) results computed rather than read from the cache
=================  ======================================================================

``groups`` (one string per clip, usually the artist; set by :meth:`ClipFeatures.with_groups`)
is not a feature: it tells the models which clips belong together, so that the
inner folds a model cuts inside ``fit`` (to choose ``C``, to cross-fit its
networks) keep each group's clips on one side, as the outer artist-grouped folds do.

``ClipFeatures`` behaves like a one-dimensional array of clips for
scikit-learn: ``len(X)``, ``X.shape == (n,)`` and ``X[idx]`` (an index array,
a boolean mask or a slice) give a new ``ClipFeatures`` holding those clips,
provenance included. This is what :func:`sklearn.model_selection.cross_val_score`,
``cross_validate`` and ``cross_val_predict`` use to cut folds, so they work
unchanged; :func:`subset` does the same by hand. A ``dict`` of the fields is
converted by :func:`as_clip_features`.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from mer_core.errors import MerError

__all__ = ["ARRAY_FIELDS", "ClipFeatures", "as_clip_features", "subset"]

#: Array fields and their number of dimensions (clip axis included).
ARRAY_FIELDS = {"log_mel": 3, "mfcc": 3, "lowlevel": 2, "chords": 2, "musical": 2}
_NAME_FIELDS = {"lowlevel_names": "lowlevel", "chord_names": "chords"}
#: Fields a ``dict`` given as ``X`` may hold (the features, not their provenance).
_DICT_FIELDS = (*ARRAY_FIELDS, "text", "valid_frames", *_NAME_FIELDS)
#: Per-clip provenance, cut with the clips.
_CLIP_PROVENANCE = ("paths", "index", "digests", "n_valid", "groups")


def _check_array(name: str, value):
    """``value`` as an array of ``ARRAY_FIELDS[name]`` dimensions, or, for clips of
    different lengths (extracted without a fixed duration), a list of per-clip maps."""
    ndim = ARRAY_FIELDS[name]
    if isinstance(value, list | tuple) and value and np.ndim(value[0]) == ndim - 1:
        clips = [np.asarray(v) for v in value]
        if len({c.shape for c in clips}) > 1:
            for c in clips:
                _check_values(name, c[None])
            return clips
    value = np.asarray(value)
    _check_values(name, value)
    return value


def _check_values(name: str, value: np.ndarray) -> None:
    if value.dtype.kind not in "fiu":
        raise MerError(f"{name} must be a numeric array, got dtype {value.dtype}")
    if value.ndim != ARRAY_FIELDS[name]:
        raise MerError(
            f"{name} must have {ARRAY_FIELDS[name]} dimensions (clips first), "
            f"got shape {value.shape}"
        )
    if value.dtype.kind == "f" and not np.isfinite(value).all():
        bad = np.flatnonzero(~np.isfinite(value.reshape(len(value), -1)).all(axis=1))
        raise MerError(f"{name} has NaN or infinite values (clips {bad[:5].tolist()})")


def _per_clip(name: str, value, n: int):
    if value is None:
        return None
    if isinstance(value, str) or len(value) != n:
        got = "a string" if isinstance(value, str) else f"{len(value)} entries"
        raise MerError(f"{name} must have one entry per clip ({n}), got {got}")
    return np.asarray(value) if name in ("index", "n_valid") else [str(v) for v in value]


class ClipFeatures:
    """Per-clip features of ``n`` clips, aligned on the first axis, with their provenance.

    Parameters
    ----------
    log_mel : np.ndarray, shape (n, n_mels, n_frames), optional
        Log-Mel spectrograms in dB (float16 as extracted is fine; it is
        converted batch by batch).
    mfcc : np.ndarray, shape (n, n_mfcc, n_frames), optional
        MFCC sequences.
    lowlevel : np.ndarray, shape (n, d_lowlevel), optional
        Low-level descriptor vectors (the screening step selects from them).
    chords : np.ndarray, shape (n, d_chords), optional
        Chord vectors.
    musical : np.ndarray, shape (n, d_musical), optional
        Musical descriptor vectors (:mod:`mer_core.features.musical`).
    text : sequence of str, optional
        One text per clip (tags or lyrics; ``""`` where there is none).
    lowlevel_names, chord_names : sequence of str, optional
        Names of the ``lowlevel`` / ``chords`` columns (kept for reports and
        saved models; generic names are used when absent).
    valid_frames : sequence of int, optional
        Frames of real audio at the start of each clip's ``log_mel`` / ``mfcc``
        (the rest is the zero-fill of clips shorter than the analysis window).
        Networks crop and average inside these frames only; when absent (and
        not given by ``n_valid``) every frame counts as real.
    config : FeatureConfig, optional
        The front end the arrays were extracted with.
    paths, digests : sequence of str, optional
        Each clip's file and the SHA-256 of its bytes.
    index : sequence of int, optional
        Position of each clip's file in the list extraction was given.
    n_valid : sequence of int, optional
        Samples of real audio per clip; with ``config`` and a ``log_mel`` or
        ``mfcc`` field it gives ``valid_frames`` (``1 + n_valid // hop_length``).
    groups : sequence of str, optional
        The group of each clip (its artist): inner folds inside a model's
        ``fit`` never split a group
        (:func:`~mer_core.evaluation.protocol.inner_folds`).
    failures : list of dict, optional
        ``{"path", "error"}`` of each file extraction left out.
    n_computed : int
        (clip, group) results computed rather than read from the cache.

    Raises
    ------
    MerError
        When no field is given, a field has the wrong number of dimensions or
        non-finite values, or the fields disagree on the number of clips.

    Examples
    --------
    >>> import numpy as np
    >>> X = ClipFeatures(log_mel=np.zeros((5, 16, 32)), lowlevel=np.ones((5, 3)))
    >>> len(X), X.shape, X.fields()
    (5, (5,), ('log_mel', 'lowlevel'))
    >>> X[[0, 2]].lowlevel.shape
    (2, 3)
    """

    def __init__(
        self,
        *,
        log_mel=None,
        mfcc=None,
        lowlevel=None,
        chords=None,
        musical=None,
        text: Sequence[str] | None = None,
        lowlevel_names: Sequence[str] | None = None,
        chord_names: Sequence[str] | None = None,
        valid_frames: Sequence[int] | None = None,
        config=None,
        paths: Sequence[str] | None = None,
        index: Sequence[int] | None = None,
        digests: Sequence[str] | None = None,
        n_valid: Sequence[int] | None = None,
        groups: Sequence[str] | None = None,
        failures: list | None = None,
        n_computed: int = 0,
    ):
        arrays = {
            "log_mel": log_mel,
            "mfcc": mfcc,
            "lowlevel": lowlevel,
            "chords": chords,
            "musical": musical,
        }
        n = None
        for name, value in arrays.items():
            if value is None:
                continue
            value = _check_array(name, value)
            if n is not None and len(value) != n:
                raise MerError(f"{name} has {len(value)} clips, other fields have {n}")
            n = len(value)
            arrays[name] = value
        if text is not None:
            if isinstance(text, str):
                raise MerError("text must be a sequence of strings (one per clip), not a string")
            text = ["" if t is None else t for t in text]
            if not all(isinstance(t, str) for t in text):
                raise MerError("text must hold strings (one per clip; '' where there is none)")
            if n is not None and len(text) != n:
                raise MerError(f"text has {len(text)} entries, other fields have {n} clips")
            n = len(text)
        if n is None:
            if paths is None:
                raise MerError(
                    "ClipFeatures needs at least one of log_mel, mfcc, lowlevel, chords, "
                    "musical, text"
                )
            n = len(paths)  # an extraction in which no file succeeded
        self.log_mel = arrays["log_mel"]
        self.mfcc = arrays["mfcc"]
        self.lowlevel = arrays["lowlevel"]
        self.chords = arrays["chords"]
        self.musical = arrays["musical"]
        self.text = text
        self._n = n
        self.config = config
        per_clip = (paths, index, digests, n_valid, groups)
        for name, value in zip(_CLIP_PROVENANCE, per_clip, strict=True):
            setattr(self, name, _per_clip(name, value, n))
        self.failures = list(failures or [])
        self.n_computed = int(n_computed)
        if valid_frames is None and n_valid is not None and config is not None:
            valid_frames = self._real_frames_of_n_valid()
        if valid_frames is not None:
            valid_frames = np.asarray(valid_frames)
            if valid_frames.shape != (n,) or valid_frames.dtype.kind not in "iu":
                raise MerError(
                    f"valid_frames must be {n} integers (one per clip), got "
                    f"shape {valid_frames.shape} dtype {valid_frames.dtype}"
                )
            if (valid_frames < 1).any():
                raise MerError("valid_frames must be >= 1 for every clip")
            valid_frames = valid_frames.astype(np.int64)
        self.valid_frames = valid_frames
        for attr, field in _NAME_FIELDS.items():
            names = locals()[attr]
            if names is not None:
                names = [str(s) for s in names]
                arr = arrays[field]
                if arr is None or len(names) != arr.shape[1]:
                    width = None if arr is None else arr.shape[1]
                    raise MerError(f"{attr} has {len(names)} names for {width} {field} columns")
            setattr(self, attr, names)

    def _real_frames_of_n_valid(self) -> np.ndarray | None:
        """Frames of real audio of each clip's ``n_valid`` samples at the configuration's
        hop (capped at its map's length); None without a map."""
        maps = self.log_mel if self.log_mel is not None else self.mfcc
        if maps is None:
            return None
        n_frames = np.array([m.shape[-1] for m in maps], dtype=np.int64)
        return np.clip(1 + self.n_valid.astype(np.int64) // self.config.hop_length, 1, n_frames)

    # -- array-like behaviour (what scikit-learn's fold splitting relies on)

    def __len__(self) -> int:
        return self._n

    @property
    def shape(self) -> tuple[int]:
        """``(n_clips,)``: one "sample" per clip."""
        return (self._n,)

    @property
    def ndim(self) -> int:
        return 1

    def __getitem__(self, key) -> ClipFeatures:
        """The clips selected by ``key`` (int, slice, index array or boolean mask)."""
        if isinstance(key, tuple):  # sklearn indexes as X[idx, ...]
            rest = key[1:]
            if not all(k is Ellipsis or k == slice(None) for k in rest):
                raise MerError("ClipFeatures can only be indexed along clips")
            key = key[0]
        if isinstance(key, numbers.Integral):
            if not -self._n <= key < self._n:
                raise IndexError(f"clip {key} out of range for {self._n} clips")
            key = [int(key) % self._n]
        if not isinstance(key, slice):
            key = np.asarray(key)
            if key.dtype == bool:
                if key.shape != (self._n,):
                    raise MerError(f"boolean mask of shape {key.shape} for {self._n} clips")
                key = np.flatnonzero(key)
            elif key.size == 0:
                key = key.astype(int)
            elif key.dtype.kind not in "iu":
                raise MerError(f"clips are selected by integers or a mask, got {key.dtype}")
        positions = np.arange(self._n)[key]
        # the fields were validated when self was made: copy the rows without re-checking
        out = object.__new__(ClipFeatures)
        out.__dict__.update(self.__dict__)
        for f in (*ARRAY_FIELDS, "valid_frames", "text", *_CLIP_PROVENANCE):
            value = getattr(self, f)
            if isinstance(value, list):
                value = [value[i] for i in positions]
            elif value is not None:
                value = value[positions]
            setattr(out, f, value)
        out._n = len(positions)
        return out

    # -- helpers

    def fields(self) -> tuple[str, ...]:
        """Names of the fields present, in the table's order."""
        present = [f for f in ARRAY_FIELDS if getattr(self, f) is not None]
        return tuple(present + (["text"] if self.text is not None else []))

    def require(self, field: str, who: str) -> np.ndarray:
        """The field's array, or a clear :class:`MerError` naming the model that needs it."""
        value = getattr(self, field)
        if value is None:
            raise MerError(f"{who} needs the {field!r} features, which X does not have")
        if isinstance(value, list):
            raise MerError(
                f"{who} needs clips of equal length, but the {field!r} maps differ in length; "
                "extract with a fixed duration"
            )
        return value

    def real_frames(self, n_frames: int) -> np.ndarray:
        """Frames of real audio per clip, capped at ``n_frames`` (all when unknown)."""
        if self.valid_frames is None:
            return np.full(self._n, int(n_frames), dtype=np.int64)
        return np.minimum(self.valid_frames, int(n_frames))

    def column_names(self, field: str) -> list[str]:
        """Names of the ``lowlevel``, ``chords`` or ``musical`` columns (generic when not
        given)."""
        arr = self.require(field, "column_names")
        if field == "musical":
            from mer_core.features.musical import musical_names

            names = musical_names()
            if len(names) == arr.shape[1]:
                return names
            return [f"{field}_{i:03d}" for i in range(arr.shape[1])]
        names = self.lowlevel_names if field == "lowlevel" else self.chord_names
        return (
            list(names) if names is not None else [f"{field}_{i:03d}" for i in range(arr.shape[1])]
        )

    def with_text(self, text: Sequence[str]) -> ClipFeatures:
        """The same clips with one text per clip (tags or lyrics; ``""`` where none).

        Examples
        --------
        >>> import numpy as np
        >>> ClipFeatures(chords=np.zeros((2, 3))).with_text(["calm", ""]).fields()
        ('chords', 'text')
        """
        out = self[:]
        out.text = ClipFeatures(text=text).text
        if len(out.text) != self._n:
            raise MerError(f"text has {len(out.text)} entries for {self._n} clips")
        return out

    def with_groups(self, groups: Sequence[str]) -> ClipFeatures:
        """The same clips with the group (artist) of each clip, kept together by inner folds.

        Examples
        --------
        >>> import numpy as np
        >>> X = ClipFeatures(chords=np.zeros((3, 2))).with_groups(["a", "b", "a"])
        >>> X[[2, 1]].groups
        ['a', 'b']
        """
        out = self[:]
        out.groups = _per_clip("groups", groups, self._n)
        return out

    def fingerprint(self) -> str:
        """One digest of the files' contents and the feature configuration (for run records).

        Independent of the order of the clips.
        """
        from mer_core.io import json_digest

        if self.digests is None or self.config is None:
            raise MerError("these features carry no file digests and configuration to fingerprint")
        return json_digest({"files": sorted(self.digests), "config": self.config.to_dict()})

    def __repr__(self) -> str:
        parts = [f"n={self._n}"]
        for f in ARRAY_FIELDS:
            arr = getattr(self, f)
            if isinstance(arr, list):
                parts.append(f"{f}=({arr[0].shape[0]}, ...) ragged")
            elif arr is not None:
                parts.append(f"{f}={tuple(arr.shape[1:])} {arr.dtype}")
        if self.text is not None:
            parts.append("text")
        if self.failures:
            parts.append(f"{len(self.failures)} failed")
        return f"ClipFeatures({', '.join(parts)})"


def as_clip_features(X) -> ClipFeatures:
    """``X`` as :class:`ClipFeatures` (it is returned as is, a ``dict`` is converted).

    Examples
    --------
    >>> import numpy as np
    >>> as_clip_features({"chords": np.zeros((3, 4))})
    ClipFeatures(n=3, chords=(4,) float64)
    """
    if isinstance(X, ClipFeatures):
        return X
    if isinstance(X, dict):
        unknown = set(X) - set(_DICT_FIELDS)
        if unknown:
            raise MerError(
                f"unknown feature fields {sorted(unknown)}; expected {sorted(_DICT_FIELDS)}"
            )
        return ClipFeatures(**X)
    raise MerError(
        f"X must be a ClipFeatures (what extract_features returns) or a dict of feature "
        f"arrays, got {type(X).__name__}"
    )


def subset(X, idx) -> ClipFeatures:
    """The clips ``idx`` (indices or a boolean mask) of ``X``, as ``ClipFeatures``.

    Examples
    --------
    >>> import numpy as np
    >>> X = {"lowlevel": np.arange(8.0).reshape(4, 2)}
    >>> subset(X, np.array([3, 1])).lowlevel
    array([[6., 7.],
           [2., 3.]])
    """
    return as_clip_features(X)[idx]
