"""Named experiments: the paper's four models, the ablations, and training budgets.

=========================  ==================================================  ===============
name                       model                                               features
=========================  ==================================================  ===============
``cnn``                    the CNN alone, softmax (eq. 1)                      log-Mel
``svm``                    RBF SVM on the hand-made features                   hand-made
``lstm``                   bidirectional LSTM on MFCC frames                   MFCC
``cnn_svm``                the paper's CNN-SVM (eq. 6)                         all
``cnn_svm_in_sample``      CNN-SVM's SVM on in-sample CNN outputs              ablation
``cnn_svm_select``         CNN-SVM, ensemble chosen on inner folds             ablation
``cnn_svm_svm_scores``     CNN-SVM + RBF-SVM scores of the hand-made blocks    ablation
``cnn_svm_musical``        CNN-SVM, musical descriptors always in              ablation
``cnn_svm_no_musical``     CNN-SVM, musical descriptors never in               ablation
``svm_musical``            SVM, musical descriptors always in                  ablation
``svm_no_musical``         SVM, musical descriptors never in                   ablation
``cnn_svm_no_chords``      CNN-SVM without the chord vector                    ablation
``cnn_svm_no_lowlevel``    CNN-SVM without the low-level features              ablation
``cnn_svm_no_preemphasis`` CNN-SVM on features extracted without pre-emphasis  ablation
``cnn_embedding_svm``      linear SVM on the CNN embedding alone               ablation
``cnn_full_network``       the CNN predicting with its full network only       ablation
``cnn_all_networks``       the CNN predicting with all six networks, always    ablation
=========================  ==================================================  ===============

The CNN-SVM variants, and the CNN alone, train the *same* network on a fold
when their network settings agree: networks are cached per fold (see
``network_cache`` of the classifiers), so an ablation changes only what it
names, and the comparison CNN vs CNN-SVM isolates the SVM head and the fused
features. Reported training time always includes the network's training.

Training budgets (:data:`TRAINING_BUDGETS`) fix how long networks train:
``paper`` (the book's configuration), ``quick`` (fewer epochs, for the default
``make reproduce``) and ``tiny`` (for tests and smoke runs). Model ids and
titles are :data:`mer_core.names.PAPER_MODELS` and
:data:`~mer_core.names.MODEL_TITLES`.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mer_core.errors import MerError, ParameterError
from mer_core.names import MODEL_TITLES, PAPER_MODELS

__all__ = [
    "ABLATIONS",
    "ABLATIONS_OF",
    "MODELS",
    "PAPER_RECIPE",
    "REAL_DATA_MODELS",
    "TRAINING_BUDGETS",
    "ModelSpec",
    "ablation_pairs",
    "artist_groups",
    "build_estimator",
    "evaluate_manifest",
    "networks_per_fit",
]


@dataclass(frozen=True)
class ModelSpec:
    """A named model of the experiments: estimator class, parameters and feature overrides."""

    name: str
    estimator: str
    params: dict = field(default_factory=dict)
    features: dict = field(default_factory=dict)
    description: str = ""

    @property
    def title(self) -> str:
        """The model's title (:data:`mer_core.names.MODEL_TITLES`)."""
        return MODEL_TITLES[self.name]


#: The book's recipe for the CNN (see chapter 6): crops drawn inside the real
#: audio, 64 Mel bands (pairs of the 128 averaged) at 186 ms steps in 10 s crops,
#: 40 epochs. Both networks are cross-fitted on 5 inner folds of the training
#: part (``cross_fit``): the out-of-fold outputs calibrate the CNN's and the
#: LSTM's probabilities, and are what CNN-SVM's SVM is fitted on. Whether the
#: CNN predicts with the network trained on the whole training part alone or
#: with all its networks averaged is chosen on the inner folds (``predict_with=
#: "select"``: a twin network per inner fold; ablations ``cnn_full_network`` and
#: ``cnn_all_networks``). The LSTM keeps the paper's recipe otherwise: neither
#: input change helped it.
_NET = {"band_pool": 2, "time_pool": 8, "crop_frames": 432, "real_crops": True}
_CROSS_FIT = {"cross_fit": 5}
_CNN = {**_NET, "epochs": 40, **_CROSS_FIT}
_LSTM: dict = dict(_CROSS_FIT)  # real-frame crops did not help the LSTM (lstm_real_crops)
#: Hand-made features of the recipe: the low-level vector, the log-Mel texture
#: statistics and the chord vector's summary, all kept (no screening); whether
#: the musical descriptors join them is decided on the inner folds of each
#: training part (``use_musical="select"``; ablations: always, never).
_HAND = {"use_texture": True, "chord_columns": "summary", "screening": None}
#: The linear SVM's C (CNN-SVM) and the RBF SVM's C, chosen on inner folds.
_LINEAR_C = (0.001, 0.003, 0.01)
_RBF_C = (0.5, 1.0, 2.0, 4.0, 8.0)
_CNN_SVM = {
    **_CNN,
    **_HAND,
    "cnn_output": "logits",
    "C": _LINEAR_C,
    "use_musical": "select",
    # the CNN block comes from the full network; choosing an ensemble on the
    # inner folds (ablation cnn_svm_select) trains 5 twin networks and predicts
    # with 11, beyond the cost budget of `mer train` and `mer predict`
    "predict_with": "full",
}
_SVM = {**_HAND, "use_mfcc_stats": False, "use_chords": True, "C": _RBF_C}

MODELS: dict[str, ModelSpec] = {
    "cnn": ModelSpec(
        "cnn",
        "CNNClassifier",
        {**_CNN, "predict_with": "select"},
        description="the CNN alone (eq. 1), book recipe",
    ),
    "svm": ModelSpec(
        "svm",
        "SVMClassifier",
        {**_SVM, "use_musical": "select"},
        description="RBF SVM on hand-made features, book recipe",
    ),
    "lstm": ModelSpec(
        "lstm", "LSTMClassifier", _LSTM, description="LSTM on MFCC frames, book recipe"
    ),
    "cnn_svm": ModelSpec(
        "cnn_svm", "CNNSVMClassifier", _CNN_SVM, description="eq. (6), book recipe"
    ),
    "lstm_real_crops": ModelSpec(
        "lstm_real_crops",
        "LSTMClassifier",
        {"real_crops": True},
        description="tried for the recipe and dropped (chapter 6)",
    ),
    "lstm_mel": ModelSpec(
        "lstm_mel",
        "LSTMClassifier",
        {"architecture": "lstm_mel", "band_pool": 2, "real_crops": True, "epochs": 60},
        description="tried for the recipe and dropped (chapter 6)",
    ),
    "cnn_full_network": ModelSpec(
        "cnn_full_network",
        "CNNClassifier",
        _CNN,
        description="the CNN predicting with its full network only (chapter 6)",
    ),
    "cnn_all_networks": ModelSpec(
        "cnn_all_networks",
        "CNNClassifier",
        {**_CNN, "predict_with": "all"},
        description="the CNN predicting with all six networks: tried, not adopted (chapter 6)",
    ),
    "cnn_paper": ModelSpec("cnn_paper", "CNNClassifier", description="as first written"),
    "svm_paper": ModelSpec("svm_paper", "SVMClassifier", description="as first written"),
    "lstm_paper": ModelSpec("lstm_paper", "LSTMClassifier", description="as first written"),
    "cnn_svm_paper": ModelSpec(
        "cnn_svm_paper",
        "CNNSVMClassifier",
        description="in-sample CNN embedding + screened low-level + chord vector, C = 0.1",
    ),
    "cnn_svm_embedding": ModelSpec(
        "cnn_svm_embedding",
        "CNNSVMClassifier",
        {**_CNN_SVM, "cnn_output": "embedding", "cross_fit": 0},
    ),
    "cnn_svm_select": ModelSpec(
        "cnn_svm_select",
        "CNNSVMClassifier",
        {**_CNN_SVM, "predict_with": "select"},
        description="CNN-SVM's CNN block: single networks or averaged pairs, chosen on "
        "inner folds (tried, dropped for cost; chapter 6)",
    ),
    "cnn_svm_svm_scores": ModelSpec(
        "cnn_svm_svm_scores",
        "CNNSVMClassifier",
        {**_CNN_SVM, "svm_scores": _RBF_C},
        description="CNN-SVM reading an RBF SVM's cross-fitted scores of the hand-made "
        "blocks too (chapter 6)",
    ),
    "cnn_svm_no_texture": ModelSpec(
        "cnn_svm_no_texture",
        "CNNSVMClassifier",
        {**_CNN_SVM, "use_texture": False},
    ),
    "cnn_svm_no_chords": ModelSpec(
        "cnn_svm_no_chords",
        "CNNSVMClassifier",
        {**_CNN_SVM, "use_chords": False},
    ),
    "cnn_svm_musical": ModelSpec(
        "cnn_svm_musical",
        "CNNSVMClassifier",
        {**_CNN_SVM, "use_musical": True},
        description="the musical descriptors always in (chapter 6)",
    ),
    "cnn_svm_no_musical": ModelSpec(
        "cnn_svm_no_musical",
        "CNNSVMClassifier",
        {**_CNN_SVM, "use_musical": False},
        description="the musical descriptors never in (chapter 6)",
    ),
    "cnn_svm_in_sample": ModelSpec(
        "cnn_svm_in_sample",
        "CNNSVMClassifier",
        {**_CNN_SVM, "cross_fit": 0},
        description="the SVM fitted on the CNN's outputs of its own training clips",
    ),
    "svm_musical": ModelSpec("svm_musical", "SVMClassifier", {**_SVM, "use_musical": True}),
    "svm_no_musical": ModelSpec("svm_no_musical", "SVMClassifier", _SVM),
    "cnn_svm_no_lowlevel": ModelSpec(
        "cnn_svm_no_lowlevel",
        "CNNSVMClassifier",
        {**_CNN_SVM, "use_lowlevel": False},
    ),
    "cnn_svm_no_preemphasis": ModelSpec(
        "cnn_svm_no_preemphasis",
        "CNNSVMClassifier",
        _CNN_SVM,
        features={"preemphasis": 0.0},
    ),
    "cnn_embedding_svm": ModelSpec(
        "cnn_embedding_svm",
        "CNNSVMClassifier",
        {
            **_CNN_SVM,
            "use_lowlevel": False,
            "use_texture": False,
            "use_chords": False,
            "use_musical": False,
        },
    ),
}

#: The same four models as the paper describes them, before chapter 6's changes.
PAPER_RECIPE = ("cnn_paper", "svm_paper", "lstm_paper", "cnn_svm_paper")
ABLATIONS_OF = {
    "cnn_svm": (
        "cnn_svm_in_sample",
        "cnn_svm_select",
        "cnn_svm_svm_scores",
        "cnn_svm_musical",
        "cnn_svm_no_musical",
        "cnn_svm_no_chords",
        "cnn_svm_no_texture",
        "cnn_svm_no_lowlevel",
        "cnn_svm_no_preemphasis",
        "cnn_embedding_svm",
        "cnn_svm_embedding",
        "cnn_svm_paper",
    ),
    "svm": ("svm_musical", "svm_no_musical", "svm_paper"),
    "lstm": ("lstm_real_crops", "lstm_mel", "lstm_paper"),
    "cnn": ("cnn_full_network", "cnn_all_networks", "cnn_paper"),
}
#: Every ablation, the paper's recipe last (the order of the book's tables).
ABLATIONS = (
    tuple(m for group in ABLATIONS_OF.values() for m in group if m not in PAPER_RECIPE)
    + PAPER_RECIPE
)


def ablation_pairs(models) -> list[tuple[str, str]]:
    """(model, ablation) pairs of :data:`ABLATIONS_OF` with both among ``models``.

    Examples
    --------
    >>> ablation_pairs(["cnn", "svm", "cnn_paper", "svm_paper", "lstm_paper"])
    [('svm', 'svm_paper'), ('cnn', 'cnn_paper')]
    """
    present = set(models)
    return [
        (model, ablation)
        for model, ablations in ABLATIONS_OF.items()
        if model in present
        for ablation in ablations
        if ablation in present
    ]


#: The models evaluated on real audio by default: all but the ablations that need a
#: second feature extraction (they also train their own networks, doubling the cost).
REAL_DATA_MODELS = tuple(m for m in PAPER_MODELS + ABLATIONS if not MODELS[m].features)

#: Network training budgets (parameters of the network classifiers). ``paper``
#: trains each model as its recipe says; the others cap the cost (and win over
#: the recipe): ``quick`` for the default ``make reproduce``, ``tiny`` for tests.
#: A run profile (:data:`mer_core.pipeline.RUN_PROFILES`) names the budget it uses.
TRAINING_BUDGETS: dict[str, dict] = {
    "paper": {},
    "quick": {"epochs": 10, "n_networks": 1, "cross_fit": 0},
    "tiny": {"epochs": 2, "batch_size": 8, "n_networks": 1, "cross_fit": 0},
}


def networks_per_fit(models=PAPER_MODELS, *, budget: str = "paper") -> dict[str, int]:
    """Networks one fit of each model trains under a budget (0 for models without one).

    ``n_networks`` members, each with ``cross_fit`` inner networks besides the
    one trained on the whole training part (twice as many inner networks when
    ``predict_with="select"`` trains a twin per inner fold).

    Examples
    --------
    >>> networks_per_fit(["svm", "cnn", "cnn_full_network", "cnn_paper"])
    {'svm': 0, 'cnn': 11, 'cnn_full_network': 6, 'cnn_paper': 1}
    >>> networks_per_fit(["cnn"], budget="quick")
    {'cnn': 1}
    """
    counts = {}
    for name in models:
        params = build_estimator(name, budget=budget).get_params()
        if "n_networks" not in params:
            counts[name] = 0
            continue
        inner = int(params.get("cross_fit") or 0)
        twins = inner if params.get("predict_with") == "select" else 0
        counts[name] = int(params["n_networks"]) * (1 + inner + twins)
    return counts


def build_estimator(
    name: str, *, budget: str = "paper", random_state=0, network_cache=None, **overrides
):
    """An unfitted estimator for a named model under a training budget.

    Examples
    --------
    >>> est = build_estimator("cnn_svm_no_chords", budget="tiny")
    >>> type(est).__name__, est.use_chords, est.epochs
    ('CNNSVMClassifier', False, 2)
    >>> build_estimator("lstm_real_crops").real_crops, build_estimator("lstm").real_crops
    (True, False)
    """
    if name not in MODELS:
        raise ParameterError(f"unknown model {name!r}; expected one of {sorted(MODELS)}")
    if budget not in TRAINING_BUDGETS:
        raise ParameterError(
            f"unknown training budget {budget!r}; expected one of {sorted(TRAINING_BUDGETS)}"
        )
    from mer_core.models import CLASSIFIERS

    spec = MODELS[name]
    est = CLASSIFIERS[spec.estimator]()
    accepted = est.get_params(deep=False)
    params = dict(spec.params)
    params.update({k: v for k, v in TRAINING_BUDGETS[budget].items() if k in accepted})
    params["random_state"] = random_state
    if network_cache is not None and "network_cache" in accepted:
        params["network_cache"] = str(network_cache)
    unknown = sorted(set(overrides) - set(accepted))
    if unknown:
        raise ParameterError(f"{spec.estimator} has no parameters {unknown}")
    params.update(overrides)
    return est.set_params(**params)


def artist_groups(manifest) -> np.ndarray | None:
    """The artist of each clip, when every clip has one and some artist has several.

    What the outer folds and the models' inner folds are grouped by (None:
    every clip is its own group); the models see it as ``ClipFeatures.groups``.

    Examples
    --------
    >>> import pandas as pd
    >>> artist_groups(pd.DataFrame({"artist": ["a", "b", "a"]})).tolist()
    ['a', 'b', 'a']
    >>> artist_groups(pd.DataFrame({"artist": ["a", "b", None]})) is None
    True
    """
    if "artist" not in manifest:
        return None
    artists = manifest["artist"]
    if not (artists.notna().all() and artists.nunique() < len(manifest)):
        return None
    return artists.astype(str).to_numpy()


def _repeat_dir(out_dir: Path, r: int) -> Path:
    return out_dir if r == 0 else out_dir / "repeats" / f"repeat{r}"


def evaluate_manifest(
    manifest,
    *,
    scheme,
    models=PAPER_MODELS,
    budget: str = "paper",
    n_splits: int = 5,
    n_repeats: int = 1,
    seed: int = 0,
    out_dir,
    feature_config=None,
    cache_dir=None,
    n_jobs: int = 1,
    use_text: bool = False,
    progress: bool = True,
    dataset_name: str | None = None,
    scheduler: str | None = None,
) -> dict:
    """Extract features, cross-validate the named models, write the results.

    Every model sees the same folds (artist-grouped when every clip has an
    artist). With ``n_repeats > 1`` the whole cross-validation is repeated
    with other fold splits (seeds ``seed + 1000 * r``); the records then hold
    ``n_repeats * n_splits`` folds (fold ``r * n_splits + k`` is fold ``k`` of
    repeat ``r``), over which means, intervals and the corrected t-test are
    taken; pooled predictions and confusion matrices are those of the last
    repeat (each clip is predicted once per repeat). Results go to ``out_dir`` (see
    :func:`mer_core.evaluation.report.write_results`); fold results are kept in
    ``out_dir/folds`` so a stopped run resumes, and trained networks in
    ``out_dir/networks``.

    With ``scheduler`` (default ``$MER_SCHEDULER``) the extraction and every
    (model, fold) fit run on that Dask cluster (:mod:`mer_core.cluster`); the
    metrics are those of the local run, and ``results.json`` records where it
    ran (``execution``).

    Returns
    -------
    dict
        The JSON record written to ``out_dir/results.json``.
    """
    from mer_core.cluster import describe_engine, resolve_scheduler
    from mer_core.evaluation.protocol import run_cv
    from mer_core.evaluation.report import write_results
    from mer_core.extract import FeatureConfig, extract_features, groups_for
    from mer_core.io import json_digest
    from mer_core.schemes import get_scheme

    sch = get_scheme(scheme) if isinstance(scheme, str) else scheme
    models = list(models)
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ParameterError(f"unknown models {unknown or models}; expected from {list(MODELS)}")
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, int) or n_repeats < 1:
        raise ParameterError(f"n_repeats must be a positive integer, got {n_repeats!r}")
    if use_text and ("text" not in manifest or manifest["text"].isna().all()):
        raise MerError("use_text=True, but the manifest has no text column with content")
    base = feature_config or FeatureConfig(duration=sch.duration)
    out_dir = Path(out_dir)
    t_start = time.perf_counter()
    execution = describe_engine(scheduler, n_jobs=n_jobs)

    # one feature extraction per distinct feature configuration
    by_features: dict[tuple, list[str]] = {}
    for m in models:
        by_features.setdefault(tuple(sorted(MODELS[m].features.items())), []).append(m)
    paths = manifest["path"].tolist()
    feature_sets, failures = {}, []
    for overrides, names in by_features.items():
        cfg = dataclasses.replace(base, **dict(overrides))
        fields = {f for n in names for f in build_estimator(n).input_fields()}
        fs = extract_features(
            paths,
            config=cfg,
            groups=groups_for(fields),
            cache_dir=cache_dir,
            n_jobs=n_jobs,
            progress=progress,
            scheduler=scheduler,
        )
        feature_sets[overrides] = fs
        failures += [f for f in fs.failures if f not in failures]
    # keep the clips every feature set has
    ok = set(range(len(paths)))
    for fs in feature_sets.values():
        ok &= set(fs.index.tolist())
    keep = np.array(sorted(ok), dtype=int)
    if len(keep) == 0:
        raise MerError("no clip could be read; see the failures report")
    rows = manifest.iloc[keep].reset_index(drop=True)
    y = rows["label"].astype(str).to_numpy()
    groups = artist_groups(rows)

    records, fingerprints, cv_all = [], {}, None
    for overrides, names in by_features.items():
        fs = feature_sets[overrides]
        pos = np.searchsorted(fs.index, keep)
        X = fs[pos]
        if groups is not None:  # the models' inner folds are artist-grouped too
            X = X.with_groups(groups)
        if use_text:
            X = X.with_text([t if isinstance(t, str) else "" for t in rows["text"]])
        fingerprints[",".join(names)] = fs.fingerprint()
        ests = {}
        for n in names:
            extra = (
                {"use_text": True}
                if use_text and MODELS[n].estimator == "CNNSVMClassifier"
                else {}
            )
            ests[n] = build_estimator(
                n, budget=budget, random_state=seed, network_cache=out_dir / "networks", **extra
            )
            if "n_jobs" in ests[n].get_params():
                # one torch thread per fit: results do not depend on how many
                # repeats run side by side, and busy cores do not stall training
                ests[n].set_params(n_jobs=1)
        args = {
            "groups": groups,
            "n_splits": n_splits,
            "data_key": json_digest(
                {"files": [fs.digests[i] for i in pos], "feature_config": fs.config.to_dict()},
                length=32,
            ),
            "labels": list(sch.labels),
            "scheduler": scheduler,
        }
        runs = [(r, seed + 1000 * r, _repeat_dir(out_dir, r)) for r in range(n_repeats)]
        if n_jobs > 1 and n_repeats > 1 and resolve_scheduler(scheduler) is None:
            from joblib import Parallel, delayed

            cvs = Parallel(n_jobs=min(n_jobs, n_repeats))(
                delayed(run_cv)(ests, X, y, seed=s, run_dir=d, progress=False, **args)
                for _, s, d in runs
            )
        else:
            cvs = [
                run_cv(ests, X, y, seed=s, run_dir=d, progress=progress, **args)
                for _, s, d in runs
            ]
        for r, cv in enumerate(cvs):
            for rec in cv.folds:
                rec["repeat"] = r
                rec["fold"] = r * n_splits + rec["fold"]
            records += cv.folds
            cv_all = cv
    cv_all.folds = sorted(records, key=lambda r: (models.index(r["model"]), r["fold"]))
    record = {
        "dataset": dataset_name or sch.name,
        "scheme": sch.name,
        "models": models,
        "titles": {m: MODELS[m].title for m in models},
        "budget": budget,
        "budget_params": TRAINING_BUDGETS[budget],
        "seed": seed,
        "n_splits": n_splits,
        "n_repeats": n_repeats,
        "grouped_by_artist": groups is not None,
        "n_artists": None if groups is None else len(set(groups.tolist())),
        "feature_config": base.to_dict(),
        "data_fingerprint": fingerprints,
        "n_manifest": int(len(manifest)),
        "failures": failures,
        "use_text": use_text,
        "execution": execution,
        "wall_seconds": time.perf_counter() - t_start,
    }
    return write_results(cv_all, out_dir, record=record, ablations=ablation_pairs(models))
