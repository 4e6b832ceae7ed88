"""Importing this package registers every architecture family."""
from . import resnet  # noqa: F401
