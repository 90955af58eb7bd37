"""Downloading the official 4Q release: resumable, verified, unpacked safely.

:func:`fetch_4q` does, in order:

1. **Download** ``url`` with :mod:`urllib` into ``<dest>/<archive>.part``. An
   interrupted download (a dropped connection, Ctrl-C, a short response) is
   *resumed* with an HTTP ``Range`` request from the bytes already there; a
   server that ignores ``Range`` (answers 200) makes it start over. At most
   ``attempts`` requests are made. When complete, the ``.part`` file is
   renamed to ``<archive>``; an archive already there is not downloaded again.
2. **Verify**. The official archive's SHA-256 is *not known to this project*
   (it was written on machines without internet access, so nobody here could
   compute it), hence :data:`OFFICIAL_SHA256` is ``None``. When you pass
   ``sha256`` it is checked (a mismatch is an error and nothing is unpacked);
   either way every member's CRC-32 stored in the zip is checked, which
   catches truncation and corruption in transit but not a deliberately
   altered archive. The digest of what was downloaded is recorded (step 3):
   keep it and pass it on later downloads.
3. **Unpack safely**: members with absolute paths, drive letters or ``..``
   components, symbolic links, or more than ``max_unpacked_bytes`` in all are
   refused before anything is written; macOS ``__MACOSX/`` litter is skipped.
   Members are extracted into a temporary folder inside ``dest``; the folder
   holding ``Q1``..``Q4`` (the top or up to three levels down, e.g. the zip's
   own top-level folder) is renamed to ``<dest>/<archive name without .zip>``
   only after the checks below pass, so a failure leaves no partial dataset
   behind. The archive's SHA-256 is recorded in ``<archive>.sha256``
   (``sha256sum`` format).
4. **Count**: the clips per quadrant folder must match ``expected_counts``
   (the official release: 900 clips, 225 per quadrant; pass another count,
   a dict, or ``None`` to accept any).

A dataset folder already in place is checked (counts) and returned as it is;
nothing there is modified or overwritten.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from mer_core.audio import find_audio
from mer_core.datasets.manifest import QUADRANTS, _listing
from mer_core.errors import MerError, ParameterError
from mer_core.io import atomic_write_bytes, file_digest

__all__ = [
    "OFFICIAL_COUNTS",
    "OFFICIAL_SHA256",
    "OFFICIAL_URL",
    "check_counts",
    "digest_file",
    "download",
    "fetch_4q",
    "safe_unpack",
]

#: Where the 4Q audio emotion dataset is published (Panda et al., TAFFC 2018).
OFFICIAL_URL = "http://mir.dei.uc.pt/resources/MER_audio_taffc_dataset.zip"
#: The official archive's SHA-256: unknown here (see the module docstring).
OFFICIAL_SHA256 = None
#: Clips per quadrant in the official release (900 in all).
OFFICIAL_COUNTS = {q: 225 for q in QUADRANTS}

_CHUNK = 1 << 16
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)")


def _expected(expected_counts) -> dict | None:
    if expected_counts is None:
        return None
    if isinstance(expected_counts, dict):
        unknown = set(expected_counts) - set(QUADRANTS)
        if unknown:
            raise ParameterError(f"expected_counts has unknown quadrant(s) {sorted(unknown)}")
        return {q: int(n) for q, n in expected_counts.items()}
    n = int(expected_counts)
    if n < 0:
        raise ParameterError(f"expected_counts must be >= 0, got {expected_counts!r}")
    return {q: n for q in QUADRANTS}


def check_counts(root, expected_counts=OFFICIAL_COUNTS) -> dict:
    """Count the audio clips of each quadrant folder; an error when they differ from expected.

    Parameters
    ----------
    root : str or Path
        Folder holding ``Q1``..``Q4``.
    expected_counts : dict, int or None
        ``{"Q1": 225, ...}``, one count for every quadrant, or ``None`` (any).

    Returns
    -------
    dict
        ``{quadrant: clips}``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for q in ("Q1", "Q2", "Q3", "Q4"):
    ...     (d / q).mkdir()
    ...     _ = (d / q / "a.mp3").write_bytes(b"x")
    >>> check_counts(d, 1)
    {'Q1': 1, 'Q2': 1, 'Q3': 1, 'Q4': 1}
    >>> check_counts(d)
    Traceback (most recent call last):
    ...
    mer_core.errors.MerError: ...: clips per quadrant Q1 1, Q2 1, Q3 1, Q4 1; expected Q1 225, ...
    """
    root = Path(root)
    absent = [q for q in QUADRANTS if not (root / q).is_dir()]
    if absent:
        raise MerError(f"{root}: not the 4Q layout: no {', '.join(absent)} folder(s)")
    counts = {q: len(find_audio(root / q)) for q in QUADRANTS}
    expected = _expected(expected_counts)
    if expected is not None and any(counts[q] != n for q, n in expected.items()):
        raise MerError(
            f"{root}: clips per quadrant "
            + ", ".join(f"{q} {n}" for q, n in counts.items())
            + "; expected "
            + ", ".join(f"{q} {n}" for q, n in expected.items())
            + " (pass expected_counts / --expect to accept other counts)"
        )
    return counts


def _open(url: str, offset: int, timeout: float):
    from urllib.request import Request, urlopen

    headers = {"User-Agent": "mer-core (research data download)"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    return urlopen(Request(url, headers=headers), timeout=timeout)


def download(
    url: str,
    path,
    *,
    attempts: int = 5,
    timeout: float = 60.0,
    retry_wait: float = 2.0,
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``path``, resuming from ``path + ".part"`` with HTTP Range requests.

    Parameters
    ----------
    url : str
        ``http://`` or ``https://`` address.
    path : str or Path
        Final file; bytes arrive in ``<path>.part`` and are renamed when complete.
        An existing ``path`` is returned untouched.
    attempts : int
        Requests at most (each resumes where the last one stopped).
    timeout : float
        Seconds without data before a request is abandoned (then retried).
    retry_wait : float
        Seconds between attempts.
    progress : bool
        Show a progress bar.

    Raises
    ------
    MerError
        An HTTP error, or no complete file after ``attempts`` requests (the
        ``.part`` file is kept so the next call resumes).
    """
    from http.client import HTTPException
    from urllib.error import HTTPError, URLError

    from tqdm.auto import tqdm

    path = Path(path)
    if urlparse(url).scheme not in ("http", "https"):
        raise ParameterError(f"url must start with http:// or https://, got {url!r}")
    if attempts < 1:
        raise ParameterError(f"attempts must be >= 1, got {attempts!r}")
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    last_error = "no attempt made"
    bar = tqdm(desc=path.name, unit="B", unit_scale=True, disable=not progress)
    try:
        for attempt in range(attempts):
            if attempt:
                time.sleep(retry_wait)
            have = part.stat().st_size if part.is_file() else 0
            try:
                with _open(url, have, timeout) as resp:
                    total, append = _plan(resp, have)
                    bar.reset(total=total)
                    bar.update(have if append else 0)
                    with open(part, "ab" if append else "wb") as fh:
                        while chunk := resp.read(_CHUNK):
                            fh.write(chunk)
                            bar.update(len(chunk))
                        fh.flush()
                        os.fsync(fh.fileno())
            except HTTPError as exc:
                if exc.code == 416 and have:
                    m = _UNSATISFIED_RANGE.search(exc.headers.get("Content-Range", "") or "")
                    if m and int(m.group(1)) == have:  # the .part file was already complete
                        os.replace(part, path)
                        return path
                    part.unlink()  # larger than the remote file: start over
                    last_error = "HTTP 416 (the partial file did not match); restarting"
                    continue
                raise MerError(f"{url}: HTTP error {exc.code} {exc.reason}") from None
            except (URLError, HTTPException, OSError) as exc:
                last_error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
                continue
            size = part.stat().st_size
            if total is None or size == total:
                os.replace(part, path)
                return path
            if size > total:
                part.unlink()
                last_error = f"received {size} bytes, more than the announced {total}; restarting"
            else:
                last_error = f"connection closed after {size} of {total} bytes"
    finally:
        bar.close()
    raise MerError(
        f"{url}: download incomplete after {attempts} attempt(s) ({last_error}); the partial "
        f"file {part} is kept and the next run resumes from it"
    )


def _plan(resp, have: int) -> tuple[int | None, bool]:
    """``(total size or None, append?)`` for a response to a request starting at ``have``."""
    length = resp.headers.get("Content-Length")
    if have and resp.status == 206:
        m = _CONTENT_RANGE.search(resp.headers.get("Content-Range", "") or "")
        if m and int(m.group(1)) == have:
            return (None if m.group(3) == "*" else int(m.group(3))), True
        raise MerError(
            f"server answered a resume request from byte {have} with Content-Range "
            f"{resp.headers.get('Content-Range')!r}; delete the .part file to start over"
        )
    # 200: the whole file (the server ignored or was not sent a Range header)
    return (int(length) if length and length.isdigit() else None), False


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    parts = re.split(r"[\\/]+", name)
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "absolute path"
    if ".." in parts:
        return "'..' in the path"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link"
    return None


def safe_unpack(archive, dest, *, max_unpacked_bytes: int = 20 * 1024**3) -> Path:
    """Check and extract a zip archive into the new folder ``dest``.

    Every member's CRC-32 is verified and unsafe members are refused (see the
    module docstring) *before* anything is written; the archive is only read.

    Returns
    -------
    Path
        ``dest`` (created; it must not exist).

    Raises
    ------
    MerError
        Not a zip file, a CRC error, an unsafe member (named), too large,
        or ``dest`` exists.
    """
    archive, dest = Path(archive), Path(dest)
    if dest.exists():
        raise MerError(f"{dest} already exists; not unpacking over it")
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            unsafe = [f"{m.filename!r} ({p})" for m in members if (p := _member_problem(m))]
            if unsafe:
                raise MerError(f"{archive}: refusing unsafe member(s) {_listing(unsafe)}")
            total = sum(m.file_size for m in members)
            if total > max_unpacked_bytes:
                raise MerError(
                    f"{archive}: would unpack to {total} bytes, more than the limit "
                    f"{max_unpacked_bytes} (max_unpacked_bytes)"
                )
            bad = zf.testzip()
            if bad is not None:
                raise MerError(f"{archive}: CRC check failed for member {bad!r} (damaged archive)")
            dest.mkdir(parents=True)
            try:
                for m in members:
                    if PurePosixPath(m.filename).parts[:1] == ("__MACOSX",):
                        continue
                    zf.extract(m, dest)
            except BaseException:
                shutil.rmtree(dest, ignore_errors=True)
                raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise MerError(f"{archive}: not a valid zip archive ({exc})") from None
    return dest


def _archive_name(url: str) -> str:
    name = PurePosixPath(urlparse(url).path).name
    return name if name.lower().endswith(".zip") else (name or "dataset") + ".zip"


def fetch_4q(
    dest,
    *,
    url: str = OFFICIAL_URL,
    sha256: str | None = OFFICIAL_SHA256,
    expected_counts=OFFICIAL_COUNTS,
    keep_archive: bool = True,
    attempts: int = 5,
    timeout: float = 60.0,
    retry_wait: float = 2.0,
    progress: bool = True,
) -> Path:
    """Download, verify and unpack the 4Q dataset; return its folder (the one with Q1..Q4).

    Parameters
    ----------
    dest : str or Path
        Folder to work in (created). The archive goes to
        ``<dest>/<archive name>``, the dataset to ``<dest>/<archive name
        without .zip>``.
    url : str
        Where to download from (:data:`OFFICIAL_URL`).
    sha256 : str, optional
        Expected SHA-256 of the archive (64 hex digits); unknown for the
        official release, see the module docstring.
    expected_counts : dict, int or None
        Clips per quadrant (:data:`OFFICIAL_COUNTS`: 225 each), one count for
        all, or ``None`` to accept any.
    keep_archive : bool
        Keep the zip after a successful unpack.
    attempts, timeout, retry_wait, progress
        See :func:`download`.

    Returns
    -------
    Path
        The dataset folder, ready for :func:`mer_core.datasets.load_4q`.

    Raises
    ------
    MerError
        Download failure, checksum mismatch, damaged or unsafe archive, a
        layout or count other than expected; no dataset folder is left then.
    """
    if sha256 is not None:
        sha256 = str(sha256).strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ParameterError(f"sha256 must be 64 hexadecimal digits, got {sha256!r}")
    expected = _expected(expected_counts)
    dest = Path(dest).absolute()
    archive = dest / _archive_name(url)
    target = dest / archive.name[: -len(".zip")]
    if target.exists():
        try:
            check_counts(target, expected)
        except MerError as exc:
            raise MerError(
                f"{target} already exists and does not hold the expected dataset ({exc}); "
                "it was left as it is: remove it, or choose another folder, to fetch again"
            ) from None
        return target

    download(
        url, archive, attempts=attempts, timeout=timeout, retry_wait=retry_wait, progress=progress
    )
    digest = file_digest(archive)
    if sha256 is not None and digest != sha256:
        raise MerError(
            f"{archive}: SHA-256 mismatch: expected {sha256}, got {digest}; nothing was "
            "unpacked (delete the archive to download it again)"
        )
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.unpack-", dir=dest))
    try:
        try:
            unpacked = safe_unpack(archive, tmp / "zip")
        except MerError as exc:
            raise MerError(f"{exc}; delete {archive} to download it again") from None
        content = _layout_root(unpacked)
        check_counts(content, expected)
        os.replace(content, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    atomic_write_bytes(digest_file(archive), f"{digest}  {archive.name}\n".encode())
    if not keep_archive:
        archive.unlink()
    return target


def digest_file(archive) -> Path:
    """Where :func:`fetch_4q` records the archive's SHA-256 (``<archive>.sha256``)."""
    archive = Path(archive)
    return archive.with_name(archive.name + ".sha256")


def _layout_root(folder: Path, depth: int = 3) -> Path:
    """The folder at most ``depth`` levels below ``folder`` that holds Q1..Q4 (else ``folder``)."""
    level = [folder]
    for _ in range(depth + 1):
        for candidate in level:
            if all((candidate / q).is_dir() for q in QUADRANTS):
                return candidate
        level = [
            p
            for c in level
            for p in sorted(c.iterdir())
            if p.is_dir() and not p.name.startswith((".", "__MACOSX"))
        ]
    return folder
