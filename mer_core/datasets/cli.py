"""``mer data``: dataset summary (``info``) and the 4Q download (``fetch``)."""

from __future__ import annotations

import argparse

from mer_core.datasets.dispatch import load_dataset
from mer_core.datasets.fetch import OFFICIAL_URL, digest_file, fetch_4q
from mer_core.datasets.summary import format_summary, summarize, summary_json
from mer_core.names import SCHEME_IDS


def register(sub) -> None:
    data = sub.add_parser(
        "data",
        help="inspect a dataset or download the 4Q dataset",
        description="Dataset tools: 'info' summarises a dataset, 'fetch' downloads one.",
    )
    data.set_defaults(func=lambda args: _help(data))
    cmds = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND")

    info = cmds.add_parser(
        "info",
        help="summarise a dataset: clips per class, durations, sample rates, artists",
        description="Load SOURCE (a folder of class folders, the 4Q layout, a CSV manifest "
        "or a folder of labelled MIDI files), validate it and print counts per class, "
        "durations, sample rates, channels, artists and unreadable files. Only file headers "
        "are read; nothing is modified. Exit status 1 when some files are unreadable.",
    )
    info.add_argument("source", help="dataset folder or CSV manifest (read only)")
    info.add_argument("--scheme", choices=SCHEME_IDS, default=None, help="label scheme")
    info.add_argument("--json", action="store_true", help="print JSON instead of text")
    info.set_defaults(func=_info)

    fetch = cmds.add_parser(
        "fetch",
        help="download, verify and unpack a public dataset (4Q)",
        description="Download the 4Q audio emotion dataset (Panda et al. 2018) into DEST, "
        "resuming an interrupted download, verify it (--sha256 when given; the zip's own "
        "CRCs always), unpack it safely and check the clips per quadrant.",
    )
    fetch.add_argument("dataset", choices=["4q"], help="which dataset")
    fetch.add_argument("dest", help="folder to download and unpack into (created)")
    fetch.add_argument("--url", default=OFFICIAL_URL, help=f"archive URL (default {OFFICIAL_URL})")
    fetch.add_argument("--sha256", default=None, help="expected SHA-256 of the archive")
    fetch.add_argument(
        "--expect",
        type=int,
        default=225,
        help="clips expected in each quadrant (default 225, the official release; 0: any)",
    )
    fetch.add_argument("--remove-archive", action="store_true", help="delete the zip afterwards")
    fetch.add_argument("--quiet", action="store_true", help="no progress bar")
    fetch.set_defaults(func=_fetch)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _info(args) -> int:
    manifest = load_dataset(args.source, scheme=args.scheme)
    summary = summarize(manifest)
    print(summary_json(summary) if args.json else format_summary(summary))
    return 1 if len(summary["unreadable"]) else 0


def _fetch(args) -> int:
    root = fetch_4q(
        args.dest,
        url=args.url,
        sha256=args.sha256,
        expected_counts=args.expect or None,
        keep_archive=not args.remove_archive,
        progress=not args.quiet,
    )
    print(f"4Q dataset ready in {root}")
    record = digest_file(root.parent / (root.name + ".zip"))
    if record.is_file():
        print(f"archive sha256: {record.read_text().split()[0]} (recorded in {record})")
    return 0
