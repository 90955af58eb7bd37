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


# --------------------------------------------------------------- results tables (HTML)


def _index(classes, prefix):
    return next((int(c[len(prefix) :]) for c in classes if c.startswith(prefix)
                 and c[len(prefix) :].isdigit()), None)  # fmt: skip


def results_tables(html: str) -> list[dict]:
    """The tables of pandas Styler HTML.

    Each is a dict with ``caption``, ``headings`` (column number -> heading
    texts) and ``cells``: ``(row number, row label, column number, text)``
    for every data cell.
    """
    from html.parser import HTMLParser

    tables, stack = [], []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "table":
                tables.append({"caption": "", "headings": {}, "cells": [], "labels": {}})
                stack.append(tables[-1])
            elif stack and tag in ("th", "td", "caption"):
                stack[-1]["open"] = (tag, (dict(attrs).get("class") or "").split(), [])

        def handle_data(self, data):
            if stack and stack[-1].get("open"):
                stack[-1]["open"][2].append(data)

        def handle_endtag(self, tag):
            if not stack:
                return
            table = stack[-1]
            if tag == "table":
                stack.pop()
                return
            if tag not in ("th", "td", "caption") or not table.get("open"):
                return
            _, classes, text = table.pop("open")
            text = "".join(text).strip()
            row, col = _index(classes, "row"), _index(classes, "col")
            if tag == "caption":
                table["caption"] = text
            elif "col_heading" in classes and col is not None:
                table["headings"].setdefault(col, []).append(text)
            elif "row_heading" in classes and row is not None:
                table["labels"].setdefault(row, []).append(text)
            elif "data" in classes and row is not None and col is not None:
                label = " ".join(table["labels"].get(row, []))
                table["cells"].append((row, label, col, text))

    Parser().feed(html)
    layout = layout_tables(html)
    # a paper-layout table has no Styler cells: it is read by layout_tables
    return [t for t in tables if t["cells"] or not layout] + layout


def layout_tables(html: str) -> list[dict]:
    """The book's paper-layout tables (``table.mer-layout``), in :func:`results_tables`' form.

    A data cell's text is the reproduced value (``span.mer-ours``: mean and
    interval); the paper's value beside it is left out, as the paper does not
    report every value.
    """
    from html.parser import HTMLParser

    tables, state = [], {}

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            classes = (dict(attrs).get("class") or "").split()
            if tag == "table":
                state.clear()
                state["on"] = "mer-layout" in classes
                if state["on"]:
                    tables.append({"caption": "", "headings": {}, "cells": [], "labels": {}})
                    state.update(row=-1, head=[], text=None, where=None)
                return
            if not state.get("on"):
                return
            if tag == "tr":
                state["row"] += 1
                state["col"] = -1
            elif tag in ("th", "caption"):
                state["where"], state["text"] = tag, []
            elif tag == "td":
                state["col"] += 1
                state["where"], state["text"] = "td", []
                state["ours"] = False
            elif tag == "span" and "mer-ours" in classes and state.get("where") == "td":
                state["ours"] = True

        def handle_data(self, data):
            if not state.get("on") or state.get("text") is None:
                return
            if state["where"] != "td" or state.get("ours"):
                state["text"].append(data)

        def handle_endtag(self, tag):
            if not state.get("on"):
                return
            table = tables[-1]
            if tag == "table":
                state["on"] = False
            elif tag == "span":
                state["ours"] = False
            elif tag in ("th", "td", "caption") and state.get("text") is not None:
                text = "".join(state["text"]).strip()
                state["text"] = None
                if tag == "caption":
                    table["caption"] = text
                elif tag == "th" and state["row"] == 0:
                    state["head"].append(text)
                elif tag == "th":
                    table["labels"][state["row"]] = [text]
                else:
                    row, col = state["row"], state["col"]
                    table["headings"][col] = [state["head"][col + 1]]
                    label = " ".join(table["labels"].get(row, []))
                    table["cells"].append((row, label, col, text))

    Parser().feed(html)
    return tables


def _number(text: str) -> bool:
    """A finite number, or a finite mean with its interval (``0.21 [0.07, 0.34]``)."""
    import math
    import re

    match = re.fullmatch(r"(\S+) \[(\S+), (\S+)\]", text.strip())
    parts = match.groups() if match else [text]
    try:
        return all(math.isfinite(float(p.replace(",", "").rstrip("%"))) for p in parts)
    except ValueError:
        return False


def cells_without_a_number(table: dict) -> list[str]:
    """Cells of a results table that should hold a finite number and do not.

    Every data cell should, except those the paper leaves open: cells in a
    column headed ``paper`` (the paper does not report every value), and a
    ``difference`` to the paper in a row where the paper has no value. A
    reproduced value, interval or difference shown as an en dash, ``nan`` or
    ``inf`` means the run produced no number.
    """
    heading = {c: " ".join(h).lower() for c, h in table["headings"].items()}
    paper_cols = [c for c, h in heading.items() if "paper" in h]
    no_paper_value = {
        row for row, _, col, text in table["cells"] if col in paper_cols and not _number(text)
    }
    bad = []
    for row, label, col, text in table["cells"]:
        name = heading.get(col, str(col))
        if col in paper_cols or ("diff" in name and row in no_paper_value):
            continue
        if not _number(text):
            bad.append(f"{label} / {name}: {text!r}")
    return bad
