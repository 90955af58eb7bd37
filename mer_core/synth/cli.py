"""``mer synth``: generate the synthetic emotion-labelled corpus."""

from __future__ import annotations

from mer_core.cli import DeprecatedAlias, add_scheme_option, duration_arg
from mer_core.cluster import add_scheduler_argument
from mer_core.synth.render import RENDERERS
from mer_core.synth.sizes import CORPUS_SIZES


def register(sub) -> None:
    """Add the ``synth`` sub-command to the ``mer`` parser."""
    p = sub.add_parser(
        "synth",
        help="generate the synthetic emotion-labelled music corpus (WAV + manifest)",
        description="Compose and render music conditioned on emotion for a labelling scheme, "
        "deterministically from --seed: OUT/<label>/*.wav (22050 Hz mono 16-bit), "
        "OUT/manifest.csv, OUT/ground_truth.jsonl (every clip's musical cues) and "
        "OUT/corpus.json. Clips already in OUT with matching content are kept; an "
        "interrupted run resumes.",
    )
    add_scheme_option(p, default="emotion", deprecated=())
    p.add_argument(
        "--n-per-class",
        type=int,
        default=None,
        help="clips per class (default: the corpus size's; 50 without a size)",
    )
    p.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--size",
        "--profile",
        dest="size",
        choices=[name for name in CORPUS_SIZES if name != "default"],
        default=None,
        action=DeprecatedAlias,
        new="--size",
        help="corpus size: tiny (tests), quick (40/class, 15 s) or paper (the paper's sizes "
        "and lengths); --profile is a deprecated alias",
    )
    p.add_argument(
        "--duration", type=duration_arg, default=None, help="target clip length in seconds"
    )
    p.add_argument("--n-jobs", type=int, default=1, help="parallel workers (default 1)")
    p.add_argument(
        "--renderer",
        choices=("auto", *RENDERERS),
        default="auto",
        help="auto: the GM soundfont via tinysoundfont when installed, else additive",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_scheduler_argument(p)
    p.set_defaults(func=_synth)


def _synth(args) -> int:
    from mer_core.io import check_output
    from mer_core.synth.corpus import generate_corpus

    check_output(args.out, folder=True, what="output folder")  # before any rendering
    df = generate_corpus(
        args.out,
        scheme=args.scheme,
        n_per_class=args.n_per_class,
        seed=args.seed,
        size=args.size,
        duration=args.duration,
        n_jobs=args.n_jobs,
        progress=not args.quiet,
        renderer=args.renderer,
        scheduler=args.scheduler,
    )
    counts = ", ".join(f"{k} {v}" for k, v in df["label"].value_counts(sort=False).items())
    print(
        f"{len(df)} clips ({counts}) in {args.out}: {df.attrs['n_rendered']} rendered, "
        f"{df.attrs['n_cached']} kept; renderer {df.attrs['renderer']}; "
        f"{df['duration'].sum() / 60:.1f} min of audio"
    )
    return 0
