"""The package's one exception family.

Every problem a user can cause (a bad file, a bad parameter, a bad dataset)
surfaces as :class:`MerError`, a :class:`ValueError` whose message names the
file or the value at fault. Errors from deep inside third-party libraries are
caught at the boundary and re-raised as :class:`MerError`.
"""

from __future__ import annotations

__all__ = ["MerError", "ParameterError", "AudioError"]


class MerError(ValueError):
    """Base class of every error raised by :mod:`mer_core`."""


class ParameterError(MerError):
    """A function received an invalid parameter; the message echoes the value."""


class AudioError(MerError):
    """An audio file could not be used; the message names the file and the problem."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
