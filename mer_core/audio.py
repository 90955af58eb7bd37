"""Reading and converting audio (the paper's step (1) and section 3.1).

The paper converts every song to WAV, keeps the first 50 s (EMA) or 40 s
(Emotion, 4Q) and zero-fills shorter clips. :func:`load_audio` does all of that
in memory for any file :mod:`soundfile` can decode (wav, mp3, flac, ogg, aiff),
and :func:`convert_tree` writes the paper's WAV conversion to disk.

Decisions, documented:

* **Mono**: channels are averaged (any count, 6-channel files included).
* **Resampling**: to ``sr`` (22050 Hz by default) with soxr's high-quality
  filter; 8 kHz or 16 kHz sources are upsampled, so they simply have no content
  above their own Nyquist frequency.
* **Length**: ``offset`` seconds are skipped, at most ``duration`` seconds are
  kept, and a shorter result is zero-filled at the end to exactly
  ``round(duration * sr)`` samples (``pad=False`` keeps the true length).
* **Silence** is valid audio (features of silent clips are defined and finite).
* **Bad files** raise :class:`mer_core.errors.AudioError` (a
  :class:`~mer_core.errors.MerError`, hence a ``ValueError``) whose message
  names the file and the problem: missing, not a regular file (a folder, a
  FIFO, a symbolic-link loop), empty, not decodable (damaged data), no frames,
  NaN / infinite samples (which are never silently replaced), or samples far
  outside [-1, 1] (peak above :data:`MAX_PEAK`). The decoder's own notes
  (mpg123's "Illegal Audio-MPEG-Header") never reach the terminal.
* **Duration** is at most :data:`MAX_DURATION` seconds (one hour), checked
  before any work.
* A truncated mp3 decodes up to the damage, as every mp3 decoder does.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np

from mer_core.errors import AudioError, MerError, ParameterError
from mer_core.io import atomic_path, not_regular_file
from mer_core.validation import check_positive_int

__all__ = [
    "AUDIO_EXTENSIONS",
    "DEFAULT_SR",
    "MAX_DURATION",
    "MAX_PEAK",
    "audio_info",
    "convert_tree",
    "find_audio",
    "fix_length",
    "load_audio",
    "write_wav",
]

DEFAULT_SR = 22050
AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".oga", ".aiff", ".aif")
#: Longest ``duration`` accepted, in seconds (the zero-filled clip is held in memory).
MAX_DURATION = 3600.0
#: Largest sample magnitude accepted; audio lies within about [-1, 1], and far larger
#: finite values (a float WAV holding 3e38) would overflow the power spectrum.
MAX_PEAK = 1e4


def check_duration(duration, *, name: str = "duration") -> None:
    """Raise :class:`ParameterError` unless ``duration`` is None or a finite 0 < d <= 3600 s."""
    if duration is None:
        return
    try:
        ok = 0 < float(duration) <= MAX_DURATION
    except (TypeError, ValueError):
        ok = False
    if isinstance(duration, bool) or not ok:
        raise ParameterError(
            f"{name} must be a number of seconds in (0, {MAX_DURATION:g}] or None, "
            f"got {duration!r}"
        )


def _check_readable(path: Path) -> None:
    problem = not_regular_file(path)
    if problem is not None:
        raise AudioError(path, problem)
    if path.stat().st_size == 0:
        raise AudioError(path, "file is empty (0 bytes)")


@contextlib.contextmanager
def _quiet_decoder():
    """Keep the C decoders' notes (mpg123 writes to file descriptor 2) off the terminal.

    Yields a list that holds, after the block, the lines they wrote.
    """
    import sys
    import tempfile

    notes: list[str] = []
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable descriptor 2: nothing to hide
        yield notes
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield notes
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", "replace")
            notes.extend(line.strip() for line in text.splitlines() if line.strip())


def _decoder_problem(path: Path, exc: Exception, notes, *, frames_read=None, sr=None) -> str:
    """A decoding failure in words: what is damaged and where, not libsndfile's error code.

    mpg123 reports the byte offset of a bad frame header in its notes (captured by
    :func:`_quiet_decoder`); otherwise the seconds decoded before the failure are given.
    """
    import re

    detail = str(exc).split(": ", 1)[-1].strip().rstrip(".")
    if detail.lower() in ("", "unspecified internal error", "internal error", "error"):
        detail = ""
    note = next((n for n in notes if "illegal" in n.lower() or "error" in n.lower()), "")
    note = re.sub(r"^(note|warning|error)\s*:\s*", "", note, flags=re.I).rstrip(".")
    offset = re.search(r"offset (\d+)", note)
    if offset:
        where = f" after {int(offset.group(1)) / 1024:.0f} KB"
    elif frames_read and sr:
        where = f" after {frames_read / sr:.1f} s of audio"
    else:
        where = ""
    kind = path.suffix.lower().lstrip(".") or "audio"
    why = "; ".join(x for x in (detail, note) if x)
    return f"damaged {kind} data{where}" + (f" ({why})" if why else "")


def _open(path: Path, data: bytes | None = None):
    import io

    import soundfile as sf

    with _quiet_decoder() as notes:
        try:
            return sf.SoundFile(str(path) if data is None else io.BytesIO(data))
        except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
            error = exc
    detail = str(error).split(": ", 1)[-1].strip() or type(error).__name__
    if "does not exist" in detail or "not a regular file" in detail:
        # libsndfile's wording when it recognises no format in the bytes
        detail = "unrecognised format or damaged data"
    elif detail.lower().strip(". ") in ("unspecified internal error", "internal error"):
        detail = _decoder_problem(path, error, notes)
    raise AudioError(
        path, f"not a readable audio file ({detail}); supported: {', '.join(AUDIO_EXTENSIONS)}"
    ) from None


def audio_info(path) -> dict:
    """Header facts of an audio file without decoding it.

    Returns
    -------
    dict
        ``samplerate``, ``channels``, ``frames``, ``duration`` (seconds),
        ``format`` and ``subtype``.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "tone.wav"
    >>> _ = write_wav(p, np.zeros(8000, dtype=np.float32), sr=8000)
    >>> info = audio_info(p)
    >>> info["samplerate"], info["channels"], info["duration"]
    (8000, 1, 1.0)
    """
    path = Path(path)
    _check_readable(path)
    with _open(path) as f:
        frames = f.frames
        return {
            "samplerate": int(f.samplerate),
            "channels": int(f.channels),
            "frames": int(frames),
            "duration": float(frames) / f.samplerate if f.samplerate else 0.0,
            "format": f.format,
            "subtype": f.subtype,
        }


def fix_length(y: np.ndarray, *, size: int) -> np.ndarray:
    """Trim or zero-fill ``y`` (along the last axis) to exactly ``size`` samples.

    Examples
    --------
    >>> import numpy as np
    >>> fix_length(np.ones(3, dtype=np.float32), size=5)
    array([1., 1., 1., 0., 0.], dtype=float32)
    """
    n = y.shape[-1]
    if n >= size:
        return y[..., :size]
    pad = [(0, 0)] * (y.ndim - 1) + [(0, size - n)]
    return np.pad(y, pad)


def load_audio(
    path,
    *,
    sr: int = DEFAULT_SR,
    duration: float | None = None,
    offset: float = 0.0,
    pad: bool = True,
    data: bytes | None = None,
) -> np.ndarray:
    """Load an audio file as mono float32 at ``sr``, the paper's way.

    Parameters
    ----------
    path : str or Path
        A wav, mp3, flac, ogg or aiff file.
    sr : int
        Target sampling rate (22050 Hz by default).
    duration : float, optional
        Keep at most this many seconds (50 for EMA, 40 for Emotion and 4Q);
        ``None`` keeps everything.
    offset : float
        Seconds to skip at the start.
    pad : bool
        Zero-fill a shorter clip to exactly ``round(duration * sr)`` samples
        (the paper's zero-fill). Ignored when ``duration`` is None.
    data : bytes, optional
        The file's bytes, already read (to hash them, say): they are decoded
        from memory instead of reading ``path`` again, which then only names
        the file in messages. Should the decoder not recognise the format
        from memory, ``path`` is opened after all.

    Returns
    -------
    np.ndarray, shape (n_samples,), float32

    Raises
    ------
    AudioError
        The file is missing, empty, not decodable, holds no audio after
        ``offset``, or contains NaN / infinite samples.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "half_second.wav"
    >>> _ = write_wav(p, 0.1 * np.ones(22050 // 2, dtype=np.float32), sr=22050)
    >>> y = load_audio(p, duration=2.0)
    >>> y.shape, y.dtype, float(y[-1])
    ((44100,), dtype('float32'), 0.0)
    """
    path = Path(path)
    sr = check_positive_int(sr, "sr")
    check_duration(duration)
    if not (offset >= 0 and np.isfinite(offset)):
        raise ParameterError(f"offset must be a finite number of seconds >= 0, got {offset!r}")
    if data is None:
        _check_readable(path)
    elif len(data) == 0:
        raise AudioError(path, "file is empty (0 bytes)")
    try:
        f = _open(path, data)
    except AudioError:
        if data is None:
            raise
        f = _open(path)  # the same decoder, from the file (its messages are the usual ones)
    with f:
        native_sr = f.samplerate
        start = int(round(offset * native_sr))
        if start >= f.frames > 0:
            raise AudioError(path, f"offset {offset} s is past the end ({f.frames / native_sr} s)")
        n_read = -1 if duration is None else int(np.ceil(duration * native_sr))
        blocks, got = [], 0
        with _quiet_decoder() as notes:
            try:
                if start:
                    f.seek(start)
                # read in blocks, so a failure can say how much decoded before the damage
                while n_read < 0 or got < n_read:
                    want = 1 << 18 if n_read < 0 else min(1 << 18, n_read - got)
                    block = f.read(frames=want, dtype="float32", always_2d=True)
                    if block.shape[0] == 0:
                        break
                    blocks.append(block)
                    got += block.shape[0]
                error = None
            except Exception as exc:  # libsndfile / mpg123 decode errors
                error = exc
        if error is not None:
            raise AudioError(
                path, _decoder_problem(path, error, notes, frames_read=got, sr=native_sr)
            ) from None
        channels = f.channels
    data = np.concatenate(blocks) if blocks else np.zeros((0, channels), np.float32)
    if data.shape[0] == 0:
        raise AudioError(path, "contains no audio frames")
    if not np.all(np.isfinite(data)):
        bad = int(np.count_nonzero(~np.isfinite(data).all(axis=1)))
        raise AudioError(path, f"contains {bad} NaN or infinite samples")
    peak = float(np.max(np.abs(data)))
    if peak > MAX_PEAK:
        raise AudioError(
            path,
            f"samples far outside [-1, 1] (peak {peak:.3g}, limit {MAX_PEAK:g}); not usable audio",
        )
    y = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    if native_sr != sr and y.size:
        import soxr

        y = soxr.resample(y, native_sr, sr, quality="HQ").astype(np.float32, copy=False)
    y = np.ascontiguousarray(y, dtype=np.float32)
    if duration is not None:
        size = int(round(duration * sr))
        y = fix_length(y, size=size) if pad else y[:size]
    return y


def write_wav(path, y, *, sr: int, subtype: str = "PCM_16") -> Path:
    """Write a mono or ``(channels, n)`` signal to a WAV file atomically.

    Samples outside [-1, 1] are clipped by the 16-bit conversion.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.wav"
    >>> write_wav(p, np.zeros(100, dtype=np.float32), sr=22050).name
    'x.wav'
    """
    import soundfile as sf

    y = np.asarray(y)
    if y.ndim == 2:
        y = y.T
    with atomic_path(path, suffix=".wav") as tmp:
        sf.write(str(tmp), y, int(sr), subtype=subtype, format="WAV")
    return Path(path)


def find_audio(root, *, extensions=AUDIO_EXTENSIONS) -> list[Path]:
    """All audio files under ``root`` (recursive, sorted, hidden files skipped).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> find_audio(tempfile.mkdtemp())
    []
    """
    root = Path(root)
    if not root.is_dir():
        problem = "expects a folder, not a file" if root.exists() else "no such folder"
        raise MerError(f"{root}: {problem}")
    exts = {e.lower() for e in extensions}
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and Path(name).suffix.lower() in exts:
                found.append(Path(dirpath) / name)
    return found


def no_audio_message(root, *, extensions=AUDIO_EXTENSIONS) -> str:
    """Why a folder yields no audio: empty, or only files of unsupported types (counted)."""
    from collections import Counter

    root = Path(root)
    other = Counter(
        (Path(name).suffix.lower() or "(no extension)")
        for dirpath, dirnames, filenames in os.walk(root)
        for name in filenames
        if not name.startswith(".")
    )
    supported = ", ".join(extensions)
    if not other:
        return f"{root}: the folder holds no files; nothing to do (supported audio: {supported})"
    found = ", ".join(f"{n} {ext}" for ext, n in sorted(other.items(), key=lambda kv: -kv[1]))
    return f"{root}: no supported audio files (found {found}; supported: {supported})"


def _convert_one(src: Path, dst: Path, sr: int, duration: float | None) -> None:
    y = load_audio(src, sr=sr, duration=duration, pad=duration is not None)
    write_wav(dst, y, sr=sr)


def convert_tree(
    src,
    dst,
    *,
    sr: int = DEFAULT_SR,
    duration: float | None = None,
    overwrite: bool = False,
    n_jobs: int = 1,
    strict: bool = False,
    progress: bool = True,
) -> dict:
    """The paper's WAV conversion: every audio file under ``src`` to 16-bit mono WAV under ``dst``.

    The folder tree is mirrored (``src/a/b.mp3`` -> ``dst/a/b.wav``). ``src``
    is only read. Existing outputs are kept unless ``overwrite`` (so a stopped
    run resumes); each output is written atomically.

    Parameters
    ----------
    duration : float, optional
        Keep the first ``duration`` seconds, zero-filled when shorter.
    strict : bool
        Stop at the first bad file instead of collecting failures.

    Returns
    -------
    dict
        ``converted``, ``skipped`` (already present) and ``failed``
        (a list of ``{"path", "error"}``).
    """
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    from mer_core.io import check_output

    check_duration(duration)
    src = Path(src).resolve()
    files = find_audio(src)  # "no such folder" / "expects a folder" first
    dst = check_output(dst, [src], folder=True, what="output folder", contain=False)
    if not files:
        raise MerError(no_audio_message(src))
    todo, skipped = [], 0
    for f in files:
        out = (dst / f.relative_to(src)).with_suffix(".wav")
        if out.exists() and not overwrite:
            skipped += 1
        else:
            todo.append((f, out))

    def job(f, out):
        try:
            _convert_one(f, out, sr, duration)
            return None
        except MerError as exc:
            if strict:
                raise
            return {"path": str(f), "error": str(exc)}

    results = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(job)(f, o) for f, o in todo)
    failed = [
        r
        for r in tqdm(results, total=len(todo), desc="convert", unit="file", disable=not progress)
        if r is not None
    ]
    return {"converted": len(todo) - len(failed), "skipped": skipped, "failed": failed}
