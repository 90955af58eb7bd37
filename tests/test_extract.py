"""Dataset-scale extraction: parallel, cached by content and parameters, robust to bad files."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf

from mer_core import MerError
from mer_core.audio import load_audio
from mer_core.extract import GROUPS, FeatureConfig, extract_features, signal_features

SR = 22050
CFG = FeatureConfig(duration=3.0)


def _song(seconds, seed, sr=SR):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 110 * 2 ** (rng.integers(0, 12) / 12)
    y = sum(0.15 / k * np.sin(2 * np.pi * f0 * k * t) for k in (1, 2, 3, 4, 5, 6))
    return (y + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture
def corpus(tmp_path):
    files = []
    for i, seconds in enumerate([3.5, 2.0, 3.0, 1.0]):
        path = tmp_path / "audio" / f"clip{i}.wav"
        path.parent.mkdir(exist_ok=True)
        sf.write(str(path), _song(seconds, i), SR)
        files.append(path)
    return files


def _run(files, cache, **kw):
    return extract_features(
        files, config=kw.pop("config", CFG), cache_dir=cache, progress=False, **kw
    )


def test_features_shapes_and_match_single_clip(corpus, tmp_path):
    fs = _run(corpus, tmp_path / "cache")
    n_frames = 1 + int(3.0 * SR) // CFG.hop_length
    assert len(fs) == 4 and not fs.failures
    assert fs.log_mel.shape == (4, CFG.n_mels, n_frames) and fs.log_mel.dtype == np.float16
    assert fs.mfcc.shape == (4, CFG.n_mfcc, n_frames)
    assert fs.lowlevel.shape == (4, len(fs.lowlevel_names))
    assert fs.chords.shape == (4, len(fs.chord_names))
    assert np.all(np.isfinite(fs.lowlevel)) and np.all(np.isfinite(fs.chords))
    assert list(fs.n_valid) == [3 * SR, 2 * SR, 3 * SR, 1 * SR]
    y = load_audio(corpus[1], duration=3.0)
    direct = signal_features(y, config=CFG, n_valid=2 * SR)
    np.testing.assert_array_equal(fs.mfcc[1], direct["spectral"]["mfcc"])
    np.testing.assert_array_equal(fs.lowlevel[1], direct["lowlevel"]["vector"])
    np.testing.assert_array_equal(fs.chords[1], direct["chords"]["vector"])


def test_second_run_reads_cache_and_parallel_agrees(corpus, tmp_path):
    cache = tmp_path / "cache"
    first = _run(corpus, cache)
    assert first.n_computed == 4 * len(GROUPS)
    second = _run(corpus, cache, n_jobs=2)
    assert second.n_computed == 0
    for name in ("log_mel", "mfcc", "lowlevel", "chords", "musical"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    fresh = _run(corpus, tmp_path / "cache2", n_jobs=2)
    np.testing.assert_array_equal(first.lowlevel, fresh.lowlevel)
    assert not [p for p in cache.rglob("*") if ".tmp" in p.name]  # atomic writes left no debris


def test_damaged_or_foreign_cache_entries_are_recomputed(corpus, tmp_path):
    cache = tmp_path / "cache"
    ref = _run(corpus[:2], cache)
    entries = sorted((cache / "lowlevel").rglob("*.npz"))
    assert len(entries) == 2
    entries[0].write_bytes(entries[0].read_bytes()[:100])  # truncated
    shutil.copy(entries[1], entries[1].with_name("x.npz"))
    chords_entries = sorted((cache / "chords").rglob("*.npz"))
    shutil.copy(chords_entries[1], chords_entries[0])  # right name, wrong content
    again = _run(corpus[:2], cache)
    assert again.n_computed == 2
    np.testing.assert_array_equal(again.lowlevel, ref.lowlevel)
    np.testing.assert_array_equal(again.chords, ref.chords)


def test_parameter_change_recomputes_only_dependent_groups(corpus, tmp_path):
    cache = tmp_path / "cache"
    _run(corpus, cache)
    changed = _run(corpus, cache, config=FeatureConfig(duration=3.0, n_mfcc=13))
    assert changed.n_computed == 4 * 2  # spectral and lowlevel, not chords or musical
    assert changed.mfcc.shape[1] == 13
    hop = _run(corpus, cache, config=FeatureConfig(duration=3.0, hop_length=256))
    assert hop.n_computed == 4 * len(GROUPS)


def test_cache_is_keyed_by_content_not_name(corpus, tmp_path):
    cache = tmp_path / "cache"
    _run(corpus[:1], cache)
    moved = tmp_path / "elsewhere" / "renamed.wav"
    moved.parent.mkdir()
    shutil.copy(corpus[0], moved)
    assert _run([moved], cache).n_computed == 0
    sf.write(str(moved), _song(3.5, 99), SR)  # same name, new content
    assert _run([moved], cache).n_computed == len(GROUPS)


def test_bad_files_are_reported_and_the_rest_finish(corpus, tmp_path):
    bad = tmp_path / "audio" / "broken.mp3"
    bad.write_text("this is not an mp3")
    empty = tmp_path / "audio" / "empty.wav"
    empty.write_bytes(b"")
    files = [corpus[0], bad, corpus[1], empty, tmp_path / "missing.wav"]
    fs = _run(files, tmp_path / "cache")
    assert fs.paths == [str(corpus[0]), str(corpus[1])] and list(fs.index) == [0, 2]
    assert [f["path"] for f in fs.failures] == [str(bad), str(empty), str(files[4])]
    assert "broken.mp3: not a readable audio file" in fs.failures[0]["error"]
    assert "empty.wav: file is empty" in fs.failures[1]["error"]
    with pytest.raises(MerError, match=r"broken\.mp3"):
        _run(files, tmp_path / "cache", strict=True)


def test_silent_and_short_clips_have_finite_features(tmp_path):
    silent = tmp_path / "silent.wav"
    sf.write(str(silent), np.zeros(SR, np.float32), SR)
    short = tmp_path / "short.wav"
    sf.write(str(short), _song(0.1, 3), SR)  # just over one FFT frame
    tiny = tmp_path / "tiny.wav"
    sf.write(str(tiny), _song(0.05, 3), SR)  # shorter than one FFT frame: refused
    fs = _run([silent, short, tiny], tmp_path / "cache", config=FeatureConfig(duration=None))
    assert [f["path"] for f in fs.failures] == [str(tiny)]
    assert "tiny.wav: too short: 1102 samples" in fs.failures[0]["error"]
    assert np.all(np.isfinite(fs.lowlevel)) and np.all(np.isfinite(fs.chords))


def test_fingerprint_tracks_data_and_config(corpus, tmp_path):
    a = _run(corpus, tmp_path / "c")
    b = _run(corpus[::-1], tmp_path / "c")
    c = _run(corpus, tmp_path / "c", config=FeatureConfig(duration=3.0, n_mels=64))
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_bad_parameters():
    with pytest.raises(MerError, match="n_mfcc=200"):
        FeatureConfig(n_mfcc=200)
    with pytest.raises(MerError, match="'tempo'"):
        extract_features([], groups=("tempo",))


def test_partial_stft_equals_the_paper_chain_on_the_zero_filled_clip(corpus):
    """Skipping the all-zero frames of the zero-fill changes nothing."""
    from mer_core.features import log_mel, mfcc, preemphasis, stft_power

    y = load_audio(corpus[3], duration=3.0)  # 1 s of audio, 2 s of zero-fill
    out = signal_features(y, config=CFG, n_valid=SR)
    S = stft_power(preemphasis(y, coef=CFG.preemphasis))
    ref_l = log_mel(S=S, sr=SR, n_mels=CFG.n_mels)
    np.testing.assert_array_equal(out["spectral"]["log_mel"], ref_l.astype(np.float16))
    np.testing.assert_allclose(
        out["spectral"]["mfcc"], mfcc(S=S, sr=SR, n_mfcc=CFG.n_mfcc), atol=1e-3
    )


def test_lowlevel_reusing_the_spectral_log_mel_equals_its_own(corpus):
    """The lowlevel group takes the spectral group's log-Mel and MFCC: same vector, bit for bit."""
    for path, n_valid in zip(corpus, (3 * SR, 2 * SR, 3 * SR, SR), strict=True):
        y = load_audio(path, duration=3.0)
        shared = signal_features(y, config=CFG, n_valid=n_valid, groups=("spectral", "lowlevel"))
        alone = signal_features(y, config=CFG, n_valid=n_valid, groups=("lowlevel",))
        np.testing.assert_array_equal(shared["lowlevel"]["vector"], alone["lowlevel"]["vector"])


def _crafted(arrays, change):
    out = {k: v.copy() for k, v in arrays.items()}
    change(out)
    return out


def _nan_mfcc(a):
    a["mfcc"][0, :5] = np.nan


@pytest.mark.parametrize(
    ("group", "change"),
    [
        ("spectral", lambda a: a.pop("log_mel")),  # a missing array
        ("spectral", _nan_mfcc),  # NaNs
        ("spectral", lambda a: a.update(mfcc=a["mfcc"][:, :-3])),  # wrong shape
        ("spectral", lambda a: a.update(log_mel=a["log_mel"].astype(np.float64))),  # dtype
        ("spectral", lambda a: a.update(extra=np.zeros(3))),  # an unexpected array
        ("lowlevel", lambda a: a.update(vector=a["vector"][:-1])),
        ("lowlevel", lambda a: a.update(vector=np.full_like(a["vector"], np.inf))),
        ("chords", lambda a: a.update(vector=a["vector"].astype(np.int32))),
        ("chords", lambda a: a.update(n_valid=np.array(-5))),
        ("chords", lambda a: a.update(n_valid=np.array(2.5))),
    ],
)
def test_crafted_cache_entry_with_the_right_key_is_recomputed(corpus, tmp_path, group, change):
    """An entry whose key matches but whose arrays are not what the group computes
    (names, dtype, shape, finiteness) is recomputed, never returned."""
    cache = tmp_path / "cache"
    first = _run(corpus[:2], cache)
    (entry,) = [p for p in (cache / group).glob("*/*.npz") if _entry_digest(p) == first.digests[0]]
    with np.load(entry, allow_pickle=False) as npz:
        stored = {k: npz[k] for k in npz.files}
    crafted = _crafted({k: v for k, v in stored.items() if k != "_key"}, change)
    with open(entry, "wb") as fh:
        np.savez(fh, _key=stored["_key"], **crafted)
    again = _run(corpus[:2], cache)
    assert again.n_computed == 1 and not again.failures
    for name in ("log_mel", "mfcc", "lowlevel", "chords", "musical"):
        np.testing.assert_array_equal(getattr(again, name), getattr(first, name))
    assert np.isfinite(again.mfcc).all() and list(again.n_valid) == list(first.n_valid)
    # the entry was rewritten whole: a third run reads everything from the cache
    assert _run(corpus[:2], cache).n_computed == 0


def _entry_digest(path):
    """The file digest a cache entry was computed from (by recomputing its key)."""
    from mer_core.io import file_digest, json_digest

    group = path.parent.parent.name
    with np.load(path, allow_pickle=False) as npz:
        key = str(npz["_key"])
    for clip in sorted((path.parents[3] / "audio").glob("*.wav")):
        digest = file_digest(clip)
        if json_digest({"file": digest, **CFG.group_params(group)}, length=32) == key:
            return digest
    return None


def test_extract_features_returns_the_model_container(corpus, tmp_path):
    """The result is the ClipFeatures every model takes, with its provenance."""
    from mer_core.features.container import ClipFeatures
    from mer_core.io import file_digest

    fs = _run([corpus[0], tmp_path / "missing.wav", corpus[3]], tmp_path / "cache")
    assert isinstance(fs, ClipFeatures) and fs.config == CFG
    assert fs.paths == [str(corpus[0]), str(corpus[3])] and list(fs.index) == [0, 2]
    assert fs.digests == [file_digest(corpus[0]), file_digest(corpus[3])]
    assert [f["path"] for f in fs.failures] == [str(tmp_path / "missing.wav")]
    n_frames = fs.log_mel.shape[-1]
    assert list(fs.valid_frames) == [n_frames, 1 + SR // CFG.hop_length]  # 3 s and 1 s clips
    assert fs.lowlevel_names and len(fs.chord_names) == fs.chords.shape[1]


def test_groups_compute_and_return_only_what_is_asked(corpus, tmp_path, monkeypatch):
    import mer_core.extract as extract

    asked = []
    real = extract.signal_features

    def spy(y, **kw):
        asked.append(tuple(kw["groups"]))
        return real(y, **kw)

    monkeypatch.setattr(extract, "signal_features", spy)
    cache = tmp_path / "cache"
    low = _run(corpus, cache, groups=("lowlevel",))
    assert asked == [("lowlevel",)] * 4 and low.n_computed == 4
    assert low.log_mel is None and low.mfcc is None and low.chords is None
    assert low.fields() == ("lowlevel",) and low.valid_frames is None
    assert sorted(p.name for p in cache.iterdir()) == ["lowlevel"]  # one cache folder per group
    asked.clear()
    both = _run(corpus, cache, groups=("spectral", "lowlevel"))
    assert asked == [("spectral",)] * 4 and both.n_computed == 4  # lowlevel from the cache
    np.testing.assert_array_equal(both.lowlevel, low.lowlevel)


def test_each_file_is_read_once(corpus, tmp_path, monkeypatch):
    """The bytes hashed for the cache key are the bytes decoded: no second read."""
    import io
    from pathlib import Path

    opened = []
    real_sf = sf.SoundFile

    def sound_file(source, *a, **kw):
        opened.append(type(source))
        return real_sf(source, *a, **kw)

    real_read = Path.read_bytes

    def read_bytes(self):
        opened.append(self.name)
        return real_read(self)

    monkeypatch.setattr(sf, "SoundFile", sound_file)
    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    _run(corpus[:2], tmp_path / "cache")
    assert opened == ["clip0.wav", io.BytesIO, "clip1.wav", io.BytesIO]
    opened.clear()
    _run(corpus[:2], tmp_path / "cache")  # cached: read to hash, not decoded
    assert opened == ["clip0.wav", "clip1.wav"]


def test_a_model_reading_audio_computes_only_the_groups_it_reads(corpus, tmp_path, monkeypatch):
    """An SVM on low-level features, fitted on what extraction returned, predicts files
    with that front end and never computes the spectral group (the CNN's log-Mel)."""
    import mer_core.extract as extract
    from mer_core.models import SVMClassifier

    X = _run(corpus, tmp_path / "cache", groups=("lowlevel",))
    clf = SVMClassifier(use_mfcc_stats=False, n_screened=4).fit(X, ["a", "b", "a", "b"])
    assert clf.feature_config_ == CFG  # the provenance of X
    asked = []
    real = extract.signal_features
    monkeypatch.setattr(
        extract, "signal_features", lambda y, **kw: asked.append(kw["groups"]) or real(y, **kw)
    )
    fresh = tmp_path / "fresh"
    pred = clf.predict_paths(corpus, cache_dir=fresh)
    assert asked == [["lowlevel"]] * 4 and sorted(p.name for p in fresh.iterdir()) == ["lowlevel"]
    np.testing.assert_allclose(pred.proba, clf.predict_proba(X))
    np.testing.assert_allclose(pred.novelty, clf.novelty(X))
