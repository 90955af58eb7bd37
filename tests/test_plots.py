"""The book's figures (mer_core.plots): each returns a Figure with the expected axes and labels.

Small synthetic inputs only; every plotting call runs with file access blocked
(the functions take arrays and records, they never read or write files), and
each figure is then rendered to memory with the Agg backend.
"""

from __future__ import annotations

import builtins
import io
import os

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

# imported here, so that the plotting functions' own imports need no file access
import mer_core.chords  # noqa: F401
import mer_core.features.spectral  # noqa: F401
import mer_core.synth.cues  # noqa: F401
from mer_core import plots
from mer_core.errors import ParameterError
from mer_core.experiments import MODELS
from mer_core.features.spectral import mel_filterbank
from mer_core.names import PAPER_MODELS
from mer_core.paper import PAPER_TABLES

matplotlib.use("Agg")  # figures are rendered in memory below

SR = 22050
LABELS = ["cheerful", "excited", "nervous", "joyful"]
PAPER_FOUR = list(PAPER_MODELS)
ABLATIONS = ["cnn_svm_no_chords", "cnn_svm_no_lowlevel", "cnn_embedding_svm"]


@pytest.fixture
def no_io(monkeypatch):
    """Call ``no_io(f, *args, **kw)``: runs ``f`` with file access blocked, renders the figure."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"a plotting function touched a file: {args[:1]}")

    def call(f, *args, **kwargs):
        # libraries the figures use are loaded first (importing reads their files;
        # drawing must not)
        import seaborn  # noqa: F401

        with monkeypatch.context() as m:
            for mod, name in (
                (builtins, "open"),
                (io, "open"),
                (os, "open"),
                (os, "listdir"),
                (os, "scandir"),
            ):
                m.setattr(mod, name, refuse)
            fig = f(*args, **kwargs)
        assert isinstance(fig, Figure)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")  # draws it (layout, text) in memory
        assert buf.getvalue()[:4] == b"\x89PNG"
        return fig

    return call


def tone(seconds=1.0, freq=440.0):
    t = np.arange(int(seconds * SR)) / SR
    rng = np.random.default_rng(0)
    return (0.5 * np.sin(2 * np.pi * freq * t) + 0.05 * rng.standard_normal(t.size)).astype(
        np.float32
    )


def fake_record(models=PAPER_FOUR + ABLATIONS, *, seed=0, dataset="generated ema (tiny)"):
    """A results.json-shaped record with random scores (intervals beyond [0, 1] on purpose)."""
    rng = np.random.default_rng(seed)
    summary = []
    for m in models:
        row = {"model": m}
        for metric in ("accuracy", "precision", "recall", "f1", "training_seconds"):
            mean = float(rng.uniform(0.3, 0.9))
            row.update(
                {
                    metric: mean,
                    f"{metric}_std": 0.1,
                    f"{metric}_ci_low": mean - 0.5,
                    f"{metric}_ci_high": mean + 0.5,
                }
            )
        summary.append(row)
    return {
        "scheme": "ema",
        "dataset": dataset,
        "models": list(models),
        "titles": {m: MODELS[m].title for m in models},
        "labels": list(LABELS),
        "summary": summary,
        "confusion": {m: rng.integers(0, 8, size=(4, 4)).tolist() for m in models},
        "paired_tests": [
            {"reference": "cnn_svm", "model": m, "f1_p": 0.5, "accuracy_p": 0.5}
            for m in models
            if m != "cnn_svm"
        ],
    }


def test_palette_is_okabe_ito():
    assert plots.PALETTE[:3] == ("#0072B2", "#E69F00", "#009E73")
    assert len(set(plots.PALETTE)) == 8


def test_preemphasis(no_io):
    fig = no_io(plots.plot_preemphasis, tone(), sr=SR, coef=0.5)
    full, zoom, spec, gain = fig.axes
    assert (full.get_xlabel(), zoom.get_xlabel(), spec.get_xlabel()) == (
        "time (s)",
        "time (ms)",
        "frequency (Hz)",
    )
    assert spec.get_ylabel() == "mean power (dB)" and "dB" in gain.get_ylabel()
    assert spec.get_xscale() == "log"
    assert "0.5" in fig.get_suptitle()
    labels = [t.get_text() for t in spec.get_legend().get_texts()]
    assert labels == ["original", "pre-emphasised, mu = 0.5", "filter gain"]


def test_preemphasis_excerpt_and_bad_signal(no_io):
    fig = no_io(plots.plot_preemphasis, tone(0.5), sr=SR, excerpt=(0.1, 0.01))
    assert fig.axes[1].get_title() == "Excerpt from 0.10 s"
    with pytest.raises(ParameterError):
        plots.plot_preemphasis(np.zeros((2, 10)), sr=SR)


def test_mel_filterbank(no_io):
    fb = mel_filterbank(sr=SR, n_mels=24)
    fig = no_io(plots.plot_mel_filterbank, fb, sr=SR)
    tri, ctr = fig.axes
    assert len(tri.get_lines()) == 24
    assert tri.get_xlabel() == "frequency (Hz)" and "24" in tri.get_title()
    assert ctr.get_yscale() == "log" and ctr.get_ylabel() == "centre frequency (Hz)"
    fig = no_io(plots.plot_mel_filterbank, fb, sr=SR, every=4)
    assert len(fig.axes[0].get_lines()) == 6


def test_log_mel(no_io):
    L = np.random.default_rng(0).normal(-40, 10, size=(32, 50))
    fig = no_io(plots.plot_log_mel, L, sr=SR, title="example")
    ax, cbar = fig.axes
    assert ax.get_title() == "example" and ax.get_xlabel() == "time (s)"
    assert ax.get_ylabel() == "Mel band centre (Hz)" and cbar.get_ylabel() == "power (dB)"
    assert ax.images[0].get_array().shape == (32, 50)
    assert ax.get_xlim()[1] == pytest.approx(50 * 512 / SR)
    with pytest.raises(ParameterError):
        plots.plot_log_mel(np.zeros(5), sr=SR)


def test_mfcc(no_io):
    M = np.random.default_rng(0).normal(size=(13, 40))
    fig = no_io(plots.plot_mfcc, M, sr=SR)
    ax, cbar = fig.axes
    assert ax.get_ylabel() == "MFCC order n" and "13" in ax.get_title()
    assert cbar.get_ylabel() == "coefficient (dB units)"
    lo, hi = ax.images[0].get_clim()
    assert lo == -hi and hi > 0  # symmetric scale


def test_front_end(no_io):
    fig = no_io(plots.plot_front_end, tone(0.5), sr=SR, coef=0.9, n_mfcc=12, n_mels=40)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == [
        "Average spectrum",
        "Log-Mel (40 bands, after pre-emphasis)",
        "MFCC (L = 12)",
    ]
    assert fig.axes[2].images[0].get_array().shape[0] == 12


def test_front_end_explorer_builds_and_redraws(monkeypatch):
    pytest.importorskip("ipywidgets")
    drawn = []

    def fake_plot(y, **kw):  # records what each redraw asks for
        drawn.append(kw)
        return "figure"

    monkeypatch.setattr(plots, "plot_front_end", fake_plot)
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: None)
    w = plots.front_end_explorer(tone(0.2), sr=SR, coef=0.9, n_mfcc=13, n_mels=40)
    coef, order, out = w.children
    assert (coef.value, order.value) == (pytest.approx(0.9), 13)
    assert order.max == 40 and not coef.continuous_update
    assert out.outputs == () and drawn == []  # nothing drawn until a slider moves
    coef.value = 0.5
    assert drawn == [{"sr": SR, "coef": 0.5, "n_mfcc": 13, "n_mels": 40}]
    order.value = 20
    assert drawn[-1] == {"sr": SR, "coef": 0.5, "n_mfcc": 20, "n_mels": 40}
    assert len(drawn) == 2


def test_chords(no_io):
    C = np.zeros((12, 100))
    C[[0, 4, 7], :60] = 1.0
    C[[9, 0, 4], 60:] = 1.0
    labels = ["C:maj"] * 60 + ["A:min"] * 38 + ["N"] * 2
    fig = no_io(plots.plot_chords, C, labels, sr=SR, key="C:maj")
    lab, ax, _cbar = fig.axes
    assert [t.get_text() for t in lab.texts] == ["C", "Am"]  # the short N is not labelled
    assert [t.get_text() for t in ax.get_yticklabels()][:3] == ["C", "C#", "D"]
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "pitch class"
    assert "C:maj" in lab.get_title()
    with pytest.raises(ParameterError):
        plots.plot_chords(C, labels[:-1], sr=SR)


def test_chord_vector(no_io):
    v = np.linspace(0, 1, 58)
    fig = no_io(plots.plot_chord_vector, {"major": v, "minor": v[::-1]})
    hist, rel, stats = fig.axes
    assert len(hist.patches) == 2 * 25 and len(stats.patches) == 2 * 8
    assert "key-relative" in rel.get_title()
    ticks = [t.get_text() for t in stats.get_xticklabels()]
    assert "change_rate (1/s)" in ticks and "key_mode (1 = major)" in ticks
    assert [t.get_text() for t in hist.get_legend().get_texts()] == ["major", "minor"]
    fig = no_io(plots.plot_chord_vector, v)  # one vector
    assert len(fig.axes[0].patches) == 25
    with pytest.raises(ParameterError):
        plots.plot_chord_vector(np.zeros(10))


def test_chord_vector_parts_cover_the_vector():
    from mer_core.chords import chord_vector_names

    parts = plots.chord_vector_parts()
    covered = sorted(i for sl in parts.values() for i in range(sl.start, sl.stop))
    assert covered == list(range(len(chord_vector_names())))


def _per_class():
    return pd.DataFrame(
        {
            "clips": [6, 6, 5, 6],
            "artists": [3, 3, 3, 2],
            "duration_min": [4.0, 4.5, 4.2, 5.0],
            "duration_median": [5.0, 5.0, 4.8, 5.0],
            "duration_max": [5.5, 5.5, 5.0, 5.9],
        },
        index=pd.Index(LABELS, name="label"),
    )


def test_class_summary(no_io):
    fig = no_io(plots.plot_class_summary, {"EMA": _per_class(), "Emotion": _per_class()})
    assert len(fig.axes) == 4
    assert fig.axes[0].get_ylabel() == "clips" and "EMA" in fig.axes[0].get_title()
    assert fig.axes[2].get_ylabel() == "duration (s)"
    fig = no_io(plots.plot_class_summary, _per_class())  # one table
    assert len(fig.axes) == 2
    with pytest.raises(ParameterError):
        plots.plot_class_summary({})


def _ground_truth(n=5):
    rng = np.random.default_rng(0)
    rows = []
    for i, label in enumerate(LABELS):
        for _ in range(n):
            row = {"label": label, "mode": "major" if i != 2 else "minor"}
            row.update({cue: float(rng.normal(i, 1)) for cue in plots.DEFAULT_CUES})
            row["mode"] = "major" if i != 2 else "minor"
            rows.append(row)
    return pd.DataFrame(rows)


def test_cue_distributions(no_io):
    fig = no_io(plots.plot_cue_distributions, _ground_truth(), labels=LABELS, title="cues")
    assert len(fig.axes) == len(plots.DEFAULT_CUES)
    ylabels = [ax.get_ylabel() for ax in fig.axes]
    assert ylabels[:3] == ["tempo (BPM)", "share of clips in major", "velocity (MIDI velocity)"]
    mode = fig.axes[1]
    assert [p.get_height() for p in mode.patches] == [1.0, 1.0, 0.0, 1.0]
    assert fig.get_suptitle() == "cues"
    with pytest.raises(ParameterError):
        plots.plot_cue_distributions(_ground_truth(), cues=["no_such_cue"])


def test_training_curves(no_io):
    rows = []
    for model in ("cnn", "lstm"):
        for fold in range(3):
            for epoch in (1, 2, 3):
                rows.append(
                    {
                        "model": model,
                        "fold": fold,
                        "epoch": epoch,
                        "loss": 1.5 - 0.2 * epoch,
                        "accuracy": 0.2 * epoch,
                        "val_loss": 1.6 - 0.1 * epoch,
                        "val_accuracy": 0.15 * epoch,
                    }
                )
    fig = no_io(plots.plot_training_curves, pd.DataFrame(rows), title="training")
    assert len(fig.axes) == 4
    loss, acc = fig.axes[:2]
    assert loss.get_ylabel() == "cross-entropy loss (nats)" and loss.get_xlabel() == "epoch"
    assert acc.get_ylim() == (0.0, 1.0) and acc.get_title() == "CNN: accuracy per epoch"
    assert len(loss.get_lines()) == 3 + 2  # folds, mean, validation
    with pytest.raises(ParameterError):
        plots.plot_training_curves(pd.DataFrame({"epoch": [1]}))


def test_model_comparison(no_io):
    rec = fake_record()
    fig = no_io(plots.plot_model_comparison, rec, paper=PAPER_TABLES["ema"], title="Figure 1")
    (ax,) = fig.axes
    assert ax.get_title() == "Figure 1"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["CNN", "SVM", "LSTM", "CNN-SVM"]
    assert len(ax.patches) == 16  # 4 models x 4 metrics
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["paper", "Accuracy", "Precision", "Recall", "F1"]
    markers = [ln for ln in ax.get_lines() if ln.get_marker() == "D"]
    assert len(markers) == 4
    np.testing.assert_allclose(markers[0].get_ydata(), PAPER_TABLES["ema"]["accuracy"])
    for container in ax.containers:  # error bars stay within [0, 1]
        if hasattr(container, "lines") and container.lines[2]:
            for seg in container.lines[2][0].get_segments():
                assert 0.0 <= seg[:, 1].min() and seg[:, 1].max() <= 1.0


def test_model_comparison_without_paper_or_models(no_io):
    fig = no_io(plots.plot_model_comparison, fake_record(["cnn_svm", "cnn"]))
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["CNN", "CNN-SVM"]
    assert "paper" not in [t.get_text() for t in ax.get_legend().get_texts()]
    with pytest.raises(ParameterError):
        plots.plot_model_comparison(fake_record(["svm"]), models=["lstm"])


def test_confusion_matrices(no_io):
    rec = fake_record()
    fig = no_io(plots.plot_confusion_matrices, rec)
    axes = [ax for ax in fig.axes if ax.get_title()]  # seaborn heatmaps (+ a colour bar)
    assert [ax.get_title() for ax in axes] == ["CNN", "SVM", "LSTM", "CNN-SVM"]
    ax = axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    counts = np.asarray(rec["confusion"]["cnn"], dtype=float)
    norm = np.asarray(ax.collections[0].get_array()).reshape(counts.shape)
    np.testing.assert_allclose(norm[counts.sum(1) > 0].sum(1), 1.0)
    assert len(ax.texts) == 16 and ax.texts[0].get_text().endswith(f"({int(counts[0, 0])})")
    assert min(t.get_fontsize() for t in ax.texts) >= 10  # counts readable at page width
    fig = no_io(plots.plot_confusion_matrices, rec, models=rec["models"])
    assert sum(1 for ax in fig.axes if ax.get_title()) == len(rec["models"])


def test_ablations(no_io):
    runs = {"EMA": fake_record(), "Emotion": fake_record(seed=1)}
    fig = no_io(plots.plot_ablations, runs, title="ablations")
    first, second = fig.axes
    names = [t.get_text() for t in first.get_yticklabels()]
    assert names == ["CNN-SVM", *(MODELS[m].title for m in ABLATIONS)]
    assert all(t.get_text() == "" for t in second.get_yticklabels())  # named once
    assert first.get_xlabel() == "F1 (95% CI)" and second.get_title() == "Emotion"
    fig = no_io(plots.plot_ablations, fake_record(), metric="accuracy")  # one record
    assert fig.axes[0].get_xlabel() == "Accuracy (95% CI)"
    with pytest.raises(ParameterError):
        plots.plot_ablations({})
