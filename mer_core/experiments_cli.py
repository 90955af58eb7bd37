"""``mer evaluate``, ``mer train`` and ``mer predict``: the models from the command line."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from mer_core.cli import add_cache_dir_option, add_scheme_option, duration_arg
from mer_core.errors import MerError

MODEL_FOLDER = "model"
TRAIN_RECORD = "train.json"


def _common(p, *, data_required: bool = True) -> None:
    from mer_core.experiments import TRAINING_BUDGETS

    add_scheme_option(p, required=True)
    p.add_argument(
        "--data",
        required=data_required,
        help="dataset: a 4Q release folder, class folders, a CSV manifest, or a generated corpus",
    )
    p.add_argument(
        "--budget",
        default="paper",
        choices=tuple(TRAINING_BUDGETS),
        help="training budget of the networks",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--duration", type=duration_arg, default=None, help="seconds per clip (default: scheme's)"
    )
    add_cache_dir_option(p)
    p.add_argument("--n-jobs", type=int, default=1, help="parallel feature workers (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def register(sub) -> None:
    from mer_core.cluster import add_scheduler_argument
    from mer_core.experiments import ABLATIONS, MODELS
    from mer_core.names import PAPER_MODELS

    p = sub.add_parser(
        "evaluate",
        help="cross-validate models on a dataset and write the results tables",
        description="Artist-grouped (when artists are known) stratified k-fold cross-validation "
        "of the paper's models on one dataset. Writes summary.csv, per_class.csv, "
        "paired_tests.csv, folds.csv and results.json into OUT; a stopped run resumes.",
    )
    _common(p)
    p.add_argument(
        "--models",
        default=",".join(PAPER_MODELS),
        help=f"comma-separated models (default {','.join(PAPER_MODELS)}; all: {','.join(MODELS)})",
    )
    p.add_argument("--ablations", action="store_true", help=f"add {', '.join(ABLATIONS)}")
    p.add_argument("--folds", type=int, default=5, help="number of folds (default 5)")
    p.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="repeat the cross-validation with other fold splits (default 1)",
    )
    p.add_argument("--text", action="store_true", help="fuse the manifest's text into CNN-SVM")
    p.add_argument("--out", required=True, help="results folder")
    add_scheduler_argument(p)
    p.set_defaults(func=_evaluate)

    p = sub.add_parser(
        "train",
        help="train one model on a whole dataset and save it",
        description="Extract features, fit one model on every clip of the dataset and save it "
        "(pickle-free) into OUT/model with OUT/train.json recording config, seed, versions and "
        "data fingerprint. Use it with `mer predict --model OUT`.",
    )
    _common(p)
    p.add_argument("--model", default="cnn_svm", choices=sorted(MODELS), help="model to train")
    p.add_argument("--out", required=True, help="run folder to create")
    p.add_argument("--overwrite", action="store_true", help="replace an existing trained model")
    p.set_defaults(func=_train)

    p = sub.add_parser(
        "predict",
        help="the emotion of songs, from a model saved by `mer train`",
        description="Print each song's predicted emotion and the per-class scores (softmax of "
        "the decision values) of a model trained by `mer train`.",
    )
    p.add_argument("songs", nargs="+", help="audio files")
    p.add_argument("--model", required=True, help="run folder written by `mer train`")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_cache_dir_option(p)
    p.set_defaults(func=_predict)


def _load(args):
    from mer_core.datasets import load_dataset

    return load_dataset(args.data, scheme=args.scheme)


def _check_cache(args, inputs) -> None:
    """The feature cache is written to: never over or into an input."""
    from mer_core.extract import default_cache_dir
    from mer_core.io import check_output

    cache = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    check_output(cache, inputs, folder=True, what="feature cache")


def _check_outputs(args, out, *, folder: bool = True, manifest=None, contain: bool = True):
    """Refuse OUT (and the feature cache) before any work: never over or into the data.

    The inputs are ``--data`` and, once loaded, the folder the manifest's clips lie in.
    """
    from mer_core.io import check_output

    inputs = [args.data]
    if manifest is not None and manifest.attrs.get("root"):
        inputs.append(manifest.attrs["root"])
    what = "output folder" if folder else "output file"
    check_output(out, inputs, folder=folder, what=what, contain=contain)
    _check_cache(args, inputs)


def _feature_config(args):
    from mer_core.extract import FeatureConfig
    from mer_core.schemes import get_scheme

    duration = args.duration if args.duration is not None else get_scheme(args.scheme).duration
    return FeatureConfig(duration=duration)


def _evaluate(args) -> int:
    import pandas as pd

    from mer_core.experiments import ABLATIONS, evaluate_manifest

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.ablations:
        models += [a for a in ABLATIONS if a not in models]
    _check_outputs(args, args.out)
    manifest = _load(args)
    _check_outputs(args, args.out, manifest=manifest)
    rec = evaluate_manifest(
        manifest,
        scheme=args.scheme,
        models=models,
        budget=args.budget,
        n_splits=args.folds,
        n_repeats=args.repeats,
        seed=args.seed,
        out_dir=args.out,
        feature_config=_feature_config(args),
        cache_dir=args.cache_dir,
        n_jobs=args.n_jobs,
        use_text=args.text,
        progress=not args.quiet,
        dataset_name=Path(args.data).name,
        scheduler=args.scheduler,
    )
    summary = pd.DataFrame(rec["summary"]).set_index("model")
    cols = ["accuracy", "precision", "recall", "f1", "training_seconds"]
    table = summary[cols].rename(index=rec["titles"]).round(3)
    print(
        f"\n{rec['dataset']} ({rec['scheme']}), {rec['n_clips']} clips, "
        f"{rec['n_splits']}-fold CV{', grouped by artist' if rec['grouped_by_artist'] else ''}, "
        f"seed {rec['seed']} (mean over folds)"
    )
    print(table.to_string())
    if rec["paired_tests"]:
        tests = pd.DataFrame(rec["paired_tests"])[["model", "f1_diff", "f1_p", "mcnemar_p"]]
        print("\nCNN-SVM vs each model (corrected paired t-test on F1; McNemar):")
        print(tests.round(4).to_string(index=False))
    if rec["failures"]:
        print(f"\n{len(rec['failures'])} files failed and were left out", file=sys.stderr)
        for f in rec["failures"]:
            print(f"mer: left out: {f['error']}", file=sys.stderr)
    print(f"\nresults: {args.out}")
    return 0


def _train(args) -> int:
    from mer_core.environment import environment
    from mer_core.evaluation.protocol import inner_choices
    from mer_core.experiments import MODELS, artist_groups, build_estimator
    from mer_core.extract import extract_features, groups_for
    from mer_core.io import atomic_write_json
    from mer_core.models import save_model

    out = Path(args.out)
    if (out / MODEL_FOLDER).exists() and not args.overwrite:
        raise MerError(f"{out / MODEL_FOLDER}: a trained model is already there (use --overwrite)")

    # checked before the fit, so a read-only or misplaced OUT fails in a second, not an hour
    def check(manifest=None):
        _check_outputs(args, out, manifest=manifest)
        _check_outputs(args, out / MODEL_FOLDER, manifest=manifest, contain=False)
        _check_outputs(args, out / TRAIN_RECORD, folder=False, manifest=manifest)

    check()  # before loading: a bad OUT fails at once
    manifest = _load(args)
    check(manifest)  # and against the folder the clips lie in
    spec = MODELS[args.model]
    config = _feature_config(args)
    if spec.features:
        import dataclasses

        config = dataclasses.replace(config, **spec.features)
    est = build_estimator(args.model, budget=args.budget, random_state=args.seed)
    if "progress" in est.get_params():
        est.set_params(progress=not args.quiet)
    X = extract_features(
        manifest["path"].tolist(),
        config=config,
        groups=groups_for(est.input_fields()),
        cache_dir=args.cache_dir,
        n_jobs=args.n_jobs,
        progress=not args.quiet,
    )
    if len(X) == 0:
        raise MerError(f"{args.data}: no clip could be read")
    y = manifest["label"].astype(str).to_numpy()[X.index]
    artists = artist_groups(manifest.iloc[X.index])
    if artists is not None:  # inner folds (C, cross-fitting) keep an artist's clips together
        X = X.with_groups(artists)
    t0 = time.perf_counter()
    est.fit(X, y)  # keeps X.config as feature_config_, which save_model writes
    seconds = time.perf_counter() - t0
    save_model(
        est, out / MODEL_FOLDER, scheme=args.scheme, title=spec.title, overwrite=args.overwrite
    )
    atomic_write_json(
        out / TRAIN_RECORD,
        {
            "model": args.model,
            "title": spec.title,
            "scheme": args.scheme,
            "labels": [str(c) for c in est.classes_],
            "budget": args.budget,
            "seed": args.seed,
            "feature_config": config.to_dict(),
            "data": str(args.data),
            "data_fingerprint": X.fingerprint(),
            "n_clips": len(X),
            "grouped_by_artist": artists is not None,
            "selection": inner_choices(est),
            "failures": X.failures,
            "training_seconds": seconds,
            "environment": environment(),
        },
    )
    print(f"trained {spec.title} on {len(X)} clips in {seconds:.1f} s -> {out}")
    for f in X.failures:
        print(f"mer: left out: {f['error']}", file=sys.stderr)
    return 0


def _predict(args) -> int:
    from mer_core.models import load_model
    from mer_core.schemes import describe_label

    run = Path(args.model)
    _check_cache(args, [*args.songs, run])
    if not ((run / MODEL_FOLDER / "config.json").is_file() or (run / "config.json").is_file()):
        raise MerError(f"{run}: not a run folder from `mer train` (no {MODEL_FOLDER}/config.json)")
    model = load_model(run)
    pred = model.predict_paths(args.songs, cache_dir=args.cache_dir)
    novelty = pred.novelty if pred.novelty is not None else [None] * len(pred.paths)
    results = [
        {
            "song": path,
            "emotion": str(label),
            "scores": scores,
            "novelty": None if nov is None else round(float(nov), 3),
            "far_from_training": far,
        }
        for path, label, scores, nov, far in zip(
            pred.paths, pred.labels, pred.scores(), novelty, pred.far(), strict=True
        )
    ]
    errors = [{"song": f["path"], "error": f["error"]} for f in pred.failures]
    if args.json:
        print(
            json.dumps(
                {
                    "model": model.title_,
                    "scheme": model.scheme_,
                    "predictions": results,
                    "errors": errors,
                },
                indent=2,
            )
        )
    else:
        for r in results:
            ranked = sorted(r["scores"].items(), key=lambda kv: -kv[1])
            detail = ", ".join(f"{k} {v:.2f}" for k, v in ranked)
            emotion = describe_label(model.scheme_ or "4q", r["emotion"])
            print(f"{r['song']}: {emotion}  ({detail})")
            if r["far_from_training"]:
                print(
                    f"  note: unlike the music this model was trained on (novelty "
                    f"{r['novelty']:.1f} > 1); treat the prediction with care"
                )
    for e in errors:  # once each, on stderr (the message names the song)
        print(f"mer: error: {e['error']}", file=sys.stderr)
    return 1 if errors else 0
