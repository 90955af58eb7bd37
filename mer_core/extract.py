"""Dataset-scale feature extraction with an on-disk cache.

One call turns a list of audio files into every feature the paper uses:

* ``spectral``: the pre-emphasised clip's log-Mel spectrogram (the CNN's input,
  stored as float16) and its MFCC sequence (the LSTM's input);
* ``lowlevel``: the named low-level descriptor vector (MFCC statistics
  included) that the screening step selects from;
* ``chords``: the chord vector. It shares the pre-emphasised STFT, with the
  pre-emphasis response divided back out of the power spectrum before chroma
  (pre-emphasis would otherwise weaken the bass notes chord roots rest on);
* ``musical``: the book's musical descriptors
  (:mod:`mer_core.features.musical`: articulation, rhythm, dynamics, tonality,
  loudness modulation) of the *plain* signal, which takes a second STFT when
  the front end pre-emphasises.

Each clip is decoded once, and one STFT is shared by the paper's features. Work runs
in parallel over clips (joblib, ``n_jobs``, or a Dask cluster, ``scheduler``;
see :mod:`mer_core.cluster`) with a tqdm progress bar.

**Cache.** Every (clip, feature group) result is stored as
``<cache_dir>/<group>/<key[:2]>/<key>.npz``, where ``key`` hashes the file's
*content* (SHA-256 of its bytes, so renaming or moving a file keeps its cache,
and editing it invalidates it), the parameters that group depends on, and the
group's code version. Changing, say, ``n_mfcc`` recomputes ``spectral`` and
``lowlevel`` but reuses ``chords``. Entries are written atomically and hold
their own key; an entry that fails to load, whose stored key differs, or whose
arrays are not exactly what the group computes (names, dtypes, shapes for the
configuration, finite values) is recomputed, never trusted.

**Only what is asked.** ``groups`` names the feature groups to compute;
:func:`groups_for` gives the groups a model's input fields need (a CNN needs
``spectral`` only), so predicting with a model computes nothing it does not read.

**Failures.** A bad file does not stop the run: it is collected into
``ClipFeatures.failures`` (file and message) and the rest finish; ``strict=True``
stops at the first one with a :class:`~mer_core.errors.MerError` naming it.

**One read per file.** A file is read once: its bytes are hashed for the cache
key and, when a group must be computed, decoded from memory (files larger than
:data:`READ_ONCE_MAX_BYTES` are hashed and decoded from disk, so read twice).

The result is a :class:`~mer_core.features.container.ClipFeatures`, the
container every model takes: its arrays, the configuration, each clip's file
and content digest, real-audio length and the failures travel together.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mer_core.audio import DEFAULT_SR, check_duration, fix_length, load_audio
from mer_core.errors import AudioError, MerError, ParameterError
from mer_core.features.container import ClipFeatures
from mer_core.io import atomic_path, file_digest, json_digest, not_regular_file
from mer_core.validation import check_n_jobs, check_number, check_positive_int

__all__ = [
    "GROUPS",
    "GROUP_FIELDS",
    "FeatureConfig",
    "default_cache_dir",
    "extract_features",
    "groups_for",
    "signal_features",
]

GROUPS = ("spectral", "lowlevel", "chords", "musical")
#: The :class:`~mer_core.features.container.ClipFeatures` fields each group fills.
GROUP_FIELDS = {
    "spectral": ("log_mel", "mfcc"),
    "lowlevel": ("lowlevel",),
    "chords": ("chords",),
    "musical": ("musical",),
}
#: Files up to this size are read once (hashed and decoded from memory).
READ_ONCE_MAX_BYTES = 256 * 2**20

# Bump a group's version when its code changes what it computes.
GROUP_VERSIONS = {"spectral": 1, "lowlevel": 1, "chords": 3, "musical": 1}


@dataclass(frozen=True)
class FeatureConfig:
    """Every parameter of the front end, with the project's documented defaults.

    Attributes
    ----------
    sr : int
        Sampling rate after resampling (22050 Hz).
    duration : float or None
        Seconds kept per clip, zero-filled when shorter (40 s for Emotion and
        4Q, 50 s for EMA); None keeps whole files (no zero-fill).
    preemphasis : float
        Pre-emphasis factor mu of eqs. (2)-(3); 0 disables it (an ablation).
    n_fft, hop_length : int
        STFT frame and hop in samples (93 ms and 23 ms at 22.05 kHz).
    n_mels : int
        Mel filters M (also the log-Mel image height).
    n_mfcc : int
        MFCC order L.
    """

    sr: int = DEFAULT_SR
    duration: float | None = 40.0
    preemphasis: float = 0.97
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 128
    n_mfcc: int = 20

    def __post_init__(self):
        for name in ("sr", "n_fft", "hop_length", "n_mels", "n_mfcc"):
            # stored as a plain int (a NumPy integer would not serialise to JSON)
            object.__setattr__(self, name, check_positive_int(getattr(self, name), name))
        check_duration(self.duration)
        check_number(self.preemphasis, "preemphasis", low=0, high=1, closed="left")
        if self.n_mfcc > self.n_mels:
            raise ParameterError(f"n_mfcc={self.n_mfcc} cannot exceed n_mels={self.n_mels}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def group_params(self, group: str) -> dict:
        """The parameters (and code version) a feature group depends on."""
        p = self.to_dict()
        if group == "spectral":
            keys = ("sr", "duration", "preemphasis", "n_fft", "hop_length", "n_mels", "n_mfcc")
        elif group == "lowlevel":
            keys = ("sr", "duration", "preemphasis", "n_fft", "hop_length", "n_mels", "n_mfcc")
        elif group == "chords":
            keys = ("sr", "duration", "preemphasis", "n_fft", "hop_length")
        elif group == "musical":  # of the plain signal: pre-emphasis does not matter
            keys = ("sr", "duration", "n_fft", "hop_length", "n_mels")
        else:
            raise ParameterError(f"unknown feature group {group!r}; expected one of {GROUPS}")
        return {"group": group, "version": GROUP_VERSIONS[group], **{k: p[k] for k in keys}}


def default_cache_dir() -> Path:
    """``$MER_CACHE_DIR`` if set, else ``~/.cache/mer/features``."""
    env = os.environ.get("MER_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "mer" / "features"


def _check_groups(groups) -> tuple[str, ...]:
    groups = tuple(groups)
    unknown = [g for g in groups if g not in GROUPS]
    if unknown or not groups:
        raise ParameterError(f"unknown feature groups {unknown or groups!r}; expected {GROUPS}")
    return groups


def groups_for(fields) -> tuple[str, ...]:
    """The feature groups that fill the given :class:`ClipFeatures` fields, in ``GROUPS`` order.

    ``text`` comes from the dataset, not the audio, and needs no group.

    Examples
    --------
    >>> groups_for(["log_mel"])
    ('spectral',)
    >>> groups_for({"chords": [24], "mfcc": [20, 87], "text": None})
    ('spectral', 'chords')
    """
    fields = set(fields) - {"text"}
    known = {f for fs in GROUP_FIELDS.values() for f in fs}
    if fields - known:
        raise ParameterError(
            f"no feature group computes {sorted(fields - known)}; fields: {sorted(known)}"
        )
    return tuple(g for g in GROUPS if fields & set(GROUP_FIELDS[g]))


def signal_features(y, *, config: FeatureConfig = FeatureConfig(), n_valid=None, groups=GROUPS):
    """The feature groups of one signal, sharing one STFT.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        Mono float signal at ``config.sr`` (already cut / zero-filled to
        ``config.duration``).
    n_valid : int, optional
        Samples of real audio before any zero-fill (statistics ignore padding).

    Returns
    -------
    dict of str -> dict of np.ndarray
        ``{"spectral": {"log_mel", "mfcc"}, "lowlevel": {"vector"}, "chords": {"vector"}}``
        (only the groups asked for).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.zeros(22050 * 2, dtype=np.float32)
    >>> out = signal_features(y, config=FeatureConfig(duration=2.0), groups=("spectral",))
    >>> out["spectral"]["log_mel"].shape
    (128, 87)
    """
    from mer_core.features import spectral

    groups = _check_groups(groups)
    cfg = config
    n_valid = y.shape[-1] if n_valid is None else int(n_valid)
    out = {}
    # Samples past n_valid are zeros (the paper's zero-fill), so every STFT frame
    # that starts after the real audio is exactly zero: transform only the real
    # part plus one frame, and append those zero frames to the Mel power.
    n_stft = min(y.shape[-1], n_valid + cfg.n_fft)
    n_frames = spectral.frames_for(y.shape[-1], hop_length=cfg.hop_length)
    yp = y[..., :n_stft]
    if cfg.preemphasis > 0:
        yp = spectral.preemphasis(yp, coef=cfg.preemphasis)
    S = spectral.stft_power(yp, n_fft=cfg.n_fft, hop_length=cfg.hop_length)
    L = C = None  # the spectral group's float32 log-Mel and MFCC, reused by lowlevel
    if "spectral" in groups:
        mel = spectral.mel_power(S, sr=cfg.sr, n_mels=cfg.n_mels)
        mel = np.pad(mel, [(0, 0)] * (mel.ndim - 1) + [(0, n_frames - mel.shape[-1])])
        L = spectral.power_to_db(mel)
        D = spectral.dct_matrix(cfg.n_mfcc, cfg.n_mels).astype(L.dtype)
        C = np.einsum("km,...mt->...kt", D, L)
        out["spectral"] = {"log_mel": L.astype(np.float16), "mfcc": C.astype(np.float32)}
    if "lowlevel" in groups:
        from mer_core.features.lowlevel import lowlevel_features

        vec = lowlevel_features(
            yp,
            sr=cfg.sr,
            S=S,
            log_mel=L,
            mfcc=C,
            n_fft=cfg.n_fft,
            hop_length=cfg.hop_length,
            n_mfcc=cfg.n_mfcc,
            n_mels=cfg.n_mels,
            n_valid=min(n_valid, n_stft),
        )
        out["lowlevel"] = {"vector": np.asarray(vec, dtype=np.float32)}
    if "chords" in groups:
        from mer_core import chords

        # Chords share the pre-emphasised STFT: chroma() divides the pre-emphasis
        # response back out of the power spectrum (its ``preemphasis`` option),
        # which saves a second STFT. Statistics cover the real audio only.
        n_real = spectral.frames_for(max(n_valid, 1), hop_length=cfg.hop_length)
        vec = chords.chord_vector(
            S=S[..., : min(n_real, S.shape[-1])],
            sr=cfg.sr,
            hop_length=cfg.hop_length,
            preemphasis=cfg.preemphasis,
        )
        out["chords"] = {"vector": np.asarray(vec, dtype=np.float32)}
    if "musical" in groups:
        from mer_core.features.musical import musical_features

        # the plain signal's spectrogram: shared only when there is no pre-emphasis
        plain = cfg.preemphasis == 0
        vec = musical_features(
            y[..., :n_stft],
            sr=cfg.sr,
            S=S if plain else None,
            log_mel=L if plain else None,
            n_fft=cfg.n_fft,
            hop_length=cfg.hop_length,
            n_mels=cfg.n_mels,
            n_valid=min(n_valid, n_stft),
        )
        out["musical"] = {"vector": np.asarray(vec, dtype=np.float32)}
    return out


def feature_names(group: str, *, config: FeatureConfig = FeatureConfig()) -> list[str]:
    """Names of the vector elements of ``lowlevel``, ``chords`` or ``musical``."""
    if group == "lowlevel":
        from mer_core.features.lowlevel import lowlevel_names

        return list(lowlevel_names(n_mfcc=config.n_mfcc))
    if group == "chords":
        from mer_core.chords import chord_vector_names

        return list(chord_vector_names())
    if group == "musical":
        from mer_core.features.musical import musical_names

        return musical_names()
    raise ParameterError(
        f"feature group {group!r} has no vector names; use 'lowlevel', 'chords' or 'musical'"
    )


# --------------------------------------------------------------------------- cache


def _entry_path(cache_dir: Path, group: str, key: str) -> Path:
    return cache_dir / group / key[:2] / f"{key}.npz"


def _expected_arrays(group: str, config: FeatureConfig, n_valid: int) -> dict:
    """``name -> (dtype, shape)`` of every array a ``group`` entry holds besides ``n_valid``."""
    from mer_core.features.spectral import frames_for

    if group == "spectral":
        n = int(round(config.duration * config.sr)) if config.duration is not None else n_valid
        n_frames = frames_for(max(n, config.n_fft), hop_length=config.hop_length)
        return {
            "log_mel": (np.dtype(np.float16), (config.n_mels, n_frames)),
            "mfcc": (np.dtype(np.float32), (config.n_mfcc, n_frames)),
        }
    width = len(feature_names(group, config=config))
    return {"vector": (np.dtype(np.float32), (width,))}


def _valid_entry(group: str, arrays: dict, config: FeatureConfig) -> bool:
    """Whether cached arrays are exactly what ``group`` computes under ``config``.

    The set of names, each array's dtype and shape, finiteness, and a plausible
    ``n_valid`` (a non-negative integer, at most the clip window).
    """
    n_valid = arrays.get("n_valid")
    if (
        not isinstance(n_valid, np.ndarray)
        or n_valid.shape != ()
        or n_valid.dtype.kind not in "iu"
        or int(n_valid) < 0
    ):
        return False
    n_valid = int(n_valid)
    if config.duration is not None and n_valid > int(round(config.duration * config.sr)) + 1:
        return False
    expected = _expected_arrays(group, config, n_valid)
    if set(arrays) != {"n_valid", *expected}:
        return False
    for name, (dtype, shape) in expected.items():
        arr = arrays[name]
        if arr.dtype != dtype or arr.shape != shape or not np.isfinite(arr).all():
            return False
    return True


def _read_entry(path: Path, key: str, group: str, config: FeatureConfig):
    """The cached arrays, or None when missing, damaged or not what ``group``
    computes under ``config`` (then it is recomputed)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if "_key" not in data.files or str(data["_key"]) != key:
                return None
            arrays = {k: data[k] for k in data.files if k != "_key"}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    return arrays if _valid_entry(group, arrays, config) else None


def _write_entry(path: Path, key: str, arrays: dict) -> None:
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, _key=np.array(key), **arrays)


def _process_file(path: str, config: FeatureConfig, groups, cache_dir, use_cache: bool):
    """Worker: cached-or-computed groups for one file -> (result | None, error | None)."""
    try:
        p = Path(path)
        problem = not_regular_file(p)
        if problem is not None:
            raise MerError(f"{p}: {problem}")
        data = p.read_bytes() if p.stat().st_size <= READ_ONCE_MAX_BYTES else None
        digest = file_digest(p) if data is None else hashlib.sha256(data).hexdigest()
        keys = {
            g: json_digest({"file": digest, **config.group_params(g)}, length=32) for g in groups
        }
        result, missing = {}, []
        for g in groups:
            entry = (
                _read_entry(_entry_path(cache_dir, g, keys[g]), keys[g], g, config)
                if use_cache
                else None
            )
            if entry is None:
                missing.append(g)
            else:
                result[g] = entry
        if missing:
            from threadpoolctl import threadpool_limits

            y = load_audio(p, sr=config.sr, duration=config.duration, pad=False, data=data)
            del data
            n_valid = y.shape[-1]
            if n_valid < config.n_fft:
                raise AudioError(
                    p,
                    f"too short: {n_valid} samples at {config.sr} Hz, less than one "
                    f"analysis frame (n_fft = {config.n_fft} samples)",
                )
            if config.duration is not None:
                y = fix_length(y, size=int(round(config.duration * config.sr)))
            # parallelism is across clips: keep BLAS to one thread per clip
            with threadpool_limits(limits=1), np.errstate(all="ignore"):
                computed = signal_features(y, config=config, n_valid=n_valid, groups=missing)
            for g in missing:
                for name, arr in computed[g].items():
                    if not np.all(np.isfinite(arr)):
                        raise MerError(f"{p}: {g} feature {name!r} has NaN or infinite values")
                arrays = dict(computed[g])
                arrays["n_valid"] = np.array(n_valid)
                if not _valid_entry(g, arrays, config):  # what the cache reader checks
                    raise MerError(f"{p}: {g} features have unexpected shapes (internal error)")
                if use_cache:
                    _write_entry(_entry_path(cache_dir, g, keys[g]), keys[g], arrays)
                result[g] = arrays
        return {"digest": digest, "computed": missing, **result}, None
    except MerError as exc:
        return None, str(exc)
    except Exception as exc:  # never let a library's traceback reach the user
        return None, f"{path}: feature extraction failed ({type(exc).__name__}: {exc})"


def _stack(items, name):
    arrays = [it[name] for it in items]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:  # only when duration=None: clips of different lengths
        return arrays
    return np.stack(arrays)


def extract_features(
    paths,
    *,
    config: FeatureConfig = FeatureConfig(),
    groups=GROUPS,
    cache_dir=None,
    use_cache: bool = True,
    n_jobs: int = 1,
    strict: bool = False,
    progress: bool = True,
    scheduler: str | None = None,
) -> ClipFeatures:
    """Extract (or read from cache) feature groups for a list of audio files.

    Parameters
    ----------
    paths : sequence of str or Path
        Audio files, in the order wanted.
    config : FeatureConfig
        Front-end parameters.
    groups : tuple of str
        Any of ``"spectral"``, ``"lowlevel"``, ``"chords"`` (default all); only
        these are computed or read. :func:`groups_for` gives a model's.
    cache_dir : path, optional
        Cache root (default :func:`default_cache_dir`).
    n_jobs : int
        Parallel worker processes (joblib); 1 runs in this process.
    strict : bool
        Raise :class:`~mer_core.errors.MerError` at the first bad file instead
        of collecting failures.
    scheduler : str, optional
        Address of a Dask scheduler to run on (default ``$MER_SCHEDULER``;
        unset: local, ``n_jobs``); see :mod:`mer_core.cluster`. The workers
        read the files and write the cache at the same paths.

    Returns
    -------
    ClipFeatures
        The files that succeeded, in input order (``paths``, their positions
        ``index`` and content ``digests``), the groups' fields, ``n_valid``
        and ``valid_frames``, the ``config``, ``failures`` and ``n_computed``.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from mer_core.audio import write_wav
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> song = write_wav(folder / "a.wav", 0.1 * np.ones(22050, np.float32), sr=22050)
    >>> X = extract_features([song, folder / "missing.wav"], config=FeatureConfig(duration=1.0),
    ...                      groups=("spectral",), cache_dir=folder / "cache", progress=False)
    >>> X
    ClipFeatures(n=1, log_mel=(128, 44) float16, mfcc=(20, 44) float32, 1 failed)
    >>> X.failures[0]["error"].endswith("missing.wav: no such file")
    True
    """
    from tqdm.auto import tqdm

    from mer_core.cluster import map_tasks, sample_paths

    groups = _check_groups(groups)
    n_jobs = check_n_jobs(n_jobs)
    paths = [str(p) for p in paths]
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    results = map_tasks(
        _process_file,
        paths,
        common=(config, groups, cache_dir, use_cache),
        n_jobs=n_jobs,
        scheduler=scheduler,
        readable=sample_paths(paths),
        writable=[cache_dir] if use_cache else [],
    )
    ok, failures = [], []
    bar = tqdm(results, total=len(paths), desc="features", unit="clip", disable=not progress)
    for i, (res, err) in enumerate(bar):
        if err is not None:
            if strict:
                raise MerError(err)
            failures.append({"path": paths[i], "error": err})
        else:
            ok.append((i, res))
    items = [r for _, r in ok]
    fields: dict = {}
    if items:
        if "spectral" in groups:
            fields["log_mel"] = _stack([r["spectral"] for r in items], "log_mel")
            fields["mfcc"] = _stack([r["spectral"] for r in items], "mfcc")
        if "lowlevel" in groups:
            fields["lowlevel"] = np.stack([r["lowlevel"]["vector"] for r in items])
            fields["lowlevel_names"] = feature_names("lowlevel", config=config)
        if "chords" in groups:
            fields["chords"] = np.stack([r["chords"]["vector"] for r in items])
            fields["chord_names"] = feature_names("chords", config=config)
        if "musical" in groups:
            fields["musical"] = np.stack([r["musical"]["vector"] for r in items])
    return ClipFeatures(
        **fields,
        config=config,
        paths=[paths[i] for i, _ in ok],
        index=np.array([i for i, _ in ok], dtype=int),
        digests=[r["digest"] for r in items],
        n_valid=np.array([int(r[groups[0]]["n_valid"]) for r in items], dtype=np.int64),
        failures=failures,
        n_computed=sum(len(r["computed"]) for r in items),
    )
