"""Real-data loaders: manifest format, each loader, bad data, MIDI, summary, CLI, real 4Q."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from mer_core import MerError
from mer_core.cli import main as cli_main
from mer_core.datasets import (
    COLUMNS,
    DatasetWarning,
    check_audio,
    detect_source,
    load_4q,
    load_csv,
    load_dataset,
    load_folder,
    load_midi,
    summarize,
    validate_manifest,
)
from mer_core.datasets.fourq import ANNOTATIONS_FILE, METADATA_FILE
from mer_core.errors import ParameterError

EMOTION = ("anger", "happiness", "relaxation", "sadness")
QUADS = ("Q1", "Q2", "Q3", "Q4")
_counter = iter(range(1, 10**6))


def wav(path: Path, seconds: float = 0.05, *, sr: int = 8000, channels: int = 1) -> Path:
    """A tiny WAV with unique content (so no two test files are duplicates)."""
    rng = np.random.default_rng(next(_counter))
    y = (0.1 * rng.standard_normal((int(seconds * sr), channels))).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), y, sr)
    return path


def tree(root: Path) -> dict:
    """Every file and folder under root -> content digest (or 'dir'): to prove nothing changed."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = "dir"
        for f in filenames:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, root)] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
    return out


@pytest.fixture
def no_dataset_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DatasetWarning)
        yield


@pytest.fixture
def emotion_root(tmp_path):
    """anger/ happiness/ relaxation/ sadness, 2 clips each; folder names in mixed case."""
    root = tmp_path / "emo"
    for label in EMOTION:
        folder = label.upper() if label == "happiness" else label
        wav(root / folder / "a.wav")
        wav(root / folder / "sub" / "b.wav")
    (root / "README.txt").write_text("not audio")
    (root / "docs").mkdir()
    (root / "docs" / "notes.md").write_text("folders without audio are ignored")
    return root


def make_4q(root: Path, per_quadrant: int = 2, *, metadata: bool = True) -> Path:
    ann, meta = ["Song,Quadrant"], ['"Song","Artist","Title","Quadrant","MoodsStrSplit"']
    for q in QUADS:
        for i in range(per_quadrant):
            song = f"MT{q[1]}{i:04d}"
            wav(root / q / f"{song}.wav")
            ann.append(f"{song},{q}")
            meta.append(f'"{song}","Artist {i % 2}","Song {song}","{q}","happy; calm"')
    (root / ANNOTATIONS_FILE).write_text("\n".join(ann) + "\n")
    if metadata:
        (root / METADATA_FILE).write_text("\n".join(meta) + "\n")
    return root


def midi(path: Path, pitches=(60, 64, 67), *, seconds: float = 0.3) -> Path:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=0)
    step = seconds / len(pitches)
    for i, p in enumerate(pitches):
        inst.notes.append(
            pretty_midi.Note(velocity=80, pitch=p, start=i * step, end=(i + 1) * step)
        )
    pm.instruments.append(inst)
    path.parent.mkdir(parents=True, exist_ok=True)
    pm.write(str(path))
    return path


# --------------------------------------------------------------------------- folder


def test_load_folder_with_scheme(emotion_root, no_dataset_warnings):
    before = tree(emotion_root)
    m = load_folder(emotion_root, scheme="emotion")
    assert tuple(m.columns) == COLUMNS
    assert len(m) == 8 and m["label"].value_counts().to_dict() == dict.fromkeys(EMOTION, 2)
    assert all(os.path.isabs(p) and os.path.isfile(p) for p in m["path"])
    assert m["label"].tolist()[:2] == ["anger", "anger"]  # the scheme's order
    assert set(m.loc[m["label"] == "happiness", "source_id"]) == {
        "HAPPINESS/a.wav",
        "HAPPINESS/sub/b.wav",
    }
    assert m.groupby("label")["quadrant"].first().to_dict() == {
        "anger": "Q2",
        "happiness": "Q1",
        "relaxation": "Q4",
        "sadness": "Q3",
    }
    assert m.attrs["scheme"] == "emotion" and m.attrs["root"] == str(emotion_root)
    assert m["artist"].isna().all() and m["valence"].isna().all()
    assert tree(emotion_root) == before


def test_load_folder_infers_labels(tmp_path):
    for label in ("calm", "tense"):
        wav(tmp_path / label / "x.wav")
    (tmp_path / "empty").mkdir()
    wav(tmp_path / "loose.wav")
    with pytest.warns(DatasetWarning) as record:
        m = load_folder(tmp_path)
    messages = " | ".join(str(w.message) for w in record)
    assert "'empty'" not in messages and "empty" in messages and "loose.wav" in messages
    assert m.attrs["labels"] == ("calm", "tense") and m.attrs["scheme"] is None
    assert m["quadrant"].isna().all()


def test_unknown_class_folder_is_named(emotion_root):
    wav(emotion_root / "joy" / "x.wav")
    with pytest.raises(MerError, match=r"unknown class folder 'joy' \(1 audio files\)"):
        load_folder(emotion_root, scheme="emotion")


def test_two_folders_for_one_label(emotion_root):
    wav(emotion_root / "Anger" / "x.wav")
    with pytest.raises(MerError, match="both name class 'anger'"):
        load_folder(emotion_root, scheme="emotion")


def test_missing_folder(tmp_path):
    with pytest.raises(MerError, match="nowhere: no such folder"):
        load_folder(tmp_path / "nowhere", scheme="emotion")
    with pytest.raises(MerError, match="no such file or folder"):
        load_dataset(tmp_path / "nowhere")


def test_empty_class_is_an_error_unless_allowed(emotion_root):
    for f in (emotion_root / "sadness").rglob("*.wav"):
        f.unlink()
    before = tree(emotion_root)
    with pytest.raises(MerError, match="class 'sadness' has no clips.*allow_empty=True"):
        load_folder(emotion_root, scheme="emotion")
    with pytest.warns(DatasetWarning, match="'sadness' has no clips"):
        m = load_folder(emotion_root, scheme="emotion", allow_empty=True)
    assert len(m) == 6
    assert tree(emotion_root) == before


def test_missing_class_folder_is_an_empty_class(emotion_root):
    import shutil

    shutil.rmtree(emotion_root / "relaxation")
    with pytest.raises(MerError, match="'relaxation' has no clips"):
        load_folder(emotion_root, scheme="emotion")


def test_duplicate_content_is_reported(emotion_root):
    src = emotion_root / "anger" / "a.wav"
    (emotion_root / "sadness" / "copy.wav").write_bytes(src.read_bytes())
    with pytest.warns(
        DatasetWarning, match=r"identical files.*anger/a\.wav = .*sadness/copy\.wav"
    ):
        m = load_folder(emotion_root, scheme="emotion")
    assert len(m) == 9
    with pytest.raises(MerError, match="identical files"):
        load_folder(emotion_root, scheme="emotion", duplicates="error")


def test_class_imbalance_warns_with_counts(tmp_path, no_dataset_warnings):
    for label in EMOTION:
        wav(tmp_path / label / "0.wav")
    for i in range(1, 5):
        wav(tmp_path / "anger" / f"{i}.wav")
    with pytest.warns(DatasetWarning, match=r"imbalance.*anger 5, happiness 1.*5\.0 > 2"):
        m = load_folder(tmp_path, scheme="emotion")
    assert len(m) == 8
    load_folder(tmp_path, scheme="emotion", max_imbalance=None)  # no warning


# --------------------------------------------------------------------------- csv


def _csv_dataset(tmp_path):
    root = tmp_path / "data"
    lines = ["Path,Label,artist,valence,notes"]
    for i, q in enumerate(QUADS):
        wav(root / "clips" / f"{i}.wav")
        lines.append(f"clips/{i}.wav,{q.lower()},Band {i % 2},{0.1 * i},n{i}")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    return root


def test_load_csv(tmp_path, no_dataset_warnings):
    root = _csv_dataset(tmp_path)
    before = tree(root)
    m = load_csv(root / "manifest.csv", scheme="4q")
    assert m["label"].tolist() == list(QUADS) and m["quadrant"].tolist() == list(QUADS)
    assert m["artist"].tolist() == ["Band 0", "Band 1", "Band 0", "Band 1"]
    assert np.allclose(m["valence"], [0.0, 0.1, 0.2, 0.3]) and m["valence"].dtype == float
    assert list(m.columns) == [*COLUMNS, "notes"]  # extra columns are kept
    assert m["path"].iloc[0] == str(root / "clips" / "0.wav")
    # the same CSV elsewhere, paths taken from root=
    moved = tmp_path / "elsewhere.csv"
    moved.write_text((root / "manifest.csv").read_text())
    assert load_csv(moved, root=root, scheme="4q")["path"].tolist() == m["path"].tolist()
    assert load_dataset(root / "manifest.csv").attrs["source"] == "csv"
    assert tree(root) == before


def test_csv_unknown_label_names_label_and_line(tmp_path):
    root = _csv_dataset(tmp_path)
    csv = root / "manifest.csv"
    csv.write_text(csv.read_text().replace("q3", "Q5"))
    with pytest.raises(MerError, match=r"unknown label 'Q5' in manifest\.csv line 4"):
        load_csv(csv, scheme="4q")


def test_csv_bad_columns_and_values(tmp_path):
    root = _csv_dataset(tmp_path)
    bad = root / "bad.csv"
    bad.write_text("file,label\nclips/0.wav,Q1\n")
    with pytest.raises(MerError, match="no 'path' column; the columns are file, label"):
        load_csv(bad)
    bad.write_text("path,label,valence\nclips/0.wav,Q1,high\n")
    with pytest.raises(MerError, match=r"valence is not a number on line\(s\) 2"):
        load_csv(bad)
    bad.write_text("path,label\nclips/0.wav,\n")
    with pytest.raises(MerError, match=r"no label on line\(s\) 2"):
        load_csv(bad)
    with pytest.raises(MerError, match="no such file"):
        load_csv(root / "absent.csv")
    bad.write_text("path,label\n")
    with pytest.raises(MerError, match="has no clips"):
        load_csv(bad)


def test_csv_same_path_twice_is_an_error(tmp_path):
    root = _csv_dataset(tmp_path)
    csv = root / "manifest.csv"
    csv.write_text(csv.read_text() + "clips/./0.wav,q1,x,0,y\n")
    with pytest.raises(MerError, match=r"clips/0\.wav is listed 2 times"):
        load_csv(csv, scheme="4q")


def test_csv_relative_path_climbing_out_is_an_error_with_a_hint(tmp_path):
    root = _csv_dataset(tmp_path)
    wav(tmp_path / "outside.wav")
    csv = root / "manifest.csv"
    csv.write_text(csv.read_text() + "../outside.wav,q1,x,0,y\n")
    with pytest.raises(
        MerError, match=r"1 relative path\(s\) climb out .*\.\./outside\.wav.*absolute"
    ):
        load_csv(csv, scheme="4q")


def test_csv_absolute_paths_to_the_users_files_work(tmp_path):
    """A CSV anywhere listing the user's own files by absolute path (the usual case)."""
    root = _csv_dataset(tmp_path)
    outside = wav(tmp_path / "music" / "outside.wav")
    csv = root / "manifest.csv"
    csv.write_text(csv.read_text() + f"{outside},q1,x,0,y\n")
    m = load_csv(csv, scheme="4q")
    assert str(outside) in m["path"].tolist()
    elsewhere = tmp_path / "lists"
    elsewhere.mkdir()
    rows = [line.split(",", 1) for line in csv.read_text().splitlines()[1:]]
    text = "path,label,artist,valence,notes\n" + "".join(
        f"{p if p.startswith('/') else root / p},{rest}\n" for p, rest in rows
    )
    (elsewhere / "mine.csv").write_text(text)
    assert len(load_csv(elsewhere / "mine.csv", scheme="4q")) == len(m)
    with pytest.raises(MerError, match="outside the dataset root"):
        load_csv(csv, scheme="4q", root=root)  # an explicit root still confines them


def test_csv_missing_file(tmp_path):
    root = _csv_dataset(tmp_path)
    csv = root / "manifest.csv"
    csv.write_text(csv.read_text() + "clips/gone.wav,q1,x,0,y\n")
    with pytest.raises(MerError, match=r"1 file\(s\) in the manifest do not exist: .*gone\.wav"):
        load_csv(csv, scheme="4q")


def test_validate_manifest_direct(tmp_path):
    files = [wav(tmp_path / f"{q}.wav") for q in QUADS]
    frame = pd.DataFrame({"path": [str(f) for f in files], "label": ["q1", "Q2", "q3", "Q4"]})
    out = validate_manifest(frame, scheme="4q", root=tmp_path)
    assert out["label"].tolist() == list(QUADS) and tuple(out.columns) == COLUMNS
    assert frame["label"].tolist() == ["q1", "Q2", "q3", "Q4"]  # the input is not modified
    with pytest.raises(MerError, match="must be absolute"):
        validate_manifest(frame.assign(path=["a.wav"] * 4), scheme="4q")
    with pytest.raises(MerError, match="lacks column"):
        validate_manifest(frame.drop(columns="label"))
    with pytest.raises(MerError, match="unknown label 'q1'.*scheme 'ema'"):
        validate_manifest(frame, scheme="ema")
    with pytest.raises(ParameterError, match="duplicates must be"):
        validate_manifest(frame, duplicates="maybe")


# --------------------------------------------------------------------------- 4Q layout


def test_load_4q_layout(tmp_path, no_dataset_warnings):
    root = make_4q(tmp_path / "4q")
    before = tree(root)
    m = load_4q(root)
    assert len(m) == 8 and m["label"].value_counts().to_dict() == dict.fromkeys(QUADS, 2)
    assert m["source_id"].iloc[0] == "MT10000" and m["artist"].notna().all()
    assert m["title"].iloc[0] == "Song MT10000" and m["text"].iloc[0] == "happy; calm"
    assert detect_source(root) == "4q" and len(load_dataset(root, scheme="4q")) == 8
    with pytest.raises(ParameterError, match="scheme 'emotion' does not apply"):
        load_dataset(root, scheme="emotion")
    assert tree(root) == before


def test_4q_folder_annotation_mismatch_names_song(tmp_path):
    root = make_4q(tmp_path / "4q")
    (root / "Q1" / "MT10001.wav").rename(root / "Q2" / "MT10001.wav")
    with pytest.raises(MerError, match=r"song MT10001: .*folder Q2 .*annotations\.csv says Q1"):
        load_4q(root)


def test_4q_metadata_mismatch_and_unannotated_clip(tmp_path):
    root = make_4q(tmp_path / "4q")
    meta = root / METADATA_FILE
    meta.write_text(
        meta.read_text().replace(
            '"MT30000","Artist 0","Song MT30000","Q3"', '"MT30000","Artist 0","Song MT30000","Q4"'
        )
    )
    with pytest.raises(MerError, match=r"song MT30000: .*Q3 but panda_dataset_taffc_metadata"):
        load_4q(root)
    meta.unlink()
    wav(root / "Q4" / "MT99999.wav")
    with pytest.raises(MerError, match=r"not listed in .*annotations.*MT99999"):
        load_4q(root)


def test_4q_missing_pieces(tmp_path):
    root = make_4q(tmp_path / "4q", metadata=False)
    with pytest.warns(DatasetWarning, match="no artist"):
        m = load_4q(root)
    assert m["artist"].isna().all()
    (root / "Q3" / "MT30000.wav").unlink()
    with pytest.warns(DatasetWarning) as record:
        load_4q(root)
    messages = [str(w.message) for w in record]
    assert any("1 song(s)" in x and "have no clip" in x and "MT30000" in x for x in messages)
    (root / ANNOTATIONS_FILE).unlink()
    with pytest.raises(MerError, match="no such file"):
        load_4q(root)


# --------------------------------------------------------------------------- bad audio


def test_check_audio_lists_bad_files(tmp_path):
    root = tmp_path / "d"
    for label in EMOTION:
        wav(root / label / "ok.wav")
    (root / "anger" / "garbage.wav").write_bytes(b"this is not audio at all" * 10)
    (root / "sadness" / "empty.mp3").write_bytes(b"")
    before = tree(root)
    m = load_folder(root, scheme="emotion")
    report = check_audio(m)
    assert sorted(Path(p).name for p in report["path"]) == ["empty.mp3", "garbage.wav"]
    assert list(report.columns) == ["path", "label", "error"]
    errors = dict(zip(report["path"].map(lambda p: Path(p).name), report["error"], strict=True))
    assert "empty" in errors["empty.mp3"] and "garbage.wav" in errors["garbage.wav"]
    s = summarize(m)
    assert s["n_clips"] == 6 and s["n_readable"] == 4 and len(s["unreadable"]) == 2
    assert check_audio(m.iloc[:0]).empty
    assert tree(root) == before


# --------------------------------------------------------------------------- summary


def test_summarize_numbers(tmp_path):
    root = tmp_path / "d"
    wav(root / "anger" / "a.wav", 1.0, sr=8000)
    wav(root / "anger" / "b.wav", 2.0, sr=16000, channels=2)
    wav(root / "anger" / "c.wav", 4.0, sr=8000)
    wav(root / "happiness" / "a.wav", 0.5, sr=8000)
    wav(root / "happiness" / "b.wav", 0.25, sr=8000)
    with pytest.warns(DatasetWarning, match="'relaxation', 'sadness' have no clips"):
        m = load_folder(root, scheme="emotion", allow_empty=True, max_imbalance=None)
    m.loc[m["label"] == "anger", "artist"] = ["X", "X", "Y"]
    s = summarize(m)
    pc = s["per_class"]
    assert pc["clips"].to_dict() == {"anger": 3, "happiness": 2, "relaxation": 0, "sadness": 0}
    assert pc.loc["anger", ["duration_min", "duration_median", "duration_max"]].tolist() == [
        1.0,
        2.0,
        4.0,
    ]
    assert pc.loc["happiness", "duration_median"] == pytest.approx(0.375)
    assert np.isnan(pc.loc["sadness", "duration_min"])
    assert s["samplerates"] == {8000: 4, 16000: 1} and s["channels"] == {1: 4, 2: 1}
    assert s["n_artists"] == 2 and s["clips_per_artist"].to_dict() == {"X": 2, "Y": 1}
    assert s["clips_without_artist"] == 2 and pc.loc["anger", "artists"] == 2
    assert s["total_duration_s"] == pytest.approx(7.75)


# --------------------------------------------------------------------------- MIDI


def test_midi_emopia_names_render_outside(tmp_path, no_dataset_warnings):
    src = tmp_path / "emopia"
    for i, q in enumerate(QUADS):
        midi(src / f"{q}_song{i}_0.mid", pitches=(60 + i, 64 + i, 67 + i))
    before = tree(src)
    out = tmp_path / "rendered"
    m = load_midi(src, out_dir=out)
    assert m["label"].tolist() == list(QUADS) and m.attrs["scheme"] == "4q"
    assert m.attrs["root"] == str(out) and all(p.startswith(str(out)) for p in m["path"])
    assert m["source_id"].tolist() == [f"{q}_song{i}_0.mid" for i, q in enumerate(QUADS)]
    info = sf.info(m["path"].iloc[0])
    assert info.samplerate == 22050 and info.channels == 1 and info.duration > 0.25
    assert tree(src) == before  # nothing written next to the MIDI files
    mtimes = [os.stat(p).st_mtime_ns for p in m["path"]]
    again = load_dataset(src, out_dir=out)  # rendered once, then reused
    assert again.attrs["source"] == "midi" and again["path"].tolist() == m["path"].tolist()
    assert [os.stat(p).st_mtime_ns for p in again["path"]] == mtimes
    emotion = load_midi(src, out_dir=out, scheme="emotion")
    assert emotion.set_index("quadrant")["label"].to_dict() == {
        "Q1": "happiness",
        "Q2": "anger",
        "Q3": "sadness",
        "Q4": "relaxation",
    }
    with pytest.raises(ParameterError, match="'ema' does not map one class to each quadrant"):
        load_midi(src, out_dir=out, scheme="ema")
    with pytest.raises(MerError, match="outside the MIDI folder"):
        load_midi(src, out_dir=src / "wav")
    assert tree(src) == before


def test_midi_vgmidi_csv(tmp_path):
    src = tmp_path / "vgmidi"
    rows = ["id,midi,valence,arousal"]
    for i, (v, a) in enumerate([(1, 1), (-1, 1), (-1, -1), (1, -1), (0, 1)]):
        midi(src / "labelled" / f"piece {i}.mid", pitches=(50 + i, 55 + i))
        rows.append(f"{i},labelled/piece {i}.mid,{v},{a}")
    midi(src / "unlabelled" / "extra.mid")  # not in the CSV: ignored
    (src / "vgmidi_labelled.csv").write_text("\n".join(rows) + "\n")
    before = tree(src)
    with pytest.warns(
        DatasetWarning,
        match=r"zero .* skipped: labelled/piece 4\.mid \(vgmidi_labelled\.csv line 6\)",
    ):
        m = load_midi(src, out_dir=tmp_path / "out")
    assert m["quadrant"].tolist() == list(QUADS)
    assert m["valence"].tolist() == [1.0, -1.0, -1.0, 1.0]
    assert m["arousal"].tolist() == [1.0, 1.0, -1.0, -1.0]
    assert Path(m["midi"].iloc[0]).name == "piece 0.mid"
    assert tree(src) == before


def test_midi_bad_inputs(tmp_path):
    src = tmp_path / "m"
    midi(src / "Q1_a_0.mid")
    midi(src / "nolabel.mid")
    with pytest.raises(MerError, match=r"no quadrant label.*nolabel\.mid"):
        load_midi(src, out_dir=tmp_path / "out")
    (src / "nolabel.mid").unlink()
    (src / "Q2_broken_0.mid").write_bytes(b"MThd garbage")
    with pytest.raises(MerError, match=r"could not be rendered: .*Q2_broken_0\.mid"):
        load_midi(src, out_dir=tmp_path / "out")
    (src / "bad.csv").write_text("midi,valence,arousal\nQ1_a_0.mid,1,1\nmissing.mid,1,1\n")
    with pytest.raises(MerError, match=r"not found: missing\.mid"):
        load_midi(src, out_dir=tmp_path / "out")


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def cli(monkeypatch):
    import mer_core.cli

    assert "mer_core.datasets.cli" in mer_core.cli.COMMAND_MODULES
    return cli_main


def test_cli_data_info(cli, emotion_root, capsys):
    assert cli(["data", "info", str(emotion_root), "--scheme", "emotion"]) == 0
    out = capsys.readouterr().out
    assert "clips: 8 (8 readable)" in out and "happiness" in out and "8000 Hz: 8" in out
    capsys.readouterr()
    assert cli(["data", "info", str(emotion_root), "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    # the CLI shows a dataset warning as one line of its own, on stderr
    assert captured.err.startswith("mer: warning: folder(s) without audio in ")
    assert captured.err.rstrip().endswith("skipped: docs")
    assert data["n_clips"] == 8 and data["per_class"]["anger"]["clips"] == 2
    assert data["samplerates"] == {"8000": 8} and data["n_artists"] is None


def test_cli_data_errors(cli, tmp_path, capsys):
    assert cli(["data", "info", str(tmp_path / "absent")]) == 2
    assert "absent: no such file or folder" in capsys.readouterr().err
    assert cli(["data"]) == 2
    wav(tmp_path / "d" / "anger" / "ok.wav")
    (tmp_path / "d" / "anger" / "bad.wav").write_bytes(b"nope")
    assert cli(["data", "info", str(tmp_path / "d")]) == 1
    assert "unreadable files: 1" in capsys.readouterr().out


# --------------------------------------------------------------------------- real 4Q


@pytest.mark.realdata
def test_real_4q_dev(fourq_dev, no_dataset_warnings):
    m = load_dataset(fourq_dev)
    assert m.attrs["source"] == "4q" and len(m) == 600
    assert m["label"].value_counts().to_dict() == dict.fromkeys(QUADS, 150)
    assert m["artist"].notna().all() and (m["artist"].str.len() > 0).all()
    assert m["artist"].nunique() == 424  # distinct artists in the 600 dev clips
    assert m["source_id"].is_unique and (m["label"] == m["quadrant"]).all()
    s = summarize(m)
    assert s["n_readable"] == 600 and s["n_artists"] == 424
    assert sum(s["samplerates"].values()) == 600
    assert s["per_class"]["duration_max"].max() < 31


def test_generated_corpus_folder_is_read_through_its_manifest(tmp_path):
    from mer_core.datasets import load_dataset
    from mer_core.synth import generate_corpus

    out = tmp_path / "corpus"
    generate_corpus(
        out, scheme="emotion", n_per_class=2, size="tiny", duration=2.0, progress=False
    )
    m = load_dataset(out, scheme="emotion")
    assert m.attrs["source"] == "csv" and len(m) == 8
    assert m["artist"].notna().all()
