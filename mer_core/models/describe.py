"""The networks and their training, described for the book.

:func:`architecture_table` traces the paper's CNN (:func:`~mer_core.models.yang_cnn`)
layer by layer (output shapes, parameters); :func:`training_settings` lists
what a training budget (:data:`mer_core.experiments.TRAINING_BUDGETS`) sets for
each of the paper's models; :func:`training_histories` reads the per-epoch
history of the networks a cross-validation run trained (the only function
here that reads files). Nothing happens at import.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mer_core.names import MODEL_TITLES, PAPER_MODELS

__all__ = ["architecture_table", "training_histories", "training_settings"]


def architecture_table(n_mels: int = 128, n_frames: int = 108, n_classes: int = 4) -> pd.DataFrame:
    """Layers, output shapes and parameter counts of the paper's CNN (:func:`yang_cnn`).

    Shapes are traced with one forward pass on a zero input of ``n_mels``
    bands and ``n_frames`` frames (108 = a 10 s training crop of 432 STFT
    frames averaged by 4, the classifier's defaults).

    Examples
    --------
    >>> t = architecture_table(32, 20)
    >>> t["output shape"].iloc[[0, 2, 3, -1]].tolist()
    ['1 x 32 x 20', '16 x 32 x 20', '16 x 16 x 10', '4']
    >>> int(t["parameters"].sum())
    130804
    """
    import torch

    from mer_core.models.networks import count_parameters, yang_cnn

    net = yang_cnn(n_mels, n_classes).eval()
    shapes: dict[str, tuple] = {}
    hooks = []
    for name, module in net.named_modules():
        if name and not list(module.children()):
            hooks.append(
                module.register_forward_hook(
                    lambda mod, inp, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:]))
                )
            )
    with torch.no_grad():
        net(torch.zeros(1, n_mels, n_frames))
    for h in hooks:
        h.remove()

    def fmt(shape) -> str:
        return " x ".join(str(int(s)) for s in shape)

    rows = [("input: log-Mel map (dB)", fmt((1, n_mels, n_frames)), 0)]
    rows.append(("band normalisation (training-set statistics)", fmt((1, n_mels, n_frames)), 0))
    for i, block in enumerate(net.blocks):
        k, c = block.conv.kernel_size[0], block.conv.out_channels
        params = count_parameters(block.conv) + count_parameters(block.bn)
        rows.append(
            (
                f"conv {k}x{k}, {c} maps (eq. 1) + batch-norm + ReLU",
                fmt(shapes[f"blocks.{i}.bn"]),
                params,
            )
        )
        p = block.pool.kernel_size
        rows.append((f"max-pool {p}x{p}", fmt(shapes[f"blocks.{i}.pool"]), 0))
    rows.append(("time pooling (mean + max over frames)", str(net.fc.in_features), 0))
    rows.append(
        (
            "dropout, fully connected + ReLU: the embedding (CNN-SVM's input)",
            fmt(shapes["fc"]),
            count_parameters(net.fc),
        )
    )
    rows.append(
        (
            "dropout, fully connected (softmax: the CNN's output)",
            fmt(shapes["head"]),
            count_parameters(net.head),
        )
    )
    df = pd.DataFrame(rows, columns=["layer", "output shape", "parameters"])
    df.index = pd.RangeIndex(1, len(df) + 1, name="#")
    return df


def training_settings(budget: str = "quick") -> pd.DataFrame:
    """The training settings of the networks and SVMs under a training budget (rows: settings).

    Examples
    --------
    >>> t = training_settings("tiny")
    >>> t.loc["epochs", "CNN"], t.loc["optimizer", "LSTM"], t.loc["SVM kernel", "CNN-SVM"]
    (2, 'adam', 'linear (LinearSVC)')
    """
    from mer_core.experiments import build_estimator

    keys = {
        "optimizer": "optimizer",
        "learning rate": "lr",
        "momentum": "momentum",
        "weight decay": "weight_decay",
        "epochs": "epochs",
        "batch size": "batch_size",
        "training crop (STFT frames)": "crop_frames",
        "frames averaged (time_pool)": "time_pool",
        "SVM C": "C",
        "low-level features kept (screening)": "n_screened",
    }
    table = {}
    for model in PAPER_MODELS:
        params = build_estimator(model, budget=budget).get_params()
        col = {name: params.get(key, "–") for name, key in keys.items()}
        if model in ("cnn", "lstm"):
            col["SVM C"] = col["low-level features kept (screening)"] = "–"
        col["SVM kernel"] = {
            "svm": f"{params.get('kernel')} (SVC)",
            "cnn_svm": "linear (LinearSVC)",
        }.get(model, "–")
        table[MODEL_TITLES[model]] = col
    df = pd.DataFrame(table).astype(object)
    df.index.name = "setting"
    return df


def training_histories(run_dir, model: str = "cnn") -> pd.DataFrame:
    """Per-epoch training history of the networks a run trained for ``model``.

    A run keeps each trained network in ``networks/<key>/meta.json`` (with
    its ``history``) and each fold's result in ``folds/<model>/fold<k>.json``
    with the ``network_key`` of the network that fold used (see
    :func:`mer_core.models.base.network_key`); the two are matched on that key.

    Parameters
    ----------
    run_dir : path
        A run folder (:func:`mer_core.pipeline.results_dir`).
    model : str
        ``"cnn"``, ``"lstm"``, ``"cnn_svm"``, ...

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``fold``, ``epoch``, ``loss`` (training
        cross-entropy), ``accuracy`` (on the training crops), ``lr``,
        ``seconds`` (and ``val_loss``, ``val_accuracy`` with validation);
        empty when nothing matches.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> run = pathlib.Path(tempfile.mkdtemp())
    >>> (run / "networks" / "k1").mkdir(parents=True)
    >>> (run / "folds" / "cnn").mkdir(parents=True)
    >>> hist = [{"epoch": 1, "loss": 1.4, "accuracy": 0.3, "lr": 0.01, "seconds": 1.0}]
    >>> _ = (run / "networks" / "k1" / "meta.json").write_text(
    ...     json.dumps({"history": hist, "seconds": 1.25}))
    >>> _ = (run / "folds" / "cnn" / "fold0.json").write_text(
    ...     json.dumps({"fold": 0, "network_key": "k1"}))
    >>> training_histories(run)[["fold", "epoch", "loss"]].values.tolist()
    [[0.0, 1.0, 1.4]]
    """
    run = Path(run_dir)
    rows = []
    for path in sorted(run.glob(f"folds/{model}/fold*.json")):
        try:
            rec = json.loads(path.read_text())
            key = rec.get("network_key")
            history = None
            if isinstance(key, str) and key.isalnum():
                meta = json.loads((run / "networks" / key / "meta.json").read_text())
                history = meta.get("history")
        except (OSError, ValueError, AttributeError):
            continue
        for epoch in history or []:
            rows.append({"model": model, "fold": rec.get("fold"), **epoch})
    columns = ["model", "fold", "epoch", "loss", "accuracy", "lr", "seconds"]
    df = pd.DataFrame(rows)
    return df.reindex(columns=columns + [c for c in df.columns if c not in columns])
