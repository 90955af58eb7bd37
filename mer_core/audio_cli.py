"""``mer convert``: the paper's WAV conversion from the command line."""

from __future__ import annotations

import json
import sys

from mer_core.audio import DEFAULT_SR, convert_tree
from mer_core.cli import duration_arg


def register(sub) -> None:
    p = sub.add_parser(
        "convert",
        help="convert a folder of audio to 22.05 kHz mono 16-bit WAV (the paper's step 1)",
        description="Convert every audio file under SRC to 16-bit mono WAV under DST, "
        "mirroring the folder tree. SRC is never modified; existing outputs are kept, "
        "so an interrupted run resumes.",
    )
    p.add_argument("src", help="input folder (read only)")
    p.add_argument("dst", help="output folder (created)")
    p.add_argument("--sr", type=int, default=DEFAULT_SR, help="sampling rate (default 22050)")
    p.add_argument("--duration", type=duration_arg, default=None, help="keep the first N seconds")
    p.add_argument("--overwrite", action="store_true", help="redo existing outputs")
    p.add_argument("--n-jobs", type=int, default=1, help="parallel workers (default 1)")
    p.add_argument("--strict", action="store_true", help="stop at the first bad file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_convert)


def _convert(args) -> int:
    report = convert_tree(
        args.src,
        args.dst,
        sr=args.sr,
        duration=args.duration,
        overwrite=args.overwrite,
        n_jobs=args.n_jobs,
        strict=args.strict,
        progress=not args.quiet,
    )
    print(
        f"converted {report['converted']}, already present {report['skipped']}, "
        f"failed {len(report['failed'])}"
    )
    for item in report["failed"]:  # once each, on stderr
        print(f"mer: failed: {item['error']}", file=sys.stderr)
    if report["failed"]:
        print(json.dumps({"failed": report["failed"]}, indent=2))
    if report["failed"] and not report["converted"] and not report["skipped"]:
        print(f"mer: error: {args.src}: no file could be converted", file=sys.stderr)
        return 2
    return 1 if report["failed"] else 0
