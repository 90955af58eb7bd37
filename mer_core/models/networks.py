"""The neural networks: the paper's CNN (its section 2.2, eq. 1) and the LSTM baseline.

Both networks take a batch of feature maps shaped ``(batch, n_features, n_frames)``
(log-Mel bands or MFCCs against time, at the classifier's pooled frame rate)
and return ``{"logits": (batch, n_classes), "embedding": (batch, embedding_dim)}``.
``embedding`` is the output of the last hidden fully connected layer (after its
ReLU), i.e. the input of the softmax layer: the features the CNN-SVM model
hands to its linear SVM in place of that softmax layer (the paper's "output of
the last fully connected layer"). Softmax itself is applied by the loss during
training and by ``predict_proba``; ``forward`` returns logits.

Each network begins with a :class:`BandNorm` whose per-band mean and standard
deviation are buffers filled from the *training* clips by the classifier
(:meth:`BandNorm.set_stats`), so a saved ``state_dict`` carries them and the
network takes raw dB values.

The CNN (``yang_cnn``, defaults for 128 Mel bands and 4 classes):

=============================  ==========================  ==========
layer                          output shape                parameters
=============================  ==========================  ==========
input (log-Mel, dB)            1 x 128 x T                 --
BandNorm (train-set stats)     1 x 128 x T                 (256 buffers)
conv 3x3, 16 + BN + ReLU       16 x 128 x T                176
max-pool 2x2                   16 x 64 x T/2               --
conv 3x3, 32 + BN + ReLU       32 x 64 x T/2               4,672
max-pool 2x2                   32 x 32 x T/4               --
conv 3x3, 64 + BN + ReLU       64 x 32 x T/4               18,560
max-pool 2x2                   64 x 16 x T/8               --
conv 3x3, 128 + BN + ReLU      128 x 16 x T/8              73,984
max-pool 2x2                   128 x 8 x T/16              --
time pooling (mean + max)      1024                        --
dropout 0.3, FC + ReLU         128 (the embedding)         131,200
dropout 0.3, FC (softmax)      4                           516
=============================  ==========================  ==========

229,108 trainable parameters. Convolutions have no bias (batch-norm follows);
pooling uses ``ceil_mode`` so any input of at least one frame works. The
frequency axis is *not* pooled away: the 8 remaining frequency rows of each
channel are flattened, so the fully connected layers know where in the
spectrum a pattern occurred; time is pooled globally (mean plus max, as in
PANNs), so clips or crops of any length give a fixed-size vector.

The LSTM (``lstm``): BandNorm over the MFCCs, a one-layer bidirectional LSTM
(64 units each way), mean + max pooling over time (256), dropout, FC + ReLU to
a 64-dimensional embedding, dropout, FC to the classes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from mer_core.errors import ParameterError
from mer_core.validation import check_positive_int

__all__ = [
    "ARCHITECTURES",
    "BandNorm",
    "ConvBlock",
    "LSTMNet",
    "NetworkEnsemble",
    "YangCNN",
    "build_network",
    "count_parameters",
    "lstm",
    "lstm_mel",
    "network_input",
    "pool_networks",
    "yang_cnn",
]


class BandNorm(nn.Module):
    """Standardise each feature row (Mel band or MFCC) with stored statistics.

    Parameters
    ----------
    n_bands : int
        Number of rows of the input map.

    Examples
    --------
    >>> import torch
    >>> norm = BandNorm(2)
    >>> norm.set_stats([1.0, 2.0], [2.0, 4.0])
    >>> norm(torch.tensor([[[3.0], [6.0]]])).flatten().tolist()
    [1.0, 1.0]
    """

    def __init__(self, n_bands: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_bands))
        self.register_buffer("std", torch.ones(n_bands))

    def set_stats(self, mean, std) -> None:
        """Store per-band mean and standard deviation (floored at 1e-3)."""
        mean = torch.as_tensor(np.asarray(mean, dtype=np.float32))
        std = torch.as_tensor(np.maximum(np.asarray(std, dtype=np.float32), 1e-3))
        if mean.shape != self.mean.shape or std.shape != self.std.shape:
            raise ParameterError(
                f"statistics of shape {tuple(mean.shape)} / {tuple(std.shape)} for "
                f"{self.mean.shape[0]} bands"
            )
        self.mean.copy_(mean)
        self.std.copy_(std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean[:, None]) / self.std[:, None]


class ConvBlock(nn.Module):
    """Convolution (eq. 1) + batch-norm + ReLU + max-pooling.

    Parameters
    ----------
    in_channels, out_channels : int
        Feature maps in and out.
    kernel_size : int
        Square convolution kernel (``2a + 1`` of eq. 1), zero-padded to keep the size.
    pool : int
        Max-pooling size and stride in both directions (``ceil_mode=True``).
    """

    def __init__(
        self, in_channels: int, out_channels: int, *, kernel_size: int = 3, pool: int = 2
    ):
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False
        )
        self.bn = nn.BatchNorm2d(out_channels)
        self.pool = nn.MaxPool2d(pool, ceil_mode=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(torch.relu(self.bn(self.conv(x))))


def _pooled(size: int, n_pools: int, pool: int) -> int:
    for _ in range(n_pools):
        size = math.ceil(size / pool)
    return size


class YangCNN(nn.Module):
    """The CNN of the paper's section 2.2 over a clip's log-Mel map.

    Parameters
    ----------
    n_mels : int
        Mel bands (image height).
    n_classes : int
        Output classes.
    channels : sequence of int
        Output channels of the successive :class:`ConvBlock`.
    embedding_dim : int
        Width of the last hidden fully connected layer (the embedding).
    dropout : float
        Dropout before each fully connected layer.

    Examples
    --------
    >>> import torch
    >>> net = YangCNN(n_mels=32, n_classes=4)
    >>> out = net(torch.zeros(2, 32, 20))
    >>> tuple(out["logits"].shape), tuple(out["embedding"].shape)
    ((2, 4), (2, 128))
    """

    input_key = "log_mel"

    def __init__(
        self,
        n_mels: int = 128,
        n_classes: int = 4,
        *,
        channels=(16, 32, 64, 128),
        embedding_dim: int = 128,
        dropout: float = 0.3,
        kernel_size: int = 3,
        pool: int = 2,
    ):
        super().__init__()
        _check_sizes(n_mels=n_mels, n_classes=n_classes, embedding_dim=embedding_dim)
        channels = tuple(int(c) for c in channels)
        self.norm = BandNorm(n_mels)
        blocks, c_in = [], 1
        for c in channels:
            blocks.append(ConvBlock(c_in, c, kernel_size=kernel_size, pool=pool))
            c_in = c
        self.blocks = nn.Sequential(*blocks)
        flat = channels[-1] * _pooled(n_mels, len(channels), pool)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(flat, embedding_dim)
        self.head = nn.Linear(embedding_dim, n_classes)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``x``: ``(batch, n_mels, n_frames)`` dB values -> logits and embedding."""
        h = self.blocks(self.norm(x).unsqueeze(1))  # (B, C, F', T')
        h = h.flatten(1, 2)  # (B, C * F', T'): keep where in frequency
        h = h.mean(dim=2) + h.amax(dim=2)  # global pooling over time
        embedding = torch.relu(self.fc(self.dropout(h)))
        return {"logits": self.head(self.dropout(embedding)), "embedding": embedding}


class LSTMNet(nn.Module):
    """A bidirectional LSTM over MFCC frames (the paper's LSTM baseline).

    Parameters
    ----------
    n_mfcc : int
        MFCCs per frame (input features).
    n_classes : int
        Output classes.
    hidden_size : int
        LSTM units per direction.
    num_layers : int
        Stacked LSTM layers.
    bidirectional : bool
        Read the sequence both ways.
    embedding_dim : int
        Width of the last hidden fully connected layer.
    dropout : float
        Dropout before each fully connected layer.

    Examples
    --------
    >>> import torch
    >>> net = LSTMNet(n_mfcc=20, n_classes=4)
    >>> tuple(net(torch.zeros(3, 20, 15))["embedding"].shape)
    (3, 64)
    """

    input_key = "mfcc"

    def __init__(
        self,
        n_mfcc: int = 20,
        n_classes: int = 4,
        *,
        hidden_size: int = 64,
        num_layers: int = 1,
        bidirectional: bool = True,
        embedding_dim: int = 64,
        dropout: float = 0.3,
    ):
        super().__init__()
        _check_sizes(n_mfcc=n_mfcc, n_classes=n_classes, embedding_dim=embedding_dim)
        self.norm = BandNorm(n_mfcc)
        self.lstm = nn.LSTM(
            n_mfcc,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
        )
        width = hidden_size * (2 if bidirectional else 1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(2 * width, embedding_dim)
        self.head = nn.Linear(embedding_dim, n_classes)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``x``: ``(batch, n_mfcc, n_frames)`` -> logits and embedding."""
        h, _ = self.lstm(self.norm(x).transpose(1, 2))  # (B, T, width)
        h = torch.cat([h.mean(dim=1), h.amax(dim=1)], dim=1)
        embedding = torch.relu(self.fc(self.dropout(h)))
        return {"logits": self.head(self.dropout(embedding)), "embedding": embedding}


def _check_sizes(**sizes) -> None:
    for name, value in sizes.items():
        check_positive_int(value, name)


def yang_cnn(n_in: int = 128, n_classes: int = 4) -> YangCNN:
    """The configuration the book uses: :class:`YangCNN` with its defaults.

    Parameters
    ----------
    n_in : int
        Mel bands of the input (128 in the book).
    n_classes : int
        Emotion classes (4 in every scheme).

    Examples
    --------
    >>> count_parameters(yang_cnn(128, 4))
    229108
    """
    return YangCNN(n_mels=n_in, n_classes=n_classes)


def lstm(n_in: int = 20, n_classes: int = 4) -> LSTMNet:
    """The LSTM baseline the book uses: :class:`LSTMNet` with its defaults.

    Examples
    --------
    >>> count_parameters(lstm(20, 4))
    60740
    """
    return LSTMNet(n_mfcc=n_in, n_classes=n_classes)


def lstm_mel(n_in: int = 64, n_classes: int = 4) -> LSTMNet:
    """The LSTM over log-Mel frames instead of MFCCs (the book's recipe for real audio).

    Examples
    --------
    >>> count_parameters(lstm_mel(64, 4))
    83268
    """
    return LSTMNet(n_mfcc=n_in, n_classes=n_classes)


yang_cnn.input_key = "log_mel"
lstm.input_key = "mfcc"
lstm_mel.input_key = "log_mel"

#: Named network factories ``factory(n_in, n_classes) -> nn.Module`` (each has an
#: ``input_key`` attribute: the input field it reads); the ``architecture``
#: parameter of the classifiers is a key of this dict.
ARCHITECTURES: dict[str, Callable[[int, int], nn.Module]] = {
    "yang_cnn": yang_cnn,
    "lstm": lstm,
    "lstm_mel": lstm_mel,
}


def network_input(name: str) -> str:
    """The :class:`~mer_core.features.container.ClipFeatures` field a registered network reads.

    Examples
    --------
    >>> network_input("yang_cnn"), network_input("lstm")
    ('log_mel', 'mfcc')
    """
    factory = ARCHITECTURES.get(name) if isinstance(name, str) else None
    if factory is None:
        raise ParameterError(
            f"unknown architecture {name!r}; expected one of {sorted(ARCHITECTURES)}"
        )
    return factory.input_key


class NetworkEnsemble(nn.Module):
    """Several networks of one architecture, trained with different seeds, as one.

    ``forward`` returns the members' mean ``logits`` (the ensemble's decision),
    their ``embedding`` vectors side by side (members' embeddings live in
    different spaces, so they are concatenated, never averaged) and each
    member's logits side by side (``member_logits``, ``n_members * n_classes``
    values per input).

    Parameters
    ----------
    members : sequence of nn.Module
        Networks with the same input and number of classes.

    Examples
    --------
    >>> import torch
    >>> ens = NetworkEnsemble([yang_cnn(16, 3), yang_cnn(16, 3)]).eval()
    >>> out = ens(torch.zeros(2, 16, 20))
    >>> tuple(out["logits"].shape), tuple(out["embedding"].shape)
    ((2, 3), (2, 256))
    """

    def __init__(self, members):
        super().__init__()
        self.members = nn.ModuleList(members)
        if len(self.members) < 1:
            raise ParameterError("a NetworkEnsemble needs at least one member")
        self.input_key = getattr(self.members[0], "input_key", None)

    @property
    def norm(self) -> BandNorm:
        """The first member's input normalisation (every member has the same statistics)."""
        return self.members[0].norm

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        outs = [m(x) for m in self.members]
        return {
            "logits": torch.stack([o["logits"] for o in outs]).mean(dim=0),
            "embedding": torch.cat([o["embedding"] for o in outs], dim=1),
            "member_logits": torch.cat([o["logits"] for o in outs], dim=1),
        }


def build_network(name: str, n_in: int, n_classes: int, n_members: int = 1) -> nn.Module:
    """Build a registered network (or an ensemble of them); unknown names give a clear error.

    The module gets two attributes used by saving and loading:
    ``architecture`` (``name``) and ``build_args`` (``[n_in, n_classes]``, plus
    ``n_members`` for an ensemble).

    Examples
    --------
    >>> net = build_network("yang_cnn", 64, 4)
    >>> net.architecture, net.input_key
    ('yang_cnn', 'log_mel')
    >>> type(build_network("lstm", 20, 4, 3)).__name__
    'NetworkEnsemble'
    """
    network_input(name)  # validates the name
    _check_sizes(n_members=n_members)
    if n_members == 1:
        net = ARCHITECTURES[name](int(n_in), int(n_classes))
        net.build_args = [int(n_in), int(n_classes)]
    else:
        net = NetworkEnsemble(
            [ARCHITECTURES[name](int(n_in), int(n_classes)) for _ in range(n_members)]
        )
        net.build_args = [int(n_in), int(n_classes), int(n_members)]
    net.architecture = name
    return net


def pool_networks(networks) -> nn.Module:
    """One :class:`NetworkEnsemble` of several trained networks of one architecture.

    Ensembles among ``networks`` give their members (the result is flat); the
    result carries ``architecture`` and ``build_args`` so that saving and
    loading (:func:`build_network`) rebuild it.

    Examples
    --------
    >>> a, b = build_network("yang_cnn", 16, 3), build_network("yang_cnn", 16, 3, 2)
    >>> pool_networks([a, b]).build_args
    [16, 3, 3]
    """
    members = []
    for net in networks:
        members += list(net.members) if isinstance(net, NetworkEnsemble) else [net]
    first = networks[0]
    pooled = NetworkEnsemble(members)
    pooled.architecture = first.architecture
    pooled.build_args = [*first.build_args[:2], len(members)]
    return pooled


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
