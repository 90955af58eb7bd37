"""Generating, caching and describing a synthetic corpus.

Layout of ``out_dir`` after :func:`generate_corpus`::

    out_dir/
        <label>/<scheme>_<label>_<index>.wav   22050 Hz mono 16-bit PCM
        manifest.csv                           one row per clip (see below)
        ground_truth.jsonl                     every clip's drawn cues, one JSON per line
        corpus.json                            parameters, renderer, artists, counts

``manifest.csv`` columns: ``path`` (relative to ``out_dir``), ``label``,
``artist``, ``duration`` (the clip's real length, s), ``seed`` (the corpus
seed), ``sha256`` (of the WAV file), ``scheme``, ``index`` (within the
class), ``clip_id``, ``target_duration``, ``cue_source`` (the class whose cues
were drawn), ``noise_label`` (``cue_source != label``), ``renderer``, ``sr``,
``params_digest`` (digest of the score and render settings: the cache key).

Reproducibility. A clip depends only on ``(seed, scheme, label, index)``, its
target length and the renderer (:mod:`mer_core.synth.seeds`): the same
arguments give byte-identical files with any ``n_jobs`` and in any order.

Caching and resuming. Every clip's score is recomposed (cheap); it is rendered
again only when no earlier record has the same ``params_digest`` with a file
whose SHA-256 still matches. Records come from the previous ``manifest.csv``
and from the journal ``.synth_journal.jsonl``, appended as each clip is
finished, so an interrupted run resumes where it stopped; a deleted or
damaged WAV is regenerated. Every file is written atomically
(:mod:`mer_core.io`). Files not in the new manifest are left alone. Do not
run two generations into the same folder at once.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mer_core import __version__
from mer_core.cluster import map_tasks
from mer_core.errors import ParameterError
from mer_core.io import (
    atomic_write_bytes,
    atomic_write_json,
    file_digest,
    json_digest,
)
from mer_core.schemes import Scheme, get_scheme
from mer_core.synth.artists import choose_artist, make_artists
from mer_core.synth.compose import Score, compose
from mer_core.synth.cues import LABEL_NOISE, LATENT_SD, _check_va, draw_cues
from mer_core.synth.render import SR, master, render_score, resolve_renderer, to_pcm16, wav_bytes
from mer_core.synth.seeds import clip_streams
from mer_core.synth.sizes import CorpusSize, check_duration, class_counts, get_corpus_size
from mer_core.validation import check_int, check_n_jobs

__all__ = [
    "SYNTH_VERSION",
    "MANIFEST_COLUMNS",
    "Clip",
    "plan_corpus",
    "synthesize_clip",
    "synthesize_va",
    "generate_corpus",
    "load_manifest",
    "load_ground_truth",
]

#: Bump when a change of the code changes the audio of an unchanged score.
SYNTH_VERSION = "1"
JOURNAL = ".synth_journal.jsonl"
MANIFEST_COLUMNS = (
    "path",
    "label",
    "artist",
    "duration",
    "seed",
    "sha256",
    "scheme",
    "index",
    "clip_id",
    "target_duration",
    "cue_source",
    "noise_label",
    "renderer",
    "sr",
    "params_digest",
)


@dataclass
class Clip:
    """One synthesised clip: the audio exactly as stored, its cues and its score.

    Attributes
    ----------
    audio : np.ndarray, float32
        The 16-bit samples divided by 32768 (what a WAV reader returns).
    sr : int
    cues : dict
        Drawn cues and plan (label, cue source, artist, length, ...).
    score : mer_core.synth.compose.Score
    pcm16 : np.ndarray, int16
        The stored samples.
    renderer : str
    """

    audio: np.ndarray
    sr: int
    cues: dict
    score: Score
    pcm16: np.ndarray
    renderer: str


# ---------------------------------------------------------------- validation
def _check_seed(seed) -> int:
    return check_int(seed, "seed", low=0)


def _resolve(scheme, n_per_class, size, duration):
    sch = scheme if isinstance(scheme, Scheme) else get_scheme(scheme)
    prof = get_corpus_size(size)
    if n_per_class is None:
        n_per_class = prof.n_per_class
    counts = class_counts(sch, n_per_class)
    target = check_duration(duration if duration is not None else (prof.duration or sch.duration))
    return sch, prof, counts, target


# ---------------------------------------------------------------- one clip
def clip_id(scheme: str, label: str, index: int) -> str:
    """File stem of a clip, e.g. ``emotion_anger_0007``."""
    return f"{scheme}_{label}_{int(index):04d}"


@functools.lru_cache(maxsize=8)
def _artists(scheme_name: str, seed: int):
    return tuple(make_artists(get_scheme(scheme_name), seed=seed))


def _plan(
    sch: Scheme, label: str, index: int, seed: int, prof: CorpusSize, target: float, streams
):
    """Label noise, artist and length of one clip (a fixed number of uniform draws)."""
    u = streams["plan"].random(6)
    others = [lab for lab in sch.labels if lab != label]
    noisy = bool(u[0] < LABEL_NOISE and others)
    source = others[int(u[1] * len(others))] if noisy else label
    artist = choose_artist(_artists(sch.name, seed), label, u[2], u[3])
    if u[4] < prof.short_fraction:
        lo, hi = prof.short_range
        length = target * (lo + (hi - lo) * u[5])
    elif u[4] < prof.short_fraction + prof.long_fraction:
        length = target * (1.0 + (prof.long_max - 1.0) * u[5])
    else:
        length = target
    n_samples = max(1, int(round(length * SR)))
    return {
        "scheme": sch.name,
        "label": label,
        "index": int(index),
        "seed": int(seed),
        "clip_id": clip_id(sch.name, label, index),
        "path": f"{label}/{clip_id(sch.name, label, index)}.wav",
        "cue_source": source,
        "noise_label": noisy,
        "artist": artist.name,
        "target_duration": float(target),
        "duration": n_samples / SR,
        "n_samples": n_samples,
    }, artist


def _compose_clip(sch, label, index, seed, prof, target):
    streams = clip_streams(seed, sch.name, label, index)
    plan, artist = _plan(sch, label, index, seed, prof, target, streams)
    v, a = sch.valence_arousal[plan["cue_source"]]
    cues = draw_cues(v, a, rng=streams["cues"], artist=artist)
    score = compose(cues, duration=plan["duration"], rng=streams["compose"])
    return plan, cues, score, streams["render"]


def _render_pcm(score, cues, n_samples, renderer, rng) -> np.ndarray:
    y = render_score(score, sr=SR, renderer=renderer, rng=rng, n_samples=n_samples)
    y = master(
        y, sr=SR, reverb=cues["reverb"], tilt=cues["tilt"], gain_db=cues["gain_db"], rng=rng
    )
    return to_pcm16(y)


def _params_digest(plan, score, renderer) -> str:
    return json_digest(
        {
            "version": SYNTH_VERSION,
            "renderer": renderer,
            "sr": SR,
            "seed": plan["seed"],
            "n_samples": plan["n_samples"],
            "score": score.digest(),
        }
    )


def _ground_truth(plan, cues, score) -> dict:
    drums = [t for t in score.tracks if t.is_drum]
    gt = {k: plan[k] for k in ("clip_id", "path", "label", "cue_source", "noise_label", "artist")}
    gt.update(cues)
    gt["duration"] = plan["duration"]
    gt["n_notes"] = score.n_notes
    gt["n_drum_hits"] = len(drums[0].notes) if drums else 0
    gt["instruments"] = [
        cues["melody_instrument"],
        cues["comp_instrument"],
        cues["bass_instrument"],
    ]
    gt["score_digest"] = score.digest()
    return gt


def _make(sch_name, label, index, seed, prof, target, renderer, out_dir, prev):
    """Compose one clip, render it unless a valid cached file exists; return its records."""
    sch = get_scheme(sch_name)
    plan, cues, score, rrng = _compose_clip(sch, label, index, seed, prof, target)
    digest = _params_digest(plan, score, renderer)
    path = Path(out_dir) / plan["path"]
    rendered = True
    if prev is not None and prev[0] == digest and path.is_file() and file_digest(path) == prev[1]:
        sha, rendered = prev[1], False
    else:
        data = wav_bytes(_render_pcm(score, cues, plan["n_samples"], renderer, rrng), sr=SR)
        atomic_write_bytes(path, data)
        sha = file_digest(path)
    row = {k: plan[k] for k in MANIFEST_COLUMNS if k in plan}
    row.update({"sha256": sha, "renderer": renderer, "sr": SR, "params_digest": digest})
    return {"row": row, "ground_truth": _ground_truth(plan, cues, score), "rendered": rendered}


def _make_job(job: tuple):
    return _make(*job)


# ---------------------------------------------------------------- public API
def synthesize_clip(
    *,
    scheme="emotion",
    label=None,
    index: int = 0,
    seed: int = 0,
    size=None,
    duration=None,
    renderer: str = "auto",
) -> Clip:
    """Compose and render one clip of a corpus, in memory (for examples and the book).

    With the same ``scheme``, ``label``, ``index``, ``seed``, size/duration
    and renderer it is sample for sample the file :func:`generate_corpus`
    writes.

    Parameters
    ----------
    scheme : str
    label : str, optional
        Class of the clip (default: the scheme's first label).
    index : int
        Index of the clip within its class.
    seed : int
        Corpus seed.
    size, duration :
        As for :func:`generate_corpus` (they set the clip's target length).
    renderer : {"auto", "tinysoundfont", "additive"}

    Returns
    -------
    Clip

    Examples
    --------
    >>> clip = synthesize_clip(scheme="emotion", label="sadness", duration=2.0)
    >>> clip.sr, clip.cues["label"], clip.audio.dtype
    (22050, 'sadness', dtype('float32'))
    """
    sch, prof, _, target = _resolve(scheme, 1, size, duration)
    label = sch.labels[0] if label is None else label
    sch.index(label)
    index = check_int(index, "index", low=0)
    seed = _check_seed(seed)
    name = resolve_renderer(renderer)
    plan, cues, score, rrng = _compose_clip(sch, label, int(index), seed, prof, target)
    pcm = _render_pcm(score, cues, plan["n_samples"], name, rrng)
    info = _ground_truth(plan, cues, score)
    return Clip(
        audio=pcm.astype(np.float32) / 32768.0,
        sr=SR,
        cues=info,
        score=score,
        pcm16=pcm,
        renderer=name,
    )


def synthesize_va(
    valence: float,
    arousal: float,
    *,
    seed: int = 0,
    duration: float = 10.0,
    renderer: str = "auto",
) -> Clip:
    """A clip for an arbitrary point of the valence-arousal plane (no scheme, no artist).

    Examples
    --------
    >>> clip = synthesize_va(-0.7, -0.6, duration=1.0, renderer="additive")
    >>> clip.cues["mode"] in ("major", "minor"), len(clip.audio)
    (True, 22050)
    """
    valence, arousal = _check_va(valence, arousal)
    seed = _check_seed(seed)
    duration = check_duration(duration)
    name = resolve_renderer(renderer)
    ss = np.random.SeedSequence(
        [seed, int(round((valence + 1) * 1e6)), int(round((arousal + 1) * 1e6))]
    )
    cue_rng, comp_rng, render_rng = (np.random.default_rng(s) for s in ss.spawn(3))
    cues = draw_cues(valence, arousal, rng=cue_rng)
    score = compose(cues, duration=duration, rng=comp_rng)
    pcm = _render_pcm(score, cues, int(round(duration * SR)), name, render_rng)
    return Clip(pcm.astype(np.float32) / 32768.0, SR, cues, score, pcm, name)


def plan_corpus(*, scheme="emotion", n_per_class=None, seed: int = 0, size=None, duration=None):
    """The clips a corpus would hold (label, artist, label noise, length), without audio.

    Examples
    --------
    >>> plan = plan_corpus(scheme="4q", size="paper")
    >>> len(plan), plan["label"].value_counts().sort_index().tolist()
    (1471, [368, 368, 368, 367])
    """
    import pandas as pd

    sch, prof, counts, target = _resolve(scheme, n_per_class, size, duration)
    seed = _check_seed(seed)
    rows = []
    for label in sch.labels:
        for i in range(counts[label]):
            plan, _ = _plan(
                sch, label, i, seed, prof, target, clip_streams(seed, sch.name, label, i)
            )
            rows.append(plan)
    return pd.DataFrame(rows)


def _previous_records(out: Path) -> dict:
    """``path -> (params_digest, sha256)`` from the last manifest and the journal."""
    import pandas as pd

    prev = {}
    manifest = out / "manifest.csv"
    if manifest.is_file():
        try:
            df = pd.read_csv(manifest, usecols=["path", "params_digest", "sha256"], dtype=str)
            prev.update({r.path: (r.params_digest, r.sha256) for r in df.itertuples()})
        except (ValueError, pd.errors.ParserError):
            pass  # an unreadable manifest only means no cache
    journal = out / JOURNAL
    if journal.is_file():
        with open(journal, encoding="utf-8") as fh:
            for line in fh:
                try:
                    rec = json.loads(line)
                    prev[rec["path"]] = (rec["params_digest"], rec["sha256"])
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue  # a torn last line from an interrupted run
    return prev


def _clean_stale_temporaries(out: Path, sch: Scheme) -> None:
    for label in sch.labels:
        d = out / label
        if d.is_dir():
            for tmp in d.glob(f".{sch.name}_*.wav.*.tmp.wav"):
                tmp.unlink(missing_ok=True)


def generate_corpus(
    out_dir,
    *,
    scheme="emotion",
    n_per_class=None,
    seed: int = 0,
    size=None,
    duration=None,
    n_jobs: int = 1,
    progress: bool = True,
    renderer: str = "auto",
    scheduler: str | None = None,
):
    """Write a synthetic emotion-labelled corpus (WAVs, manifest, ground truth) to ``out_dir``.

    Parameters
    ----------
    out_dir : path-like
        Output folder (created).
    scheme : {"emotion", "ema", "4q"}
        Labelling scheme (:mod:`mer_core.schemes`): classes and their
        valence-arousal positions.
    n_per_class : int or dict, optional
        Clips per class (a dict: per label). Default: the corpus size's (50
        without a size; the paper's dataset size for ``"paper"``).
    seed : int
        Corpus seed; clips depend on ``(seed, scheme, label, index)`` only.
    size : {"tiny", "quick", "paper"}, optional
        Corpus size and clip-length policy (:data:`mer_core.synth.sizes.CORPUS_SIZES`).
    duration : float, optional
        Target clip length in seconds (default: the size's, else the
        scheme's 50/40/40 s). Some clips are shorter or longer (see
        :mod:`mer_core.synth.sizes`).
    n_jobs : int
        Worker processes (joblib; -1 = all cores). Does not change the output.
    progress : bool
        Show a tqdm progress bar on stderr.
    renderer : {"auto", "tinysoundfont", "additive"}
        ``"auto"`` uses the soundfont when ``tinysoundfont`` is importable.
    scheduler : str, optional
        Address of a Dask scheduler whose workers render the clips (default
        ``$MER_SCHEDULER``; unset: local, ``n_jobs``). They write the WAVs
        into ``out_dir`` at the same path (see :mod:`mer_core.cluster`); this
        process writes the manifest and journal. Does not change the output.

    Returns
    -------
    pandas.DataFrame
        The manifest (also written to ``manifest.csv``), one row per clip in
        label order; ``attrs`` holds ``n_rendered``, ``n_cached``,
        ``renderer`` and ``out_dir``.

    Examples
    --------
    >>> import shutil, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> df = generate_corpus(folder, scheme="4q", n_per_class=1, duration=1.0, progress=False)
    >>> df["label"].tolist(), df.attrs["n_rendered"]
    (['Q1', 'Q2', 'Q3', 'Q4'], 4)
    >>> shutil.rmtree(folder)
    """
    import pandas as pd
    from tqdm.auto import tqdm

    sch, prof, counts, target = _resolve(scheme, n_per_class, size, duration)
    seed = _check_seed(seed)
    n_jobs = check_n_jobs(n_jobs)
    name = resolve_renderer(renderer)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(f"cannot create output folder {out}: {exc}") from None
    _clean_stale_temporaries(out, sch)
    prev = _previous_records(out)
    jobs = [
        (sch.name, label, i, seed, prof, target, name, str(out))
        for label in sch.labels
        for i in range(counts[label])
    ]
    jobs = [(*j, prev.get(f"{j[1]}/{clip_id(sch.name, j[1], j[2])}.wav")) for j in jobs]
    results = map_tasks(
        _make_job, jobs, n_jobs=n_jobs, scheduler=scheduler, ordered=False, writable=[out]
    )
    records = []
    journal = out / JOURNAL
    with (
        open(journal, "a", encoding="utf-8") as jfh,
        tqdm(total=len(jobs), desc=f"synth {sch.name}", unit="clip", disable=not progress) as bar,
    ):
        for rec in results:
            records.append(rec)
            if rec["rendered"]:
                row = rec["row"]
                line = {k: row[k] for k in ("path", "params_digest", "sha256")}
                jfh.write(json.dumps(line, sort_keys=True) + "\n")
                jfh.flush()
            bar.update(1)
    order = {lab: i for i, lab in enumerate(sch.labels)}
    records.sort(key=lambda r: (order[r["row"]["label"]], r["row"]["index"]))
    df = pd.DataFrame([r["row"] for r in records], columns=list(MANIFEST_COLUMNS))
    gt_text = "".join(json.dumps(r["ground_truth"], sort_keys=True) + "\n" for r in records)
    # unchanged files keep their time stamps (so `make` sees nothing new)
    atomic_write_bytes(out / "ground_truth.jsonl", gt_text.encode("utf-8"), only_if_changed=True)
    atomic_write_json(
        out / "corpus.json",
        {
            "generator": "mer_core.synth",
            "mer_core_version": __version__,
            "synth_version": SYNTH_VERSION,
            "scheme": sch.name,
            "seed": seed,
            "size": prof.name,
            "target_duration": target,
            "class_counts": counts,
            "n_clips": len(df),
            "renderer": name,
            "sr": SR,
            "format": "WAV, mono, 16-bit PCM",
            "label_noise": LABEL_NOISE,
            "latent_sd": LATENT_SD,
            "artists": [a.summary() for a in _artists(sch.name, seed)],
        },
        only_if_changed=True,
    )
    atomic_write_bytes(
        out / "manifest.csv", df.to_csv(index=False).encode("utf-8"), only_if_changed=True
    )
    journal.unlink(missing_ok=True)
    n_rendered = sum(r["rendered"] for r in records)
    df.attrs.update(
        {
            "n_rendered": n_rendered,
            "n_cached": len(records) - n_rendered,
            "renderer": name,
            "out_dir": os.fspath(out),
        }
    )
    return df


def load_manifest(out_dir):
    """Read ``manifest.csv`` of a generated corpus, with an absolute ``filepath`` column."""
    import pandas as pd

    out = Path(out_dir)
    path = out / "manifest.csv"
    if not path.is_file():
        raise ParameterError(f"{path} not found; run generate_corpus / 'mer synth' first")
    df = pd.read_csv(path, dtype={"sha256": str, "params_digest": str})
    df["filepath"] = [os.fspath(out / p) for p in df["path"]]
    return df


def load_ground_truth(out_dir):
    """Read ``ground_truth.jsonl`` into a DataFrame (list-valued cues stay lists)."""
    import pandas as pd

    path = Path(out_dir) / "ground_truth.jsonl"
    if not path.is_file():
        raise ParameterError(f"{path} not found; run generate_corpus / 'mer synth' first")
    with open(path, encoding="utf-8") as fh:
        return pd.DataFrame([json.loads(line) for line in fh if line.strip()])
