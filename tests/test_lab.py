"""JupyterLab as `make lab` starts it, driven in Debian's Chromium by Playwright.

JupyterLab runs on 127.0.0.1 over a copy of notebooks/ with the project's server
configuration (``etc/``: outputs are stripped on save). The test opens notebook 01,
runs all cells, moves the pre-emphasis slider twice and checks that the figure under
the sliders appears and changes, that no cell shows an error, and that saving writes
no outputs into the notebook file.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import REPO

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts"
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(REPO / "notebooks" / "01_preprocessing.ipynb", root)
    port = _free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_PATH": str(REPO / "etc"),
        "JUPYTER_RUNTIME_DIR": str(root / ".runtime"),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    log = open(root / "lab.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--allow-root",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--ServerApp.token=",
            "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True",
            f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start: " + (root / "lab.log").read_text()[-2000:])
        yield url, root
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_lab_runs_notebook_01_and_the_slider_redraws(lab):
    from playwright.sync_api import sync_playwright

    url, root = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            _drive(page, url)
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "lab-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    nb = json.loads((root / "01_preprocessing.ipynb").read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)


def _drive(page, url):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(f"{url}/lab/tree/01_preprocessing.ipynb")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    try:  # a fresh server may ask which kernel to start: the notebook's own
        page.get_by_role("button", name="Select", exact=True).click(timeout=20_000)
    except PlaywrightTimeout:
        pass
    page.wait_for_selector("text=Python 3 (ipykernel) | Idle", timeout=120_000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=False).first.click()
    slider = page.locator(".widget-slider").first
    slider.wait_for(timeout=180_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
    widget = page.locator(".widget-vbox").first
    assert widget.locator("img").count() == 0  # the explorer draws on the first move
    handle = slider.locator(".noUi-handle").first
    handle.scroll_into_view_if_needed()

    def move_and_get(key):
        handle.focus()
        for _ in range(5):
            page.keyboard.press(key)
        page.wait_for_function(
            "old => { const i = document.querySelector('.widget-vbox img');"
            " return i && i.src !== old; }",
            arg=previous[0],
            timeout=60_000,
        )
        previous[0] = widget.locator("img").first.get_attribute("src")
        return previous[0]

    previous = [""]
    first = move_and_get("ArrowLeft")
    second = move_and_get("ArrowLeft")
    assert first and second and first != second  # the figure changed with the slider
    label = slider.locator(".widget-readout").first.inner_text()
    assert label.strip() == "0.87", label  # 0.97 moved down by ten steps of 0.01
    errors = page.locator("[data-mime-type='application/vnd.jupyter.error']").count()
    stderr = page.locator("[data-mime-type='application/vnd.jupyter.stderr']").count()
    assert errors == 0 and stderr == 0
    page.keyboard.press("Control+s")
    time.sleep(2)
