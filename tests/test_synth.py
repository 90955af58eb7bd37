"""The synthetic corpus: determinism, caching and resuming, layout, schemes, CLI, renderers."""

from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from mer_core.errors import ParameterError
from mer_core.io import file_digest
from mer_core.schemes import SCHEMES, get_scheme
from mer_core.synth import (
    CUE_TABLE,
    MANIFEST_COLUMNS,
    cue_table,
    draw_cues,
    generate_corpus,
    load_ground_truth,
    load_manifest,
    plan_corpus,
    resolve_renderer,
    synthesize_clip,
)
from mer_core.synth import corpus as corpus_mod

GT_CUES = (
    "tempo_bpm",
    "mode",
    "key_name",
    "progression",
    "chords",
    "instruments",
    "velocity",
    "register",
    "articulation",
    "articulation_label",
    "dissonance",
    "harshness",
    "drums",
    "drum_density",
    "n_drum_hits",
    "noise_label",
    "cue_source",
    "artist",
)


def _make(out, **kw):
    kw.setdefault("scheme", "emotion")
    kw.setdefault("size", "tiny")
    kw.setdefault("progress", False)
    return generate_corpus(out, **kw)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny emotion corpus (6 clips per class, about 5 s each), made once."""
    out = tmp_path_factory.mktemp("tiny")
    return out, _make(out)


def _mtimes(out, df):
    return {p: (out / p).stat().st_mtime_ns for p in df["path"]}


# ---------------------------------------------------------------- layout
def test_manifest_columns_counts_and_files(tiny):
    out, df = tiny
    assert tuple(df.columns) == MANIFEST_COLUMNS
    assert df["label"].value_counts().to_dict() == {lab: 6 for lab in get_scheme("emotion").labels}
    assert df["path"].is_unique and not df["path"].str.startswith("/").any()
    assert set(df["renderer"]) == {resolve_renderer("auto")}
    for row in df.itertuples():
        assert row.path.startswith(f"{row.label}/")
        info = sf.info(out / row.path)
        assert (info.samplerate, info.channels, info.subtype) == (22050, 1, "PCM_16")
        assert info.frames == round(row.duration * 22050)
        assert file_digest(out / row.path) == row.sha256
    # clip lengths vary: some shorter than the target (zero-fill path), none longer than 1.2x
    assert (df["duration"] < df["target_duration"]).any()
    assert (df["duration"] <= 1.2 * df["target_duration"] + 1e-6).all()
    on_disk = load_manifest(out)
    assert on_disk["sha256"].tolist() == df["sha256"].tolist()
    meta = json.loads((out / "corpus.json").read_text())
    assert meta["renderer"] == df["renderer"].iloc[0] and meta["n_clips"] == 24
    assert not (out / corpus_mod.JOURNAL).exists()


def test_ground_truth_records_every_cue(tiny):
    out, df = tiny
    gt = load_ground_truth(out)
    assert gt["path"].tolist() == df["path"].tolist()
    for col in GT_CUES:
        assert col in gt.columns, col
    assert set(gt["mode"]) <= {"major", "minor"}
    assert (gt["noise_label"] == (gt["cue_source"] != gt["label"])).all()
    assert gt["artist"].tolist() == df["artist"].tolist()
    assert all(
        len(ch) == len(p.split()) for ch, p in zip(gt["chords"], gt["progression"], strict=True)
    )


def test_audio_is_sound(tiny):
    out, df = tiny
    for p in df["path"]:
        y, _ = sf.read(out / p, dtype="float32")
        assert np.isfinite(y).all() and 0.005 < np.sqrt(np.mean(y**2)) < 0.5


# ---------------------------------------------------------------- determinism
def test_same_seed_same_bytes_with_two_jobs(tiny, tmp_path):
    out, df = tiny
    again = _make(tmp_path, n_jobs=2)
    assert again["sha256"].tolist() == df["sha256"].tolist()
    p = df["path"].iloc[5]
    assert (tmp_path / p).read_bytes() == (out / p).read_bytes()


def test_different_seed_different_audio(tiny, tmp_path):
    _, df = tiny
    other = _make(tmp_path, n_per_class=1, seed=1)
    first = df.groupby("label").head(1)
    assert not set(other["sha256"]) & set(first["sha256"])


def test_clip_independent_of_corpus_size(tiny, tmp_path):
    _, df = tiny
    small = _make(tmp_path, n_per_class=2)
    assert small["sha256"].tolist() == df.groupby("label").head(2)["sha256"].tolist()


def test_synthesize_clip_matches_file(tiny):
    out, df = tiny
    row = df.iloc[7]
    clip = synthesize_clip(
        scheme="emotion", label=row["label"], index=int(row["index"]), size="tiny"
    )
    y, _ = sf.read(out / row["path"], dtype="float32")
    np.testing.assert_array_equal(clip.audio, y)
    assert clip.cues["path"] == row["path"] and clip.score.n_notes > 0


# ---------------------------------------------------------------- caching / resuming
def test_second_call_regenerates_nothing(tiny):
    out, df = tiny
    before = _mtimes(out, df)
    again = _make(out)
    assert again.attrs["n_rendered"] == 0 and again.attrs["n_cached"] == len(df)
    assert _mtimes(out, df) == before
    assert again["sha256"].tolist() == df["sha256"].tolist()


def test_missing_and_damaged_files_are_regenerated(tiny, tmp_path):
    out, df = tiny
    work = tmp_path / "c"
    shutil.copytree(out, work)
    gone, damaged = df["path"].iloc[0], df["path"].iloc[10]
    (work / gone).unlink()
    data = bytearray((work / damaged).read_bytes())
    data[1000] ^= 0xFF
    (work / damaged).write_bytes(bytes(data))
    again = _make(work)
    assert again.attrs["n_rendered"] == 2
    assert again["sha256"].tolist() == df["sha256"].tolist()


def test_interrupted_run_resumes(tmp_path, monkeypatch):
    real = corpus_mod._render_pcm
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(corpus_mod, "_render_pcm", flaky)
    with pytest.raises(KeyboardInterrupt):
        _make(tmp_path, n_per_class=2, duration=2.0)
    assert not (tmp_path / "manifest.csv").exists()
    assert (tmp_path / corpus_mod.JOURNAL).is_file()
    assert not list(tmp_path.rglob("*.tmp*"))
    monkeypatch.setattr(corpus_mod, "_render_pcm", real)
    df = _make(tmp_path, n_per_class=2, duration=2.0)
    assert df.attrs["n_rendered"] == len(df) - 3 and len(df) == 8
    assert not (tmp_path / corpus_mod.JOURNAL).exists()


# ---------------------------------------------------------------- schemes and corpus sizes
@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_every_scheme(scheme, tmp_path):
    df = _make(tmp_path, scheme=scheme, n_per_class=1, duration=1.5)
    assert df["label"].tolist() == list(get_scheme(scheme).labels)
    assert (df["scheme"] == scheme).all()
    assert all((tmp_path / p).is_file() for p in df["path"])


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_paper_size_plan(scheme):
    sch = get_scheme(scheme)
    plan = plan_corpus(scheme=scheme, size="paper")
    assert len(plan) == sch.paper_size
    assert (plan["target_duration"] == sch.duration).all()
    counts = plan["label"].value_counts()
    assert counts.max() - counts.min() <= 1
    # label noise: a few per cent of clips draw their cues from another class
    rate = plan["noise_label"].mean()
    assert 0.01 < rate < 0.08
    assert (
        plan.loc[plan["noise_label"], "cue_source"] != plan.loc[plan["noise_label"], "label"]
    ).all()
    assert plan["artist"].nunique() == 16
    short = plan["duration"] < plan["target_duration"]
    assert 0.05 < short.mean() < 0.15


def test_quick_size_plan():
    plan = plan_corpus(scheme="emotion", size="quick")
    assert len(plan) == 160 and (plan["target_duration"] == 15.0).all()


# ---------------------------------------------------------------- cue model
def test_cue_directions_follow_the_literature():
    t = cue_table("emotion")
    assert t.loc["happiness", "tempo_bpm"] > t.loc["sadness", "tempo_bpm"]
    assert t.loc["anger", "tempo_bpm"] > t.loc["relaxation", "tempo_bpm"]
    assert t.loc["happiness", "p_major"] > 0.9 > 0.1 > t.loc["sadness", "p_major"]
    assert t["dissonance"].idxmax() == "anger" and t["harshness"].idxmax() == "anger"
    assert t["drum_density"].idxmax() == "anger"
    assert t.loc["sadness", "velocity"] < t.loc["happiness", "velocity"]
    assert t.loc["sadness", "articulation"] > t.loc["happiness", "articulation"]  # legato
    assert t.loc["happiness", "register"] > t.loc["sadness", "register"]
    # timbre is drawn from arousal and tension only: the same for valence pairs at low arousal
    assert t.loc["relaxation", "harshness"] == t.loc["sadness", "harshness"]
    assert all(cue.effect for cue in CUE_TABLE.values())


def test_draw_cues_is_reproducible():
    a = draw_cues(0.6, -0.6, rng=np.random.default_rng(3))
    b = draw_cues(0.6, -0.6, rng=np.random.default_rng(3))
    assert a == b
    json.dumps(a)  # JSON-serialisable


# ---------------------------------------------------------------- renderers
def test_additive_fallback_renderer(tmp_path):
    df = _make(tmp_path, n_per_class=1, duration=1.5, renderer="additive")
    assert set(df["renderer"]) == {"additive"}
    for p in df["path"]:
        y, _ = sf.read(tmp_path / p, dtype="float32")
        assert np.isfinite(y).all() and np.abs(y).max() > 0.01


def test_auto_falls_back_without_tinysoundfont(monkeypatch):
    monkeypatch.setitem(sys.modules, "tinysoundfont", None)
    monkeypatch.setitem(sys.modules, "tinysoundfont._tinysoundfont", None)
    assert resolve_renderer("auto") == "additive"
    with pytest.raises(ParameterError, match="tinysoundfont"):
        resolve_renderer("tinysoundfont")
    clip = synthesize_clip(label="anger", duration=1.0)
    assert clip.renderer == "additive" and np.abs(clip.audio).max() > 0.01


def test_renderer_switch_rerenders(tiny, tmp_path):
    if resolve_renderer("auto") != "tinysoundfont":
        pytest.skip("tinysoundfont not installed")
    a = _make(tmp_path, n_per_class=1, duration=1.0)
    b = _make(tmp_path, n_per_class=1, duration=1.0, renderer="additive")
    assert b.attrs["n_rendered"] == 4 and not set(a["sha256"]) & set(b["sha256"])


# ---------------------------------------------------------------- errors and CLI
@pytest.mark.parametrize(
    "kw",
    [
        {"scheme": "nope"},
        {"n_per_class": 0},
        {"n_per_class": -3},
        {"n_per_class": 1.5},
        {"n_per_class": True},
        {"n_per_class": {"joy": 2}},
        {"size": "huge"},
        {"duration": 0.0},
        {"duration": float("nan")},
        {"seed": -1},
        {"n_jobs": 0},
        {"renderer": "fluidsynth"},
    ],
)
def test_bad_parameters(kw, tmp_path):
    with pytest.raises(ParameterError):
        generate_corpus(tmp_path, progress=False, **kw)
    assert not list(tmp_path.rglob("*.wav"))


def test_bad_output_folder_and_clip_parameters(tmp_path):
    from mer_core.synth import synthesize_va

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ParameterError, match="output folder"):
        generate_corpus(blocker, progress=False)
    with pytest.raises(ParameterError):
        synthesize_clip(scheme="emotion", label="joy")
    with pytest.raises(ParameterError):
        synthesize_clip(index=-1)
    with pytest.raises(ParameterError):
        synthesize_va(1.5, 0.0)


def test_cli_writes_corpus(tmp_path, monkeypatch, capsys):
    from mer_core import cli

    monkeypatch.setattr(cli, "COMMAND_MODULES", ("mer_core.synth.cli",))
    out = tmp_path / "corpus"
    argv = ["synth", "--scheme", "4q", "--n-per-class", "1", "--seed", "2", "--out", str(out)]
    rc = cli.main([*argv, "--size", "tiny", "--duration", "1.5", "--n-jobs", "1", "--quiet"])
    assert rc == 0
    assert "4 clips" in capsys.readouterr().out
    df = pd.read_csv(out / "manifest.csv")
    assert df["label"].tolist() == ["Q1", "Q2", "Q3", "Q4"] and (df["seed"] == 2).all()
    assert (out / "ground_truth.jsonl").is_file()
    with pytest.raises(SystemExit) as exc:  # the same scheme choices as every command
        cli.main(["synth", "--scheme", "nope", "--out", str(out), "--quiet"])
    assert exc.value.code == 2 and "invalid choice: 'nope'" in capsys.readouterr().err


# ---------------------------------------------------------------- baselines
def test_baselines_run_on_tiny_corpus(tiny):
    from mer_core.synth.baseline import baseline_accuracy

    out, _ = tiny
    for features in ("mfcc", "harmony"):
        r = baseline_accuracy(out, features=features, n_splits=3)
        assert r["n_clips"] == 24 and len(r["folds"]) == 3
        assert r["accuracy"] == pytest.approx(np.mean(r["folds"]))
        # 8 test clips per fold: each fold's accuracy counts whole clips
        assert all(float(f * 8).is_integer() for f in r["folds"]), r["folds"]
        # the cues are audible: well above the majority-class rate of 1/4
        assert r["chance"] == 0.25 and r["accuracy"] > r["chance"] + 0.15, r
    r = baseline_accuracy(out, features="both", target="valence", n_splits=3)
    assert r["chance"] == 0.5
    with pytest.raises(ParameterError):
        baseline_accuracy(out, features="lyrics")


def test_regenerating_a_complete_corpus_touches_no_file(tmp_path):
    """A finished corpus asked for again keeps every file and time stamp (make sees nothing)."""
    out = tmp_path / "c"
    generate_corpus(out, scheme="4q", n_per_class=1, size="tiny", duration=2.0, progress=False)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    generate_corpus(out, scheme="4q", n_per_class=1, size="tiny", duration=2.0, progress=False)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == stamps
