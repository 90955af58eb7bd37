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
    if os.environ.get("MER_BOOK_BUILD"):  # development: reuse a book `make book` built
        build = Path(os.environ["MER_BOOK_BUILD"]).resolve()
    else:
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
    page.on(
        "response", lambda r: errors.append(f"{r.status}: {r.url}") if r.status >= 400 else None
    )
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


# ----------------------------------------------------------------------------- reading


def _pages(book: Path) -> list[Path]:
    skip = {"genindex.html", "search.html"}
    return [
        p for p in sorted(book.rglob("*.html")) if p.name not in skip and "_static" not in p.parts
    ]


_DATA_URI = re.compile(r"base64,[A-Za-z0-9+/=\s]+")


def test_no_machine_paths_on_any_page(book):
    """No page names a folder of the build machine (the data URIs of audio are skipped)."""
    forbidden = [str(REPO), str(book.parents[2]), "/tmp/", "/home/", "/root/"]
    for page in _pages(book):
        text = _DATA_URI.sub("", page.read_text(errors="replace"))
        for bad in forbidden:
            assert bad not in text, (page.relative_to(book).as_posix(), bad)


def test_results_first_code_collapsed_and_injected_cell_removed(browser, server):
    page, errors = _open(browser, f"{server}/chapters/05_results.html")
    text = page.inner_text("main")
    assert "build_dir" not in text and "injected" not in text  # no parameter cells shown
    assert page.locator("details.hide.above-input").count() >= 3  # code behind toggles
    assert text.index("Finding.") < text.index("Table 1.")  # the verdict opens the chapter
    assert not errors, errors
    page.close()
    page, errors = _open(browser, f"{server}/intro.html")
    table = [t for t in page.query_selector_all("table") if "CNN-SVM vs CNN" in t.inner_text()]
    assert table and len(table[0].query_selector_all("tbody tr")) >= 3  # one row per run
    page.close()


def test_pages_fit_1280_px_and_confusion_matrices_are_readable(browser, server, book):
    for html in sorted((book / "chapters").glob("*.html")):
        rel = html.relative_to(book).as_posix()
        page, _ = _open(browser, f"{server}/{rel}")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (rel, overflow)
        wide = page.evaluate(
            """() => [...document.querySelectorAll('main table')].filter(t => {
                 const box = t.closest('.cell_output, .output, section') || t.parentElement;
                 return t.getBoundingClientRect().width > box.clientWidth + 1 ||
                        t.getBoundingClientRect().right > document.querySelector('main')
                          .getBoundingClientRect().right + 1;
               }).map(t => t.innerText.slice(0, 60))"""
        )
        assert not wide, (rel, wide)
        page.close()
    page, _ = _open(browser, f"{server}/chapters/05_results.html")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('main img')].map(i =>
             [i.naturalWidth, i.naturalHeight, i.getBoundingClientRect().width])"""
    )
    # the confusion matrices: the tallest figures of the page (2 x 2 heatmaps)
    confusion = sorted(sizes, key=lambda s: s[1])[-3:]
    for natural_w, _natural_h, shown_w in confusion:
        assert natural_w >= 800, natural_w  # drawn large: 11 pt counts at 100 dpi
        assert shown_w >= 0.6 * min(natural_w, 1000), (natural_w, shown_w)  # not a thumbnail
    page.close()


def test_tables_in_the_paper_layout(browser, server):
    page, _ = _open(browser, f"{server}/chapters/05_results.html")
    tables = page.query_selector_all("table.mer-layout")
    assert len(tables) == 3
    for t in tables:
        head = [h.inner_text().strip() for h in t.query_selector_all("thead th")]
        assert head == ["model", "Accuracy", "Precision", "Recall", "F1", "Training time (s)"]
        rows = [r.query_selector("th").inner_text() for r in t.query_selector_all("tbody tr")]
        assert rows == list(MODELS)
        assert all("paper" in c.inner_text() for c in t.query_selector_all("td"))
    assert page.locator("details:has-text('Long form')").count() == 3
    page.close()


def test_example_params_file_is_current():
    from mer_core.book import example_params

    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    assert (REPO / "params.example.yml").read_text() == example_params(notebooks)


def test_a_parameter_change_reaches_the_book_once(book, tmp_path):
    """`make book PARAMS=p.yml`: an unknown key is refused by name; a changed parameter
    re-executes the notebook that reads it and changes the page; the next run is a no-op."""
    build = book.parents[2]
    args = ["make", "--no-print-directory", "book", "PROFILE=tiny", f"BUILD={build}"]
    args += ["WITH_BENCH=0", "N_JOBS=2"]
    bad = tmp_path / "bad.yml"
    bad.write_text("coeff: 0.5\n")
    proc = subprocess.run([*args, f"PARAMS={bad}"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0 and "unknown parameter 'coeff'" in proc.stderr
    page = book / "chapters" / "01_preprocessing.html"
    before = page.read_text()
    shown = re.compile(r'src="[^"]*_images/([0-9a-f]+\.png)"')
    good = tmp_path / "p.yml"
    good.write_text("coef: 0.5\n")
    proc = subprocess.run(
        [*args, f"PARAMS={good}"], cwd=REPO, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "papermill" in proc.stdout and "05_results" not in proc.stdout  # only chapter 1
    assert "Passed unknown parameter" not in proc.stdout + proc.stderr
    after = page.read_text()
    assert after != before
    # the page now shows other figures (those of mu = 0.5)
    assert set(shown.findall(after)) and set(shown.findall(after)) != set(shown.findall(before))
    again = subprocess.run(
        [*args, f"PARAMS={good}"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr[-2000:]
    ran = [w for w in ("mer pipeline", "papermill", "jupyter-book") if w in again.stdout]
    assert not ran, f"a second run after the change is not a no-op: it ran {ran}"
