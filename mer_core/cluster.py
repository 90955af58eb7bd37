"""Where the heavy steps run: local processes (the default) or a Dask cluster.

Feature extraction, corpus rendering and the (model, fold) fits of
cross-validation all go through one call, :func:`map_tasks`. Without a
scheduler it runs as the project always has: in this process (``n_jobs=1``)
or in joblib worker processes. Given the address of a `Dask distributed
<https://distributed.dask.org>`_ scheduler (``scheduler="tcp://HOST:8786"``,
``--scheduler`` on the command line, or the ``MER_SCHEDULER`` environment
variable) the same tasks run on that cluster's workers instead, in chunks of
clips, and their results are shipped back to this process, which alone
writes the run's records (manifests, fold records, results).

**Shared paths.** Workers open the audio, the feature cache and the build
folder by the same absolute paths as this process: on one machine that holds
by itself; across machines they must sit on a file system every machine
mounts at the same place (NFS, a cluster file system). Before any task is
sent, every worker checks that it can read the inputs and write the cache and
output folders; a worker that cannot is a :class:`~mer_core.errors.MerError`
naming the worker and the path. Workers must run the same versions of this
project and of the packages that shape the numbers (checked too).

**Faults.** A worker that dies takes only its running tasks with it: the
scheduler runs them again on the others, and since every task is a pure
function of its inputs (seeds included) the results are the same. Caches are
written atomically (a temporary file renamed over the entry), so many writers
at once are safe. An unreachable scheduler is an error after ``timeout``
seconds, a cluster without workers after ``worker_timeout``.

Examples
--------
>>> list(map_tasks(abs, [-1, 2, -3]))
[1, 2, 3]
>>> resolve_scheduler("local") is None
True
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from mer_core.errors import MerError, ParameterError
from mer_core.validation import check_positive_int

__all__ = [
    "SCHEDULER_ENV",
    "add_scheduler_argument",
    "check_workers",
    "close_client",
    "describe_engine",
    "get_client",
    "map_tasks",
    "resolve_scheduler",
    "sample_paths",
]

#: Environment variable naming the default scheduler (unset or empty: local).
SCHEDULER_ENV = "MER_SCHEDULER"

#: Seconds to reach the scheduler before giving up.
CONNECT_TIMEOUT = 5.0
#: Seconds a cluster may go without any worker (at start or mid-run) before giving up.
WORKER_TIMEOUT = 60.0

_CLIENTS: dict = {}


def resolve_scheduler(scheduler: str | None = None) -> str | None:
    """The scheduler address to use: ``scheduler``, else ``$MER_SCHEDULER``, else None.

    ``"local"`` (or an empty string) forces local processes whatever the
    environment says.

    Examples
    --------
    >>> resolve_scheduler("tcp://10.0.0.5:8786")
    'tcp://10.0.0.5:8786'
    >>> resolve_scheduler("10.0.0.5:8786")
    'tcp://10.0.0.5:8786'
    """
    if scheduler is None:
        scheduler = os.environ.get(SCHEDULER_ENV, "")
    if not isinstance(scheduler, str):
        raise ParameterError(f"scheduler must be an address string, got {scheduler!r}")
    scheduler = scheduler.strip()
    if scheduler in ("", "local"):
        return None
    if "://" not in scheduler:
        scheduler = f"tcp://{scheduler}"
    return scheduler


def add_scheduler_argument(parser) -> None:
    """The ``--scheduler ADDRESS`` option of the commands that can run on a cluster."""
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the heavy work on the Dask cluster whose scheduler is at ADDRESS "
        f"(e.g. tcp://HOST:8786; default ${SCHEDULER_ENV}, else this machine; 'local': "
        "this machine); data and caches must be at the same paths on the workers",
    )


def get_client(address: str, *, timeout: float = CONNECT_TIMEOUT):
    """A connected ``distributed.Client`` for ``address`` (one per process and address).

    Raises :class:`~mer_core.errors.MerError` within about ``timeout``
    seconds when the scheduler cannot be reached.
    """
    client = _CLIENTS.get(address)
    if client is not None and client.status == "running":
        return client
    import logging

    from distributed import Client

    # the client logs (and retries) every failed connection attempt; the error
    # below says it once
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise MerError(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s "
            f"({type(exc).__name__}: {exc}); is `dask scheduler` running there, and the "
            "address right?"
        ) from None
    _CLIENTS[address] = client
    return client


def close_client(address: str) -> None:
    """Disconnect this process's client of ``address``, if any (the cluster runs on)."""
    client = _CLIENTS.pop(address, None)
    if client is not None:
        client.close()


def _workers(client) -> dict:
    return dict(client.scheduler_info(n_workers=-1)["workers"])


def _wait_for_workers(client, address: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        workers = _workers(client)
        if workers:
            return workers
        if time.monotonic() > deadline:
            raise MerError(
                f"the Dask scheduler at {address} has no workers (waited {timeout:g} s); "
                f"start some with `dask worker {address}`"
            )
        time.sleep(0.2)


def describe_engine(scheduler: str | None = None, *, n_jobs: int = 1) -> dict:
    """Where tasks run, for run records: ``{"engine": "local", "n_jobs": ...}`` or
    ``{"engine": "dask", "scheduler", "workers", "threads_per_worker", "threads"}``.

    Examples
    --------
    >>> describe_engine("local", n_jobs=2)
    {'engine': 'local', 'n_jobs': 2}
    """
    address = resolve_scheduler(scheduler)
    if address is None:
        return {"engine": "local", "n_jobs": int(n_jobs)}
    client = get_client(address)
    workers = _wait_for_workers(client, address, WORKER_TIMEOUT)
    threads = sorted({int(w["nthreads"]) for w in workers.values()})
    return {
        "engine": "dask",
        "scheduler": address,
        "workers": len(workers),
        "threads_per_worker": threads[0] if len(threads) == 1 else threads,
        "threads": int(sum(int(w["nthreads"]) for w in workers.values())),
    }


# ----------------------------------------------------------------- worker checks


def sample_paths(paths, *, n: int = 32) -> list[str]:
    """What workers must see of a list of input files: their distinct folders and up
    to ``n`` of the files (evenly spaced), all of them ones this machine sees.

    Examples
    --------
    >>> sample_paths(["/no/such/file.wav"])
    []
    """
    existing = [os.path.abspath(p) for p in paths if os.path.isfile(p)]
    if not existing:
        return []
    step = max(1, len(existing) // n)
    folders = sorted({os.path.dirname(p) for p in existing})[: 4 * n]
    return folders + existing[::step][:n]


def _versions() -> dict:
    from mer_core.environment import environment

    env = environment()
    return {"python": env["python"], **env["versions"]}


def _check_here(readable: list[str], writable: list[str]) -> dict:
    """Run on a worker: the problems it has with the paths, and its versions."""
    import tempfile

    problems = []
    for p in readable:
        if not os.path.exists(p):
            problems.append(f"cannot see {p}")
        elif not os.access(p, os.R_OK):
            problems.append(f"cannot read {p}")
    for d in writable:
        try:
            Path(d).mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".mer-worker-check.", dir=d)
            os.close(fd)
            os.unlink(tmp)
        except OSError as exc:
            problems.append(f"cannot write into {d} ({exc.strerror or exc})")
    return {
        "problems": problems,
        "versions": _versions(),
        "allocator_tuned": tune_worker_allocator(),
    }


def check_workers(client, *, readable=(), writable=(), address: str = "") -> dict:
    """Check that every worker sees ``readable`` and can write into ``writable``.

    Returns the workers' descriptions (with ``allocator_tuned``: see
    :func:`tune_worker_allocator`); raises :class:`~mer_core.errors.MerError`
    naming the first worker and path at fault, or a version that differs from
    this process's.
    """
    workers = _wait_for_workers(client, address, WORKER_TIMEOUT)
    readable = [os.path.abspath(p) for p in readable]
    writable = [os.path.abspath(p) for p in writable]
    try:
        reports = client.run(_check_here, readable, writable)
    except Exception as exc:
        raise MerError(
            f"the workers of {address} could not run mer_core's start-up check "
            f"({type(exc).__name__}: {exc}); install this project in their environment"
        ) from None
    mine = _versions()
    for worker, rep in sorted(reports.items()):
        if rep["problems"]:
            raise MerError(
                f"worker {worker}: {rep['problems'][0]}; the data, the feature cache and the "
                "build folder must be at the same paths on every machine (a shared file "
                "system; see 'Running on a cluster' in the README)"
            )
        differ = {k: (v, rep["versions"].get(k)) for k, v in mine.items()}
        differ = {k: v for k, v in differ.items() if v[0] != v[1]}
        if differ:
            name, (here, there) = next(iter(sorted(differ.items())))
            raise MerError(
                f"worker {worker} runs {name} {there}, this machine {here}; "
                "workers need the same versions for the same results"
            )
        if worker in workers:
            workers[worker]["allocator_tuned"] = rep["allocator_tuned"]
    return workers


# ----------------------------------------------------------------- the one map


def _chunk(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


#: glibc ``mallopt`` parameters and the values a worker process gets (see
#: :func:`tune_worker_allocator`).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
WORKER_MALLOC = {"mmap_threshold": 32 * 2**20, "trim_threshold": 64 * 2**20}
_TUNED: dict = {}


def tune_worker_allocator() -> bool:
    """Give this process glibc's usual allocator thresholds; True when they were set.

    A Dask nanny starts its worker with ``MALLOC_TRIM_THRESHOLD_=65536``
    (``distributed.nanny.pre-spawn-environ``), which also switches off glibc's
    adaptive mmap threshold: every buffer over 128 KiB is then a fresh ``mmap``
    and ``munmap``, and training a network (many such tensors per batch) took
    1.8x as long on a worker as in a plain process (measured; see
    ``benchmarks/bench_cluster.py``). Called once per worker process before
    its first task; it sets the mmap threshold to 32 MiB (the cap glibc's
    adaptive rule grows to) and the trim threshold to twice that. The numbers
    do not change (only where memory comes from). Elsewhere than glibc it does
    nothing.
    """
    if "done" in _TUNED:
        return _TUNED["done"]
    ok = False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        ok = bool(libc.mallopt(_M_MMAP_THRESHOLD, WORKER_MALLOC["mmap_threshold"])) and bool(
            libc.mallopt(_M_TRIM_THRESHOLD, WORKER_MALLOC["trim_threshold"])
        )
    except (OSError, AttributeError):
        ok = False
    _TUNED["done"] = ok
    return ok


def _run_chunk(func: Callable, chunk: list, common: tuple, *_after) -> list:
    """Run on a worker: ``func(item, *common)`` for each item of a chunk (``_after``:
    results of the chunks it had to wait for, unused)."""
    tune_worker_allocator()
    return [func(item, *common) for item in chunk]


def map_tasks(
    func: Callable,
    items: Iterable,
    *,
    common: tuple = (),
    n_jobs: int = 1,
    scheduler: str | None = None,
    ordered: bool = True,
    chunk_size: int | None = None,
    readable=(),
    writable=(),
    after=None,
) -> Iterator:
    """``func(item, *common)`` for every item, here, in processes, or on a Dask cluster.

    Parameters
    ----------
    func : callable
        A module-level function (it is sent to other processes by reference).
    items : iterable
        One task argument per item.
    common : tuple
        Further arguments shared by every task. On a cluster they are sent to
        every worker once (not once per task), so large arrays belong here.
    n_jobs : int
        Local processes when no scheduler is used: 1 runs in this process
        (lazily, one item at a time), otherwise joblib (-1: every core).
    scheduler : str, optional
        Dask scheduler address; default ``$MER_SCHEDULER``; ``"local"`` or
        unset: local.
    ordered : bool
        Yield results in the order of ``items``; False yields each as soon as
        it is done (the caller must tell them apart by their content).
    chunk_size : int, optional
        Items per cluster task (default: about four tasks per worker thread, at
        most 32 items each). Ignored locally.
    readable, writable : sequence of path
        Paths every worker must be able to read, and folders it must be able
        to write into (checked once before any task is sent).
    after : dict of int -> int, optional
        ``{i: j}``: on a cluster, item ``i`` starts only once item ``j`` (an
        earlier one) has finished, for a task that reuses what another one
        leaves in a cache (a CNN-SVM fold waits for its fold's CNN instead of
        training the same network at the same time). Locally items run in
        order anyway.

    Yields
    ------
    The results of ``func``.
    """
    items = list(items)
    address = resolve_scheduler(scheduler)
    if address is None:
        yield from _map_local(func, items, common, n_jobs, ordered)
    else:
        yield from _map_dask(
            func, items, common, address, ordered, chunk_size, readable, writable, after or {}
        )


def _map_local(func, items, common, n_jobs, ordered):
    if n_jobs == 1:
        for item in items:
            yield func(item, *common)
        return
    from joblib import Parallel, delayed

    mode = "generator" if ordered else "generator_unordered"
    yield from Parallel(n_jobs=n_jobs, return_as=mode)(
        delayed(func)(item, *common) for item in items
    )


#: Times the shared arguments may be lost with a worker and sent again.
MAX_RESENDS = 5


def _map_dask(func, items, common, address, ordered, chunk_size, readable, writable, after):
    from distributed.client import FutureCancelledError

    client = get_client(address)
    if not items:
        return
    workers = check_workers(client, readable=readable, writable=writable, address=address)
    if chunk_size is None:
        threads = sum(int(w["nthreads"]) for w in workers.values()) or 1
        chunk_size = max(1, min(32, len(items) // (4 * threads)))
    chunk_size = check_positive_int(chunk_size, "chunk_size")
    chunks = _chunk(items, chunk_size)
    chunks_items = _chunk(list(range(len(items))), chunk_size)
    state = {"shared": [], "resends": 0}

    def submit(indices) -> dict:
        """Send the shared arguments (to every worker once) and the chunks ``indices``."""
        if common:
            state["shared"] = client.scatter(list(common), broadcast=True, hash=False)
        futures = {}
        for i in indices:
            # a chunk waits for the chunks holding the items its items wait for
            # (among those sent now: a finished or lost one is not waited for)
            wait = {after[j] // chunk_size for j in chunks_items[i] if j in after}
            deps = [futures[d] for d in sorted(wait) if d != i and d in futures]
            futures[i] = client.submit(
                _run_chunk, func, chunks[i], tuple(state["shared"]), *deps, pure=False, priority=-i
            )
        return {f: i for i, f in futures.items()}

    pending = submit(range(len(chunks)))  # future -> chunk index
    done_results: dict[int, list] = {}
    next_out = 0
    idle_since, last_look = None, time.monotonic()
    try:
        while pending:
            done = [f for f in pending if f.done()]
            if not done:
                time.sleep(0.02)
                if time.monotonic() - last_look < 2.0:
                    continue
                last_look = time.monotonic()
                if _workers(client):
                    idle_since = None
                elif idle_since is None:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since > WORKER_TIMEOUT:
                    raise MerError(
                        f"the Dask cluster at {address} has had no worker for "
                        f"{WORKER_TIMEOUT:g} s; {len(pending)} of {len(chunks)} tasks unfinished"
                    )
                continue
            lost = []
            for f in sorted(done, key=pending.get):
                i = pending.pop(f)
                try:
                    result = f.result()  # re-raises a task's own exception
                except FutureCancelledError:
                    # a worker died holding the only copy of a shared argument (or of
                    # this result): the task is sent again with the arguments
                    lost.append(i)
                    continue
                if ordered:
                    done_results[i] = result
                else:
                    yield from result
            if lost:
                state["resends"] += 1
                if state["resends"] > MAX_RESENDS:
                    raise MerError(
                        f"the Dask cluster at {address} lost workers (and their data) "
                        f"{MAX_RESENDS} times; giving up"
                    )
                # what is still queued depends on the lost arguments too: send it again
                stale = list(pending)
                lost += [pending.pop(f) for f in stale]
                client.cancel(stale + list(state["shared"]))
                pending = submit(sorted(lost))
            while ordered and next_out in done_results:
                yield from done_results.pop(next_out)
                next_out += 1
    except OSError as exc:
        raise MerError(f"lost the connection to the Dask scheduler at {address} ({exc})") from None
    finally:
        if pending:
            client.cancel(list(pending))
        if state["shared"]:
            client.cancel(list(state["shared"]))
