"""The published book, built on the tiny profile and opened in a real browser.

`make book PROFILE=tiny` generates the data, runs the evaluations, executes every
notebook with papermill and builds the Jupyter Book (warnings are errors). The
pages are then served on 127.0.0.1 and opened in headless Chromium (Debian's
``chromium``, driven by Playwright): Tables 1-3 carry the four model rows with
numbers, the figures load and are not blank, math is rendered by the local
MathJax, audio players are present, and no page logs a console error. A
screenshot of the results page is kept in ``test-artifacts/``.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, cells_without_a_number, results_tables

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts"
MODELS = ("CNN", "SVM", "LSTM", "CNN-SVM")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    build = tmp_path_factory.mktemp("build")
    cmd = [
        "make",
        "--no-print-directory",
        "book",
        "PROFILE=tiny",
        f"BUILD={build}",
        "WITH_BENCH=0",
        "N_JOBS=2",
    ]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    html = build / "book" / "_build" / "html"
    assert (html / "intro.html").is_file()
    return html


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(book):
    """The built book on an ephemeral port of 127.0.0.1 (shut down after the tests)."""
    handler = functools.partial(_QuietHandler, directory=str(book))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


def _open(browser, url):
    """Open a page; return it with the console errors and failed requests it logs."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.goto(url, wait_until="load")
    page.wait_for_function("!window.MathJax || !MathJax.startup || MathJax.startup.promise")
    page.evaluate("window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    page.wait_for_load_state("networkidle")
    return page, errors


def _not_blank(png: bytes) -> bool:
    from io import BytesIO

    from PIL import Image

    img = np.asarray(Image.open(BytesIO(png)).convert("L"), dtype=float)
    return img.std() > 10 and (img < 200).mean() > 0.01


def test_results_page_tables_figures_and_screenshot(browser, server):
    page, errors = _open(browser, f"{server}/chapters/05_results.html")
    text = page.inner_text("main")
    for n in (1, 2, 3):
        assert f"Table {n}" in text
    tables = [
        t
        for t in page.query_selector_all("table")
        if all(re.search(rf"(^|\n)\s*{re.escape(m)}\s", t.inner_text() + " ") for m in MODELS)
    ]
    assert len(tables) >= 3, f"{len(tables)} tables with the four model rows"
    for t in tables[:3]:
        cells = [c.inner_text() for c in t.query_selector_all("td")]
        assert sum(bool(re.search(r"\d\.\d", c)) for c in cells) >= 8
        # every cell that should hold a reproduced number holds a finite one
        (table,) = results_tables(t.evaluate("t => t.outerHTML"))
        assert table["cells"] and not cells_without_a_number(table), cells_without_a_number(table)
    assert "Figure 1" in text and "Figure 2" in text
    images = page.query_selector_all("main img")
    assert len(images) >= 3
    for img in images:
        assert img.evaluate("i => i.complete && i.naturalWidth > 0"), img.get_attribute("src")
        assert _not_blank(img.screenshot())
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "book-results.png"), full_page=True)
    assert not errors, errors
    page.close()


def test_math_is_rendered_offline(browser, server):
    page, errors = _open(browser, f"{server}/chapters/01_preprocessing.html")
    assert page.evaluate("document.querySelectorAll('mjx-container').length") >= 4
    text = page.inner_text("main")
    assert "\\(" not in text and "$$" not in text
    src = page.evaluate("[...document.scripts].map(s => s.src).filter(s => /mathjax/i.test(s))")
    assert src and all(s.startswith(server) for s in src), src  # served locally, no CDN
    assert not errors, errors
    page.close()


def test_audio_players_and_no_console_errors_anywhere(browser, server, book):
    page, errors = _open(browser, f"{server}/chapters/03_datasets.html")
    assert page.evaluate("document.querySelectorAll('audio').length") >= 3
    assert not errors, errors
    page.close()
    for html in sorted(book.glob("*.html")) + sorted((book / "chapters").glob("*.html")):
        rel = html.relative_to(book).as_posix()
        if rel in ("genindex.html", "search.html"):
            continue
        page, errors = _open(browser, f"{server}/{rel}")
        assert not errors, (rel, errors)
        page.close()
