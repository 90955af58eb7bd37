"""Benchmark of training and prediction: time and peak memory per model, and how
training time grows with the number of clips.

For each dataset -- the generated ``quick`` Emotion corpus, and the real 4Q
development clips when present -- features are extracted first (cached, not
timed); then every model of the paper's tables is fitted on all clips of a
class-balanced subset and predicts them, each fit in a fresh subprocess so
its peak memory (process and workers) is its own. Sizes: the whole generated
corpus, and 150 / 300 / 600 clips of the 4Q set (150 / 300 / all clips of the
generated corpus when 4Q is absent).

With the 4Q clips present it also times the command a user runs,
``mer train --model cnn_svm`` on all 600 clips, from a cold feature cache
(decoding and feature extraction included) and again from a warm one, and
``mer predict`` on 1 and on 40 new clips (nothing cached; the difference
gives the cost per clip, decoding included, once the process has started).

Usage::

    python benchmarks/bench_training.py [--data-4q DIR] [--budget paper] [--out FILE]

Writes a JSON record and prints a table. A measurement, not a test: nothing is
asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _harness import child_result, machine, run_child

from mer_core.cli import add_cache_dir_option
from mer_core.experiments import TRAINING_BUDGETS
from mer_core.names import PAPER_MODELS

HERE = Path(__file__).resolve().parent
DEFAULT_4Q = HERE.parent.parent / "shared" / "data" / "4q-dev"


def _features(spec: dict, n_jobs: int = 1):
    from mer_core.extract import FeatureConfig, extract_features

    return extract_features(
        spec["paths"],
        config=FeatureConfig(duration=spec["duration"]),
        cache_dir=spec.get("cache_dir"),
        n_jobs=n_jobs,
        progress=False,
    )


def _subset(labels: list[str], size: int, seed: int = 0) -> np.ndarray:
    """A class-balanced subset of ``size`` clips (indices, sorted)."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    per = size // len(classes)
    idx = [rng.choice(np.flatnonzero(labels == c), size=per, replace=False) for c in classes]
    return np.sort(np.concatenate(idx))


def child(spec_path: str, model: str, size: int, budget: str) -> None:
    import torch

    from mer_core.experiments import build_estimator

    spec = json.loads(Path(spec_path).read_text())
    fs = _features(spec)
    labels = np.asarray(spec["labels"])[fs.index]
    idx = _subset(labels.tolist(), size) if size < len(fs) else np.arange(len(fs))
    X = fs[idx]
    y = labels[idx]
    est = build_estimator(model, budget=budget, random_state=0)
    if "progress" in est.get_params():
        est.set_params(progress=False)
    t0 = time.perf_counter()
    est.fit(X, y)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    est.predict(X)
    predict_s = time.perf_counter() - t0
    child_result(
        {
            "fit_s": fit_s,
            "predict_s": predict_s,
            "n_clips": int(len(y)),
            "torch_threads": torch.get_num_threads(),
        }
    )


def _timed(cmd: list[str], env: dict) -> float:
    import os
    import subprocess

    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def cli_costs(data_4q: Path, tmp: Path) -> list[dict]:
    """Wall time of ``mer train`` (cold and warm feature cache) and ``mer predict``."""
    from mer_core.datasets import load_dataset

    mer = str(Path(sys.executable).with_name("mer"))
    env = {"MER_CACHE_DIR": str(tmp / "cli-cache")}
    train = [mer, "train", "--scheme", "4q", "--data", str(data_4q), "--model", "cnn_svm"]
    rows = []
    for step in ("cold", "warm"):
        print(f"  mer train cnn_svm, {step} feature cache ...", file=sys.stderr, flush=True)
        seconds = _timed([*train, "--quiet", "--out", str(tmp / f"run-{step}")], env)
        rows.append({"step": f"mer train cnn_svm (600 clips, {step} cache)", "seconds": seconds})
    paths = load_dataset(data_4q, scheme="4q")["path"].tolist()
    times = {}
    for n in (1, 40):
        cmd = [mer, "predict", *paths[:n], "--model", str(tmp / "run-warm"), "--json"]
        # a fresh cache: the clips are decoded and analysed as a new song would be
        times[n] = _timed(cmd, {"MER_CACHE_DIR": str(tmp / f"predict-cache-{n}")})
        rows.append({"step": f"mer predict, {n} new clip(s)", "seconds": times[n]})
    rows.append({"step": "mer predict, per clip", "seconds": (times[40] - times[1]) / 39})
    return rows


def _dataset_specs(args, tmp: Path) -> list[dict]:
    from mer_core.datasets import load_dataset
    from mer_core.synth import generate_corpus

    specs = []
    corpus = Path(args.corpus_dir)
    generate_corpus(corpus, scheme="emotion", size="quick", seed=0, progress=True)
    m = load_dataset(corpus, scheme="emotion")
    n = len(m)
    specs.append(
        {
            "name": "generated emotion (quick)",
            "paths": m["path"].tolist(),
            "labels": m["label"].tolist(),
            "duration": 15.0,  # the quick profile's analysis window (mer_core.pipeline)
            "sizes": [n] if args.data_4q.is_dir() else [n // 4, n // 2, n],
        }
    )
    if args.data_4q.is_dir():
        m = load_dataset(args.data_4q, scheme="4q")
        specs.append(
            {
                "name": "4q-dev (real)",
                "paths": m["path"].tolist(),
                "labels": m["label"].tolist(),
                "duration": 40.0,
                "sizes": [150, 300, len(m)],
            }
        )
    for i, s in enumerate(specs):
        s["cache_dir"] = args.cache_dir
        s["file"] = str(tmp / f"spec{i}.json")
        Path(s["file"]).write_text(json.dumps(s))
    return specs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-4q", type=Path, default=DEFAULT_4Q)
    ap.add_argument("--budget", default="paper", choices=tuple(TRAINING_BUDGETS))
    ap.add_argument("--corpus-dir", default=str(Path.home() / ".cache" / "mer" / "bench-corpus"))
    add_cache_dir_option(ap)
    ap.add_argument("--models", default=",".join(PAPER_MODELS))
    ap.add_argument(
        "--no-cli",
        dest="cli",
        action="store_false",
        help="skip timing `mer train` / `mer predict` on the 4Q clips",
    )
    ap.add_argument("--out", type=Path, default=HERE / "results" / "bench_training.json")
    ap.add_argument(
        "--child", nargs=4, metavar=("SPEC", "MODEL", "SIZE", "BUDGET"), help=argparse.SUPPRESS
    )
    args = ap.parse_args(argv)
    if args.child:
        spec, model, size, budget = args.child
        child(spec, model, int(size), budget)
        return 0

    from mer_core.io import atomic_write_json

    tmp = Path(tempfile.mkdtemp(prefix="mer-bench-train-"))
    record = {
        "benchmark": "bench_training",
        "budget": args.budget,
        "machine": machine(),
        "rows": [],
    }
    specs = _dataset_specs(args, tmp)
    for spec in specs:
        print(f"features for {spec['name']} ...", file=sys.stderr, flush=True)
        fs = _features(spec, n_jobs=2)
        spec_audio = float(np.sum(np.minimum(fs.n_valid / 22050, spec["duration"])))
        for size in spec["sizes"]:
            for model in args.models.split(","):
                print(f"  {model} on {size} clips ...", file=sys.stderr, flush=True)
                cmd = [
                    sys.executable,
                    __file__,
                    "--child",
                    spec["file"],
                    model,
                    str(size),
                    args.budget,
                ]
                res = run_child(cmd)
                res.update(
                    dataset=spec["name"],
                    model=model,
                    size=size,
                    dataset_audio_s=spec_audio,
                    dataset_clips=len(fs),
                )
                record["rows"].append(res)
    atomic_write_json(args.out, record)
    if args.data_4q.is_dir() and args.cli:
        record["cli"] = cli_costs(args.data_4q, tmp)
        atomic_write_json(args.out, record)

    for r in record.get("cli", []):
        print(f"{r['step']:40s} {r['seconds']:8.1f} s")
    print(
        f"\n{'dataset':28s} {'model':8s} {'clips':>6s} {'fit s':>8s} {'predict s':>10s} "
        f"{'peak MB':>8s}"
    )
    for r in record["rows"]:
        print(
            f"{r['dataset']:28s} {r['model']:8s} {r['n_clips']:6d} {r['fit_s']:8.1f} "
            f"{r['predict_s']:10.2f} {r['peak_rss_mb']:8.0f}"
        )
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
