"""Importing this package registers every architecture family."""
from . import resnet  # noqa: F401
from . import densenet, dpn  # noqa: F401
from . import mobilenetv2, efficientnet  # noqa: F401
