"""The reproduction pipeline's steps, shared by ``make reproduce`` and the notebooks.

A *run profile* (:data:`RUN_PROFILES`) fixes the size of everything: it picks a
corpus size (:data:`mer_core.synth.sizes.CORPUS_SIZES`), the analysis window, a
training budget (:data:`mer_core.experiments.TRAINING_BUDGETS`) and the folds:

=========  =======================  ============  ===============  =====
profile    corpus size              clip window   training budget  folds
=========  =======================  ============  ===============  =====
``tiny``   6 clips per class, ~5 s  5 s           ``tiny``         3
``quick``  40 per class, ~15 s      15 s          ``quick``        5
``paper``  the paper's sizes        50 / 40 s     ``paper``        5
=========  =======================  ============  ===============  =====

(``paper``: EMA 1654 clips of ~50 s, Emotion 1677 and 4Q 1471 of ~40 s,
analysed over the paper's 50 / 40 s windows. The smaller profiles analyse the
length their clips have, so the zero-fill does not dominate.) A *real* dataset
given to :func:`ensure_results` (``data=``) is analysed over the paper's window
and, except in the ``tiny`` test profile, with the ``paper`` budget and 5 folds.

Layout of a build folder (``build/<profile>`` by default)::

    data/<scheme>/        generated corpus (manifest.csv, ground_truth.jsonl, WAVs)
    results/<name>/       a cross-validation run (summary.csv, results.json, ...)

Every step is idempotent and resumable: :func:`ensure_dataset` generates only
missing clips, :func:`ensure_results` reuses finished folds. ``make
reproduce`` calls them through ``mer pipeline``; a notebook calls them
directly, so its default parameters run on their own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mer_core.errors import MerError, ParameterError

__all__ = [
    "RUN_PROFILES",
    "RunProfile",
    "dataset_dir",
    "ensure_dataset",
    "ensure_results",
    "get_run_profile",
    "load_results",
    "results_dir",
]


@dataclass(frozen=True)
class RunProfile:
    """Sizes of one run profile (see the module table)."""

    name: str
    corpus_size: str  # a key of mer_core.synth.sizes.CORPUS_SIZES
    window: float | None  # None: the scheme's own (50 / 40 s)
    training_budget: str  # a key of mer_core.experiments.TRAINING_BUDGETS
    n_splits: int


#: Repetitions of the cross-validation on real audio (other splits each time).
REAL_DATA_REPEATS = 3

RUN_PROFILES: dict[str, RunProfile] = {
    "tiny": RunProfile("tiny", "tiny", 5.0, "tiny", 3),
    "quick": RunProfile("quick", "quick", 15.0, "quick", 5),
    "paper": RunProfile("paper", "paper", None, "paper", 5),
}


def get_run_profile(name: str) -> RunProfile:
    """Look up a run profile.

    Examples
    --------
    >>> get_run_profile("quick").training_budget
    'quick'
    """
    if name not in RUN_PROFILES:
        raise ParameterError(
            f"unknown run profile {name!r}; expected one of {sorted(RUN_PROFILES)}"
        )
    return RUN_PROFILES[name]


def dataset_dir(build_dir, scheme: str) -> Path:
    """Folder of the generated corpus of ``scheme`` in a build folder."""
    return Path(build_dir) / "data" / scheme


def results_dir(build_dir, name: str) -> Path:
    """Folder of the cross-validation run ``name`` in a build folder."""
    return Path(build_dir) / "results" / name


def ensure_dataset(
    build_dir,
    scheme: str,
    *,
    profile: str = "quick",
    seed: int = 0,
    n_jobs: int = 1,
    progress: bool = True,
    scheduler: str | None = None,
):
    """Generate (or complete) the run profile's corpus for ``scheme``; return its manifest.

    ``scheduler``: a Dask scheduler's address to render on (default
    ``$MER_SCHEDULER``; see :mod:`mer_core.cluster`)."""
    from mer_core.datasets import load_dataset
    from mer_core.synth import generate_corpus

    prof = get_run_profile(profile)
    out = dataset_dir(build_dir, scheme)
    generate_corpus(
        out,
        scheme=scheme,
        size=prof.corpus_size,
        seed=seed,
        n_jobs=n_jobs,
        progress=progress,
        scheduler=scheduler,
    )
    return load_dataset(out, scheme=scheme)


def load_results(path) -> dict:
    """The ``results.json`` record of a run folder (or of the file itself)."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    if not path.is_file():
        raise MerError(f"{path}: no results here yet (run `make reproduce` or `mer evaluate`)")
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise MerError(f"{path}: unreadable results ({exc})") from None


def ensure_results(
    build_dir,
    scheme: str,
    *,
    profile: str = "quick",
    name: str | None = None,
    data=None,
    models=None,
    n_repeats: int | None = None,
    seed: int = 0,
    n_jobs: int = 1,
    progress: bool = True,
    scheduler: str | None = None,
) -> dict:
    """Cross-validate the paper's models (and ablations) on one dataset, resuming.

    Parameters
    ----------
    scheme : str
        ``"ema"``, ``"emotion"`` or ``"4q"``.
    name : str, optional
        Run name (default: the scheme).
    data : path, optional
        A real dataset folder or manifest; default: the profile's generated
        corpus (made if missing).
    models : sequence of str, optional
        Default: the paper's four models and the ablations (on real data
        without the ablations that need a second feature extraction).
    n_repeats : int, optional
        Repetitions of the cross-validation with other splits; default 1, and
        :data:`REAL_DATA_REPEATS` for real data outside the tiny profile.
    scheduler : str, optional
        A Dask scheduler's address: corpus, features and fits run on its
        workers (default ``$MER_SCHEDULER``; see :mod:`mer_core.cluster`).

    Returns
    -------
    dict
        The run's ``results.json`` record.
    """
    from mer_core.datasets import load_dataset
    from mer_core.experiments import ABLATIONS, REAL_DATA_MODELS, evaluate_manifest
    from mer_core.extract import FeatureConfig
    from mer_core.names import PAPER_MODELS
    from mer_core.schemes import get_scheme

    prof = get_run_profile(profile)
    sch = get_scheme(scheme)
    if data is None:
        manifest = ensure_dataset(
            build_dir,
            scheme,
            profile=profile,
            seed=seed,
            n_jobs=n_jobs,
            progress=progress,
            scheduler=scheduler,
        )
        window = prof.window or sch.duration
        dataset_name = f"generated {scheme} ({prof.corpus_size})"
    else:
        manifest = load_dataset(data, scheme=scheme)
        window = sch.duration  # real clips: the paper's window
        dataset_name = Path(data).name
        # real audio is evaluated with the full network budget (except in the
        # tiny test profile, which keeps its own)
        if prof.name != "tiny":
            prof = RUN_PROFILES["paper"]
            if n_repeats is None:
                n_repeats = REAL_DATA_REPEATS
    if models is None:
        models = REAL_DATA_MODELS if data is not None else PAPER_MODELS + ABLATIONS
    models = list(models)
    return evaluate_manifest(
        manifest,
        scheme=sch,
        models=models,
        budget=prof.training_budget,
        n_splits=prof.n_splits,
        n_repeats=n_repeats or 1,
        seed=seed,
        out_dir=results_dir(build_dir, name or scheme),
        feature_config=FeatureConfig(duration=window),
        n_jobs=n_jobs,
        progress=progress,
        dataset_name=dataset_name,
        scheduler=scheduler,
    )
