"""Exception types users catch.

Each one also subclasses the built-in exception a caller would naturally expect (ValueError for a bad
argument, KeyError for an unknown name, OSError / FileNotFoundError for files), so a plain
``except ValueError`` keeps working.
"""
from __future__ import annotations


class CnnzooError(Exception):
    """Base class of every error raised on purpose by cnnzoo."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message with quotes
        return str(self.args[0]) if self.args else ""


class UnknownModelError(CnnzooError, KeyError):
    """An architecture name that is not registered."""


class UnknownTagError(CnnzooError, KeyError):
    """A weight tag that the index does not list for an architecture."""


class InvalidArgumentError(CnnzooError, ValueError):
    """A constructor or function argument outside its valid range."""


class UnknownActivationError(InvalidArgumentError):
    """An activation name the activation factory does not know."""


class InputShapeError(InvalidArgumentError):
    """An input tensor of the wrong rank or channel count."""


class ConfigError(CnnzooError, KeyError):
    """A configuration key or value that is not valid."""


class WeightsNotFoundError(CnnzooError, FileNotFoundError):
    """No place in the resolution order had the requested weight file."""


class WeightIntegrityError(CnnzooError, ValueError):
    """A weight file whose hash, header or tensors do not match what is expected."""


class UnsafeWeightsError(WeightIntegrityError):
    """A file that would need code execution (a pickle) offered where safetensors is required."""


class DataNotFoundError(CnnzooError, FileNotFoundError):
    """A data root or split folder that does not exist."""


class DataError(CnnzooError, ValueError):
    """Unusable data: an empty class folder, an unreadable image, a single-class dataset."""


class TrainingError(CnnzooError, RuntimeError):
    """A training run that cannot continue (e.g. a non-finite loss)."""
