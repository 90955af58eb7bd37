"""Training and inference of the networks, deterministic on CPU.

What :func:`train_network` does (the settings the classifiers document):

* **Input.** Feature maps ``(n, n_features, n_frames)`` are first averaged over
  blocks of ``time_pool`` frames (:func:`pool_time`; 4 frames of 23 ms give
  93 ms steps for the CNN), which cuts the cost of every layer by that factor
  and loses little: emotion cues live at the scale of notes and phrases.
  The network's :class:`~mer_core.models.networks.BandNorm` is filled with the
  per-row mean and standard deviation of the *training* maps (:func:`band_stats`).
* **Augmentation.** Each epoch, every training clip contributes one random crop
  of ``crop`` pooled frames (offset drawn uniformly; the whole clip when it is
  shorter), so the network sees a different excerpt of each song per epoch.
* **Optimisation.** Mini-batches in a fresh random order each epoch, cross-entropy
  loss (softmax), SGD with Nesterov momentum and weight decay (the paper's
  "stochastic gradient descent"), or Adam; the learning rate follows a cosine
  from ``lr`` down to 0 over all steps, updated every step; gradients are clipped
  to norm 5.
* **Validation (optional).** With ``validation_fraction > 0`` a stratified part of
  the training clips is held out, scored every epoch, and the weights of the
  epoch with the lowest validation loss are restored at the end; ``patience``
  stops after that many epochs without improvement.
* **Inference.** :func:`network_outputs` cuts each clip into evenly spaced crops
  of the training length that cover it (e.g. 4 crops of 10 s for 40 s) and
  averages the crops' embeddings and logits (the head is linear, so the averaged
  logits are the head applied to the averaged embedding), in eval mode.
* **Determinism.** :func:`torch_session` seeds a forked torch RNG, switches on
  ``torch.use_deterministic_algorithms`` and sets the thread count for the
  duration of a fit or predict and restores all three afterwards; crop offsets
  and batch order come from a ``numpy.random.Generator`` with the same seed.
  Two fits with the same seed and thread count give identical weights.

**Defaults and cost.** The CNN trains with SGD (lr 0.01, Nesterov momentum
0.9, weight decay 5e-4), batches of 32, 20 epochs, 10 s crops of 4-frame
pooled maps. On 600 synthetic clips shaped like the book's (128 Mel bands x
1723 frames, 40 s) and two CPU threads one epoch takes about 2.7 s and a full
CNN-SVM fit about 1 minute (more when other jobs share the cores); inference
costs about 10 ms per clip (4 crops).
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mer_core.errors import ParameterError
from mer_core.validation import (
    check_bool,
    check_number,
    check_positive,
    check_positive_int,
)

__all__ = [
    "TrainSettings",
    "band_stats",
    "eval_crops",
    "network_outputs",
    "pool_time",
    "torch_session",
    "train_network",
]


@contextlib.contextmanager
def torch_session(seed: int | None = None, n_threads: int | None = None):
    """Seeded, deterministic torch state for one fit/predict; restored on exit.

    Parameters
    ----------
    seed : int, optional
        Seed of torch's (forked) global RNG, used by weight initialisation and
        dropout; None leaves it unseeded.
    n_threads : int, optional
        Intra-op threads while inside; None keeps the current setting, -1 uses
        every CPU.

    Examples
    --------
    >>> import torch
    >>> with torch_session(0):
    ...     a = torch.rand(1).item()
    >>> with torch_session(0):
    ...     b = torch.rand(1).item()
    >>> a == b
    True
    """
    import os

    prev_threads = torch.get_num_threads()
    prev_det = torch.are_deterministic_algorithms_enabled()
    prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    with torch.random.fork_rng(devices=[]):
        try:
            if seed is not None:
                torch.manual_seed(int(seed))
            if n_threads is not None:
                torch.set_num_threads((os.cpu_count() or 1) if n_threads == -1 else int(n_threads))
            torch.use_deterministic_algorithms(True, warn_only=True)
            yield
        finally:
            torch.use_deterministic_algorithms(prev_det, warn_only=prev_warn)
            if torch.get_num_threads() != prev_threads:
                torch.set_num_threads(prev_threads)


def pool_time(x: np.ndarray, factor: int, *, chunk: int = 32) -> np.ndarray:
    """Average ``(n, n_features, n_frames)`` maps over blocks of ``factor`` frames.

    Works chunk by chunk so a float16 input is never copied whole to float32.
    Trailing frames that do not fill a block are dropped (a clip shorter than
    ``factor`` frames becomes one frame, its mean).

    Returns
    -------
    np.ndarray, float32, shape (n, n_features, max(1, n_frames // factor))

    Examples
    --------
    >>> import numpy as np
    >>> pool_time(np.arange(10.0).reshape(1, 1, 10), 4)
    array([[[1.5, 5.5]]], dtype=float32)
    """
    factor = check_positive_int(factor, "time_pool")
    n, f, t = x.shape
    if factor == 1:
        return np.ascontiguousarray(x, dtype=np.float32)
    t_out = max(1, t // factor)
    width = t_out * factor if t >= factor else t
    out = np.empty((n, f, t_out), dtype=np.float32)
    for start in range(0, n, chunk):
        block = np.asarray(x[start : start + chunk, :, :width], dtype=np.float32)
        out[start : start + chunk] = block.reshape(len(block), f, t_out, -1).mean(axis=-1)
    return out


def band_stats(x: np.ndarray, *, chunk: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Per-row mean and standard deviation over clips and frames (float64 sums).

    Examples
    --------
    >>> import numpy as np
    >>> mean, std = band_stats(np.array([[[0.0, 2.0], [1.0, 1.0]]]))
    >>> mean.tolist(), std.tolist()
    ([1.0, 1.0], [1.0, 0.0])
    """
    n, f, t = x.shape
    s = np.zeros(f)
    s2 = np.zeros(f)
    for start in range(0, n, chunk):
        block = np.asarray(x[start : start + chunk], dtype=np.float64)
        s += block.sum(axis=(0, 2))
        s2 += np.square(block).sum(axis=(0, 2))
    count = n * t
    mean = s / count
    return mean, np.sqrt(np.maximum(s2 / count - mean**2, 0.0))


def eval_crops(n_frames: int, crop: int | None) -> tuple[np.ndarray, int]:
    """Start frames and length of the evenly spaced crops that cover a clip.

    Examples
    --------
    >>> eval_crops(430, 108)
    (array([  0, 107, 215, 322]), 108)
    >>> eval_crops(50, 108)
    (array([0]), 50)
    """
    if crop is None or crop >= n_frames:
        return np.array([0]), int(n_frames)
    n = math.ceil(n_frames / crop)
    return np.round(np.linspace(0, n_frames - crop, n)).astype(int), int(crop)


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings of :func:`train_network` (see the module docstring).

    ``crop`` is in *pooled* frames (None: whole clips).
    """

    epochs: int = 20
    batch_size: int = 32
    lr: float = 0.01
    optimizer: str = "sgd"
    momentum: float = 0.9
    weight_decay: float = 5e-4
    crop: int | None = 108
    validation_fraction: float = 0.0
    patience: int | None = None
    grad_clip: float = 5.0
    mixup: float = 0.0
    spec_augment: bool = False
    progress: bool = True
    desc: str = "train"

    def __post_init__(self):
        check_positive_int(self.epochs, "epochs")
        check_positive_int(self.batch_size, "batch_size")
        check_positive_int(self.crop, "crop", allow_none=True)
        check_positive_int(self.patience, "patience", allow_none=True)
        check_positive(self.lr, "lr")
        if self.optimizer not in ("sgd", "adam"):
            raise ParameterError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        check_number(self.momentum, "momentum", low=0, high=1, closed="left")
        check_number(self.weight_decay, "weight_decay", low=0)
        check_number(self.mixup, "mixup", low=0)
        check_bool(self.spec_augment, "spec_augment")
        check_number(self.validation_fraction, "validation_fraction", low=0, high=1, closed="left")


def _make_optimizer(net: nn.Module, s: TrainSettings) -> torch.optim.Optimizer:
    if s.optimizer == "sgd":
        return torch.optim.SGD(
            net.parameters(),
            lr=s.lr,
            momentum=s.momentum,
            nesterov=s.momentum > 0,
            weight_decay=s.weight_decay,
        )
    return torch.optim.Adam(net.parameters(), lr=s.lr, weight_decay=s.weight_decay)


def _split_validation(y: np.ndarray, fraction: float, seed: int):
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    try:
        return train_test_split(idx, test_size=fraction, stratify=y, random_state=seed)
    except ValueError as exc:
        raise ParameterError(
            f"validation_fraction={fraction} cannot hold out a stratified split of "
            f"{len(y)} clips: {exc}"
        ) from None


def train_network(
    net: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    settings: TrainSettings,
    rng: np.random.Generator,
    *,
    valid: np.ndarray | None = None,
) -> dict:
    """Train ``net`` in place on pooled maps ``x`` (float32) and class codes ``y``.

    The caller fills ``net.norm`` with the training statistics first and runs
    this inside :func:`torch_session`. ``valid`` (pooled frames of real audio
    per clip) keeps the random crops inside the real audio: a crop starts
    where it still ends within the clip's real frames (at 0 for clips shorter
    than a crop). None treats every frame as real.

    Returns
    -------
    dict
        ``history`` (one dict per epoch: ``epoch``, ``loss``, ``accuracy`` on the
        training crops, ``lr`` at the epoch's end, ``seconds``, and
        ``val_loss`` / ``val_accuracy`` with validation), ``n_epochs`` run and
        ``best_epoch`` (the epoch whose weights were kept).
    """
    from tqdm.auto import tqdm

    s = settings
    train_idx = np.arange(len(y))
    val_idx = None
    if s.validation_fraction > 0:
        train_idx, val_idx = _split_validation(y, s.validation_fraction, int(rng.integers(2**31)))
    n_train, n_frames = len(train_idx), x.shape[2]
    if n_train < 2:
        raise ParameterError(f"need at least 2 training clips, got {n_train}")
    length = n_frames if s.crop is None else min(s.crop, n_frames)
    windows = np.lib.stride_tricks.sliding_window_view(x, length, axis=2)  # (n, F, T-L+1, L)
    highs = None
    if valid is not None:
        valid = np.asarray(valid, dtype=np.int64)
        if valid.shape != (len(y),):
            raise ParameterError(f"valid has shape {valid.shape} for {len(y)} clips")
        highs = np.clip(valid - length, 0, n_frames - length)
    n_batches = math.ceil(n_train / s.batch_size)
    if n_batches > 1 and n_train % s.batch_size == 1:
        n_batches -= 1  # never a batch of one (batch-norm needs two)
    total_steps = s.epochs * n_batches
    optimizer = _make_optimizer(net, s)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps)),
    )
    y_t = torch.as_tensor(y, dtype=torch.long)
    history, best = [], {"loss": math.inf, "epoch": s.epochs, "state": None}
    bar = tqdm(range(s.epochs), desc=s.desc, unit="epoch", disable=not s.progress, leave=False)
    for epoch in bar:
        t0 = time.perf_counter()
        net.train()
        order = train_idx[rng.permutation(n_train)]
        if highs is None:
            offsets = rng.integers(0, n_frames - length + 1, size=n_train)
        else:
            offsets = np.floor(rng.random(n_train) * (highs[order] + 1)).astype(np.int64)
        loss_sum, correct = 0.0, 0
        for batch, offs in zip(
            np.array_split(order, n_batches), np.array_split(offsets, n_batches), strict=True
        ):
            xb = torch.from_numpy(np.ascontiguousarray(windows[batch, :, offs, :]))
            yb = y_t[batch]
            if s.spec_augment:
                _spec_augment(xb, net.norm.mean, rng)
            if s.mixup > 0:
                lam = float(rng.beta(s.mixup, s.mixup))
                perm = torch.from_numpy(rng.permutation(len(batch)))
                logits = net(lam * xb + (1 - lam) * xb[perm])["logits"]
                loss = lam * F.cross_entropy(logits, yb) + (1 - lam) * F.cross_entropy(
                    logits, yb[perm]
                )
            else:
                logits = net(xb)["logits"]
                loss = F.cross_entropy(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if s.grad_clip:
                nn.utils.clip_grad_norm_(net.parameters(), s.grad_clip)
            optimizer.step()
            schedule.step()
            loss_sum += loss.item() * len(batch)
            correct += int((logits.argmax(1) == yb).sum())
        record = {
            "epoch": epoch + 1,
            "loss": loss_sum / n_train,
            "accuracy": correct / n_train,
            "lr": optimizer.param_groups[0]["lr"],
        }
        if val_idx is not None:
            out = network_outputs(
                net, x[val_idx], crop=s.crop, valid=None if valid is None else valid[val_idx]
            )
            logits = torch.from_numpy(out["logits"])
            record["val_loss"] = float(F.cross_entropy(logits, y_t[val_idx]))
            record["val_accuracy"] = float((logits.argmax(1) == y_t[val_idx]).float().mean())
            if record["val_loss"] < best["loss"]:
                best = {
                    "loss": record["val_loss"],
                    "epoch": epoch + 1,
                    "state": copy.deepcopy(net.state_dict()),
                }
        record["seconds"] = time.perf_counter() - t0
        history.append(record)
        bar.set_postfix(
            {
                k: round(v, 3)
                for k, v in record.items()
                if k in ("loss", "accuracy", "val_accuracy")
            }
        )
        if (
            val_idx is not None
            and s.patience is not None
            and epoch + 1 - best["epoch"] >= s.patience
        ):
            break
    if best["state"] is not None:
        net.load_state_dict(best["state"])
    net.eval()
    return {
        "history": history,
        "n_epochs": len(history),
        "best_epoch": best["epoch"] if val_idx is not None else len(history),
    }


def _spec_augment(xb: torch.Tensor, fill: torch.Tensor, rng: np.random.Generator) -> None:
    """SpecAugment in place: two frequency and two time masks per crop, set to ``fill``.

    Masks are up to an eighth of the bands / frames wide; ``fill`` is the
    per-band training mean, so a masked region is zero after the network's
    :class:`~mer_core.models.networks.BandNorm`.
    """
    n, n_bands, n_frames = xb.shape
    for j in range(n):
        for _ in range(2):
            w = int(rng.integers(0, n_bands // 8 + 1))
            f0 = int(rng.integers(0, n_bands - w + 1))
            xb[j, f0 : f0 + w, :] = fill[f0 : f0 + w, None]
            w = int(rng.integers(0, n_frames // 8 + 1))
            t0 = int(rng.integers(0, n_frames - w + 1))
            xb[j, :, t0 : t0 + w] = fill[:, None]


def network_outputs(
    net: nn.Module,
    x: np.ndarray,
    *,
    crop: int | None,
    batch_size: int = 64,
    valid: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Crop-averaged ``logits`` and ``embedding`` (float32 arrays) of pooled maps ``x``.

    (And an ensemble's ``member_logits``: see
    :class:`~mer_core.models.networks.NetworkEnsemble`.)

    Each clip is cut into the evenly spaced crops of :func:`eval_crops` that
    cover its real frames (``valid``, pooled frames per clip; all frames when
    None); a clip shorter than one crop gives one crop from its start.

    Examples
    --------
    >>> import numpy as np
    >>> from mer_core.models.networks import yang_cnn
    >>> out = network_outputs(yang_cnn(16, 3), np.zeros((2, 16, 40), np.float32), crop=16)
    >>> out["logits"].shape, out["embedding"].shape
    ((2, 3), (2, 128))
    """
    n, _, n_frames = x.shape
    length = n_frames if crop is None else min(int(crop), n_frames)
    if valid is None:
        real = np.full(n, n_frames, dtype=np.int64)
    else:
        real = np.clip(np.asarray(valid, dtype=np.int64), length, n_frames)
    pairs = [(i, int(s)) for i in range(n) for s in eval_crops(int(real[i]), length)[0]]
    sums: dict[str, np.ndarray] = {}
    counts = np.zeros(n)
    net.eval()
    with torch.inference_mode():
        for b in range(0, len(pairs), batch_size):
            chunk = pairs[b : b + batch_size]
            crops = np.stack(
                [np.asarray(x[i, :, s : s + length], dtype=np.float32) for i, s in chunk]
            )
            out = net(torch.from_numpy(crops))
            clips = np.array([i for i, _ in chunk])
            for key in out:  # logits, embedding (and an ensemble's member_logits)
                if key not in sums:
                    sums[key] = np.zeros((n, out[key].shape[1]), dtype=np.float64)
                np.add.at(sums[key], clips, out[key].numpy().astype(np.float64))
            np.add.at(counts, clips, 1)
    return {k: (v / counts[:, None]).astype(np.float32) for k, v in sums.items()}
