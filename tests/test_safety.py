"""Never clobber, never claim, never a traceback (issue 8, points 6-15).

Every command refuses to write over or into its inputs before doing any work;
when nothing is produced it exits non-zero saying why; outputs keep normal
permissions; unwritable outputs, odd files (FIFOs, folders named x.wav,
symbolic-link loops), too-short audio, damaged data and absurd durations give
one clear line each, and no library noise reaches the terminal.
"""

from __future__ import annotations

import hashlib
import os
import stat
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import tone

from mer_core import MerError
from mer_core.audio import load_audio
from mer_core.cli import main as cli_main
from mer_core.errors import ParameterError
from mer_core.extract import GROUPS, FeatureConfig, extract_features
from mer_core.io import atomic_write_bytes, atomic_write_json

EMOTION = ("anger", "happiness", "relaxation", "sadness")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _song(path: Path, seconds: float = 0.5, *, freq: float = 440.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), tone(seconds, freq=freq), 22050)
    return path


@pytest.fixture
def src(tmp_path) -> Path:
    """A read-only-by-contract input folder with two clips."""
    _song(tmp_path / "src" / "a.wav", freq=440.0)
    _song(tmp_path / "src" / "b.wav", freq=550.0)
    return tmp_path / "src"


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("mer: error: "), err
    assert "Traceback" not in err
    return lines[0]


# ----------------------------------------------------------------- 6: never over or into inputs


def test_features_never_writes_over_or_into_its_input(src, tmp_path, capsys):
    before = {p.name: _digest(p) for p in src.iterdir()}
    cache = ["--cache-dir", str(tmp_path / "cache"), "--quiet"]
    for out in (src / "a.wav", src / "f.npz", src / "deeper" / "f.npz"):
        assert cli_main(["features", str(src), "--out", str(out), *cache]) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert str(out) in line and str(src) in line  # names both paths
    # the feature cache is written too: not into the input either
    assert cli_main(["features", str(src), "--out", str(tmp_path / "f.npz"),
                     "--cache-dir", str(src / "cache"), "--quiet"]) == 2  # fmt: skip
    assert "feature cache" in capsys.readouterr().err
    assert {p.name: _digest(p) for p in src.iterdir()} == before  # nothing added or changed
    assert not (tmp_path / "cache").exists()  # refused before any work


def test_convert_never_writes_over_or_into_its_input(src, tmp_path, capsys):
    before = {p.name: _digest(p) for p in src.iterdir()}
    for dst in (src, src / "wav", tmp_path):  # the same, inside, around (mirrored tree lands)
        assert cli_main(["convert", str(src), str(dst), "--quiet"]) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert str(src) in line
    assert {p.name: _digest(p) for p in src.iterdir()} == before


@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_evaluate_and_train_never_write_into_the_data(command, src, tmp_path, monkeypatch, capsys):
    import mer_core.datasets

    def no_work(*args, **kwargs):
        raise AssertionError("the output must be refused before the data is even loaded")

    monkeypatch.setattr(mer_core.datasets, "load_dataset", no_work)
    out = src / "run"
    args = [command, "--scheme", "emotion", "--data", str(src), "--out", str(out)]
    assert cli_main([*args, "--cache-dir", str(tmp_path / "c"), "--quiet"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert str(out) in line and str(src) in line
    args = [command, "--scheme", "emotion", "--data", str(src), "--out", str(tmp_path / "r")]
    assert cli_main([*args, "--cache-dir", str(src / "cache"), "--quiet"]) == 2
    assert "feature cache" in _one_error_line(capsys.readouterr().err)
    assert sorted(p.name for p in src.iterdir()) == ["a.wav", "b.wav"]


def test_predict_never_writes_its_cache_over_a_song(src, tmp_path, capsys):
    song = src / "a.wav"
    before = _digest(song)
    args = ["predict", str(song), "--model", str(tmp_path / "run"), "--cache-dir", str(song)]
    assert cli_main(args) == 2
    assert str(song) in _one_error_line(capsys.readouterr().err)
    assert _digest(song) == before


# ----------------------------------------------------------------- 7: nothing produced


def test_features_says_why_when_nothing_is_produced(tmp_path, capsys):
    cache = ["--cache-dir", str(tmp_path / "cache"), "--quiet"]
    out = tmp_path / "f.npz"
    (tmp_path / "empty").mkdir()
    assert cli_main(["features", str(tmp_path / "empty"), "--out", str(out), *cache]) == 2
    assert "holds no files" in _one_error_line(capsys.readouterr().err)
    other = tmp_path / "other"
    other.mkdir()
    for name in ("x.opus", "y.m4a", "z.opus"):
        (other / name).write_bytes(b"\0" * 64)
    assert cli_main(["features", str(other), "--out", str(out), *cache]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "no supported audio files (found 2 .opus, 1 .m4a" in line
    song = _song(tmp_path / "song.wav")
    assert cli_main(["features", str(song), "--out", str(out), *cache]) == 2
    assert "expects a folder" in _one_error_line(capsys.readouterr().err)
    assert not out.exists()


def test_features_leaves_no_stale_output_when_no_clip_succeeds(tmp_path, capsys):
    data = tmp_path / "data"
    _song(data / "good.wav", 1.0)
    out, report = tmp_path / "f.npz", tmp_path / "f.report.json"
    cache = ["--cache-dir", str(tmp_path / "cache"), "--quiet"]
    assert cli_main(["features", str(data), "--out", str(out), *cache]) == 0
    before = (_digest(out), _digest(report))
    capsys.readouterr()
    (data / "good.wav").write_text("no longer audio")
    assert cli_main(["features", str(data), "--out", str(out), *cache]) == 2
    captured = capsys.readouterr()
    assert "no clip succeeded" in captured.err and "nothing was written" in captured.err
    assert captured.err.count("good.wav: not a readable audio file") == 1  # once, on stderr
    assert captured.out == ""
    # the previous output and its report are left as a pair that agrees
    assert (_digest(out), _digest(report)) == before
    import json

    assert json.loads(report.read_text())["n_ok"] == 1 and len(np.load(out)["paths"]) == 1


def test_convert_says_why_when_nothing_is_produced(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli_main(["convert", str(tmp_path / "empty"), str(tmp_path / "o"), "--quiet"]) == 2
    assert "holds no files" in _one_error_line(capsys.readouterr().err)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.wav").write_text("not audio")
    assert cli_main(["convert", str(tmp_path / "bad"), str(tmp_path / "o"), "--quiet"]) == 2
    assert "no file could be converted" in capsys.readouterr().err


# ----------------------------------------------------------------- 8: permissions


@pytest.fixture
def umask022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_writes_honour_the_umask(tmp_path, umask022):
    assert _mode(atomic_write_bytes(tmp_path / "a.bin", b"x")) == 0o644
    assert _mode(atomic_write_json(tmp_path / "a.json", {"a": 1})) == 0o644
    os.umask(0o077)
    assert _mode(atomic_write_bytes(tmp_path / "b.bin", b"x")) == 0o600


def test_saved_model_folders_honour_the_umask(tmp_path, umask022):
    from mer_core.models import SVMClassifier, save_model

    rng = np.random.default_rng(0)
    X = {"lowlevel": rng.normal(size=(12, 3))}
    clf = SVMClassifier(use_mfcc_stats=False).fit(X, np.repeat(["a", "b"], 6))
    assert _mode(save_model(clf, tmp_path / "public")) == 0o755
    os.umask(0o077)
    assert _mode(save_model(clf, tmp_path / "private")) == 0o700


def test_feature_outputs_and_cache_entries_are_0644(src, tmp_path, umask022):
    out, cache = tmp_path / "out" / "f.npz", tmp_path / "cache"
    assert cli_main(["features", str(src), "--out", str(out), "--cache-dir", str(cache),
                     "--duration", "1", "--quiet"]) == 0  # fmt: skip
    written = [out, out.with_suffix(".report.json"), *cache.rglob("*.npz")]
    assert len(written) == 2 + 2 * len(GROUPS)  # two clips, every feature group
    assert {p.name: _mode(p) for p in written} == {p.name: 0o644 for p in written}


# ----------------------------------------------------------------- 9: unwritable outputs


def test_unwritable_outputs_are_one_line_before_any_work(src, tmp_path, capsys):
    cache = ["--cache-dir", str(tmp_path / "cache"), "--quiet"]
    folder = tmp_path / "existing"
    folder.mkdir()
    assert cli_main(["features", str(src), "--out", str(folder), *cache]) == 2
    assert "is a folder" in _one_error_line(capsys.readouterr().err)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    assert cli_main(["features", str(src), "--out", str(blocker / "f.npz"), *cache]) == 2
    assert f"{blocker}: is a file" in _one_error_line(capsys.readouterr().err)
    assert cli_main(["convert", str(src), str(blocker / "wav"), "--quiet"]) == 2
    assert f"{blocker}: is a file" in _one_error_line(capsys.readouterr().err)
    assert cli_main(["synth", "--size", "tiny", "--out", str(blocker), "--quiet"]) == 2
    assert "not a folder" in _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "cache").exists()  # no feature was computed


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_read_only_folder_is_one_line(src, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        args = ["features", str(src), "--out", str(locked / "f.npz"), "--quiet"]
        assert cli_main([*args, "--cache-dir", str(tmp_path / "cache")]) == 2
        assert "permission denied" in _one_error_line(capsys.readouterr().err)
    finally:
        locked.chmod(0o755)


def test_train_checks_its_output_before_the_fit(src, tmp_path, monkeypatch, capsys):
    import mer_core.experiments

    def no_fit(*args, **kwargs):
        raise AssertionError("the model must not be built when OUT cannot be written")

    monkeypatch.setattr(mer_core.experiments, "build_estimator", no_fit)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    args = ["train", "--scheme", "emotion", "--data", str(src), "--out", str(blocker / "run")]
    assert cli_main([*args, "--cache-dir", str(tmp_path / "c"), "--quiet"]) == 2
    assert f"{blocker}: is a file" in _one_error_line(capsys.readouterr().err)


def test_any_os_error_at_the_cli_boundary_is_one_line(src, tmp_path, monkeypatch, capsys):
    import mer_core.extract_cli

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "f.npz"))

    monkeypatch.setattr(mer_core.extract_cli, "extract_features", full_disk)
    args = ["features", str(src), "--out", str(tmp_path / "f.npz"), "--quiet"]
    assert cli_main([*args, "--cache-dir", str(tmp_path / "c")]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == f"mer: error: {tmp_path / 'f.npz'}: No space left on device"


# ----------------------------------------------------------------- 11: not a regular file


@pytest.fixture
def odd_entries(tmp_path) -> list[Path]:
    """A FIFO, a folder named x.wav and a symbolic-link loop, all named like audio."""
    odd = tmp_path / "odd"
    odd.mkdir()
    os.mkfifo(odd / "fifo.wav")
    (odd / "folder.wav").mkdir()
    os.symlink(odd / "loop.wav", odd / "loop.wav")
    return [odd / "fifo.wav", odd / "folder.wav", odd / "loop.wav"]


def test_odd_entries_are_not_regular_files(odd_entries, tmp_path):
    for path in odd_entries:
        with pytest.raises(MerError, match=rf"{path.name}: not a regular file"):
            load_audio(path)
    fs = extract_features(odd_entries, cache_dir=tmp_path / "c", progress=False)
    assert len(fs) == 0 and len(fs.failures) == 3
    assert all("not a regular file" in f["error"] for f in fs.failures)


def test_odd_entries_in_a_dataset_are_reported_and_skipped(odd_entries, tmp_path):
    from mer_core.datasets import load_csv

    root = odd_entries[0].parent
    rows = []
    for i, label in enumerate(EMOTION):
        for j in range(2):
            path = _song(root / label / f"{j}.wav", 0.5, freq=200.0 + 50 * i + 10 * j)
            rows.append(f"{path.relative_to(root)},{label}")
    rows += [f"{p.name},anger" for p in odd_entries]
    (root / "labels.csv").write_text("path,label\n" + "\n".join(rows) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # class imbalance: 5 anger clips against 2
        manifest = load_csv(root / "labels.csv", scheme="emotion")
    assert len(manifest) == 11  # the load is not aborted
    fs = extract_features(
        manifest["path"], config=FeatureConfig(duration=0.5), cache_dir=tmp_path / "c",
        progress=False,
    )  # fmt: skip
    assert len(fs) == 8
    assert sorted(Path(f["path"]).name for f in fs.failures) == sorted(p.name for p in odd_entries)
    assert all("not a regular file" in f["error"] for f in fs.failures)


# ----------------------------------------------------------------- 12: too short


def test_audio_shorter_than_one_frame_is_refused(tmp_path):
    zero = tmp_path / "zero.wav"
    sf.write(str(zero), np.zeros(0, np.float32), 22050)
    one = tmp_path / "one.wav"
    sf.write(str(one), np.full(1, 0.1, np.float32), 22050)
    with pytest.raises(MerError, match=r"zero\.wav: contains no audio frames"):
        load_audio(zero, duration=40.0)  # zero-fill does not make it audio
    fs = extract_features([zero, one], cache_dir=tmp_path / "c", progress=False)
    assert len(fs) == 0
    assert "zero.wav: contains no audio frames" in fs.failures[0]["error"]
    assert "one.wav: too short: 1 samples" in fs.failures[1]["error"]
    with pytest.raises(MerError, match=r"one\.wav: too short"):
        extract_features([one], cache_dir=tmp_path / "c", progress=False, strict=True)


# ----------------------------------------------------------------- 13: messages, no noise


def test_huge_finite_samples_give_one_message_and_no_numpy_warning(tmp_path):
    path = tmp_path / "huge.wav"
    y = tone(1.0)
    y[:100] = 3e38
    sf.write(str(path), y, 22050, subtype="FLOAT")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would fail the test
        with pytest.raises(MerError, match=r"huge\.wav: samples far outside \[-1, 1\]"):
            load_audio(path)
        fs = extract_features([path], cache_dir=tmp_path / "c", progress=False)
    assert "samples far outside" in fs.failures[0]["error"]


def test_damaged_mp3_says_where_and_mpg123_stays_quiet(tmp_path, capfd):
    good = tmp_path / "good.mp3"
    sf.write(str(good), tone(3.0, sr=44100), 44100, format="MP3")
    data = good.read_bytes()
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(data[:4096] + bytes(8000) + data[12096:])
    capfd.readouterr()
    with pytest.raises(MerError) as exc:
        load_audio(bad)
    message = str(exc.value)
    assert message.startswith(f"{bad}: damaged mp3 data after 4 KB")
    assert "Unspecified internal error" not in message
    captured = capfd.readouterr()
    assert "Illegal Audio-MPEG-Header" not in captured.err + captured.out


def test_dataset_warning_is_one_line_without_python_source(tmp_path, capsys):
    root = tmp_path / "data"
    for i, label in enumerate(EMOTION):
        for j in range(1 if i else 4):  # anger 4 clips, the others 1: imbalance
            _song(root / label / f"{j}.wav", 0.2, freq=200.0 + 60 * i + 15 * j)
    assert cli_main(["data", "info", str(root), "--scheme", "emotion"]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("mer: warning: strong class imbalance"), err
    assert "warn(" not in err and ".py:" not in err and "DatasetWarning" not in err


# ----------------------------------------------------------------- 14: --duration range


@pytest.mark.parametrize("value", ["inf", "1e12", "nan", "0", "-3"])
def test_duration_is_validated_up_front(value, src, tmp_path, capsys):
    for argv in (
        ["features", str(src), "--out", str(tmp_path / "f.npz"), "--duration", value],
        ["convert", str(src), str(tmp_path / "wav"), "--duration", value],
        ["evaluate", "--scheme", "4q", "--data", str(src), "--out", str(tmp_path / "r"),
         "--duration", value],
    ):  # fmt: skip
        with pytest.raises(SystemExit) as exc:
            cli_main(argv)
        assert exc.value.code == 2
        assert "argument --duration: must be a number of seconds in (0, 3600]" in (
            capsys.readouterr().err
        )
    assert not (tmp_path / "f.npz").exists() and not (tmp_path / "wav").exists()
    with pytest.raises(ParameterError, match="duration"):
        FeatureConfig(duration=float(value))
    with pytest.raises(ParameterError, match="duration"):
        load_audio(src / "a.wav", duration=float(value))


# ----------------------------------------------------------------- 15: --scheme everywhere


@pytest.mark.parametrize(
    "argv",
    [
        ["evaluate"],
        ["train"],
        ["synth"],
        ["data", "info"],
        ["pipeline", "data"],
        ["pipeline", "results"],
    ],
)
def test_scheme_is_the_option_name_in_every_command(argv, capsys):
    with pytest.raises(SystemExit):
        cli_main([*argv, "--help"])
    assert "--scheme" in capsys.readouterr().out


def test_dataset_is_a_deprecated_alias_of_scheme(capsys):
    from mer_core.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["evaluate", "--dataset", "4q", "--data", "d", "--out", "o"])
    assert args.scheme == "4q"
    assert "--dataset is deprecated; use --scheme" in capsys.readouterr().err
    args = parser.parse_args(["train", "--scheme", "ema", "--data", "d", "--out", "o"])
    assert args.scheme == "ema" and capsys.readouterr().err == ""


# ----------------------------------------------------------------- 22: never the home cache


def test_tests_never_touch_the_home_cache(session_cache, src, capsys):
    import subprocess
    import sys

    from conftest import USER_CACHE_DIR

    from mer_core.extract import default_cache_dir

    home_cache = Path.home() / ".cache" / "mer"
    assert default_cache_dir() == session_cache != home_cache / "features"
    assert not session_cache.is_relative_to(home_cache)
    if USER_CACHE_DIR:  # not even a cache the user chose for their own runs
        assert session_cache != Path(USER_CACHE_DIR)
    # child processes (the CLI, papermill's kernels) inherit it
    code = "from mer_core.extract import default_cache_dir; print(default_cache_dir())"
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert child.stdout.strip() == str(session_cache)
    # and a command without --cache-dir writes its entries there
    before = set(session_cache.rglob("*.npz"))
    out = session_cache.parent / f"{session_cache.name}-out" / "f.npz"
    assert cli_main(["features", str(src), "--out", str(out), "--duration", "1", "--quiet"]) == 0
    assert len(set(session_cache.rglob("*.npz")) - before) == 2 * len(GROUPS)
