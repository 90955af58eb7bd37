"""The package's parameter checks: one of each, used by every module.

Each check takes the value and the parameter's name, returns the value in its
canonical type (``int``, ``float``, ``bool`` or a NumPy array) and otherwise
raises the one :class:`~mer_core.errors.ParameterError` whose message names the
parameter, says what it must be and echoes the value it got::

    n_fft must be a positive integer, got 0

Booleans are never numbers here (``True`` is not a count of frames), and
numbers must be finite.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from mer_core.errors import ParameterError

__all__ = [
    "check_bool",
    "check_int",
    "check_n_jobs",
    "check_number",
    "check_positive",
    "check_positive_int",
    "check_signal",
]

_BRACKETS = {"both": "[]", "left": "[)", "right": "(]", "neither": "()"}


def _fail(name: str, what: str, value, allow_none: bool):
    raise ParameterError(f"{name} must be {what}{' or None' if allow_none else ''}, got {value!r}")


def check_bool(value, name: str) -> bool:
    """``value`` as a ``bool``: only ``True`` or ``False`` (NumPy's too).

    Examples
    --------
    >>> check_bool(True, "progress")
    True
    >>> check_bool("yes", "progress")
    Traceback (most recent call last):
    ...
    mer_core.errors.ParameterError: progress must be True or False, got 'yes'
    """
    if not isinstance(value, bool | np.bool_):
        _fail(name, "True or False", value, False)
    return bool(value)


def check_int(value, name: str, *, low=None, high=None, allow_none: bool = False):
    """``value`` as an ``int`` in ``[low, high]`` (either bound optional).

    Accepts Python and NumPy integers, never a ``bool`` or a float such as
    ``2.0``.

    Examples
    --------
    >>> check_int(3, "n_valid", low=0, high=10)
    3
    >>> check_int(11, "n_valid", low=0, high=10)
    Traceback (most recent call last):
    ...
    mer_core.errors.ParameterError: n_valid must be an integer in [0, 10], got 11
    """
    if value is None and allow_none:
        return None
    if low is not None and high is not None:
        what = f"an integer in [{low}, {high}]"
    elif low is not None:
        what = {0: "a non-negative integer", 1: "a positive integer"}.get(
            low, f"an integer >= {low}"
        )
    else:
        what = "an integer" if high is None else f"an integer <= {high}"
    if (
        isinstance(value, bool | np.bool_)
        or not isinstance(value, numbers.Integral)
        or (low is not None and value < low)
        or (high is not None and value > high)
    ):
        _fail(name, what, value, allow_none)
    return int(value)


def check_positive_int(value, name: str, *, allow_none: bool = False):
    """``value`` as an ``int`` >= 1 (a count, a size, a length in samples).

    Examples
    --------
    >>> check_positive_int(2048, "n_fft")
    2048
    >>> check_positive_int(None, "crop_frames", allow_none=True) is None
    True
    >>> check_positive_int(0, "n_fft")
    Traceback (most recent call last):
    ...
    mer_core.errors.ParameterError: n_fft must be a positive integer, got 0
    """
    return check_int(value, name, low=1, allow_none=allow_none)


def check_n_jobs(value, name: str = "n_jobs") -> int:
    """``value`` as a number of parallel workers: a non-zero ``int`` (-1: all cores).

    Examples
    --------
    >>> check_n_jobs(-1)
    -1
    >>> check_n_jobs(0)
    Traceback (most recent call last):
    ...
    mer_core.errors.ParameterError: n_jobs must be a non-zero integer (-1: all cores), got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value == 0:
        raise ParameterError(f"{name} must be a non-zero integer (-1: all cores), got {value!r}")
    return int(value)


def _describe(low, high, closed: str) -> str:
    if low is None and high is None:
        return "a finite number"
    if high is None:
        if low == 0:
            return (
                "a positive number" if closed in ("right", "neither") else "a non-negative number"
            )
        return f"a number {'>=' if closed in ('both', 'left') else '>'} {low:g}"
    if low is None:
        return f"a number {'<=' if closed in ('both', 'right') else '<'} {high:g}"
    left, right = _BRACKETS[closed]
    return f"a number in {left}{low:g}, {high:g}{right}"


def check_number(
    value,
    name: str,
    *,
    low=None,
    high=None,
    closed: str = "both",
    allow_none: bool = False,
) -> float | None:
    """``value`` as a finite ``float`` between ``low`` and ``high`` (either optional).

    Parameters
    ----------
    value
        A real number: Python or NumPy scalar or a 0-d array, never a ``bool``
        or a string.
    name : str
        The parameter's name, for the message.
    low, high : float, optional
        Bounds; None means unbounded on that side.
    closed : {"both", "left", "right", "neither"}
        Which bounds belong to the interval (as :class:`pandas.Interval`).
    allow_none : bool
        Accept (and return) None.

    Examples
    --------
    >>> check_number(0.97, "coef", low=0, high=1, closed="left")
    0.97
    >>> check_number(1.0, "coef", low=0, high=1, closed="left")
    Traceback (most recent call last):
    ...
    mer_core.errors.ParameterError: coef must be a number in [0, 1), got 1.0
    >>> check_number(float("nan"), "bias")
    Traceback (most recent call last):
    ...
    mer_core.errors.ParameterError: bias must be a finite number, got nan
    """
    if closed not in _BRACKETS:
        raise ParameterError(f"closed must be one of {sorted(_BRACKETS)}, got {closed!r}")
    if value is None and allow_none:
        return None
    out = math.nan
    if not isinstance(value, bool | np.bool_ | str | bytes) and np.ndim(value) == 0:
        try:
            out = float(value)
        except (TypeError, ValueError):
            pass
    ok = math.isfinite(out)
    if ok and low is not None:
        ok = out >= low if closed in ("both", "left") else out > low
    if ok and high is not None:
        ok = out <= high if closed in ("both", "right") else out < high
    if not ok:
        _fail(name, _describe(low, high, closed), value, allow_none)
    return out


def check_positive(value, name: str, *, allow_none: bool = False) -> float | None:
    """``value`` as a finite ``float`` > 0 (a rate, a frequency, a scale).

    Examples
    --------
    >>> check_positive(22050, "sr")
    22050.0
    >>> check_positive(-1, "sr")
    Traceback (most recent call last):
    ...
    mer_core.errors.ParameterError: sr must be a positive number, got -1
    """
    return check_number(value, name, low=0, closed="right", allow_none=allow_none)


def check_signal(y, *, name: str = "y") -> np.ndarray:
    """``y`` as a non-empty, floating-point, finite array (an audio signal, ``(..., n_samples)``).

    Examples
    --------
    >>> import numpy as np
    >>> check_signal(np.zeros(4)).shape
    (4,)
    >>> check_signal(np.array([0.0, np.nan]))
    Traceback (most recent call last):
    ...
    mer_core.errors.ParameterError: y contains NaN or infinite samples
    """
    y = np.asarray(y)
    if y.ndim == 0 or y.shape[-1] == 0:
        raise ParameterError(f"{name} must be a non-empty signal, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.floating):
        raise ParameterError(f"{name} must be floating point, got dtype {y.dtype}")
    if not np.all(np.isfinite(y)):
        raise ParameterError(f"{name} contains NaN or infinite samples")
    return y
