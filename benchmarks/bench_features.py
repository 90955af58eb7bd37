"""Benchmark of the whole front end against a plain per-clip librosa chain.

Both sides compute the same features for each clip: decode + resample to
22.05 kHz mono, the paper's 40 s window, pre-emphasis, 20 MFCCs and deltas,
a 128-band log-Mel spectrogram, the low-level descriptors (centroid, bandwidth,
roll-off, flatness, contrast, flux, zero-crossing rate, RMS, onset strength,
tempo) and a chord sequence from chroma with triad templates and Viterbi
smoothing. The librosa chain calls one librosa function per feature, as a
typical script does; ``mer_core`` shares one decode and one STFT per signal.

Each variant runs in a fresh subprocess so its peak memory (resident set of
the process and its workers, sampled every 20 ms) is its own; the first clip
of every variant is a warm-up (numba/JIT, imports) excluded from the timing.

Usage::

    python benchmarks/bench_features.py [--data DIR] [--limit N] [--out FILE]

Data: the real 4Q development clips when present (``../shared/data/4q-dev``
or ``--data``), otherwise generated audio. Writes a JSON record (machine,
versions, per-variant throughput in times-realtime and peak memory) and prints
a table. Nothing here is asserted: it is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _harness import child_result, machine, run_child

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "4q-dev"
DURATION = 40.0
SR = 22050


# ----------------------------------------------------------------- the variants


def librosa_chain(path: str) -> dict:
    """The plain per-clip librosa chain computing the same features."""
    import librosa

    y, sr = librosa.load(path, sr=SR, mono=True, duration=DURATION)
    n_valid = len(y)
    y = librosa.util.fix_length(y, size=int(DURATION * SR))
    yp = librosa.effects.preemphasis(y, coef=0.97)
    m = librosa.feature.mfcc(y=yp, sr=sr, n_mfcc=20)
    d = librosa.feature.delta(m)
    logmel = librosa.power_to_db(librosa.feature.melspectrogram(y=yp, sr=sr, n_mels=128))
    feats = [
        librosa.feature.spectral_centroid(y=yp, sr=sr),
        librosa.feature.spectral_bandwidth(y=yp, sr=sr),
        librosa.feature.spectral_rolloff(y=yp, sr=sr),
        librosa.feature.spectral_flatness(y=yp),
        librosa.feature.spectral_contrast(y=yp, sr=sr),
        librosa.feature.zero_crossing_rate(yp),
        librosa.feature.rms(y=yp),
    ]
    onset = librosa.onset.onset_strength(y=yp, sr=sr)
    tempo = librosa.feature.tempo(onset_envelope=onset, sr=sr)
    flux = np.sqrt(np.sum(np.diff(np.abs(librosa.stft(yp)), axis=1) ** 2, axis=0))
    chroma = librosa.feature.chroma_stft(y=y[:n_valid], sr=sr)
    # 24 triad templates + no-chord, cosine match, Viterbi with a sticky transition
    templates = np.zeros((25, 12))
    for root in range(12):
        templates[root, [root, (root + 4) % 12, (root + 7) % 12]] = 1
        templates[12 + root, [root, (root + 3) % 12, (root + 7) % 12]] = 1
    templates[24] = 1 / 12
    templates /= np.linalg.norm(templates, axis=1, keepdims=True)
    scores = templates @ (chroma / (np.linalg.norm(chroma, axis=0, keepdims=True) + 1e-9))
    prob = np.exp(8 * scores)
    prob /= prob.sum(axis=0, keepdims=True)
    labels = librosa.sequence.viterbi(prob, librosa.sequence.transition_loop(25, 0.9))
    hist = np.bincount(labels, minlength=25) / len(labels)
    stats = [np.r_[f.mean(axis=-1).ravel(), f.std(axis=-1).ravel()] for f in feats + [m, d]]
    return {
        "lowlevel": np.concatenate(stats + [[onset.mean(), flux.mean(), float(tempo[0])]]),
        "chords": hist,
        "log_mel": logmel.astype(np.float16),
    }


def run_variant(name: str, files: list[str], n_jobs: int, cache: str | None) -> dict:
    from joblib import Parallel, delayed

    from mer_core.extract import FeatureConfig, extract_features

    cfg = FeatureConfig(duration=DURATION)
    if name == "librosa":
        librosa_chain(files[0])  # warm-up (imports, numba)
        t0 = time.perf_counter()
        if n_jobs == 1:
            for f in files:
                librosa_chain(f)
        else:
            Parallel(n_jobs=n_jobs)(delayed(librosa_chain)(f) for f in files)
        return {"seconds": time.perf_counter() - t0}
    kw = {"config": cfg, "progress": False, "n_jobs": n_jobs}
    if cache is None:
        kw["use_cache"] = False
    else:
        kw["cache_dir"] = cache
    extract_features(files[:1], **{**kw, "n_jobs": 1, "use_cache": False})  # warm-up
    t0 = time.perf_counter()
    fs = extract_features(files, **kw)
    return {"seconds": time.perf_counter() - t0, "computed": fs.n_computed, "n_ok": len(fs)}


def stage_breakdown(files: list[str]) -> dict:
    """Seconds per stage of mer_core's front end, summed over ``files``."""
    from mer_core import chords
    from mer_core.audio import fix_length, load_audio
    from mer_core.features import dct_matrix, log_mel, preemphasis, stft_power
    from mer_core.features.lowlevel import lowlevel_features
    from mer_core.features.spectral import frames_for

    stages = dict.fromkeys(["decode+resample", "pre-emphasis", "stft", "log-mel+mfcc"], 0.0)
    stages.update({"low-level": 0.0, "chord vector": 0.0})
    for f in files:
        t = time.perf_counter()
        y = load_audio(f, duration=DURATION, pad=False)
        n_valid = len(y)
        y = fix_length(y, size=int(DURATION * SR))
        t1 = time.perf_counter()
        yp = preemphasis(y)
        t2 = time.perf_counter()
        S = stft_power(yp)
        t3 = time.perf_counter()
        L = log_mel(S=S, sr=SR)
        C = np.einsum("km,mt->kt", dct_matrix(20, 128).astype(np.float32), L)
        t4 = time.perf_counter()
        lowlevel_features(yp, sr=SR, S=S, log_mel=L, mfcc=C, n_valid=n_valid)
        t5 = time.perf_counter()
        n_real = min(S.shape[-1], frames_for(n_valid))
        chords.chord_vector(S=S[..., :n_real], sr=SR, preemphasis=0.97)
        t6 = time.perf_counter()
        for k, dt in zip(
            stages, [t1 - t, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5], strict=True
        ):
            stages[k] += dt
    return stages


def _child_main(args) -> None:
    files = json.loads(Path(args.files).read_text())
    if args.child == "stages":
        out = {"stages": stage_breakdown(files)}
    else:
        out = run_variant(args.child, files, args.n_jobs, args.cache)
    child_result(out)


# ------------------------------------------------------------------ the harness


def measure(variant: str, files_json: str, n_jobs: int = 1, cache: str | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", variant, "--files", files_json]
    cmd += ["--n-jobs", str(n_jobs)] + (["--cache", cache] if cache else [])
    return run_child(cmd)


def generated_files(folder: Path, n: int) -> list[str]:
    """Fallback data: n 30 s clips of harmonic tones, chords and noise bursts."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    files = []
    t = np.arange(30 * 44100) / 44100
    for i in range(n):
        roots = 110 * 2 ** (rng.integers(0, 12, size=4) / 12)
        y = np.zeros_like(t)
        for j, r in enumerate(roots):
            seg = (t >= j * 7.5) & (t < (j + 1) * 7.5)
            for ratio in (1, 1.26, 1.5, 2):
                y[seg] += 0.1 * np.sin(2 * np.pi * r * ratio * t[seg])
        y += 0.02 * rng.standard_normal(t.size)
        path = folder / f"gen_{i:03d}.wav"
        sf.write(str(path), np.stack([y, y], axis=1).astype(np.float32), 44100)
        files.append(str(path))
    return files


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--limit", type=int, default=120, help="clips to use (0: all)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "bench_features.json")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--files", help=argparse.SUPPRESS)
    ap.add_argument("--n-jobs", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--cache", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child_main(args)
        return 0

    from mer_core.audio import audio_info, find_audio

    tmp = Path(tempfile.mkdtemp(prefix="mer-bench-"))
    if args.data.is_dir():
        files = [str(p) for p in find_audio(args.data)]
        source = f"real 4Q dev clips ({args.data})"
        if args.limit:  # a class-balanced, deterministic subset
            rng = np.random.default_rng(0)
            files = sorted(rng.choice(files, size=min(args.limit, len(files)), replace=False))
    else:
        files = generated_files(tmp, args.limit or 40)
        source = "generated audio (4Q dev clips not found)"
    files = [str(f) for f in files]
    audio_seconds = sum(min(audio_info(f)["duration"], DURATION) for f in files)
    files_json = tmp / "files.json"
    files_json.write_text(json.dumps(files))

    variants = [
        ("mer_core, 1 job", "ours", 1, None),
        ("mer_core, 2 jobs", "ours", 2, None),
        ("librosa chain, 1 job", "librosa", 1, None),
        ("librosa chain, 2 jobs", "librosa", 2, None),
    ]
    rows = []
    for label, variant, n_jobs, cache in variants:
        print(f"running {label} on {len(files)} clips ...", file=sys.stderr, flush=True)
        res = measure(variant, str(files_json), n_jobs, cache)
        res.update(label=label, n_jobs=n_jobs, x_realtime=audio_seconds / res["seconds"])
        rows.append(res)
    cache = str(tmp / "cache")
    measure("ours", str(files_json), 2, cache)  # fill the cache
    res = measure("ours", str(files_json), 1, cache)
    res.update(
        label="mer_core, cached re-run", n_jobs=1, x_realtime=audio_seconds / res["seconds"]
    )
    rows.append(res)
    stages = measure("stages", str(files_json))["stages"]

    record = {
        "benchmark": "bench_features",
        "data": source,
        "n_clips": len(files),
        "audio_seconds": audio_seconds,
        "clip_window_s": DURATION,
        "machine": machine(),
        "variants": rows,
        "stages_seconds": stages,
        "stages_x_realtime": {k: audio_seconds / v for k, v in stages.items() if v > 0},
        "speedup_vs_librosa": {
            "1 job": rows[2]["seconds"] / rows[0]["seconds"],
            "2 jobs": rows[3]["seconds"] / rows[1]["seconds"],
        },
    }
    from mer_core.io import atomic_write_json

    atomic_write_json(args.out, record)
    print(f"\n{len(files)} clips, {audio_seconds:.0f} s of audio ({source})\n")
    print(f"{'variant':28s} {'seconds':>9s} {'x realtime':>11s} {'peak MB':>9s}")
    for r in rows:
        print(
            f"{r['label']:28s} {r['seconds']:9.2f} {r['x_realtime']:11.0f} {r['peak_rss_mb']:9.0f}"
        )
    print("\nmer_core stages (1 job): x realtime")
    for k, v in record["stages_x_realtime"].items():
        print(f"  {k:18s} {v:9.0f}")
    s = record["speedup_vs_librosa"]
    print(
        f"\nspeed-up over the librosa chain: {s['1 job']:.2f}x (1 job), "
        f"{s['2 jobs']:.2f}x (2 jobs)"
    )
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
