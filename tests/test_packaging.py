"""The project's pins: exact, in one place, mirrored by environment.yml."""

from __future__ import annotations

import re
import tomllib

import yaml
from conftest import REPO


def _pyproject_pins() -> dict[str, str]:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta.get("optional-dependencies", {}).values():
        reqs += extra
    pins = {}
    for req in reqs:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)", req)
        assert m, f"pyproject.toml: {req!r} is not pinned exactly (name==version)"
        pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def _conda_pins() -> dict[str, str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    pins = {}
    for req in pip:
        if req.startswith("-e"):
            continue
        name, _, version = req.partition("==")
        pins[name.lower().replace("_", "-")] = version
    return pins


def test_every_dependency_is_pinned_exactly_and_torch_is_the_cpu_wheel():
    import importlib.metadata as md

    import torch

    pins = _pyproject_pins()
    assert pins["torch"] == "2.13.0"
    assert pins["jupyter-book"].startswith("1.")
    assert "torchaudio" not in pins
    # the installed torch is the CPU build: no CUDA runtime, none of the nvidia-* wheels
    assert torch.version.cuda is None, torch.version.cuda
    assert md.version("torch").endswith("+cpu"), md.version("torch")
    nvidia = sorted(d.metadata["Name"] for d in md.distributions() if
                    (d.metadata["Name"] or "").lower().startswith("nvidia-"))  # fmt: skip
    assert nvidia == [], nvidia


def _makefile_nodeps_pins() -> dict[str, str]:
    text = (REPO / "Makefile").read_text()
    line = re.search(r"^NODEPS_PINS\s*:=\s*(.*)$", text, re.M).group(1)
    return dict(req.split("==") for req in line.split())


def test_environment_yml_states_the_same_pins():
    assert _conda_pins() == {**_pyproject_pins(), **_makefile_nodeps_pins()}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]


def test_installed_versions_match_the_pins():
    import importlib.metadata as md

    for name, version in {**_pyproject_pins(), **_makefile_nodeps_pins()}.items():
        installed = md.version(name)
        assert installed.split("+")[0] == version, f"{name}: pinned {version}, have {installed}"
