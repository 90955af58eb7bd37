"""Loading, zero-fill, conversion and bad input (issue: foundation, points 2 and 8)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import soundfile as sf
from conftest import tone

from mer_core import MerError
from mer_core.audio import audio_info, convert_tree, find_audio, load_audio
from mer_core.cli import main as cli_main
from mer_core.errors import AudioError, ParameterError


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_formats_load_mono_float32_resampled(write_audio, fmt):
    kw = {"format": "MP3"} if fmt == "mp3" else {}
    path = write_audio(f"a.{fmt}", tone(2.0, sr=44100, channels=2), sr=44100, **kw)
    y = load_audio(path, sr=22050)
    assert y.dtype == np.float32 and y.ndim == 1
    # mp3 encoders add a little padding; others keep the exact length
    assert abs(len(y) - 44100) <= (2500 if fmt == "mp3" else 1)
    # the 440 Hz tone survives: its spectral peak is at 440 Hz
    spec = np.abs(np.fft.rfft(y[2000:22000]))
    assert abs(np.argmax(spec) * 22050 / 20000 - 440) < 3


def test_duration_truncates_and_zero_fills(write_audio):
    path = write_audio("long.wav", tone(3.0))
    assert load_audio(path, duration=1.0).shape == (22050,)
    y = load_audio(path, duration=5.0)
    assert y.shape == (5 * 22050,)
    assert np.all(y[3 * 22050 :] == 0) and np.any(y[: 3 * 22050] != 0)
    assert load_audio(path, duration=5.0, pad=False).shape == (3 * 22050,)


def test_offset(write_audio):
    y = np.concatenate([np.zeros(22050, np.float32), np.ones(22050, np.float32) * 0.5])
    path = write_audio("step.wav", y, subtype="FLOAT")
    out = load_audio(path, offset=1.0, duration=0.5)
    assert np.allclose(out, 0.5)
    with pytest.raises(AudioError, match="past the end"):
        load_audio(path, offset=10.0)


def test_bad_parameters_echo_value(write_audio):
    path = write_audio("a.wav", tone(0.2))
    with pytest.raises(ParameterError, match="-3"):
        load_audio(path, duration=-3)
    with pytest.raises(ParameterError, match="'x'"):
        load_audio(path, sr="x")


# --- bad input: each either works as documented or raises MerError naming the file


def test_missing_and_empty_file(tmp_path):
    with pytest.raises(MerError, match=r"nope\.wav: no such file"):
        load_audio(tmp_path / "nope.wav")
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    with pytest.raises(MerError, match=r"empty\.mp3: file is empty"):
        load_audio(empty)


def test_text_file_named_mp3(tmp_path):
    fake = tmp_path / "lyrics.mp3"
    fake.write_text("not audio at all\n" * 50)
    with pytest.raises(MerError, match=r"lyrics\.mp3: not a readable audio file"):
        load_audio(fake)
    assert isinstance(MerError("x"), ValueError)


def test_truncated_mp3_decodes_what_is_there(write_audio, tmp_path):
    path = write_audio("full.mp3", tone(3.0, sr=44100), sr=44100, format="MP3")
    data = path.read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) // 2])
    y = load_audio(cut)
    assert 0.5 * 22050 < len(y) < 2.5 * 22050
    stub = tmp_path / "stub.mp3"
    stub.write_bytes(data[:150])  # only the header: no decodable frame
    with pytest.raises(MerError, match=r"stub\.mp3"):
        load_audio(stub)


def test_silence_short_multichannel_and_rates(write_audio):
    assert not np.any(load_audio(write_audio("silence.wav", np.zeros(22050, np.float32))))
    short = load_audio(write_audio("short.wav", tone(0.5)), duration=40.0)
    assert short.shape == (40 * 22050,) and np.all(short[22050:] == 0)
    six = load_audio(write_audio("six.wav", tone(1.0, channels=6)))
    assert six.shape == (22050,) and np.allclose(six, tone(1.0), atol=1e-4)
    for sr in (8000, 96000):
        y = load_audio(write_audio(f"r{sr}.wav", tone(1.0, sr=sr), sr=sr))
        assert abs(len(y) - 22050) <= 1


def test_nan_samples_are_refused(write_audio):
    y = tone(1.0)
    y[100:110] = np.nan
    path = write_audio("nan.wav", y, subtype="FLOAT")
    with pytest.raises(MerError, match=r"nan\.wav: contains 10 NaN"):
        load_audio(path)


def test_directory_is_refused(tmp_path):
    with pytest.raises(MerError, match=r"not a regular file \(a directory\)"):
        load_audio(tmp_path)


def test_corrupted_flac_names_the_file(write_audio, tmp_path):
    """The decoding-failure wrapper: libsndfile's error becomes one line naming the file."""
    good = write_audio("good.flac", tone(3.0))
    data = bytearray(good.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2000] = np.random.default_rng(0).bytes(2000)
    bad = tmp_path / "bad.flac"
    bad.write_bytes(bytes(data))
    with pytest.raises(AudioError, match=r"^.*bad\.flac: damaged flac data \(.*lost sync"):
        load_audio(bad)


def test_audio_info(write_audio):
    info = audio_info(write_audio("i.flac", tone(2.0, sr=16000, channels=2), sr=16000))
    assert info["samplerate"] == 16000 and info["channels"] == 2
    assert info["duration"] == pytest.approx(2.0)


# --- conversion


def _digests(root):
    return {
        p.relative_to(root): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_convert_tree_mirrors_and_never_touches_source(write_audio, tmp_path):
    write_audio("src/Q1/a.mp3", tone(1.0, sr=44100, channels=2), sr=44100, format="MP3")
    write_audio("src/Q2/deep/b.flac", tone(1.0, sr=8000), sr=8000)
    (tmp_path / "src" / "notes.txt").write_text("ignored")
    (tmp_path / "src" / "Q2" / "bad.wav").write_text("not audio")
    before = _digests(tmp_path / "src")
    report = convert_tree(tmp_path / "src", tmp_path / "out", progress=False)
    assert report["converted"] == 2 and len(report["failed"]) == 1
    assert "bad.wav" in report["failed"][0]["error"]
    assert _digests(tmp_path / "src") == before
    out = sorted(p.relative_to(tmp_path / "out") for p in find_audio(tmp_path / "out"))
    assert [str(p) for p in out] == ["Q1/a.wav", "Q2/deep/b.wav"]
    info = sf.info(str(tmp_path / "out" / "Q1" / "a.wav"))
    assert (info.samplerate, info.channels, info.subtype) == (22050, 1, "PCM_16")
    # a second run resumes: nothing is redone
    again = convert_tree(tmp_path / "src", tmp_path / "out", progress=False)
    assert again["converted"] == 0 and again["skipped"] == 2
    with pytest.raises(MerError, match="bad.wav"):
        convert_tree(tmp_path / "src", tmp_path / "out2", progress=False, strict=True)
    with pytest.raises(MerError, match="would be written into the input"):
        convert_tree(tmp_path / "src", tmp_path / "src" / "wav", progress=False)


def test_convert_cli(write_audio, tmp_path, capsys):
    write_audio("in/x.ogg", tone(1.0), format="OGG")
    assert cli_main(["convert", str(tmp_path / "in"), str(tmp_path / "o"), "--quiet"]) == 0
    assert (tmp_path / "o" / "x.wav").exists()
    assert cli_main(["convert", str(tmp_path / "missing"), str(tmp_path / "o")]) == 2
    assert "missing: no such folder" in capsys.readouterr().err


@pytest.mark.realdata
def test_every_4q_dev_clip_loads(fourq_dev):
    files = find_audio(fourq_dev)
    assert len(files) == 600
    rates = set()
    for f in files:
        y = load_audio(f, duration=40.0)
        assert y.shape == (40 * 22050,) and y.dtype == np.float32
        assert np.all(np.isfinite(y)) and np.any(y)
        rates.add(audio_info(f)["samplerate"])
    assert len(rates) >= 3  # mixed encodings, as the README says
