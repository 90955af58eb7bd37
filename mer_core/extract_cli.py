"""``mer features``: extract the paper's features for a folder of audio."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from mer_core.audio import find_audio, no_audio_message
from mer_core.cli import add_cache_dir_option, duration_arg
from mer_core.cluster import add_scheduler_argument
from mer_core.errors import MerError
from mer_core.extract import GROUPS, FeatureConfig, default_cache_dir, extract_features
from mer_core.io import atomic_path, atomic_write_json, check_output


def register(sub) -> None:
    p = sub.add_parser(
        "features",
        help="extract MFCC, log-Mel, low-level and chord features for a folder of audio",
        description="Extract every feature of the paper's front end for the audio files under "
        "SRC (cached on disk by content and parameters) and write them to OUT (.npz) with a "
        "JSON report of any file that failed.",
    )
    p.add_argument("src", help="folder of audio files (read only)")
    p.add_argument("--out", required=True, help="output .npz file")
    p.add_argument(
        "--duration", type=duration_arg, default=40.0, help="seconds per clip (default 40)"
    )
    p.add_argument("--preemphasis", type=float, default=0.97, help="pre-emphasis factor mu")
    p.add_argument("--n-mfcc", type=int, default=20, help="MFCC order L (default 20)")
    p.add_argument("--n-mels", type=int, default=128, help="Mel filters M (default 128)")
    p.add_argument("--groups", default=",".join(GROUPS), help="comma-separated feature groups")
    add_cache_dir_option(p)
    p.add_argument("--n-jobs", type=int, default=1, help="parallel workers (default 1)")
    p.add_argument("--strict", action="store_true", help="stop at the first bad file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_scheduler_argument(p)
    p.set_defaults(func=_features)


def _features(args) -> int:
    config = FeatureConfig(
        duration=args.duration,
        preemphasis=args.preemphasis,
        n_mfcc=args.n_mfcc,
        n_mels=args.n_mels,
    )
    files = find_audio(args.src)
    # every output location is checked before any work: never over or into the input
    out = check_output(args.out, [args.src], what="output file")
    report = out.with_suffix(".report.json")
    check_output(report, [args.src], what="report")
    cache_dir = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    check_output(cache_dir, [args.src], folder=True, what="feature cache")
    if not files:
        raise MerError(no_audio_message(args.src))
    fs = extract_features(
        files,
        config=config,
        groups=tuple(g.strip() for g in args.groups.split(",") if g.strip()),
        cache_dir=cache_dir,
        n_jobs=args.n_jobs,
        strict=args.strict,
        progress=not args.quiet,
        scheduler=args.scheduler,
    )
    for f in fs.failures:
        print(f"mer: failed: {f['error']}", file=sys.stderr)
    if len(fs) == 0:
        # nothing was produced: leave OUT and its report as they were (a pair that agrees)
        raise MerError(
            f"{args.src}: no clip succeeded ({len(fs.failures)} of {len(files)} failed, see "
            f"above); nothing was written to {out}"
        )
    arrays = {"paths": np.array(fs.paths), "n_valid": fs.n_valid}
    for name in ("log_mel", "mfcc", "lowlevel", "chords", "musical"):
        value = getattr(fs, name)
        if isinstance(value, np.ndarray):
            arrays[name] = value
    if fs.lowlevel_names:
        arrays["lowlevel_names"] = np.array(fs.lowlevel_names)
    if fs.chord_names:
        arrays["chord_names"] = np.array(fs.chord_names)
    with atomic_path(out, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
    atomic_write_json(
        report,
        {
            "config": config.to_dict(),
            "n_files": len(files),
            "n_ok": len(fs),
            "fingerprint": fs.fingerprint(),
            "failures": fs.failures,
        },
    )
    print(f"{len(fs)} of {len(files)} files -> {out}; report {report}")
    return 1 if fs.failures else 0
