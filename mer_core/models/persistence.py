"""Saving and loading fitted models without pickle.

:func:`save_model` writes a folder::

    model/
        config.json   class, parameters, versions, classes, feature names,
                      input shapes, training history, sub-estimator layout,
                      SHA-256 of the two files below
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
of another ``format_version``, one written by another major version of
``mer_core``, an unknown class, unknown parameters, files whose digest does not
match ``config.json``, or weights that do not fit the network.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from mer_core.errors import MerError
from mer_core.io import file_digest

__all__ = ["FORMAT_VERSION", "load_model", "save_model"]

#: Version of the folder layout; bump when it changes incompatibly.
FORMAT_VERSION = 1
FORMAT_NAME = "mer_core.model"

_JSON_SCALARS = (str, int, float, bool, type(None))


def _model_classes() -> dict:
    from mer_core.models.cnn_svm import CNNSVMClassifier
    from mer_core.models.neural import CNNClassifier, LSTMClassifier
    from mer_core.models.svm import SVMClassifier

    return {
        c.__name__: c for c in (CNNSVMClassifier, CNNClassifier, LSTMClassifier, SVMClassifier)
    }


def _estimator_classes() -> dict:
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC, LinearSVC

    from mer_core.models.fusion import FixedSelector, TextEncoder

    return {c.__name__: c for c in (StandardScaler, LinearSVC, SVC, FixedSelector, TextEncoder)}


def _versions() -> dict:
    import sklearn
    import torch

    import mer_core

    return {
        "mer_core": mer_core.__version__,
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


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


# ----------------------------------------------------------------------------- save


def save_model(model, path, *, overwrite: bool = False) -> Path:
    """Write a fitted model to the folder ``path`` (atomically).

    Parameters
    ----------
    model : CNNSVMClassifier, CNNClassifier, LSTMClassifier or SVMClassifier
        A fitted model.
    path : str or Path
        Folder to create.
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

    from mer_core.models.fusion import FixedSelector

    name = type(model).__name__
    if name not in _model_classes():
        raise MerError(f"save_model saves {sorted(_model_classes())}, not {name}")
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

    arrays: dict[str, np.ndarray] = {}
    weights: dict[str, torch.Tensor] = {}
    attributes, estimators, networks = {}, {}, {}
    for attr, value in vars(model).items():
        if not attr.endswith("_") or attr.startswith("_"):
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
        "versions": _versions(),
        "classes": classes.tolist(),
        "input_shapes": model.input_shapes_,
        "feature_names": list(getattr(model, "feature_names_", [])),
        "networks": networks,
        "estimators": estimators,
        "attributes": attributes,
        "arrays": sorted(arrays),
        "files": {},
    }

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    old = None
    try:
        os.chmod(tmp, 0o755)
        with open(tmp / "arrays.npz", "wb") as fh:
            np.savez(fh, **arrays)
        config["files"]["arrays.npz"] = file_digest(tmp / "arrays.npz")
        if weights:
            torch.save(weights, tmp / "weights.pt")
            config["files"]["weights.pt"] = file_digest(tmp / "weights.pt")
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
        The model folder.

    Returns
    -------
    The fitted classifier, predicting exactly like the one saved.

    Raises
    ------
    MerError
        When the folder is missing, damaged, tampered with, or written by an
        incompatible ``format_version`` or major version of ``mer_core``.
    """
    import mer_core

    path = Path(path)
    cfg_path = path / "config.json"
    if not cfg_path.is_file():
        raise MerError(f"{path}: not a saved model (no config.json)")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MerError(f"{cfg_path}: unreadable model configuration ({exc})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT_NAME:
        raise MerError(f"{cfg_path}: not a mer_core model configuration")
    if config.get("format_version") != FORMAT_VERSION:
        raise MerError(
            f"{path}: model format version {config.get('format_version')!r}; this mer_core "
            f"({mer_core.__version__}) reads version {FORMAT_VERSION} only -- refit and save again"
        )
    saved = str(config.get("versions", {}).get("mer_core", "?"))
    if _major(saved) != _major(mer_core.__version__):
        raise MerError(
            f"{path}: saved by mer_core {saved}, incompatible with mer_core "
            f"{mer_core.__version__} (different major version) -- refit and save again"
        )
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
    import torch

    from mer_core.models.networks import build_network

    for fname, digest in config["files"].items():
        if fname not in ("arrays.npz", "weights.pt"):
            raise MerError(f"{path}: unexpected file {fname!r} in config.json")
        if not (path / fname).is_file() or file_digest(path / fname) != digest:
            raise MerError(f"{path / fname}: missing or modified since the model was saved")
    if config["networks"] and "weights.pt" not in config["files"]:
        raise MerError(f"{path}: config.json names networks but no weights.pt")
    if config["versions"].get("sklearn") != sklearn.__version__:
        warnings.warn(
            f"{path}: saved with scikit-learn {config['versions'].get('sklearn')}, loading with "
            f"{sklearn.__version__}; fitted estimator internals may differ",
            UserWarning,
            stacklevel=3,
        )

    classes = _model_classes()
    cls = classes.get(config["class"])
    if cls is None:
        raise MerError(
            f"{path}: unknown model class {config['class']!r}; expected one of {sorted(classes)}"
        )
    params = _from_json(config["params"])
    unknown = set(params) - set(cls._get_param_names())
    if unknown:
        raise MerError(f"{path}: unknown parameters {sorted(unknown)} for {cls.__name__}")
    model = cls(**params)

    with np.load(path / "arrays.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
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
        state = torch.load(path / "weights.pt", map_location="cpu", weights_only=True)
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
    return model
