"""The paper profile's real wall time on the cluster path: ``PROFILE=paper``'s data
and results steps (corpus rendering, feature extraction, cross-validation of the
paper's models and ablations) for each scheme, run through a real Dask cluster
(``dask scheduler`` plus single-threaded ``dask worker`` processes on 127.0.0.1,
started here; the client is this process, as ``mer pipeline --scheduler`` is).

Usage::

    python benchmarks/bench_paper_run.py [--workers 2] [--schemes 4q emotion ema]
                                         [--build build/paper-run] [--out FILE]

The record (benchmarks/results/bench_paper_run.json) is rewritten after every
phase, so a run stopped part-way keeps what it measured, marked incomplete; run
again with the same ``--build`` and finished corpora, features and folds are
reused (their phases then measure only the check, and say so). ``--append`` keeps
the schemes the record in ``--out`` already finished and runs only the others,
adding their rows (each row says when it started and on what machine load), so
the three schemes can be measured in separate sittings. The notebooks and
the book are not part of it (they take seconds). A measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

from _harness import machine
from bench_cluster import LoopbackCluster, extract_all, fold_costs

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def _write(out: Path, record: dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(out)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--schemes", nargs="+", default=["4q", "emotion", "ema"])
    parser.add_argument("--build", default=str(REPO / "build" / "paper-run"))
    parser.add_argument("--out", default=str(HERE / "results" / "bench_paper_run.json"))
    parser.add_argument(
        "--add-folds",
        action="store_true",
        help="only add the per-task seconds of the finished schemes (from --build's fold "
        "records) to the record in --out, running nothing",
    )
    parser.add_argument(
        "--append",
        action="store_true",
        help="keep the schemes the record in --out finished; run only the others",
    )
    args = parser.parse_args(argv)
    build, out = Path(args.build), Path(args.out)
    if args.add_folds:
        record = json.loads(out.read_text())
        for row in record["schemes"]:
            if "cv_s" in row:
                row["folds"] = fold_costs(build, row["scheme"])
        _write(out, record)
        return
    # stopped with SIGTERM, or SIGINT even when started in the background (which
    # ignores SIGINT), the run still writes what it measured and stops its cluster
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from mer_core.datasets import load_dataset
    from mer_core.experiments import networks_per_fit
    from mer_core.pipeline import RUN_PROFILES, dataset_dir, ensure_dataset, ensure_results

    prof = RUN_PROFILES["paper"]
    os.environ.setdefault("MER_CACHE_DIR", str(build / "cache"))
    record = {
        "profile": "paper",
        "workers": args.workers,
        "threads_per_worker": 1,
        "networks_per_fit": networks_per_fit(budget=prof.training_budget),
        "machine": machine(),
        "schemes": [],
        "complete": False,
    }
    if args.append and out.is_file():
        previous = json.loads(out.read_text())
        if previous["workers"] != args.workers:
            sys.exit(f"{out}: measured on {previous['workers']} workers, not {args.workers}")
        if previous.get("networks_per_fit") != record["networks_per_fit"]:
            sys.exit(f"{out}: measured with another recipe's networks per fit; start afresh")
        record["schemes"] = [s for s in previous["schemes"] if "total_s" in s]
        record["sittings"] = previous.get("sittings", [previous["machine"]]) + [record["machine"]]
        record["machine"] = previous["machine"]
    finished = {s["scheme"] for s in record["schemes"]}
    t_start = time.perf_counter()
    cluster = LoopbackCluster(args.workers, build / "logs")
    try:
        for scheme in args.schemes:
            if scheme in finished:
                continue
            row = {
                "scheme": scheme,
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "load_before": os.getloadavg()[0],
            }
            record["schemes"].append(row)
            print(f"{scheme}: rendering the corpus", flush=True)
            t0 = time.perf_counter()
            ensure_dataset(
                build, scheme, profile="paper", progress=True, scheduler=cluster.address
            )
            row["render_s"] = time.perf_counter() - t0
            manifest = load_dataset(dataset_dir(build, scheme), scheme=scheme)
            row["n_clips"] = int(len(manifest))
            row["audio_seconds"] = float(manifest["duration"].astype(float).sum())
            _write(out, record)
            print(f"{scheme}: features", flush=True)
            t0 = time.perf_counter()
            extract_all(manifest, prof.window, scheduler=cluster.address, progress=True)
            row["extract_s"] = time.perf_counter() - t0
            _write(out, record)
            print(f"{scheme}: cross-validation", flush=True)
            t0 = time.perf_counter()
            rec = ensure_results(
                build, scheme, profile="paper", progress=True, scheduler=cluster.address
            )
            row["cv_s"] = time.perf_counter() - t0
            row["n_splits"] = rec["n_splits"]
            row["models"] = list(rec["models"])
            row["execution"] = rec.get("execution")
            row["folds"] = fold_costs(build, scheme)
            row["f1"] = {r["model"]: r["f1"] for r in rec["summary"]}
            row["load_after"] = os.getloadavg()[0]
            row["total_s"] = row["render_s"] + row["extract_s"] + row["cv_s"]
            _write(out, record)
            print(f"{scheme}: {row['total_s']:.0f} s", flush=True)
        record["complete"] = True
    finally:
        # the sum of the finished schemes' steps: with --append they ran in sittings
        record["wall_s"] = sum(s.get("total_s", 0.0) for s in record["schemes"])
        record["last_sitting_s"] = time.perf_counter() - t_start
        _write(out, record)
        cluster.close()
    print(f"paper profile on {args.workers} workers: {record['wall_s']:.0f} s -> {out}")


if __name__ == "__main__":
    sys.exit(main())
