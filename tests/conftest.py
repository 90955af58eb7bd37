"""Shared test fixtures: small audio files made on the fly, and the real 4Q folder.

The whole session (doctests and notebook kernels included, which inherit the
environment) uses a fresh, empty feature cache of its own: ``MER_CACHE_DIR``
points to a temporary folder, so no test reads or writes the user's cache
(``~/.cache/mer``), where a stale entry could hide a change of feature code.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
FOURQ_DEV = Path(os.environ.get("MER_4Q_DEV", REPO.parent / "shared" / "data" / "4q-dev"))
#: The user's own MER_CACHE_DIR (if any) before the session replaced it.
USER_CACHE_DIR = os.environ.get("MER_CACHE_DIR")
_SESSION_CACHE: list[Path] = []


def pytest_configure(config):
    cache = Path(tempfile.mkdtemp(prefix="mer-test-cache-"))
    _SESSION_CACHE.append(cache)
    os.environ["MER_CACHE_DIR"] = str(cache)


def pytest_unconfigure(config):
    for cache in _SESSION_CACHE:
        shutil.rmtree(cache, ignore_errors=True)
    if USER_CACHE_DIR is None:
        os.environ.pop("MER_CACHE_DIR", None)
    else:
        os.environ["MER_CACHE_DIR"] = USER_CACHE_DIR


@pytest.fixture(scope="session")
def session_cache() -> Path:
    """The session's own feature cache (what ``MER_CACHE_DIR`` points to)."""
    return _SESSION_CACHE[-1]


def tone(seconds: float = 1.0, *, sr: int = 22050, freq: float = 440.0, channels: int = 1):
    """A quiet sine tone, shape (n,) or (n, channels), float32."""
    t = np.arange(int(round(seconds * sr))) / sr
    y = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return y if channels == 1 else np.repeat(y[:, None], channels, axis=1)


@pytest.fixture
def write_audio(tmp_path):
    """Write a test signal with soundfile: write_audio(name, data, sr, **kw) -> Path."""
    import soundfile as sf

    def _write(name, data, sr=22050, **kw):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), data, sr, **kw)
        return path

    return _write


@pytest.fixture(scope="session")
def fourq_dev() -> Path:
    """The real 4Q development clips; tests using this skip when they are absent."""
    if not (FOURQ_DEV / "Q1").is_dir():
        pytest.skip(f"real 4Q dev data not found at {FOURQ_DEV} (set MER_4Q_DEV)")
    return FOURQ_DEV
