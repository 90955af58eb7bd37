"""``mer pipeline``: the steps of ``make reproduce`` (generate data, run the evaluations)."""

from __future__ import annotations


def register(sub) -> None:
    from mer_core.cli import add_scheme_option
    from mer_core.cluster import add_scheduler_argument
    from mer_core.pipeline import RUN_PROFILES

    p = sub.add_parser(
        "pipeline",
        help="steps of `make reproduce`: generate a corpus, run an evaluation",
        description="The reproduction steps, idempotent and resumable. `data` generates the "
        "profile's corpus for a scheme into BUILD/data/SCHEME; `results` cross-validates the "
        "paper's models and the ablations into BUILD/results/NAME (on the generated corpus, or "
        "on --data).",
    )
    steps = p.add_subparsers(dest="step", metavar="STEP", required=True)
    for step in ("data", "results"):
        s = steps.add_parser(step, help=f"the {step} step")
        s.add_argument("--build", required=True, help="build folder (e.g. build/quick)")
        s.add_argument(
            "--profile",
            default="quick",
            choices=tuple(RUN_PROFILES),
            help="run profile: the corpus size, training budget and folds it picks",
        )
        add_scheme_option(s, required=True, deprecated=())
        s.add_argument("--seed", type=int, default=0)
        s.add_argument("--n-jobs", type=int, default=1)
        s.add_argument("--quiet", action="store_true")
        add_scheduler_argument(s)
        if step == "results":
            s.add_argument("--name", default=None, help="run name (default: the scheme)")
            s.add_argument("--data", default=None, help="a real dataset instead of the corpus")
        s.set_defaults(func=_run)


def _run(args) -> int:
    from mer_core.io import check_output
    from mer_core.pipeline import ensure_dataset, ensure_results

    check_output(args.build, [getattr(args, "data", None)], folder=True, what="build folder")
    if args.step == "data":
        m = ensure_dataset(
            args.build,
            args.scheme,
            profile=args.profile,
            seed=args.seed,
            n_jobs=args.n_jobs,
            progress=not args.quiet,
            scheduler=args.scheduler,
        )
        print(f"{args.scheme}: {len(m)} clips in {args.build}/data/{args.scheme}")
        return 0
    rec = ensure_results(
        args.build,
        args.scheme,
        profile=args.profile,
        name=args.name,
        data=args.data,
        seed=args.seed,
        n_jobs=args.n_jobs,
        progress=not args.quiet,
        scheduler=args.scheduler,
    )
    best = max(rec["summary"], key=lambda r: r["f1"])
    print(
        f"{rec['dataset']}: {rec['n_clips']} clips, {len(rec['models'])} models; "
        f"best macro-F1 {best['f1']:.3f} ({best['model']})"
    )
    return 0
