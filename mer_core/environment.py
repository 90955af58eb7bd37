"""The versions that shape a result: one function, read by every record that keeps them.

:func:`package_versions` reads installed distributions' versions without
importing them; :func:`environment` adds Python and the platform. A saved
model (:mod:`mer_core.models.persistence`), a run's ``results.json``
(:mod:`mer_core.evaluation.report`), a fold's cache key
(:mod:`mer_core.evaluation.protocol`), a cluster worker's check
(:mod:`mer_core.cluster`) and a benchmark record (``benchmarks/_harness.py``)
all use them.
"""

from __future__ import annotations

import platform

__all__ = ["VERSIONED", "environment", "package_versions"]

#: The distributions whose versions can change the numbers (pip names).
VERSIONED = (
    "mer-core",
    "numpy",
    "scipy",
    "scikit-learn",
    "torch",
    "librosa",
    "soundfile",
    "soxr",
    "pandas",
)


def package_versions(names=VERSIONED) -> dict:
    """Installed version of each distribution (None when it is not installed).

    Examples
    --------
    >>> package_versions(("numpy", "no-such-dist"))["no-such-dist"] is None
    True
    """
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def environment() -> dict:
    """Python, the platform and :func:`package_versions`.

    Examples
    --------
    >>> sorted(environment())
    ['platform', 'python', 'versions']
    """
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": package_versions(),
    }
