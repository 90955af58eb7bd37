"""The book's figures: each function takes arrays or result records and returns a Figure.

No function here reads or writes a file, and none uses pyplot's global state:
figures are :class:`matplotlib.figure.Figure` objects, safe in scripts and tests
(any backend, Agg included) and shown by a notebook when returned or
``display``-ed (after ``%matplotlib inline``). Lines and bars use the
colour-blind-safe palette of Okabe & Ito (:data:`PALETTE`), images the
perceptually uniform ``magma`` / ``viridis`` maps, and axes carry their units.

=================================  ===============================================
function                           figure
=================================  ===============================================
:func:`plot_preemphasis`           waveform and spectrum before / after eqs. 2-3
:func:`plot_mel_filterbank`        the ``M`` triangular Mel filters and their centres
:func:`plot_log_mel`               a log-Mel spectrogram (the CNN's input image)
:func:`plot_mfcc`                  MFCCs (eq. 5) over time
:func:`plot_front_end`             spectra, log-Mel and MFCC for one setting
:func:`front_end_explorer`         ipywidgets sliders around :func:`plot_front_end`
:func:`plot_chords`                chromagram with the recognised chords along time
:func:`plot_chord_vector`          chord vectors as grouped bars, in three parts
:func:`plot_class_summary`         clips and durations per class of datasets
:func:`plot_cue_distributions`     generated cues per class (ground truth)
:func:`plot_training_curves`       loss and accuracy per epoch of the networks
:func:`plot_model_comparison`      the paper's Figures 1-2 with 95 % CIs and its values
:func:`plot_confusion_matrices`    row-normalised confusion matrices with counts
:func:`plot_ablations`             CNN-SVM and its ablations, per dataset
=================================  ===============================================
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mer_core.errors import ParameterError
from mer_core.evaluation.tables import summary_rows
from mer_core.names import METRIC_TITLES, METRICS, MODEL_TITLES, PAPER_MODELS, model_title

__all__ = [
    "PALETTE",
    "chord_vector_parts",
    "front_end_explorer",
    "plot_ablations",
    "plot_chord_vector",
    "plot_chords",
    "plot_class_summary",
    "plot_confusion_matrices",
    "plot_cue_distributions",
    "plot_front_end",
    "plot_log_mel",
    "plot_mel_filterbank",
    "plot_mfcc",
    "plot_model_comparison",
    "plot_preemphasis",
    "plot_training_curves",
]

#: Okabe & Ito (2008) colour-blind-safe palette: blue, orange, bluish green,
#: reddish purple, sky blue, vermillion, yellow, black.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
_DPI = 100


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=_DPI, layout="constrained")


def _signal(y) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.floating):
        raise ParameterError(f"expected a non-empty 1-D float signal, got shape {y.shape}")
    return y


def _image(a, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 2 or 0 in a.shape:
        raise ParameterError(f"{name} must be a 2-D (features, frames) array, got {a.shape}")
    return a


# ----------------------------------------------------------------------------- front end


def _mean_spectrum_db(y: np.ndarray, n_fft: int) -> np.ndarray:
    from mer_core.features.spectral import stft_power

    S = stft_power(y.astype(np.float64, copy=False), n_fft=n_fft, hop_length=n_fft // 2)
    return 10.0 * np.log10(np.maximum(S.mean(axis=-1), 1e-12))


def _plot_spectra(ax, y, y_pre, *, sr: float, n_fft: int, coef: float):
    """Long-term average spectra of a signal and its pre-emphasised copy (log frequency,
    from 20 Hz); returns the frequencies and the mask of those shown."""
    freqs = np.linspace(0.0, sr / 2.0, 1 + n_fft // 2)
    keep = freqs >= 20.0
    for sig, color, label in (
        (y, PALETTE[0], "original"),
        (y_pre, PALETTE[1], f"pre-emphasised, mu = {coef:g}"),
    ):
        ax.semilogx(freqs[keep], _mean_spectrum_db(sig, n_fft)[keep], color=color, label=label)
    return freqs, keep


def plot_preemphasis(
    y,
    *,
    sr: float,
    coef: float = 0.97,
    excerpt: tuple[float, float] | None = None,
    n_fft: int = 2048,
) -> Figure:
    """The signal before and after pre-emphasis (eqs. 2-3), in time and frequency.

    Top left: the whole waveform; top right: a short excerpt, where the
    high-pass filter's effect on the waveform is visible; bottom: the
    long-term average power spectra (mean of Hann-windowed frames) and the
    filter's gain ``|H(e^{jw})|^2 = 1 - 2 mu cos w + mu^2`` in dB.

    Parameters
    ----------
    y : np.ndarray, shape (n_samples,)
        The signal.
    sr : float
        Sampling rate in Hz.
    coef : float
        Pre-emphasis factor ``mu``.
    excerpt : (start, length) in seconds, optional
        Default: 30 ms from the loudest point.
    n_fft : int
        Frame length of the average spectrum.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).standard_normal(22050).astype(np.float32)
    >>> fig = plot_preemphasis(y, sr=22050)
    >>> [ax.get_xlabel() for ax in fig.axes][:3]
    ['time (s)', 'time (ms)', 'frequency (Hz)']
    """
    from mer_core.features.spectral import preemphasis

    y = _signal(y)
    y_pre = preemphasis(y, coef=coef)
    t = np.arange(y.size) / sr
    if excerpt is None:
        peak = int(np.argmax(np.abs(y)))
        length = min(0.03, y.size / sr)
        start = min(max(0.0, peak / sr - length / 2), max(0.0, y.size / sr - length))
    else:
        start, length = excerpt
    i0, i1 = int(start * sr), max(int(start * sr) + 2, int((start + length) * sr))

    fig = _figure(10, 6.5)
    grid = fig.add_gridspec(2, 2)
    ax_full = fig.add_subplot(grid[0, 0])
    ax_zoom = fig.add_subplot(grid[0, 1])
    ax_spec = fig.add_subplot(grid[1, :])
    step = max(1, y.size // 20000)  # enough points for the eye, small files
    ax_full.plot(t[::step], y[::step], color=PALETTE[0], lw=0.6, label="original x(n)")
    ax_full.plot(t[::step], y_pre[::step], color=PALETTE[1], lw=0.6, alpha=0.8, label="y(n)")
    ax_full.axvspan(i0 / sr, i1 / sr, color=PALETTE[7], alpha=0.15, label="excerpt")
    ax_full.set(xlabel="time (s)", ylabel="amplitude (full scale = 1)", title="Waveform")
    ax_full.legend(loc="upper right", fontsize="small")
    ms = (np.arange(i0, min(i1, y.size)) - i0) / sr * 1000.0
    ax_zoom.plot(ms, y[i0:i1], color=PALETTE[0], lw=1.2, label="original x(n)")
    ax_zoom.plot(
        ms, y_pre[i0:i1], color=PALETTE[1], lw=1.2, label=f"pre-emphasised, mu = {coef:g}"
    )
    ax_zoom.set(
        xlabel="time (ms)",
        ylabel="amplitude (full scale = 1)",
        title=f"Excerpt from {i0 / sr:.2f} s",
    )
    ax_zoom.legend(loc="upper right", fontsize="small")

    freqs, keep = _plot_spectra(ax_spec, y, y_pre, sr=sr, n_fft=n_fft, coef=coef)
    w = 2 * np.pi * freqs[keep] / sr
    gain = 10 * np.log10(np.maximum(1 - 2 * coef * np.cos(w) + coef**2, 1e-12))
    ax_gain = ax_spec.twinx()
    ax_gain.semilogx(freqs[keep], gain, color=PALETTE[7], ls="--", lw=1.0, label="filter gain")
    ax_gain.set_ylabel("filter gain |H|² (dB)")
    ax_spec.set(
        xlabel="frequency (Hz)",
        ylabel="mean power (dB)",
        title="Long-term average spectrum",
        xlim=(20.0, sr / 2.0),
    )
    lines = ax_spec.get_lines() + ax_gain.get_lines()
    ax_spec.legend(lines, [ln.get_label() for ln in lines], loc="lower left", fontsize="small")
    fig.suptitle(f"Pre-emphasis y(n) = x(n) - {coef:g} x(n-1) (eqs. 2-3)")
    return fig


def plot_mel_filterbank(fb, *, sr: float, every: int = 1) -> Figure:
    """The triangular Mel filters (``M`` of eq. 5) and their centre frequencies.

    Parameters
    ----------
    fb : np.ndarray, shape (n_mels, 1 + n_fft // 2)
        From :func:`mer_core.features.spectral.mel_filterbank`.
    sr : float
        Sampling rate in Hz.
    every : int
        Draw every ``every``-th filter (all of them are in the lower panel).

    Examples
    --------
    >>> from mer_core.features.spectral import mel_filterbank
    >>> fig = plot_mel_filterbank(mel_filterbank(sr=22050, n_mels=40), sr=22050)
    >>> fig.axes[1].get_xlabel(), fig.axes[1].get_ylabel()
    ('Mel filter m', 'centre frequency (Hz)')
    """
    fb = _image(fb, "fb")
    n_mels = fb.shape[0]
    freqs = np.linspace(0.0, sr / 2.0, fb.shape[1])
    fig = _figure(10, 6)
    ax_tri, ax_ctr = fig.subplots(2, 1, height_ratios=[3, 2])
    for m in range(0, n_mels, max(1, int(every))):
        ax_tri.plot(freqs, fb[m], color=PALETTE[m % 2], lw=0.8)
    ax_tri.set(
        xlabel="frequency (Hz)",
        ylabel="weight (unit area, 1/Hz)",
        title=f"{n_mels} triangular Mel filters (Slaney scale, unit area)",
        xlim=(0.0, sr / 2.0),
    )
    centres = freqs[np.argmax(fb, axis=1)]
    ax_ctr.plot(np.arange(n_mels), centres, "o", ms=3, color=PALETTE[0])
    ax_ctr.axhline(
        1000.0, color=PALETTE[7], ls=":", lw=1.0, label="1 kHz: linear below, log above"
    )
    ax_ctr.set(xlabel="Mel filter m", ylabel="centre frequency (Hz)", yscale="log")
    ax_ctr.set_title("Centre of each filter")
    ax_ctr.legend(loc="lower right", fontsize="small")
    return fig


def _time_axis(n_frames: int, sr: float, hop_length: int) -> float:
    return n_frames * hop_length / sr


def plot_log_mel(L, *, sr: float, hop_length: int = 512, title: str | None = None) -> Figure:
    """A log-Mel spectrogram (dB), time on x, Mel bands on y labelled in Hz.

    Examples
    --------
    >>> import numpy as np
    >>> fig = plot_log_mel(np.zeros((64, 40)), sr=22050)
    >>> fig.axes[0].get_xlabel(), fig.axes[1].get_ylabel()
    ('time (s)', 'power (dB)')
    """
    from mer_core.features.spectral import hz_to_mel, mel_to_hz

    L = _image(L, "L")
    n_mels, n_frames = L.shape
    fig = _figure(10, 4)
    ax = fig.add_subplot()
    end = _time_axis(n_frames, sr, hop_length)
    im = ax.imshow(
        L, origin="lower", aspect="auto", cmap="magma", extent=(0, end, -0.5, n_mels - 0.5)
    )
    fig.colorbar(im, ax=ax, label="power (dB)")
    # label bands with the centre frequency of the filter (Slaney Mel scale, 0 .. sr/2)
    mels = np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2.0), n_mels + 2)[1:-1]
    hz = mel_to_hz(mels)
    wanted = [f for f in (100, 250, 500, 1000, 2000, 4000, 8000, 16000) if f < sr / 2]
    ticks = [int(np.argmin(np.abs(hz - f))) for f in wanted]
    ax.set_yticks(ticks, [f"{f:g}" for f in wanted])
    ax.set(
        xlabel="time (s)",
        ylabel="Mel band centre (Hz)",
        title=title or f"Log-Mel spectrogram ({n_mels} bands)",
    )
    return fig


def plot_mfcc(M, *, sr: float, hop_length: int = 512, title: str | None = None) -> Figure:
    """MFCCs over time: order ``n`` of eq. (5) on y (0 = log energy).

    The diverging colour scale is symmetric and set by coefficients 1 and
    up; coefficient 0, the frame's log energy, is far larger and saturates.

    Examples
    --------
    >>> import numpy as np
    >>> fig = plot_mfcc(np.random.default_rng(0).normal(size=(13, 40)), sr=22050)
    >>> fig.axes[0].get_ylabel()
    'MFCC order n'
    """
    M = _image(M, "M")
    fig = _figure(10, 3.6)
    ax = fig.add_subplot()
    _mfcc_image(fig, ax, M, sr=sr, hop_length=hop_length, label="coefficient (dB units)")
    ax.set(ylabel="MFCC order n", title=title or f"MFCC, L = {M.shape[0]} orders")
    return fig


def _mfcc_image(fig, ax, M, *, sr: float, hop_length: int, label: str) -> None:
    """Draw MFCCs on ``ax`` with a symmetric scale set by orders 1 and up."""
    n_mfcc, n_frames = M.shape
    lim = float(np.percentile(np.abs(M[1:] if n_mfcc > 1 else M), 99)) or 1.0
    end = _time_axis(n_frames, sr, hop_length)
    im = ax.imshow(
        M,
        origin="lower",
        aspect="auto",
        cmap="RdBu_r",
        vmin=-lim,
        vmax=lim,
        extent=(0, end, -0.5, n_mfcc - 0.5),
        interpolation="nearest",
    )
    fig.colorbar(im, ax=ax, label=label)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("time (s)")


def plot_front_end(
    y,
    *,
    sr: float,
    coef: float = 0.97,
    n_mfcc: int = 20,
    n_mels: int = 128,
    n_fft: int = 2048,
    hop_length: int = 512,
) -> Figure:
    """Section 2.3 in one figure: spectra before / after pre-emphasis, log-Mel, MFCC.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).standard_normal(11025).astype(np.float32)
    >>> fig = plot_front_end(y, sr=22050, coef=0.5, n_mfcc=13, n_mels=40)
    >>> [ax.get_title() for ax in fig.axes[:3]]
    ['Average spectrum', 'Log-Mel (40 bands, after pre-emphasis)', 'MFCC (L = 13)']
    """
    from mer_core.features.spectral import log_mel, mfcc, preemphasis, stft_power

    y = _signal(y)
    y_pre = preemphasis(y, coef=coef)
    S = stft_power(y_pre, n_fft=n_fft, hop_length=hop_length)
    L = log_mel(S=S, sr=sr, n_mels=n_mels)
    C = mfcc(S=S, sr=sr, n_mfcc=n_mfcc, n_mels=n_mels)
    fig = _figure(10, 8)
    ax_s, ax_l, ax_c = fig.subplots(3, 1, height_ratios=[2, 2, 1.6])
    _plot_spectra(ax_s, y, y_pre, sr=sr, n_fft=n_fft, coef=coef)
    ax_s.set(
        xlabel="frequency (Hz)",
        ylabel="mean power (dB)",
        title="Average spectrum",
        xlim=(20.0, sr / 2.0),
    )
    ax_s.legend(loc="lower left", fontsize="small")
    end = _time_axis(L.shape[-1], sr, hop_length)
    im = ax_l.imshow(L, origin="lower", aspect="auto", cmap="magma", extent=(0, end, 0, n_mels))
    fig.colorbar(im, ax=ax_l, label="power (dB)")
    ax_l.set(
        xlabel="time (s)",
        ylabel="Mel band",
        title=f"Log-Mel ({n_mels} bands, after pre-emphasis)",
    )
    _mfcc_image(fig, ax_c, C, sr=sr, hop_length=hop_length, label="dB units")
    ax_c.set(ylabel="order n", title=f"MFCC (L = {n_mfcc})")
    return fig


def front_end_explorer(
    y,
    *,
    sr: float,
    coef: float = 0.97,
    n_mfcc: int = 20,
    n_mels: int = 128,
):
    """Sliders for the pre-emphasis factor and the MFCC order around :func:`plot_front_end`.

    The returned widget holds the sliders and an output area that is filled
    only when a slider moves (in a live JupyterLab kernel), so it can be
    displayed next to a static figure of the defaults without repeating it,
    and it does nothing when a notebook runs headless (papermill).

    Returns
    -------
    ipywidgets.VBox
        ``children``: the two sliders and the output area.

    Examples
    --------
    >>> import numpy as np
    >>> w = front_end_explorer(np.zeros(2048, np.float32), sr=22050)
    >>> [c.description for c in w.children[:2]]
    ['pre-emphasis μ', 'MFCC order L']
    """
    import ipywidgets as widgets
    from IPython.display import display

    y = _signal(y)
    coef_slider = widgets.FloatSlider(
        value=coef,
        min=0.0,
        max=0.99,
        step=0.01,
        description="pre-emphasis μ",
        continuous_update=False,
        style={"description_width": "initial"},
    )
    order_slider = widgets.IntSlider(
        value=n_mfcc,
        min=2,
        max=min(40, n_mels),
        step=1,
        description="MFCC order L",
        continuous_update=False,
        style={"description_width": "initial"},
    )
    out = widgets.Output()

    def redraw(_change=None):
        with out:
            out.clear_output(wait=True)
            display(
                plot_front_end(
                    y, sr=sr, coef=coef_slider.value, n_mfcc=order_slider.value, n_mels=n_mels
                )
            )

    coef_slider.observe(redraw, names="value")
    order_slider.observe(redraw, names="value")
    return widgets.VBox([coef_slider, order_slider, out])


# ----------------------------------------------------------------------------- chords


def _short_chord(label: str) -> str:
    """``"C:maj"`` -> ``"C"``, ``"A:min"`` -> ``"Am"``, ``"N"`` -> ``"N"``."""
    root, _, quality = str(label).partition(":")
    return root + ("m" if quality == "min" else "")


def plot_chords(
    C,
    chords,
    *,
    sr: float,
    hop_length: int = 512,
    key: str | None = None,
    title: str | None = None,
    min_label_seconds: float = 0.4,
) -> Figure:
    """A chromagram with the recognised chord of each segment written above it.

    Parameters
    ----------
    C : np.ndarray, shape (12, n_frames)
        Chromagram (:func:`mer_core.chords.chroma`), rows C .. B.
    chords : sequence of str, length n_frames
        Chord label per frame (:func:`mer_core.chords.estimate_chords`).
    sr, hop_length :
        Frame rate ``sr / hop_length``.
    key : str, optional
        Estimated key, shown in the title.
    min_label_seconds : float
        Segments shorter than this are marked but not labelled (no overlap).

    Examples
    --------
    >>> import numpy as np
    >>> C = np.zeros((12, 100)); C[[0, 4, 7], :60] = 1; C[[9, 0, 4], 60:] = 1
    >>> labels = ["C:maj"] * 60 + ["A:min"] * 40
    >>> fig = plot_chords(C, labels, sr=22050, key="C:maj")
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['C', 'Am']
    """
    from mer_core.chords import PITCH_CLASSES

    C = _image(C, "C")
    chords = [str(c) for c in chords]
    if C.shape[0] != 12 or len(chords) != C.shape[1]:
        raise ParameterError(
            f"need a (12, n_frames) chromagram and one chord per frame, got {C.shape} "
            f"and {len(chords)} labels"
        )
    n = C.shape[1]
    dt = hop_length / sr
    fig = _figure(10, 4.2)
    ax_lab, ax = fig.subplots(2, 1, sharex=True, height_ratios=[1, 5])
    im = ax.imshow(
        C,
        origin="lower",
        aspect="auto",
        cmap="viridis",
        vmin=0,
        vmax=1,
        extent=(0, n * dt, -0.5, 11.5),
        interpolation="nearest",
    )
    fig.colorbar(im, ax=[ax_lab, ax], label="chroma (max = 1)")
    ax.set_yticks(range(12), list(PITCH_CLASSES))
    ax.set(xlabel="time (s)", ylabel="pitch class")
    starts = [0] + [i for i in range(1, n) if chords[i] != chords[i - 1]]
    bounds = starts + [n]
    for k, s in enumerate(starts):
        e = bounds[k + 1]
        if s:
            ax.axvline(s * dt, color="white", lw=0.6, alpha=0.7)
            ax_lab.axvline(s * dt, color=PALETTE[7], lw=0.6)
        if (e - s) * dt >= min_label_seconds:
            ax_lab.text(
                (s + e) / 2 * dt,
                0.5,
                _short_chord(chords[s]),
                ha="center",
                va="center",
                fontsize="small",
                color=PALETTE[5] if chords[s].endswith(":min") else PALETTE[0],
            )
    ax_lab.set(yticks=[], ylim=(0, 1))
    ax_lab.set_ylabel("chord", rotation=0, ha="right", va="center")
    ax_lab.tick_params(labelbottom=False)
    key_text = f", estimated key {key}" if key else ""
    ax_lab.set_title(title or f"Chromagram and recognised chords{key_text}")
    return fig


def chord_vector_parts() -> dict[str, slice]:
    """The three parts of the 58-element chord vector, as slices.

    Examples
    --------
    >>> parts = chord_vector_parts()
    >>> list(parts)
    ['absolute chord histogram', 'summary statistics', 'key-relative chord histogram', 'key']
    >>> parts["key-relative chord histogram"]
    slice(31, 56, None)
    """
    return {
        "absolute chord histogram": slice(0, 25),
        "summary statistics": slice(25, 31),
        "key-relative chord histogram": slice(31, 56),
        "key": slice(56, 58),
    }


_VECTOR_UNITS = {"change_rate": " (1/s)", "mean_duration": " (s)", "key_mode": " (1 = major)"}


def plot_chord_vector(vectors, *, names: Sequence[str] | None = None) -> Figure:
    """Chord vectors (:func:`mer_core.chords.chord_vector`) as grouped bars.

    Three panels: the absolute chord histogram (fraction of frames per
    chord), the histogram relative to the estimated key's tonic (the part
    that does not change when the music is transposed), and the summary
    statistics with the key's mode and strength.

    Parameters
    ----------
    vectors : np.ndarray of shape (58,) or mapping name -> np.ndarray
        One vector, or several to compare (one bar colour each).
    names : sequence of str, optional
        Element names (default :func:`mer_core.chords.chord_vector_names`).

    Examples
    --------
    >>> import numpy as np
    >>> fig = plot_chord_vector({"a": np.zeros(58), "b": np.ones(58) / 25})
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['share of frames', 'share of frames', 'value']
    """
    from mer_core.chords import chord_vector_names

    if not isinstance(vectors, Mapping):
        vectors = {"clip": vectors}
    vectors = {str(k): np.asarray(v, dtype=float).ravel() for k, v in vectors.items()}
    names = list(names) if names is not None else chord_vector_names(prefix="")
    if any(v.size != len(names) for v in vectors.values()) or not vectors:
        raise ParameterError(f"every vector needs {len(names)} elements")
    parts = chord_vector_parts()
    panels = [
        ("absolute chord histogram", parts["absolute chord histogram"], "share of frames"),
        (
            "key-relative chord histogram (degrees of the estimated tonic)",
            parts["key-relative chord histogram"],
            "share of frames",
        ),
        (
            "summary statistics and key",
            np.r_[parts["summary statistics"], parts["key"]],
            "value",
        ),
    ]
    fig = _figure(11, 9)
    axes = fig.subplots(3, 1, height_ratios=[1, 1, 0.9])
    width = 0.8 / len(vectors)
    for ax, (title, index, ylabel) in zip(axes, panels, strict=True):
        idx = np.arange(len(names))[index]
        x = np.arange(idx.size)
        for j, (label, v) in enumerate(vectors.items()):
            ax.bar(
                x + (j - (len(vectors) - 1) / 2) * width,
                v[idx],
                width=width,
                color=PALETTE[j % len(PALETTE)],
                label=label,
            )
        ticks = [names[i].removeprefix("hist_").removeprefix("rel_") for i in idx]
        ticks = [t + _VECTOR_UNITS.get(t, "") for t in ticks]
        ax.set_xticks(x, ticks, rotation=90, fontsize="small")
        ax.set(ylabel=ylabel, title=title, xlim=(-0.6, idx.size - 0.4))
    axes[0].legend(loc="upper right", fontsize="small")
    fig.suptitle("Chord vector (58 elements)")
    return fig


# ----------------------------------------------------------------------------- datasets


def plot_class_summary(per_class) -> Figure:
    """Clips per class and clip durations (median, min-max) of one or more datasets.

    Parameters
    ----------
    per_class : pandas.DataFrame or mapping name -> DataFrame
        The ``per_class`` table of :func:`mer_core.datasets.summarize`
        (index: label; columns ``clips``, ``duration_min``,
        ``duration_median``, ``duration_max``).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"clips": [3, 4], "duration_min": [4.0, 5.0],
    ...                   "duration_median": [5.0, 5.0], "duration_max": [5.0, 6.0]},
    ...                  index=pd.Index(["Q1", "Q2"], name="label"))
    >>> fig = plot_class_summary({"4q": t})
    >>> fig.axes[0].get_ylabel(), fig.axes[1].get_ylabel()
    ('clips', 'duration (s)')
    """
    if isinstance(per_class, pd.DataFrame):
        per_class = {"dataset": per_class}
    if not per_class:
        raise ParameterError("no dataset to plot")
    n = len(per_class)
    # a row of bars that are all the same height says nothing: then the count is
    # written in the title and only the durations are drawn
    balanced = all(t["clips"].nunique() == 1 for t in per_class.values())
    fig = _figure(max(4.0, 3.6 * n), 3.2 if balanced else 6)
    axes = np.asarray(fig.subplots(1 if balanced else 2, n, squeeze=False))
    for j, (name, table) in enumerate(per_class.items()):
        labels = [str(v) for v in table.index]
        x = np.arange(len(labels))
        colours = [PALETTE[i % len(PALETTE)] for i in range(len(labels))]
        if not balanced:
            ax = axes[0, j]
            bars = ax.bar(x, table["clips"].to_numpy(dtype=float), color=colours)
            ax.bar_label(bars, fmt="%d", fontsize="small")
            ax.set_xticks(x, labels, rotation=30, ha="right")
            ax.set(ylabel="clips" if j == 0 else "", title=f"{name}: clips per class")
            ax.margins(y=0.15)
        ax = axes[-1, j]
        med = table["duration_median"].to_numpy(dtype=float)
        lo = med - table["duration_min"].to_numpy(dtype=float)
        hi = table["duration_max"].to_numpy(dtype=float) - med
        ax.errorbar(x, med, yerr=[lo, hi], fmt="o", color=PALETTE[7], capsize=4)
        ax.set_xticks(x, labels, rotation=30, ha="right")
        head = f"{name}: {int(table['clips'].iloc[0])} clips per class\n" if balanced else ""
        ax.set(ylabel="duration (s)" if j == 0 else "", title=f"{head}duration: median, min-max")
        ax.set_xlim(-0.5, len(labels) - 0.5)
        ax.set_ylim(bottom=0)
    if not balanced:
        axes[0, 0].set_ylabel("clips")
    axes[-1, 0].set_ylabel("duration (s)")
    return fig


#: Cues shown by :func:`plot_cue_distributions` by default (``mode``: share major).
DEFAULT_CUES = (
    "tempo_bpm",
    "mode",
    "velocity",
    "register",
    "dissonance",
    "articulation",
    "harshness",
    "note_density",
)


def plot_cue_distributions(
    ground_truth: pd.DataFrame,
    *,
    cues: Sequence[str] = DEFAULT_CUES,
    labels: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Distribution of the generated cues per class, from a corpus's ground truth.

    Numeric cues: a box plot per class with every clip as a dot; ``mode``:
    the share of clips in a major key. Units are those of
    :data:`mer_core.synth.cues.CUE_TABLE`.

    Parameters
    ----------
    ground_truth : pandas.DataFrame
        :func:`mer_core.synth.load_ground_truth` (columns ``label`` and the cues).
    cues : sequence of str
        Columns to show.
    labels : sequence of str, optional
        Class order (default: order of appearance).

    Examples
    --------
    >>> import pandas as pd
    >>> gt = pd.DataFrame({"label": ["a", "a", "b", "b"], "tempo_bpm": [90, 95, 140, 150],
    ...                    "mode": ["minor", "minor", "major", "minor"]})
    >>> fig = plot_cue_distributions(gt, cues=["tempo_bpm", "mode"])
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['tempo (BPM)', 'share of clips in major']
    """
    from mer_core.synth.cues import CUE_TABLE

    if "label" not in ground_truth:
        raise ParameterError("ground truth needs a 'label' column")
    missing = [c for c in cues if c not in ground_truth]
    if missing:
        raise ParameterError(f"ground truth has no cues {missing}")
    labels = list(labels) if labels is not None else list(pd.unique(ground_truth["label"]))
    n = len(cues)
    ncols = min(4, n)
    nrows = -(-n // ncols)
    fig = _figure(3.0 * ncols + 0.5, 3.0 * nrows + 0.6)
    axes = np.asarray(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    x = np.arange(len(labels))
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(labels))]
    for ax, cue in zip(axes, cues, strict=False):
        groups = [ground_truth.loc[ground_truth["label"] == lab, cue] for lab in labels]
        if cue == "mode":
            share = [float((g == "major").mean()) if len(g) else np.nan for g in groups]
            ax.bar(x, share, color=colours)
            ax.set(ylim=(0, 1), ylabel="share of clips in major", title="mode")
        else:
            import seaborn as sns

            data = ground_truth[ground_truth["label"].isin(labels)]
            data = pd.DataFrame(
                {"label": data["label"].astype(str), "value": data[cue].astype(float)}
            )
            with warnings.catch_warnings():
                # seaborn 0.13 passes matplotlib 3.11 the deprecated `vert`
                warnings.simplefilter("ignore", DeprecationWarning)
                sns.boxplot(
                    data=data,
                    x="label",
                    y="value",
                    order=labels,
                    ax=ax,
                    showfliers=False,
                    width=0.6,
                    fill=False,
                    color=PALETTE[7],
                    linewidth=1,
                )
            rng = np.random.default_rng(0)  # jitter of the dots only
            for i, lab in enumerate(labels):
                v = data.loc[data["label"] == lab, "value"].to_numpy()
                ax.plot(
                    i + rng.uniform(-0.15, 0.15, v.size), v, "o", ms=3, alpha=0.6, color=colours[i]
                )
            ax.set_xlabel("")
            spec = CUE_TABLE.get(cue)
            unit = spec.unit if spec is not None else ""
            nice = {"tempo_bpm": "tempo", "timing_jitter_ms": "timing jitter"}.get(
                cue, cue.replace("_", " ")
            )
            unit = {"BPM": "BPM", "ms": "ms"}.get(unit, unit)
            ax.set(ylabel=f"{nice} ({unit})" if unit else nice, title=nice)
        ax.set_xticks(x, labels, rotation=30, ha="right")
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(title or "Generated cues per class (ground truth)")
    return fig


# ----------------------------------------------------------------------------- training


def plot_training_curves(history: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Training loss and accuracy per epoch: one thin line per fold, their mean in bold.

    Parameters
    ----------
    history : pandas.DataFrame
        :func:`mer_core.models.describe.training_histories` (columns ``model``,
        ``fold``, ``epoch``, ``loss``, ``accuracy``; ``val_loss`` /
        ``val_accuracy`` drawn dashed when present); one row of panels per model.

    Examples
    --------
    >>> import pandas as pd
    >>> h = pd.DataFrame({"model": "cnn", "fold": [0, 0, 1, 1], "epoch": [1, 2, 1, 2],
    ...                   "loss": [1.4, 1.2, 1.5, 1.1], "accuracy": [0.3, 0.5, 0.2, 0.6]})
    >>> fig = plot_training_curves(h)
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['cross-entropy loss (nats)', 'training accuracy']
    """
    need = {"fold", "epoch", "loss", "accuracy"}
    if not need <= set(history.columns) or history.empty:
        raise ParameterError(f"history needs rows and the columns {sorted(need)}")
    if "model" not in history:
        history = history.assign(model="network")
    models = list(pd.unique(history["model"]))
    fig = _figure(10, 3.4 * len(models) + 0.4)
    axes = np.asarray(fig.subplots(len(models), 2, squeeze=False))
    for r, model in enumerate(models):
        h = history[history["model"] == model]
        name = model_title(model)
        for c, (col, ylabel) in enumerate(
            (("loss", "cross-entropy loss (nats)"), ("accuracy", "training accuracy"))
        ):
            ax = axes[r, c]
            for k, (fold, f) in enumerate(h.groupby("fold")):
                ax.plot(
                    f["epoch"],
                    f[col],
                    color=PALETTE[k % 7],
                    lw=1,
                    alpha=0.7,
                    marker=".",
                    label=f"fold {int(fold)}",
                )
            mean = h.groupby("epoch")[col].mean()
            ax.plot(mean.index, mean.to_numpy(), color=PALETTE[7], lw=2.5, label="mean")
            val = f"val_{col}"
            if val in h and h[val].notna().any():
                vm = h.groupby("epoch")[val].mean()
                ax.plot(
                    vm.index, vm.to_numpy(), color=PALETTE[7], ls="--", lw=2, label="validation"
                )
            ax.set(xlabel="epoch", ylabel=ylabel, title=f"{name}: {col} per epoch")
            if col == "accuracy":
                ax.set_ylim(0, 1)
            ax.xaxis.get_major_locator().set_params(integer=True)
        axes[r, 1].legend(loc="lower right", fontsize="small", ncols=2)
    if title:
        fig.suptitle(title)
    return fig


# ----------------------------------------------------------------------------- results


def _clipped_err(mean, low, high):
    """Error-bar lengths of an interval clipped to [0, 1] (scores cannot leave it)."""
    mean = np.asarray(mean, dtype=float)
    low = np.clip(np.asarray(low, dtype=float), 0.0, 1.0)
    high = np.clip(np.asarray(high, dtype=float), 0.0, 1.0)
    return np.vstack([np.maximum(mean - low, 0.0), np.maximum(high - mean, 0.0)])


def plot_model_comparison(
    record: dict,
    *,
    paper: pd.DataFrame | None = None,
    models: Sequence[str] = PAPER_MODELS,
    metrics: Sequence[str] = METRICS,
    title: str | None = None,
) -> Figure:
    """The paper's Figures 1-2: each model's four metrics as bars, 95 % CIs, the paper's values.

    Bars are the means over folds, error bars the Student-t 95 % intervals
    (clipped to [0, 1]); the paper's values, when given, are black diamonds
    labelled "paper".

    Parameters
    ----------
    record : dict
        A run's ``results.json`` record.
    paper : pandas.DataFrame, optional
        The paper's table (:data:`mer_core.paper.PAPER_TABLES`), rows named
        CNN, SVM, LSTM, CNN-SVM.
    models : sequence of str
        Models to show, in order.

    Examples
    --------
    >>> rec = {"summary": [{"model": m, "accuracy": 0.5, "accuracy_ci_low": 0.4,
    ...                     "accuracy_ci_high": 0.6} for m in ("cnn", "cnn_svm")]}
    >>> fig = plot_model_comparison(rec, models=["cnn", "cnn_svm"], metrics=["accuracy"])
    >>> fig.axes[0].get_ylabel(), [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ('score (mean over folds, 95% CI)', ['CNN', 'CNN-SVM'])
    """
    summary = summary_rows(record)
    models = [m for m in models if m in summary]
    if not models:
        raise ParameterError("none of the models is in the record")
    fig = _figure(10, 5)
    ax = fig.add_subplot()
    x = np.arange(len(models))
    width = 0.8 / len(metrics)
    paper_done = False
    for j, metric in enumerate(metrics):
        pos = x + (j - (len(metrics) - 1) / 2) * width
        mean = [summary[m].get(metric, np.nan) for m in models]
        low = [summary[m].get(f"{metric}_ci_low", np.nan) for m in models]
        high = [summary[m].get(f"{metric}_ci_high", np.nan) for m in models]
        ax.bar(
            pos,
            mean,
            width=width,
            color=PALETTE[j % len(PALETTE)],
            label=METRIC_TITLES.get(metric, metric),
            yerr=_clipped_err(mean, low, high),
            capsize=3,
            error_kw={"elinewidth": 1, "ecolor": "#333333"},
        )
        if paper is not None:
            names = [MODEL_TITLES.get(m, m) for m in models]
            pv = [
                paper.loc[n, metric] if n in paper.index and metric in paper else np.nan
                for n in names
            ]
            ax.plot(
                pos,
                pv,
                "D",
                color=PALETTE[7],
                mfc="white",
                mew=1.5,
                ms=6,
                ls="none",
                label=None if paper_done else "paper",
            )
            paper_done = True
    ax.set_xticks(x, [model_title(m, record) for m in models])
    ax.set(ylabel="score (mean over folds, 95% CI)", ylim=(0, 1.05), xlabel="model")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", ncols=len(metrics) + 1, fontsize="small")
    ax.set_title(title or "Model comparison", wrap=True)
    return fig


def plot_confusion_matrices(
    record: dict, *, models: Sequence[str] = PAPER_MODELS, title: str | None = None
) -> Figure:
    """Confusion matrices summed over folds: seaborn heatmaps, rows normalised, counts shown.

    Two matrices per row, each large enough to read every cell's share and
    count at the book's page width.

    Examples
    --------
    >>> rec = {"labels": ["a", "b"], "confusion": {"cnn": [[3, 1], [0, 4]]}}
    >>> fig = plot_confusion_matrices(rec, models=["cnn"])
    >>> ax = fig.axes[0]
    >>> ax.get_xlabel(), ax.get_ylabel(), ax.texts[0].get_text()
    ('predicted class', 'true class', '0.75\\n(3)')
    """
    import seaborn as sns

    confusion = record.get("confusion") or {}
    models = [m for m in models if m in confusion]
    if not models:
        raise ParameterError("none of the models has a confusion matrix in the record")
    labels = list(record["labels"])
    n = len(models)
    ncols = min(2, n)
    nrows = -(-n // ncols)
    size = 3.2 + 0.35 * len(labels)
    fig = _figure(size * ncols + 1.2, size * nrows + 0.6)
    axes = np.asarray(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for k, (ax, model) in enumerate(zip(axes, models, strict=False)):
        counts = np.asarray(confusion[model], dtype=float)
        rows = counts.sum(axis=1, keepdims=True)
        norm = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
        annot = np.array(
            [
                [f"{norm[i, j]:.2f}\n({int(counts[i, j])})" for j in range(counts.shape[1])]
                for i in range(counts.shape[0])
            ]
        )
        sns.heatmap(
            pd.DataFrame(norm, index=labels, columns=labels),
            ax=ax,
            cmap="Blues",
            vmin=0,
            vmax=1,
            annot=annot,
            fmt="",
            annot_kws={"fontsize": 11},
            xticklabels=labels,
            yticklabels=labels,
            cbar=k == n - 1,
            cbar_kws={"label": "share of the true class"},
            square=True,
            linewidths=0.5,
            linecolor="white",
        )
        ax.tick_params(axis="x", labelrotation=30, labelsize=10)
        ax.tick_params(axis="y", labelrotation=0, labelsize=10)
        ax.set(xlabel="predicted class", ylabel="true class")
        ax.set_title(model_title(model, record), fontsize=12)
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(title or "Confusion matrices (summed over folds; share of the row and count)")
    return fig


def plot_ablations(
    records,
    *,
    metric: str = "f1",
    reference: str = "cnn_svm",
    title: str | None = None,
) -> Figure:
    """CNN-SVM beside its ablations (metric mean and 95 % CI), one panel per dataset.

    Parameters
    ----------
    records : dict or mapping name -> dict
        One run's record, or several (e.g. one per scheme).
    metric : str
        ``"f1"``, ``"accuracy"``, ...

    Examples
    --------
    >>> rec = {"models": ["cnn_svm", "cnn_svm_no_chords"],
    ...        "summary": [{"model": "cnn_svm", "f1": 0.6}, {"model": "cnn_svm_no_chords",
    ...                    "f1": 0.55}]}
    >>> fig = plot_ablations({"emotion": rec})
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_title()
    ('F1 (95% CI)', 'emotion')
    """
    if "summary" in records:
        records = {str(records.get("dataset", "run")): records}
    if not records:
        raise ParameterError("no record to plot")
    n = len(records)
    first = next(iter(records.values()))
    n_models = len(first.get("models") or first["summary"])
    fig = _figure(max(6.0, 2.2 + 3.2 * n), 1.2 + 0.45 * max(n_models, 3))
    axes = np.asarray(fig.subplots(1, n, squeeze=False)).ravel()
    shown = []
    for ax, (name, record) in zip(axes, records.items(), strict=True):
        summary = summary_rows(record)
        models = [reference] + [
            m
            for m in (record.get("models") or summary)
            if m != reference and (m.startswith(f"{reference}_") or m == "cnn_embedding_svm")
        ]
        models = [m for m in models if m in summary]
        y = np.arange(len(models))[::-1]
        mean = [summary[m].get(metric, np.nan) for m in models]
        err = _clipped_err(
            mean,
            [summary[m].get(f"{metric}_ci_low", np.nan) for m in models],
            [summary[m].get(f"{metric}_ci_high", np.nan) for m in models],
        )
        colours = [PALETTE[0] if m == reference else PALETTE[4] for m in models]
        ax.barh(y, mean, xerr=err, color=colours, capsize=3, error_kw={"elinewidth": 1})
        if models and models[0] == reference:
            ax.axvline(mean[0], color=PALETTE[7], ls=":", lw=1)
        names = [model_title(m, record) for m in models]
        # the model names once, on the left, when every panel has the same models
        ax.set_yticks(y, names if not shown or names != shown[0] else [""] * len(names))
        shown.append(names)
        ax.set(xlim=(0, 1), xlabel=f"{METRIC_TITLES.get(metric, metric)} (95% CI)", title=name)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title or "Ablations of CNN-SVM (mean over folds)")
    return fig
