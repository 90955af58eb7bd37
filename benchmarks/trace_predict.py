"""The walk of one clip through ``mer predict``: stages, calls, containers, file reads.

Builds (once, under ``--workdir``) a tiny generated corpus and a model trained
on it by ``mer train``, then runs ``mer predict`` on one clip of it twice, in a
fresh process each time (under ``strace`` when it is installed): first with an
empty feature cache (the clip's features are computed), then with the cache
filled (they are read back). For each run it reports

* **stages**: the ``mer_core`` functions called at ``mer_core`` call depth 1-5
  from ``mer predict``'s ``_predict`` (comprehensions left out), in first-call
  order (repeats folded);
* **calls**: every call of a ``mer_core`` function inside ``_predict``
  (``sys.setprofile``; start-up imports and argument parsing left out);
* **loose settings**: calls whose function takes one of ``sr``, ``n_fft``,
  ``hop_length``, ``n_mels``, ``n_mfcc``, ``preemphasis`` as a parameter (the
  front-end settings passed by hand) rather than a ``FeatureConfig``;
* **containers**: the feature containers built (instances of the classes
  whose ``__init__`` ran, by name) and the model's internal matrices and
  network forward passes, counted;
* **feature groups** computed and cache entries read;
* **file reads**: files under the work folder opened for reading, by kind:
  the audio clip, the model's files (``config.json``, ``arrays.npz``,
  ``weights.pt``, ``train.json``) and cache entries.

Run from the repository root::

    .venv/bin/python benchmarks/trace_predict.py --workdir /tmp/trace --model cnn

It prints one table per run and writes them to ``--json`` when given
(``benchmarks/results/trace_predict.json`` holds the walk before and after
issue 9's single container). It is a
measurement, not a test: the numbers depend on the code it runs (the copy of
``mer_core`` that Python imports, printed first).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

SETTINGS = {"sr", "n_fft", "hop_length", "n_mels", "n_mfcc", "preemphasis"}
MATRICES = {  # by qualified name (networks._pooled, a size helper, is not one)
    "NetworkMixin._pooled": "pooled maps",
    "CNNSVMClassifier._fused": "fused matrix",
    "SVMClassifier._design": "SVM design matrix",
    "network_outputs": "network forward pass",
}


def _build(workdir: Path, model: str) -> tuple[Path, Path]:
    """A tiny corpus and a model trained on it (kept between calls)."""
    from mer_core.cli import main

    corpus, run = workdir / "corpus", workdir / f"run_{model}"
    if not (corpus / "manifest.csv").is_file():
        args = ["synth", "--size", "tiny", "--scheme", "emotion", "--quiet"]
        assert main([*args, "--out", str(corpus)]) == 0
    if not (run / "model" / "config.json").is_file():
        args = ["train", "--scheme", "emotion", "--data", str(corpus), "--duration", "5"]
        args += ["--budget", "tiny", "--model", model, "--out", str(run), "--quiet"]
        assert main([*args, "--cache-dir", str(workdir / "train_cache")]) == 0
    return corpus, run


def _trace(argv: list[str]) -> dict:
    """Run ``mer argv`` in this process under a profiler of mer_core frames."""
    from mer_core.cli import main

    calls, stages, loose, containers, matrices = 0, [], 0, {}, {}
    loose_functions, seen = set(), set()
    groups_computed, entries_read = [], 0
    depth = [0]  # mer_core frames below experiments_cli._predict (0: outside it)

    def name_of(frame) -> str:
        code = frame.f_code
        return f"{frame.f_globals.get('__name__', '?')}.{code.co_qualname}"

    def profile(frame, event, arg):
        nonlocal calls, loose, entries_read
        if event not in ("call", "return"):
            return
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("mer_core"):
            return
        if depth[0] == 0 and not (event == "call" and frame.f_code.co_name == "_predict"):
            return  # start-up (imports, argument parsing) is not the clip's walk
        if event == "return":
            depth[0] -= 1
            return
        depth[0] += 1
        calls += 1
        code = frame.f_code
        n_args = code.co_argcount + code.co_kwonlyargcount
        if SETTINGS & set(code.co_varnames[:n_args]):
            loose += 1
            loose_functions.add(name_of(frame))
        if code.co_name == "__init__" and "self" in frame.f_locals:
            cls = type(frame.f_locals["self"]).__name__
            if cls in ("FeatureSet", "ClipFeatures"):
                containers[cls] = containers.get(cls, 0) + 1
        if code.co_qualname in MATRICES:
            what = MATRICES[code.co_qualname]
            matrices[what] = matrices.get(what, 0) + 1
        if code.co_name == "_read_entry":
            entries_read += 1
        if code.co_name in ("clip_features", "signal_features"):
            groups_computed.append(sorted(frame.f_locals.get("groups") or ()))
        key = (depth[0], name_of(frame))
        if depth[0] <= 5 and "<" not in key[1] and key not in seen:
            seen.add(key)
            stages.append(key)

    import mer_core.extract
    import mer_core.models  # noqa: F401  (imported first: imports are not the clip's walk)

    sys.setprofile(profile)
    try:
        code = main(argv)
    finally:
        sys.setprofile(None)
    return {
        "exit": code,
        "mer_core_calls": calls,
        "distinct_functions": len({s[1] for s in stages}),
        "loose_setting_calls": loose,
        "loose_setting_functions": sorted(loose_functions),
        "containers": containers,
        "model_matrices": matrices,
        "groups_computed": groups_computed,
        "cache_entries_read": entries_read,
        "stages": [f"{'  ' * (d - 1)}{n.removeprefix('mer_core.')}" for d, n in stages],
    }


def _opened(log: Path, workdir: Path) -> dict:
    """Files under ``workdir`` opened for reading, counted by kind (from strace's log)."""
    kinds: dict[str, int] = {}
    root = str(workdir.resolve())
    for line in log.read_text(errors="replace").splitlines():
        m = re.search(r'openat\([^,]+, "([^"]+)", ([A-Z_|]+)', line)
        flags = m.group(2) if m else ""
        if not m or "= -1" in line or any(f in flags for f in ("O_WRONLY", "O_CREAT", "O_DIR")):
            continue
        path = m.group(1)
        if not os.path.isabs(path) or not path.startswith(root):
            continue
        name = Path(path).name
        if "/cache/" in path:
            kind = "cache entry (.npz)"
        elif "/corpus/" in path:
            kind = "audio clip"
        else:
            kind = name
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def _child(argv: list[str], out: Path) -> None:
    out.write_text(json.dumps(_trace(argv)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default="/tmp/mer_trace_predict", help="work folder")
    parser.add_argument("--model", default="cnn", help="model of `mer train` (default cnn)")
    parser.add_argument("--json", default=None, help="also write the tables here")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child:
        _child(json.loads(args.child[0]), Path(args.child[1]))
        return 0

    import mer_core

    print(f"mer_core: {Path(mer_core.__file__).parent}")
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    corpus, run = _build(workdir, args.model)
    song = sorted(corpus.glob("*/*.wav"))[0]
    cache = workdir / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    argv = ["predict", str(song), "--model", str(run), "--json", "--cache-dir", str(cache)]
    strace = shutil.which("strace")
    report = {}
    for label in ("cold cache", "warm cache"):
        out, log = workdir / "trace.json", workdir / "strace.log"
        cmd = [sys.executable, __file__, "--child", json.dumps(argv), str(out)]
        if strace:
            cmd = [strace, "-f", "-qq", "-e", "trace=openat", "-o", str(log), *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        result = json.loads(out.read_text())
        result["file_reads"] = _opened(log, workdir) if strace else "strace not installed"
        report[label] = result
        print(f"\n## {label}: mer predict {song.name} --model {run.name}")
        for key, value in result.items():
            if key != "stages":
                print(f"{key:26s} {value}")
        print("stages:")
        print("\n".join(f"  {s}" for s in result["stages"]))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
