"""Saving and loading fitted models without pickle.

:func:`save_model` writes a folder::

    model/
        config.json   class, parameters, versions, classes, feature names,
                      input shapes, training history, sub-estimator layout,
                      the feature configuration the inputs were extracted
                      with (:class:`~mer_core.extract.FeatureConfig`), the label
                      scheme, SHA-256 of the two files below, and a SHA-256 of
                      everything else in config.json itself
        weights.pt    the network's state_dict (only for models with a network),
                      read back with torch.load(..., weights_only=True)
        arrays.npz    every learned array (SVM coefficients / support vectors,
                      scaler mean and scale, screening mask, text vocabulary...),
                      read back with numpy.load(..., allow_pickle=False)

Nothing is pickled, so loading a folder cannot run code. The folder is written
to a temporary sibling and renamed into place, so an interrupted save never
leaves a half-written model under the final name.

Learned attributes are stored by type: networks as weights plus their registry
name (rebuilt by :func:`~mer_core.models.networks.build_network`), the allowed
scikit-learn estimators (``StandardScaler``, ``LinearSVC``, ``SVC``,
:class:`~mer_core.models.fusion.FixedSelector`,
:class:`~mer_core.models.fusion.TextEncoder`) as their parameters plus their
fitted attributes, a screening transformer as the ``FixedSelector`` of its mask
(what prediction uses), arrays as arrays, and the rest as JSON.

:func:`load_model` refuses, with a :class:`~mer_core.errors.MerError`, a folder
of another ``format_version`` (a folder of version 1, which did not carry its
feature configuration, asks to re-train), one written by another major version
of ``mer_core``, a ``config.json`` edited since it was saved, an unknown class,
unknown parameters, a feature configuration that is invalid or does not fit
the model's input shapes, files whose digest does not match ``config.json``, an
``arrays.npz`` holding object arrays, a ``weights.pt`` holding anything but
tensors (neither is unpickled), or weights that do not fit the network.

A loaded model knows how its inputs were made: ``feature_config_`` (a
``FeatureConfig``, or None for a model saved without one), ``scheme_`` and
``title_``; :meth:`~mer_core.models.base.MerClassifier.predict_paths` goes from
audio files to predictions with them.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from mer_core.environment import package_versions
from mer_core.errors import MerError
from mer_core.io import file_digest, folder_mode

__all__ = ["FORMAT_VERSION", "load_model", "save_model"]

#: Version of the folder layout; bump when it changes incompatibly.
#: 2: config.json carries the feature configuration and its own digest.
FORMAT_VERSION = 2
FORMAT_NAME = "mer_core.model"

_JSON_SCALARS = (str, int, float, bool, type(None))

#: Attributes of a loaded model kept in their own config.json fields.
_DESCRIPTION_ATTRS = ("feature_config_", "scheme_", "title_")


def _estimator_classes() -> dict:
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC, LinearSVC

    from mer_core.models.fusion import FixedSelector, TextEncoder

    return {c.__name__: c for c in (StandardScaler, LinearSVC, SVC, FixedSelector, TextEncoder)}


def _saved_version(config: dict, name: str, old_name: str) -> str | None:
    """A package's version in ``config.json`` (``old_name``: its key before they were unified)."""
    versions = config.get("versions") or {}
    return versions.get(name, versions.get(old_name))


# ----------------------------------------------------------------------------- encoding


def _to_json(value, where: str):
    """JSON form of a parameter / attribute; tuples are tagged to come back as tuples."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return {"__float__": repr(value)}
    if isinstance(value, _JSON_SCALARS):
        return value
    if isinstance(value, tuple):
        return {"__tuple__": [_to_json(v, where) for v in value]}
    if isinstance(value, list):
        return [_to_json(v, where) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _to_json(v, f"{where}.{k}") for k, v in value.items()}
    raise MerError(f"cannot save {where}: a {type(value).__name__} has no JSON form")


def _from_json(value):
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_from_json(v) for v in value["__tuple__"])
        if set(value) == {"__float__"}:
            return float(value["__float__"])
        return {k: _from_json(v) for k, v in value.items()}
    return value


def _savable_array(value: np.ndarray, where: str) -> np.ndarray:
    if value.dtype.kind == "O":
        if all(isinstance(v, str) for v in value.ravel()):
            return value.astype(str)
        raise MerError(f"cannot save {where}: object array (allow_pickle=False forbids it)")
    return value


def _params_json(est, where: str) -> dict:
    params = {}
    for name, value in est.get_params(deep=False).items():
        if name == "random_state" and isinstance(value, np.random.RandomState):
            value = None  # a RandomState instance has no JSON form; it only seeded fit
        params[name] = _to_json(value, f"{where} parameter {name!r}")
    return params


def _encode_estimator(est, attr: str, arrays: dict) -> dict:
    """Parameters in JSON, fitted attributes in JSON or ``arrays`` (key ``attr.name``)."""
    params = est.get_params(deep=False)
    state, array_keys = {}, []
    for name, value in vars(est).items():
        if name in params:
            continue
        where = f"{attr}.{name}"
        if isinstance(value, np.ndarray | np.generic):
            arrays[where] = _savable_array(np.asarray(value), where)
            array_keys.append(name)
        else:
            state[name] = _to_json(value, where)
    return {
        "class": type(est).__name__,
        "params": _params_json(est, attr),
        "state": state,
        "arrays": array_keys,
    }


def _decode_estimator(spec: dict, attr: str, arrays) -> object:
    classes = _estimator_classes()
    cls = classes.get(spec["class"])
    if cls is None:
        raise MerError(
            f"{attr}: unknown estimator class {spec['class']!r}; expected one of {sorted(classes)}"
        )
    est = cls(**_from_json(spec["params"]))
    for name, value in spec["state"].items():
        setattr(est, name, _from_json(value))
    for name in spec["arrays"]:
        arr = arrays[f"{attr}.{name}"]
        setattr(est, name, arr[()] if arr.ndim == 0 else arr)
    return est


# ----------------------------------------------------------------------------- description


def _config_digest(config: dict) -> str:
    """SHA-256 of config.json's content, its own ``digest`` field left out."""
    body = {k: v for k, v in config.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _feature_config(value, input_shapes: dict, where: str):
    """``value`` (a FeatureConfig or its dict) as a FeatureConfig that fits the model.

    Every field must be present and valid, and the model's input shapes must be
    what that configuration extracts (Mel bands, MFCC order, frames of a fixed
    duration, low-level and chord vector lengths).
    """
    import dataclasses

    from mer_core.chords import chord_vector_names
    from mer_core.extract import FeatureConfig
    from mer_core.features.lowlevel import lowlevel_names
    from mer_core.features.musical import musical_names
    from mer_core.features.spectral import frames_for

    if value is None:
        return None
    if isinstance(value, FeatureConfig):
        value = value.to_dict()
    fields = [f.name for f in dataclasses.fields(FeatureConfig)]
    if not isinstance(value, dict) or sorted(value) != sorted(fields):
        got = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise MerError(f"{where}: feature configuration must have the fields {fields}, got {got}")
    for name, v in value.items():
        ok = isinstance(v, int | float) and not isinstance(v, bool)
        if not (ok or (name == "duration" and v is None)):
            raise MerError(f"{where}: feature configuration {name}={v!r} is not a number")
    try:
        config = FeatureConfig(**value)
    except MerError as exc:
        raise MerError(f"{where}: invalid feature configuration ({exc})") from None
    expected = {
        "log_mel": config.n_mels,
        "mfcc": config.n_mfcc,
    }
    for field, rows in expected.items():
        shape = input_shapes.get(field)
        if shape is None:
            continue
        want = [rows]
        if config.duration is not None:
            n = max(int(round(config.duration * config.sr)), config.n_fft)
            want.append(frames_for(n, hop_length=config.hop_length))
        if list(shape[: len(want)]) != want:
            raise MerError(
                f"{where}: the model's {field} input has shape {list(shape)}, but the feature "
                f"configuration {value} gives {want}"
            )
    widths = {
        "lowlevel": len(lowlevel_names(n_mfcc=config.n_mfcc)),
        "chords": len(chord_vector_names()),
        "musical": len(musical_names()),
    }
    for field, width in widths.items():
        shape = input_shapes.get(field)
        if shape is not None and list(shape) != [width]:
            raise MerError(
                f"{where}: the model's {field} input has shape {list(shape)}, but the feature "
                f"configuration {value} gives [{width}]"
            )
    return config


# ----------------------------------------------------------------------------- save


def save_model(
    model,
    path,
    *,
    feature_config=None,
    scheme: str | None = None,
    title: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a fitted model to the folder ``path`` (atomically).

    Parameters
    ----------
    model : CNNSVMClassifier, CNNClassifier, LSTMClassifier or SVMClassifier
        A fitted model.
    path : str or Path
        Folder to create.
    feature_config : FeatureConfig or dict, optional
        Front end the model's inputs were extracted with (default: the model's
        ``feature_config_``, set when it was loaded); it must fit the model's
        input shapes. Without one, the saved model predicts from feature
        arrays only, not from audio files.
    scheme, title : str, optional
        Label scheme and display name of the model (default: the model's
        ``scheme_`` / ``title_``).
    overwrite : bool
        Replace an existing saved model at ``path`` (a folder that is not a
        saved model is never replaced).

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from mer_core.models import SVMClassifier
    >>> X = {"lowlevel": np.array([[0.0], [0.1], [1.0], [1.1]])}
    >>> clf = SVMClassifier(use_mfcc_stats=False).fit(X, ["lo", "lo", "hi", "hi"])
    >>> folder = save_model(clf, pathlib.Path(tempfile.mkdtemp()) / "svm")
    >>> sorted(p.name for p in folder.iterdir())
    ['arrays.npz', 'config.json']
    >>> load_model(folder).predict(X).tolist()
    ['lo', 'lo', 'hi', 'hi']
    """
    import torch
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.feature_selection import SelectorMixin
    from sklearn.utils.validation import check_is_fitted
    from torch import nn

    from mer_core.models import CLASSIFIERS
    from mer_core.models.fusion import FixedSelector

    name = type(model).__name__
    if name not in CLASSIFIERS:
        raise MerError(f"save_model saves {sorted(CLASSIFIERS)}, not {name}")
    try:
        check_is_fitted(model, "classes_")
    except NotFittedError:
        raise MerError(f"this {name} is not fitted yet; call fit before save_model") from None
    path = Path(path)
    if path.exists():
        if not overwrite:
            raise MerError(f"{path} already exists (pass overwrite=True to replace a saved model)")
        if not (path / "config.json").is_file():
            raise MerError(f"{path} exists and is not a saved model; refusing to replace it")

    if feature_config is None:
        feature_config = getattr(model, "feature_config_", None)
    feature_config = _feature_config(feature_config, model.input_shapes_, f"save_model {path}")
    scheme = getattr(model, "scheme_", None) if scheme is None else scheme
    title = getattr(model, "title_", None) if title is None else title
    for what, value in (("scheme", scheme), ("title", title)):
        if value is not None and not isinstance(value, str):
            raise MerError(f"save_model: {what} must be a string, got {value!r}")

    arrays: dict[str, np.ndarray] = {}
    weights: dict[str, torch.Tensor] = {}
    attributes, estimators, networks = {}, {}, {}
    for attr, value in vars(model).items():
        if not attr.endswith("_") or attr.startswith("_") or attr in _DESCRIPTION_ATTRS:
            continue
        where = f"{name}.{attr}"
        if isinstance(value, nn.Module):
            networks[attr] = {"architecture": value.architecture, "build_args": value.build_args}
            for key, tensor in value.state_dict().items():
                weights[f"{attr}.{key}"] = tensor.detach().cpu().clone()
        elif isinstance(value, BaseEstimator):
            if type(value).__name__ not in _estimator_classes():
                if not isinstance(value, SelectorMixin):
                    raise MerError(f"cannot save {where}: {type(value).__name__} is not supported")
                value = FixedSelector(np.asarray(value.get_support()).tolist()).fit()
            estimators[attr] = _encode_estimator(value, attr, arrays)
        elif isinstance(value, np.ndarray):
            arrays[attr] = _savable_array(value, where)
        else:
            attributes[attr] = _to_json(value, where)

    classes = np.asarray(model.classes_)
    config = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "class": name,
        "params": _params_json(model, name),
        "versions": {"python": platform.python_version(), **package_versions()},
        "classes": classes.tolist(),
        "input_shapes": model.input_shapes_,
        "feature_names": list(getattr(model, "feature_names_", [])),
        "networks": networks,
        "estimators": estimators,
        "attributes": attributes,
        "arrays": sorted(arrays),
        "feature_config": None if feature_config is None else feature_config.to_dict(),
        "scheme": scheme,
        "title": title,
        "files": {},
    }

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    old = None
    try:
        os.chmod(tmp, folder_mode())
        with open(tmp / "arrays.npz", "wb") as fh:
            np.savez(fh, **arrays)
        config["files"]["arrays.npz"] = file_digest(tmp / "arrays.npz")
        if weights:
            torch.save(weights, tmp / "weights.pt")
            config["files"]["weights.pt"] = file_digest(tmp / "weights.pt")
        config["digest"] = _config_digest(config)
        text = json.dumps(config, indent=2, sort_keys=True, allow_nan=False) + "\n"
        (tmp / "config.json").write_text(text, encoding="utf-8")
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / "model")
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and (old / "model").exists() and not path.exists():
            os.replace(old / "model", path)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return path


# ----------------------------------------------------------------------------- load


def _major(version: str) -> str:
    return str(version).split(".")[0]


def load_model(path):
    """Read a model written by :func:`save_model`.

    Parameters
    ----------
    path : str or Path
        The model folder, or a run folder of ``mer train`` (holding it as
        ``model/``).

    Returns
    -------
    The fitted classifier, predicting exactly like the one saved, with its
    ``feature_config_``, ``scheme_`` and ``title_``: ``load_model(run).predict_paths(files)``
    predicts audio files.

    Raises
    ------
    MerError
        When the folder is missing, damaged, tampered with, or written by an
        incompatible ``format_version`` or major version of ``mer_core``.
    """
    import mer_core

    path = Path(path)
    if not (path / "config.json").exists() and (path / "model" / "config.json").exists():
        path = path / "model"  # a run folder of `mer train`
    cfg_path = path / "config.json"
    if not cfg_path.is_file():
        raise MerError(f"{path}: not a saved model (no config.json)")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MerError(f"{cfg_path}: unreadable model configuration ({exc})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT_NAME:
        raise MerError(f"{cfg_path}: not a mer_core model configuration")
    if config.get("format_version") == 1:
        raise MerError(
            f"{path}: saved by an older mer_core without its feature configuration "
            f"(model format 1); re-train with this version (mer_core {mer_core.__version__}, "
            "`mer train`)"
        )
    if config.get("format_version") != FORMAT_VERSION:
        raise MerError(
            f"{path}: model format version {config.get('format_version')!r}; this mer_core "
            f"({mer_core.__version__}) reads version {FORMAT_VERSION} only -- refit and save again"
        )
    saved = str(_saved_version(config, "mer-core", "mer_core") or "?")
    if _major(saved) != _major(mer_core.__version__):
        raise MerError(
            f"{path}: saved by mer_core {saved}, incompatible with mer_core "
            f"{mer_core.__version__} (different major version) -- refit and save again"
        )
    try:
        intact = config.get("digest") == _config_digest(config)
    except (TypeError, ValueError):
        intact = False
    if not intact:
        raise MerError(f"{cfg_path}: modified since the model was saved (digest mismatch)")
    try:
        return _load(path, config)
    except MerError:
        raise
    except (
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
        RuntimeError,
        OSError,
        EOFError,
        zipfile.BadZipFile,
    ) as exc:
        raise MerError(f"{path}: cannot load model ({type(exc).__name__}: {exc})") from None


def _load(path: Path, config: dict):
    import warnings

    import sklearn

    from mer_core.models.networks import build_network

    # each file is read once: the bytes checked against the digest are the bytes loaded
    blobs = {}
    for fname, digest in config["files"].items():
        if fname not in ("arrays.npz", "weights.pt"):
            raise MerError(f"{path}: unexpected file {fname!r} in config.json")
        blob = (path / fname).read_bytes() if (path / fname).is_file() else None
        if blob is None or hashlib.sha256(blob).hexdigest() != digest:
            raise MerError(f"{path / fname}: missing or modified since the model was saved")
        blobs[fname] = blob
    if config["networks"] and "weights.pt" not in config["files"]:
        raise MerError(f"{path}: config.json names networks but no weights.pt")
    saved_sklearn = _saved_version(config, "scikit-learn", "sklearn")
    if saved_sklearn != sklearn.__version__:
        warnings.warn(
            f"{path}: saved with scikit-learn {saved_sklearn}, loading with "
            f"{sklearn.__version__}; fitted estimator internals may differ",
            UserWarning,
            stacklevel=3,
        )

    from mer_core.models import CLASSIFIERS

    cls = CLASSIFIERS.get(config["class"])
    if cls is None:
        raise MerError(
            f"{path}: unknown model class {config['class']!r}; "
            f"expected one of {sorted(CLASSIFIERS)}"
        )
    params = _from_json(config["params"])
    unknown = set(params) - set(cls._get_param_names())
    if unknown:
        raise MerError(f"{path}: unknown parameters {sorted(unknown)} for {cls.__name__}")
    model = cls(**params)

    try:
        source = io.BytesIO(blobs["arrays.npz"]) if "arrays.npz" in blobs else path / "arrays.npz"
        with np.load(source, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except ValueError as exc:
        if "allow_pickle" not in str(exc):
            raise
        raise MerError(
            f"{path / 'arrays.npz'}: holds an object array; refused (unpickling it could run code)"
        ) from None
    if sorted(arrays) != sorted(config["arrays"]):
        raise MerError(f"{path}: arrays.npz does not hold the arrays config.json lists")
    names = [*config["attributes"], *config["estimators"], *config["networks"]]
    names += [a for a in config["arrays"] if "." not in a]
    bad = [a for a in names if not (a.endswith("_") and a[:1].isalpha())]
    if bad:
        raise MerError(f"{path}: {bad} are not learned attributes (names end with '_')")
    for attr, value in config["attributes"].items():
        setattr(model, attr, _from_json(value))
    for attr, spec in config["estimators"].items():
        setattr(model, attr, _decode_estimator(spec, attr, arrays))
    for attr in config["arrays"]:
        if "." not in attr:
            setattr(model, attr, arrays[attr])

    if config["networks"]:
        state = _load_weights(path / "weights.pt", blobs["weights.pt"])
        for attr, spec in config["networks"].items():
            net = build_network(spec["architecture"], *spec["build_args"])
            prefix = f"{attr}."
            sub = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            try:
                net.load_state_dict(sub, strict=True)
            except RuntimeError as exc:
                raise MerError(
                    f"{path / 'weights.pt'}: weights do not fit {attr} ({exc})"
                ) from None
            net.eval()
            setattr(model, attr, net)

    n_classes = len(model.classes_)
    if list(np.asarray(model.classes_).tolist()) != config["classes"] or n_classes < 2:
        raise MerError(f"{path}: classes in arrays.npz and config.json disagree")
    model.feature_config_ = _feature_config(
        config["feature_config"], model.input_shapes_, str(path / "config.json")
    )
    for what in ("scheme", "title"):
        if config[what] is not None and not isinstance(config[what], str):
            raise MerError(f"{path / 'config.json'}: {what} must be a string or null")
    model.scheme_ = config["scheme"]
    model.title_ = config["title"]
    return model


def _load_weights(file: Path, blob: bytes) -> dict:
    """The tensors of ``weights.pt`` (its bytes ``blob``); anything else is refused
    without being unpickled."""
    import pickle

    import torch

    try:
        state = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's message advises weights_only=False: never repeat that advice
        raise MerError(
            f"{file}: holds objects other than tensors; refused (unpickling it could run code)"
        ) from None
    except Exception as exc:
        raise MerError(f"{file}: unreadable weights ({type(exc).__name__})") from None
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise MerError(f"{file}: not a mapping of names to tensors")
    return state
