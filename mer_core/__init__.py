"""mer_core: the reproducible companion to H. Yang, "Music Emotion Recognition
Model Integrating Deep Learning".

Submodules are imported lazily by the user (``from mer_core import features``);
importing :mod:`mer_core` itself does no I/O and loads no heavy library.
"""

from mer_core.errors import AudioError, MerError, ParameterError

__version__ = "0.1.0"

__all__ = ["AudioError", "MerError", "ParameterError", "__version__"]
