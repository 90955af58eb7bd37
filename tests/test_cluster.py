"""The Dask cluster path: a real ``dask scheduler`` and two ``dask worker`` processes on
127.0.0.1 (no mocks, no LocalCluster), compared with the local run; faults included."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mer_core.cli import main as cli_main
from mer_core.cluster import (
    SCHEDULER_ENV,
    check_workers,
    close_client,
    describe_engine,
    get_client,
    map_tasks,
    resolve_scheduler,
)
from mer_core.datasets import load_dataset
from mer_core.errors import MerError
from mer_core.experiments import evaluate_manifest
from mer_core.extract import GROUPS, FeatureConfig, extract_features

DASK = Path(sys.executable).with_name("dask")
MODELS = ["svm", "cnn", "cnn_svm"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A scheduler and workers started as the user would, from the shell."""

    def __init__(self, root: Path, n_workers: int = 2, *, nanny: bool = True):
        self.root = root
        self.nanny = nanny
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen] = []
        # the workers' working folder is not the tests': see test_worker_that_cannot_see...
        self.worker_cwd = root / "worker-cwd"
        self.worker_cwd.mkdir(parents=True, exist_ok=True)
        log = open(root / "scheduler.log", "w")  # noqa: SIM115 (closed with the process)
        self.procs.append(
            subprocess.Popen(
                [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(self.port)]
                + ["--dashboard-address", ":0"],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=root,
            )
        )
        self.workers = [self.add_worker(f"w{i}") for i in range(n_workers)]
        client = get_client(self.address, timeout=30)
        client.wait_for_workers(n_workers, timeout=120)

    def add_worker(self, name: str) -> subprocess.Popen:
        # with a nanny (the default) the worker runs torch with one thread, unlike this
        # process; without, a SIGKILLed worker stays dead (a nanny would restart it)
        log = open(self.root / f"{name}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [str(DASK), "worker", self.address, "--nthreads", "1"]
            + ["--nanny" if self.nanny else "--no-nanny"]
            + ["--name", name, "--dashboard-address", ":0"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.worker_cwd,
        )
        self.procs.append(proc)
        return proc

    def worker_address(self, name: str) -> str:
        info = get_client(self.address).scheduler_info(n_workers=-1)["workers"]
        return next(a for a, w in info.items() if w["name"] == name)

    def close(self) -> None:
        close_client(self.address)
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("cluster"))
    yield c
    c.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from mer_core.synth import generate_corpus

    out = tmp_path_factory.mktemp("corpus")
    generate_corpus(out, scheme="emotion", size="tiny", seed=0, progress=False)
    return out


def _evaluate(corpus, cache, out, **kw):
    return evaluate_manifest(
        load_dataset(corpus, scheme="emotion"),
        scheme="emotion",
        models=MODELS,
        budget="tiny",
        n_splits=3,
        seed=0,
        out_dir=out,
        cache_dir=cache,
        feature_config=FeatureConfig(duration=5.0),
        progress=False,
        **kw,
    )


def _folds(rec_dir: Path) -> pd.DataFrame:
    df = pd.read_csv(rec_dir / "folds.csv")
    df = df[~df["metric"].str.contains("seconds")]
    return df.sort_values(["model", "fold", "metric"]).reset_index(drop=True)


def _same_metrics(run_a: Path, run_b: Path) -> None:
    a, b = _folds(run_a), _folds(run_b)
    assert len(a) == len(MODELS) * 3 * 4
    pd.testing.assert_frame_equal(a, b)
    for path in (run_a / "folds").glob("*/fold*.json"):
        mine = json.loads(path.read_text())
        theirs = json.loads((run_b / path.relative_to(run_a)).read_text())
        assert mine["y_pred"] == theirs["y_pred"], path
        assert mine["decision"] == theirs["decision"], path


def _fold_files_are_whole(run: Path, n_folds: int = 3) -> None:
    files = sorted((run / "folds").rglob("*"))
    records = [f for f in files if f.is_file()]
    assert all(f.name.startswith("fold") and f.suffix == ".json" for f in records), records
    assert len(records) == len(MODELS) * n_folds
    for f in records:
        rec = json.loads(f.read_text())  # whole, parseable
        assert rec["key"] and rec["model"] == f.parent.name and f.name == f"fold{rec['fold']}.json"


def test_scheduler_address_and_environment(monkeypatch):
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    assert resolve_scheduler() is None
    monkeypatch.setenv(SCHEDULER_ENV, "10.1.2.3:8786")
    assert resolve_scheduler() == "tcp://10.1.2.3:8786"
    assert resolve_scheduler("local") is None


def test_unreachable_scheduler_is_a_clear_error_within_seconds(tmp_path, write_audio, capsys):
    write_audio("clips/a.wav", np.zeros(22050, dtype=np.float32))
    t0 = time.monotonic()
    code = cli_main(
        ["features", str(tmp_path / "clips"), "--out", str(tmp_path / "f.npz")]
        + ["--scheduler", f"tcp://127.0.0.1:{_free_port()}", "--quiet"]
    )
    elapsed = time.monotonic() - t0
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("mer: error: cannot reach the Dask scheduler at tcp://127.0.0.1:")
    # the connection gives up after CONNECT_TIMEOUT; the rest is start-up on a busy
    # machine: a generous bound that still tells an error from a hang
    assert elapsed < 60


def test_extraction_on_the_cluster_equals_local(cluster, corpus, tmp_path, monkeypatch):
    paths = load_dataset(corpus, scheme="emotion")["path"].tolist()[:10]
    config = FeatureConfig(duration=5.0)
    local = extract_features(paths, config=config, cache_dir=tmp_path / "a", progress=False)
    # through the environment variable; workers compute and fill a cache of their own
    monkeypatch.setenv(SCHEDULER_ENV, cluster.address)
    remote = extract_features(paths, config=config, cache_dir=tmp_path / "b", progress=False)
    assert remote.paths == local.paths and remote.n_computed == local.n_computed == 10 * len(
        GROUPS
    )
    for name in ("log_mel", "mfcc", "lowlevel", "chords", "musical", "n_valid"):
        np.testing.assert_array_equal(getattr(remote, name), getattr(local, name))
    assert len(list((tmp_path / "b").rglob("*.npz"))) == 10 * len(GROUPS)  # by the workers
    again = extract_features(paths, config=config, cache_dir=tmp_path / "b", progress=False)
    assert again.n_computed == 0


def test_worker_that_cannot_see_the_data_is_named(cluster, corpus, tmp_path, monkeypatch):
    # /proc/self/cwd is each process's own working folder: this process sees the clips
    # through it, the workers (started elsewhere) do not: a file system not shared
    monkeypatch.chdir(corpus)
    paths = [f"/proc/self/cwd/{p}" for p in os.listdir(corpus / "anger")[:2]]
    paths = [p.replace("/cwd/", "/cwd/anger/") for p in paths]
    assert all(os.path.isfile(p) for p in paths)
    with pytest.raises(
        MerError, match=r"worker tcp://127\.0\.0\.1:\d+: cannot see /proc/self/cwd"
    ):
        extract_features(paths, cache_dir=tmp_path, progress=False, scheduler=cluster.address)


def test_synth_on_the_cluster_writes_the_same_corpus(cluster, tmp_path):
    from mer_core.synth import generate_corpus

    kw = dict(scheme="4q", n_per_class=2, duration=2.0, seed=3, progress=False)
    local = generate_corpus(tmp_path / "local", **kw)
    code = cli_main(
        ["synth", "--scheme", "4q", "--n-per-class", "2", "--duration", "2", "--seed", "3"]
        + ["--out", str(tmp_path / "remote"), "--quiet", "--scheduler", cluster.address]
    )
    assert code == 0
    remote = pd.read_csv(tmp_path / "remote" / "manifest.csv")
    assert remote["sha256"].tolist() == local["sha256"].tolist()
    assert (tmp_path / "remote" / "manifest.csv").read_bytes() == (
        tmp_path / "local" / "manifest.csv"
    ).read_bytes()


def test_evaluation_on_the_cluster_equals_local_and_says_where_it_ran(cluster, corpus, tmp_path):
    local = _evaluate(corpus, tmp_path / "cache-a", tmp_path / "local")
    remote = _evaluate(
        corpus, tmp_path / "cache-b", tmp_path / "remote", scheduler=cluster.address
    )
    _same_metrics(tmp_path / "local", tmp_path / "remote")

    def timeless(rows):
        return [{k: v for k, v in r.items() if "seconds" not in k} for r in rows]

    assert timeless(local["summary"]) == timeless(remote["summary"])
    assert timeless(local["paired_tests"]) == timeless(remote["paired_tests"])
    assert local["execution"] == {"engine": "local", "n_jobs": 1}
    on_disk = json.loads((tmp_path / "remote" / "results.json").read_text())
    assert on_disk["execution"] == {
        "engine": "dask",
        "scheduler": cluster.address,
        "workers": 2,
        "threads_per_worker": 1,
        "threads": 2,
    }
    _fold_files_are_whole(tmp_path / "remote")


def test_a_task_can_wait_for_another_on_the_cluster(cluster, tmp_path):
    # a CNN-SVM fold waits for its fold's CNN (it loads the network the CNN leaves
    # in the cache instead of training the same one at the same time on another worker)
    def mark_or_look(item, folder: str) -> bool:  # local: shipped by value
        name, seconds, look_for = item
        if look_for is not None:
            return os.path.exists(os.path.join(folder, look_for))
        time.sleep(seconds)
        Path(folder, name).touch()
        return True

    items = [("a", 2.0, None), ("b", 0.0, "a")]
    common = (str(tmp_path),)
    waited = map_tasks(mark_or_look, items, common=common, scheduler=cluster.address, after={1: 0})
    assert list(waited) == [True, True]
    Path(tmp_path, "a").unlink()
    free = map_tasks(mark_or_look, items, common=common, scheduler=cluster.address)
    assert list(free) == [True, False]  # without: both at once on the two workers


def test_fits_that_share_a_network_wait_for_its_first_fit():
    from mer_core.evaluation.protocol import _network_order
    from mer_core.experiments import build_estimator

    names = ["cnn", "svm", "cnn_svm", "cnn_paper", "cnn_svm_paper", "cnn_svm_no_chords"]
    tasks = [
        (n, build_estimator(n, budget="tiny", network_cache="nets"), k, None, None, None)
        for n in names
        for k in range(2)
    ]
    pos = {(t[0], t[2]): i for i, t in enumerate(tasks)}
    expected = {}
    for k in range(2):
        expected[pos["cnn_svm", k]] = pos["cnn", k]
        expected[pos["cnn_svm_no_chords", k]] = pos["cnn", k]
        expected[pos["cnn_svm_paper", k]] = pos["cnn_paper", k]
    assert _network_order(tasks, seed=0) == expected
    # without a network cache there is nothing to wait for
    bare = [(n, build_estimator(n, budget="tiny"), 0, None, None, None) for n in names]
    assert _network_order(bare, seed=0) == {}


def test_workers_get_the_usual_allocator_thresholds(cluster):
    # the nanny's MALLOC_TRIM_THRESHOLD_ fixes glibc's mmap threshold at 128 KiB
    # (networks train 1.8x slower); the start-up check resets it on every worker
    client = get_client(cluster.address)
    workers = check_workers(client, address=cluster.address)
    assert [w["allocator_tuned"] for w in workers.values()] == [True, True]


def test_stopped_client_restarted_reuses_folds_and_features(cluster, corpus, tmp_path):
    local = tmp_path / "local"
    _evaluate(corpus, tmp_path / "cache-a", local)
    run, cache = tmp_path / "remote", tmp_path / "cache-b"
    env = {**os.environ, "MER_CACHE_DIR": str(cache)}
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("mer")), "evaluate", "--dataset", "emotion"]
        + ["--data", str(corpus), "--models", ",".join(MODELS), "--budget", "tiny"]
        + ["--folds", "3", "--duration", "5", "--out", str(run), "--quiet"]
        + ["--scheduler", cluster.address],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    while not list((run / "folds").glob("*/fold*.json")) and proc.poll() is None:
        assert time.monotonic() < deadline, "no fold finished in 180 s"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # the client dies mid-run
    proc.wait()
    finished = {p: p.stat().st_mtime_ns for p in (run / "folds").glob("*/fold*.json")}
    entries = {p: p.stat().st_mtime_ns for p in cache.rglob("*.npz")}
    assert finished and len(finished) < len(MODELS) * 3 and len(entries) == 24 * len(GROUPS)
    rec = _evaluate(corpus, cache, run, scheduler=cluster.address)
    assert rec["resumed_folds"] >= len(finished)
    assert all(p.stat().st_mtime_ns == t for p, t in finished.items())  # reused
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*.npz")} == entries  # reused
    _same_metrics(local, run)
    _fold_files_are_whole(run)


def test_a_worker_killed_mid_run_changes_nothing(corpus, tmp_path_factory, tmp_path):
    local = tmp_path / "local"
    _evaluate(corpus, tmp_path / "cache-a", local)
    c = Cluster(tmp_path_factory.mktemp("cluster-fault"), nanny=False)
    try:
        victim = c.worker_address("w0")
        client = get_client(c.address)
        run = tmp_path / "remote"
        outcome = {}

        def evaluate():
            try:
                outcome["record"] = _evaluate(
                    corpus, tmp_path / "cache-b", run, scheduler=c.address
                )
            except BaseException as exc:  # reported by the main thread
                outcome["error"] = exc

        thread = threading.Thread(target=evaluate)
        thread.start()
        # kill w0 once a fold is done and w0 is busy with a fit
        deadline = time.monotonic() + 180
        while True:
            assert thread.is_alive(), f"finished before the kill: {outcome}"
            assert time.monotonic() < deadline, "no fold finished in 180 s"
            busy = client.processing(workers=[victim]).get(victim, [])
            fits = [k for k in busy if "_run_chunk" in str(k)]
            if list((run / "folds").glob("*/fold*.json")) and fits:
                break
            time.sleep(0.02)
        c.workers[0].send_signal(signal.SIGKILL)
        c.workers[0].wait()
        thread.join(timeout=300)
        assert not thread.is_alive() and "error" not in outcome, outcome
        assert describe_engine(c.address)["workers"] == 1  # the run finished on the other
        _same_metrics(local, run)
        _fold_files_are_whole(run)
        assert outcome["record"]["execution"]["workers"] == 2  # as it was at the start
    finally:
        c.close()


def test_tasks_are_sent_again_when_their_shared_data_dies_with_a_worker(corpus, tmp_path):
    from mer_core.cluster import map_tasks
    from mer_core.extract import GROUPS, _process_file

    paths = load_dataset(corpus, scheme="emotion")["path"].tolist()[:4]
    common = (FeatureConfig(duration=5.0), GROUPS, tmp_path / "cache", False)
    local = list(map_tasks(_process_file, paths, common=common))
    # the shared arguments go to the only worker, w0, which dies; then w1 joins
    c = Cluster(tmp_path, n_workers=1, nanny=False)
    try:
        it = map_tasks(_process_file, paths, common=common, scheduler=c.address, chunk_size=1)
        results = [next(it)]
        c.workers[0].send_signal(signal.SIGKILL)
        c.workers[0].wait()
        c.workers.append(c.add_worker("w1"))
        get_client(c.address).wait_for_workers(1, timeout=120)
        results += list(it)
        assert "lose scattered data" in (tmp_path / "scheduler.log").read_text()
    finally:
        c.close()
    assert len(results) == len(local)
    for (mine, err), (theirs, _) in zip(results, local, strict=True):
        assert err is None and mine["digest"] == theirs["digest"]
        np.testing.assert_array_equal(mine["spectral"]["mfcc"], theirs["spectral"]["mfcc"])
