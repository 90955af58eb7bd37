"""Tables, notes and figures of the benchmarks (``benchmarks/``), for the performance chapter.

The benchmark scripts write JSON records. :func:`load_benchmark` reads one
(``<bench_dir>/<name>.json``, None when it has not been run); every other
function takes a loaded record and shapes it into a table, a Markdown note or
a figure, so every number shown comes from a recorded run with its machine,
load average and package versions. Chapter 7 (``notebooks/07_performance``)
only displays what these return.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from mer_core.names import SCHEME_TITLES, model_title

__all__ = [
    "CLI_BUDGETS",
    "CLUSTER_NOT_RUN",
    "NOT_RUN",
    "PAPER_RUN_NOT_RUN",
    "cli_table",
    "cluster_note",
    "cluster_projection_table",
    "cluster_table",
    "features_note",
    "features_table",
    "load_benchmark",
    "paper_run_note",
    "paper_run_projection",
    "paper_run_table",
    "plot_training_scaling",
    "run_note",
    "stages_table",
    "training_note",
    "training_table",
]

#: What the chapter says when the front-end and training benchmarks were not run.
NOT_RUN = (
    "**Benchmarks not run in this build.** Run `make bench` (or `make reproduce` "
    "with `WITH_BENCH=1`) and rebuild the book."
)
#: What the chapter says when the cluster benchmark was not run.
CLUSTER_NOT_RUN = "**Cluster benchmark not run in this build** (`make bench`)."
#: What the chapter says when the paper profile was not timed.
PAPER_RUN_NOT_RUN = (
    "**The paper profile has not been timed in this build** (`make bench-paper`, about 2.5 "
    "hours on two cores)."
)


def load_benchmark(bench_dir, name: str) -> dict | None:
    """The record ``<bench_dir>/<name>.json``, or None when it has not been run."""
    if not bench_dir:
        return None
    path = Path(bench_dir) / f"{name}.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def features_table(record: dict) -> pd.DataFrame:
    """Front-end throughput (times realtime) and peak memory per variant.

    Examples
    --------
    >>> rec = {"variants": [{"label": "a", "n_jobs": 1, "seconds": 2.0, "x_realtime": 500.0,
    ...                      "peak_rss_mb": 100.0}]}
    >>> float(features_table(rec).loc["a", "x realtime"])
    500.0
    """
    rows = [
        {
            "variant": v["label"],
            "jobs": v["n_jobs"],
            "seconds": round(v["seconds"], 2),
            "x realtime": round(v["x_realtime"], 0),
            "peak memory (MB)": round(v["peak_rss_mb"], 0),
        }
        for v in record["variants"]
    ]
    return pd.DataFrame(rows).set_index("variant")


def features_note(record: dict) -> str:
    """One paragraph (Markdown) on the front-end benchmark: clips, audio, machine, speed-up.

    Examples
    --------
    >>> rec = {"n_clips": 120, "audio_seconds": 4800.4, "machine": {"cpus": 2},
    ...        "speedup_vs_librosa": {"1 job": 3.04, "2 jobs": 5.2}}
    >>> features_note(rec)[:27], features_note(rec)[-43:]
    ('120 clips, 4800 s of audio.', 'librosa chain: 3.0x (1 job), 5.2x (2 jobs).')
    """
    speedup = record["speedup_vs_librosa"]
    return (
        f"{record['n_clips']} clips, {record['audio_seconds']:.0f} s of audio. "
        f"{run_note(record)} Speed-up over the librosa chain: "
        f"{speedup['1 job']:.1f}x (1 job), {speedup['2 jobs']:.1f}x (2 jobs)."
    )


def training_note(record: dict) -> str:
    """One paragraph (Markdown) on the training benchmark: its training budget and machine.

    Examples
    --------
    >>> training_note({"budget": "paper", "machine": {"cpus": 2}})[:35]
    'Training budget `paper`. Recorded u'
    """
    return f"Training budget `{record['budget']}`. {run_note(record)}"


def stages_table(record: dict) -> pd.DataFrame:
    """Seconds and times-realtime of each stage of the front end (one job)."""
    return pd.DataFrame(
        {
            "seconds": pd.Series(record["stages_seconds"]).round(3),
            "x realtime": pd.Series(record["stages_x_realtime"]).round(0),
        }
    )


def training_table(record: dict) -> pd.DataFrame:
    """Fit and predict time and peak memory per (dataset, model, clips)."""
    rows = [
        {
            "dataset": r["dataset"],
            "model": model_title(r["model"]),
            "clips": r["n_clips"],
            "fit (s)": round(r["fit_s"], 2),
            "predict (s)": round(r["predict_s"], 2),
            "peak memory (MB)": round(r["peak_rss_mb"], 0),
        }
        for r in record["rows"]
    ]
    return pd.DataFrame(rows)


#: The issue's cost budget for the commands a user runs (seconds), by the end of
#: the benchmark's step name: ``mer train`` of CNN-SVM on the 600 clips from a
#: cold and a warm feature cache, and ``mer predict`` per new clip.
CLI_BUDGETS = {"cold cache)": 600.0, "warm cache)": 300.0, "per clip": 0.2}


def cli_table(record: dict) -> pd.DataFrame:
    """Wall time of the commands a user runs: ``mer train`` and ``mer predict`` (4Q clips).

    With the budget of :data:`CLI_BUDGETS` where one applies, and whether the
    measurement is within it.

    Examples
    --------
    >>> cli_table({"cli": [{"step": "mer predict, per clip", "seconds": 0.0741}]})
                           seconds  budget (s) within budget
    command
    mer predict, per clip     0.07         0.2           yes
    """
    rows = []
    for r in record.get("cli", []):
        budget = next((b for end, b in CLI_BUDGETS.items() if r["step"].endswith(end)), None)
        within = "" if budget is None else ("yes" if r["seconds"] <= budget else "no")
        rows.append(
            {
                "command": r["step"],
                "seconds": round(r["seconds"], 2),
                "budget (s)": budget,
                "within budget": within,
            }
        )
    columns = ["command", "seconds", "budget (s)", "within budget"]
    return pd.DataFrame(rows, columns=columns).set_index("command")


def plot_training_scaling(record: dict):
    """Fit time against number of clips, one line per (dataset, model)."""
    import matplotlib.pyplot as plt

    df = training_table(record)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for (dataset, model), g in df.groupby(["dataset", "model"], sort=False):
        if g["clips"].nunique() > 1:
            ax.plot(g["clips"], g["fit (s)"], marker="o", label=f"{model} ({dataset})")
    ax.set_xlabel("training clips")
    ax.set_ylabel("fit time (s)")
    ax.set_title("Training time against data size")
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def cluster_table(record: dict) -> pd.DataFrame:
    """The results step locally and on 1 and 2 single-threaded Dask workers.

    Examples
    --------
    >>> run = {"label": "1 worker", "workers": 1, "wall_s": 100.0, "extract_s": 20.0,
    ...        "cv_s": 70.0, "load_before": 1.0, "load_after": 1.2}
    >>> float(cluster_table({"runs": [run]}).loc["1 worker", "wall (s)"])
    100.0
    """
    base = next((r for r in record["runs"] if r["workers"] == 1), record["runs"][0])
    rows = [
        {
            "run": r["label"],
            "wall (s)": round(r["wall_s"], 1),
            "features (s)": round(r["extract_s"], 1),
            "cross-validation (s)": round(r["cv_s"], 1),
            "speed-up vs 1 worker": round(base["wall_s"] / r["wall_s"], 2),
            "load before / after": f"{r['load_before']:.1f} / {r['load_after']:.1f}",
        }
        for r in record["runs"]
    ]
    return pd.DataFrame(rows).set_index("run")


def cluster_projection_table(record: dict) -> pd.DataFrame:
    """Projected wall time (minutes) of the benchmarked results step on N workers, from
    its one-worker task costs (:func:`projection` in ``bench_cluster.py``)."""
    table = {
        f"{record['profile']} {record['scheme']} (min)": {
            r["workers"]: round(r["projected_s"] / 60, 1) for r in record["projection"]
        }
    }
    df = pd.DataFrame(table)
    df.index.name = "workers"
    return df


def _no_paths(text: str) -> str:
    """Absolute paths in a recorded string reduced to their last folder name."""
    return re.sub(r"(?<![\w.])/(?:[\w.+-]+/)*([\w.+-]+)", r"\1", str(text))


def run_note(record: dict) -> str:
    """One paragraph (Markdown) on where and when a benchmark run was recorded.

    Machine (CPUs, platform, Python), date (UTC), load average at the start and
    the versions that shape the timings; data paths reduced to folder names.

    Examples
    --------
    >>> rec = {"data": "real 4Q dev clips (/work/shared/data/4q-dev)", "machine": {
    ...     "cpus": 2, "load_average_at_start": 1.86, "platform": "Linux-6", "python": "3.11.7",
    ...     "time": "2026-11-24T06:52:57+0000", "versions": {"numpy": "2.4.6"}}}
    >>> print(run_note(rec).replace(", load", ",\\nload").replace("; ", ";\\n"))
    Recorded 2026-11-24 06:52 UTC on 2 CPUs (Linux-6, Python 3.11.7),
    load average 1.86 at the start;
    numpy 2.4.6. Data: real 4Q dev clips (4q-dev).
    """
    m = record.get("machine") or {}
    when = str(m.get("time", "unknown date"))
    match = re.match(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d)", when)
    if match:
        when = f"{match.group(1)} {match.group(2)} UTC"
    versions = ", ".join(f"{k} {v}" for k, v in (m.get("versions") or {}).items())
    load = m.get("load_average_at_start")
    text = (
        f"Recorded {when} on {m.get('cpus', '?')} CPUs ({m.get('platform', '?')}, "
        f"Python {m.get('python', '?')}), load average "
        f"{'?' if load is None else f'{load:.2f}'} at the start; {versions}."
    )
    if record.get("data"):
        text += f" Data: {_no_paths(record['data'])}."
    return text


def cluster_note(record: dict) -> str:
    """One paragraph (Markdown) on the cluster benchmark: speed-ups, overhead, agreement."""
    return (
        f"{record['profile']} profile, {record['scheme']}, {record['runs'][0]['n_clips']} "
        f"clips; {record['machine']['cpus']} CPUs. Two workers against one: "
        f"{record['speedup_2_vs_1_worker']:.2f}x; against local `N_JOBS=2`: "
        f"{record['speedup_2_workers_vs_local']:.2f}x. Scheduler overhead per task: "
        f"{record['per_task_overhead_s'] * 1e3:.1f} ms. Same F1 on every run: "
        f"{record['same_f1_everywhere']}. {run_note(record)}"
    )


def paper_run_table(record: dict) -> pd.DataFrame:
    """The paper profile's data and results steps as measured on the cluster path.

    One row per scheme the run reached (clips, then minutes spent rendering the
    corpus, extracting features and cross-validating) and, when the run
    finished every scheme, their total; a step not reached is left empty.

    Examples
    --------
    >>> rec = {"complete": False, "schemes": [{"scheme": "4q", "n_clips": 1471,
    ...        "render_s": 120.0, "extract_s": 60.0, "cv_s": 1800.0, "total_s": 1980.0},
    ...        {"scheme": "emotion", "n_clips": 1677, "render_s": 150.0}]}
    >>> paper_run_table(rec)[["clips", "total (min)"]]
             clips  total (min)
    scheme
    4Q        1471         33.0
    Emotion   1677          NaN
    """
    steps = (("render_s", "corpus"), ("extract_s", "features"), ("cv_s", "cross-validation"))
    rows = []
    for s in record["schemes"]:
        row = {"scheme": SCHEME_TITLES.get(s["scheme"], s["scheme"]), "clips": s.get("n_clips")}
        for key, label in (*steps, ("total_s", "total")):
            row[f"{label} (min)"] = round(s[key] / 60, 1) if key in s else float("nan")
        rows.append(row)
    if record.get("complete"):
        total = {"scheme": "all", "clips": sum(r["clips"] for r in rows)}
        for key in rows[0]:
            if key.endswith("(min)"):
                total[key] = round(sum(r[key] for r in rows), 1)
        rows.append(total)
    return pd.DataFrame(rows).set_index("scheme")


def paper_run_note(record: dict) -> str:
    """One paragraph (Markdown) on the measured paper-profile run: where it ran and
    whether it finished.

    Examples
    --------
    >>> rec = {"workers": 2, "complete": False, "machine": {"cpus": 2}, "schemes": [
    ...     {"scheme": "4q", "total_s": 1980.0}, {"scheme": "emotion", "render_s": 9.0}]}
    >>> note = paper_run_note(rec)
    >>> "stopped with 1 of 3 schemes finished (4Q, 33 minutes)" in note
    True
    """
    done = [s for s in record["schemes"] if "total_s" in s]
    minutes = sum(s["total_s"] for s in done) / 60
    names = ", ".join(SCHEME_TITLES.get(s["scheme"], s["scheme"]) for s in done)
    if record.get("complete"):
        status = f"It finished all {len(done)} schemes ({names}) in {minutes:.0f} minutes."
    else:
        status = (
            f"The run was stopped with {len(done)} of {len(SCHEME_TITLES)} schemes finished "
            f"({names}, {minutes:.0f} minutes); the others were not run."
        )
    sittings = record.get("sittings") or []
    if len(sittings) > 1:
        starts = ", ".join(str(m.get("time", "?"))[11:16] for m in sittings)
        status += (
            f" It ran in {len(sittings)} sittings (started {starts} UTC; `--append` adds the "
            "schemes a stopped run had not finished)."
        )
    loads = [
        f"{SCHEME_TITLES.get(s['scheme'], s['scheme'])} "
        f"{s['load_before']:.1f}-{s['load_after']:.1f}"
        for s in done
        if "load_before" in s and "load_after" in s
    ]
    if loads:
        status += (
            " Load average before and after each scheme (2 means the workers alone; more means "
            f"other work shared the CPUs, so these times are upper bounds): {', '.join(loads)}."
        )
    status += _recipe_drift(record)
    return (
        f"`PROFILE=paper` through a Dask cluster of {record['workers']} single-threaded "
        f"workers on this machine. {status} {run_note(record)}"
    )


def _recipe_drift(record: dict) -> str:
    """A sentence when the recipe now trains more networks per fit than the run did.

    Records made before ``networks_per_fit`` was kept trained one network per
    fit of each network model.
    """
    from mer_core.experiments import networks_per_fit
    from mer_core.names import model_title

    now = networks_per_fit()
    then = record.get("networks_per_fit") or {m: min(n, 1) for m, n in now.items()}
    changed = {m: (then.get(m, 0), n) for m, n in now.items() if then.get(m, 0) != n}
    if not changed:
        return ""
    parts = ", ".join(f"{model_title(m)} {a} -> {b}" for m, (a, b) in changed.items())
    return (
        f" Since this run the recipe trains more networks per fit ({parts}: the cross-fitted "
        "networks of chapter 6, and the CNN's twins), so the fits of those models now take "
        "about that many times longer; `make bench-paper` measures it anew."
    )


def paper_run_projection(record: dict, workers=(1, 2, 4, 8, 16, 32)) -> pd.DataFrame:
    """Projected wall time (minutes) of each measured scheme of the paper-profile run on
    N single-threaded workers, from the run's own costs.

    Rendering and extraction took ``render_s + extract_s`` on the run's ``W``
    workers, so ``W`` times that in worker-seconds, spread evenly; the (model,
    fold) fits are the run's own tasks (``folds``: seconds each took on its
    worker), spread over N workers and bounded below by the longest one. The
    costs were measured on a loaded machine, so the projection is conservative.

    Examples
    --------
    >>> folds = [{"seconds": 300.0}, {"seconds": 600.0}, {"seconds": 300.0}]
    >>> rec = {"workers": 2, "schemes": [{"scheme": "4q", "render_s": 60.0, "extract_s": 60.0,
    ...        "cv_s": 600.0, "folds": folds}]}
    >>> paper_run_projection(rec, workers=(1, 2, 4))["4Q (min)"].tolist()
    [24.0, 12.0, 11.0]
    """
    table = {}
    for s in record["schemes"]:
        if not s.get("folds"):
            continue
        fits = [f["seconds"] for f in s["folds"]]
        spread = (s["render_s"] + s["extract_s"]) * record["workers"]
        table[f"{SCHEME_TITLES.get(s['scheme'], s['scheme'])} (min)"] = {
            n: round((spread / n + max(sum(fits) / n, max(fits))) / 60, 1) for n in workers
        }
    df = pd.DataFrame(table)
    df.index.name = "workers"
    return df
