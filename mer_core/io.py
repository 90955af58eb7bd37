"""Small, safe file-system helpers shared by the package.

Outputs are written atomically: data goes to a temporary file in the target's
folder, is flushed to disk, and is renamed over the target in one step, so an
interrupted run (Ctrl-C, a crash, a full disk) never leaves a half-written file
under the final name. Inputs are only ever opened for reading.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_json",
    "check_output",
    "file_digest",
    "folder_mode",
    "json_digest",
    "not_regular_file",
]


def _umask() -> int:
    """The process's umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def folder_mode() -> int:
    """The permissions ``mkdir`` would give a new folder under the process's umask.

    For folders made private by :func:`tempfile.mkdtemp` (0700) and then
    published by a rename: they get the same permissions as any other folder.

    Examples
    --------
    >>> folder_mode() == 0o777 & ~_umask()
    True
    """
    return 0o777 & ~_umask()


def not_regular_file(path) -> str | None:
    """Why ``path`` cannot be read as a file's bytes, or None when it is a regular file.

    ``"no such file"`` when nothing is there; ``"not a regular file (...)"``
    for a directory, a FIFO, a device, a socket or a symbolic link that leads
    nowhere (a loop or a dangling link). Never opens the path, so a FIFO
    cannot block.

    Examples
    --------
    >>> import tempfile
    >>> not_regular_file(tempfile.mkdtemp())
    'not a regular file (a directory)'
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except OSError:
        if os.path.lexists(path):
            return "not a regular file (a symbolic link that leads nowhere or loops)"
        return "no such file"
    if stat.S_ISREG(mode):
        return None
    kind = (
        "a directory"
        if stat.S_ISDIR(mode)
        else "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
    )
    return f"not a regular file ({kind})"


def check_output(
    out, inputs=(), *, folder: bool = False, what: str = "output", contain: bool = True
) -> Path:
    """Refuse an output location before any work is done; return it resolved.

    Raises :class:`~mer_core.errors.MerError` naming the paths when ``out``
    is or lies inside one of ``inputs`` (a command never writes over or into
    its inputs), or, unless ``contain``, when a ``folder`` output would
    contain an input (a mirrored tree could land on it), when it names an
    existing folder (for a file output) or an existing file (for a ``folder``
    output), when a parent is a file, or when the nearest existing folder is
    not writable. Nothing is created.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> src = pathlib.Path(tempfile.mkdtemp())
    >>> check_output(src / "f.npz", [src])
    Traceback (most recent call last):
    ...
    mer_core.errors.MerError: ...f.npz: the output would be written into the input ...
    """
    from mer_core.errors import MerError

    out = Path(os.path.abspath(os.fspath(out)))
    resolved = out.resolve()
    for item in inputs:
        if item is None:
            continue
        src = Path(item).resolve()
        inside = resolved == src or src in resolved.parents
        if inside or (not contain and resolved in src.parents):
            where = "over" if resolved == src else "into" if inside else "around"
            raise MerError(
                f"{out}: the {what} would be written {where} the input {item}; "
                "choose a location outside the inputs"
            )
    if out.exists() or out.is_symlink():
        if folder and not out.is_dir():
            raise MerError(f"{out}: exists and is not a folder")
        if not folder and out.is_dir():
            raise MerError(f"{out}: is a folder; the {what} must be a file name")
    parent = out if folder else out.parent
    while not parent.exists():
        if parent.is_symlink():
            raise MerError(f"{parent}: a symbolic link that leads nowhere")
        parent = parent.parent
    if not parent.is_dir():
        raise MerError(f"{parent}: is a file, so {out} cannot be created")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise MerError(f"{parent}: permission denied (cannot write the {what} {out})")
    return out


@contextlib.contextmanager
def atomic_path(path, *, suffix: str | None = None):
    """Yield a temporary path next to ``path``; on success rename it to ``path``.

    The temporary file is removed if the block raises (including
    ``KeyboardInterrupt``), so the final name either holds the complete new
    content or is left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "out.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "out.txt").read_text()
    'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent)
    try:
        # mkstemp makes the file 0600; give it the mode open() would (umask honoured)
        os.fchmod(fd, 0o666 & ~_umask())
    finally:
        os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path, data: bytes, *, only_if_changed: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`).

    With ``only_if_changed``, a file that already holds exactly ``data`` is left
    alone (its time stamp too, so ``make`` sees nothing new).
    """
    path = Path(path)
    if only_if_changed and path.is_file() and path.read_bytes() == data:
        return path
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return path


def atomic_write_json(path, obj, *, indent: int = 2, only_if_changed: bool = False) -> Path:
    """Write ``obj`` as JSON (sorted keys, trailing newline) to ``path`` atomically."""
    text = json.dumps(obj, indent=indent, sort_keys=True, default=_json_default) + "\n"
    return atomic_write_bytes(path, text.encode("utf-8"), only_if_changed=only_if_changed)


def _json_default(obj):
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


def file_digest(path, *, algorithm: str = "sha256", chunk_size: int = 1 << 20) -> str:
    """Hex digest of a file's bytes, read in chunks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.bin"
    >>> _ = p.write_bytes(b"abc")
    >>> file_digest(p)[:16]
    'ba7816bf8f01cfea'
    """
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            h.update(chunk)
    return h.hexdigest()


def json_digest(obj, *, length: int = 16) -> str:
    """Short stable digest of a JSON-serialisable object (sorted keys).

    Examples
    --------
    >>> json_digest({"b": 1, "a": 2}) == json_digest({"a": 2, "b": 1})
    True
    """
    text = json.dumps(obj, sort_keys=True, default=_json_default, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]
