"""Benchmark of the Dask cluster path: a profile's results step (feature extraction and
cross-validation of the paper's models and ablations, one scheme) on 1 and 2
single-threaded workers and locally, the per-task overhead of the scheduler, and a
projection for N workers from the measured task costs (the paper profile's own
run and projection: ``bench_paper_run.py``).

Each variant starts from an empty feature cache and an empty run folder, so it
does the whole step; the corpus is generated once beforehand (not timed). The
cluster is real: ``dask scheduler`` and ``dask worker --nthreads 1`` processes
on 127.0.0.1, started by this script; each measured run is ``mer``'s own code in
a fresh client process.

Usage::

    python benchmarks/bench_cluster.py [--profile quick] [--scheme emotion] [--out FILE]

Writes a JSON record (machine, load average before and after each variant,
versions) and prints a table. A measurement, not a test: nothing is asserted.
On a machine shared with other work the speed-ups are those of the cores the
run actually got; the record keeps the load averages to say so.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from _harness import child_result, machine, run_child

from mer_core.names import SCHEME_IDS

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DASK = Path(sys.executable).with_name("dask")
# Clips and clip lengths of the paper-size corpora (the paper's datasets).


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackCluster:
    """``dask scheduler`` plus ``n`` single-threaded ``dask worker`` processes."""

    def __init__(self, n_workers: int, log_dir: Path):
        self.address = f"tcp://127.0.0.1:{_free_port()}"
        port = self.address.rsplit(":", 1)[1]
        log_dir.mkdir(parents=True, exist_ok=True)
        self.logs = [open(log_dir / f"{i}.log", "w") for i in range(n_workers + 1)]  # noqa: SIM115
        self.procs = [
            subprocess.Popen(
                [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", port]
                + ["--dashboard-address", ":0"],
                stdout=self.logs[0],
                stderr=subprocess.STDOUT,
            )
        ]
        for i in range(n_workers):
            self.procs.append(
                subprocess.Popen(
                    [str(DASK), "worker", self.address, "--nthreads", "1"]
                    + ["--dashboard-address", ":0", "--name", f"w{i}"],
                    stdout=self.logs[i + 1],
                    stderr=subprocess.STDOUT,
                )
            )
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(n_workers, timeout=180)

    def close(self) -> None:
        for p in reversed(self.procs):
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for fh in self.logs:
            fh.close()


def extract_all(manifest, window: float, *, scheduler: str, n_jobs: int = 1, progress=False):
    """Features of every clip for each feature configuration the paper's models and
    ablations use (what a results step extracts)."""
    import dataclasses

    from mer_core.experiments import ABLATIONS, MODELS
    from mer_core.extract import FeatureConfig, extract_features
    from mer_core.names import PAPER_MODELS

    base = FeatureConfig(duration=window)
    configs = {tuple(sorted(MODELS[m].features.items())) for m in PAPER_MODELS + ABLATIONS}
    for overrides in sorted(configs):
        extract_features(
            manifest["path"].tolist(),
            config=dataclasses.replace(base, **dict(overrides)),
            n_jobs=n_jobs,
            progress=progress,
            scheduler=scheduler,
        )
    return len(configs)


def fold_costs(build, name: str) -> list[dict]:
    """Seconds each (model, fold) task took on its worker (fit and predict), from the
    run's fold records."""
    from mer_core.pipeline import results_dir

    costs = []
    for path in sorted((results_dir(build, name) / "folds").glob("*/fold*.json")):
        r = json.loads(path.read_text())
        costs.append(
            {
                "model": r["model"],
                "fold": r["fold"],
                "seconds": r["fit_seconds"] + r["predict_seconds"],
                "network_cached": r["network_cached"],
            }
        )
    return costs


def child(build: str, profile: str, scheme: str, name: str, scheduler: str, n_jobs: int):
    """One results step from an empty cache: extraction, then cross-validation."""
    from mer_core.cluster import map_tasks
    from mer_core.datasets import load_dataset
    from mer_core.pipeline import RUN_PROFILES, dataset_dir, ensure_results

    prof = RUN_PROFILES[profile]
    manifest = load_dataset(dataset_dir(build, scheme), scheme=scheme)
    t0 = time.perf_counter()
    n_configs = extract_all(manifest, prof.window, scheduler=scheduler, n_jobs=n_jobs)
    extract_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    rec = ensure_results(
        build, scheme, profile=profile, name=name, n_jobs=n_jobs, progress=False,
        scheduler=scheduler,
    )  # fmt: skip
    cv_s = time.perf_counter() - t0
    folds = fold_costs(build, name)
    overhead = None
    if scheduler != "local":
        n = 400
        t0 = time.perf_counter()
        list(map_tasks(abs, range(n), scheduler=scheduler, chunk_size=1))
        overhead = (time.perf_counter() - t0) / n
    child_result(
        {
            "n_clips": int(len(manifest)),
            "audio_seconds": float(manifest["duration"].astype(float).sum()),
            "n_feature_configs": n_configs,
            "extract_s": extract_s,
            "cv_s": cv_s,
            "folds": folds,
            "execution": rec["execution"],
            "f1": {r["model"]: r["f1"] for r in rec["summary"]},
            "per_task_overhead_s": overhead,
        }
    )


def projection(run: dict, overhead: float, workers=(1, 2, 4, 8, 16, 32)) -> list[dict]:
    """Wall time on N single-threaded workers from one-worker task costs.

    Extraction is spread over clips (chunks); fits are spread over (model, fold)
    tasks, bounded below by the longest one; every task pays ``overhead``; the
    rest of the one-worker run (client start, scatter, tables) stays serial.
    """
    fits = [f["seconds"] for f in run["folds"]]
    n_chunks = run["n_clips"] * run["n_feature_configs"] / 4
    serial = max(0.0, run["wall_s"] - run["extract_s"] - sum(fits))
    rows = []
    for n in workers:
        t = (
            serial
            + run["extract_s"] / n
            + max(sum(fits) / n, max(fits))
            + overhead * (len(fits) + n_chunks) / n
        )
        rows.append({"workers": n, "projected_s": t})
    return rows


def summarise(runs: list[dict], profile: str, scheme: str, info: dict) -> dict:
    """The record: runs, speed-ups, overhead and projections."""
    by = {r["workers"]: r for r in runs}
    overhead = by[2]["per_task_overhead_s"]
    return {
        "profile": profile,
        "scheme": scheme,
        "machine": info,
        "runs": runs,
        "speedup_2_vs_1_worker": by[1]["wall_s"] / by[2]["wall_s"],
        "speedup_2_workers_vs_local": by[0]["wall_s"] / by[2]["wall_s"],
        "same_f1_everywhere": all(r["f1"] == runs[0]["f1"] for r in runs),
        "per_task_overhead_s": overhead,
        "projection": projection(by[1], overhead),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick", choices=["tiny", "quick"])
    parser.add_argument("--scheme", default="emotion", choices=SCHEME_IDS)
    parser.add_argument("--build", default=str(REPO / "build" / "bench-cluster"))
    parser.add_argument("--out", default=str(HERE / "results" / "bench_cluster.json"))
    parser.add_argument("--child", nargs=4, metavar=("NAME", "SCHEDULER", "N_JOBS", "CACHE"))
    args = parser.parse_args(argv)
    if args.child:
        name, scheduler, n_jobs, _ = args.child
        child(args.build, args.profile, args.scheme, name, scheduler, int(n_jobs))
        return

    from mer_core.pipeline import ensure_dataset, results_dir

    build = Path(args.build)
    info = machine()
    print(f"corpus: {args.profile} {args.scheme} in {build} (not timed)", flush=True)
    ensure_dataset(build, args.scheme, profile=args.profile, n_jobs=2, progress=False)
    variants = [("local, N_JOBS=2", 0, 2), ("1 worker", 1, 1), ("2 workers", 2, 1)]
    runs = []
    for label, n_workers, n_jobs in variants:
        name = f"bench-{n_workers}w" if n_workers else "bench-local"
        cache = build / "cache" / name
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(results_dir(build, name), ignore_errors=True)
        cluster = LoopbackCluster(n_workers, build / "logs" / name) if n_workers else None
        scheduler = cluster.address if cluster else "local"
        load_before = os.getloadavg()[0]
        env_cache = os.environ.get("MER_CACHE_DIR")
        os.environ["MER_CACHE_DIR"] = str(cache)
        try:
            print(f"{label}: running", flush=True)
            res = run_child(
                [sys.executable, __file__, "--profile", args.profile, "--scheme", args.scheme]
                + ["--build", str(build), "--child", name, scheduler, str(n_jobs), str(cache)]
            )
        finally:
            if env_cache is None:
                os.environ.pop("MER_CACHE_DIR")
            else:
                os.environ["MER_CACHE_DIR"] = env_cache
            if cluster:
                cluster.close()
        res.update(label=label, workers=n_workers, n_jobs=n_jobs, load_before=load_before)
        res["load_after"] = os.getloadavg()[0]
        runs.append(res)
        print(
            f"{label}: {res['wall_s']:.1f} s (features {res['extract_s']:.1f} s, "
            f"cross-validation {res['cv_s']:.1f} s), load {load_before:.1f} -> "
            f"{res['load_after']:.1f}",
            flush=True,
        )
    record = summarise(runs, args.profile, args.scheme, info)
    overhead = record["per_task_overhead_s"]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(out)
    print(
        f"speed-up 2 vs 1 worker {record['speedup_2_vs_1_worker']:.2f}x, 2 workers vs local "
        f"{record['speedup_2_workers_vs_local']:.2f}x; per-task overhead "
        f"{overhead * 1e3:.1f} ms; same F1 everywhere: {record['same_f1_everywhere']} -> {out}"
    )


if __name__ == "__main__":
    main()
