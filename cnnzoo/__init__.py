"""cnnzoo: classic CNNs (ResNet, SE, ResNeXt, DenseNet, DPN, MBConv) with a verifiable pretrained-weight hub."""
from . import models  # noqa: F401  (importing the families registers every architecture)
from ._deprecated import install as _install_moved_module_paths
from .deploy.optimize import optimize_for_inference
from .errors import (CnnzooError, InputShapeError, InvalidArgumentError, UnknownActivationError,
                     UnknownModelError, UnknownTagError, UnsafeWeightsError, WeightIntegrityError,
                     WeightsNotFoundError)
from .factory import create_model, list_models, list_pretrained, model_info
from .hub.publishing.user_model import push_to_hub, save_pretrained
from .layers.activations import list_activations
from .registry import is_model, list_families, model_entrypoint, register_model, split_model_name_tag
from .version import __version__

_install_moved_module_paths()

__all__ = [
    "create_model", "model_info", "list_models", "list_pretrained", "list_families", "list_activations", "is_model",
    "model_entrypoint", "push_to_hub", "save_pretrained",
    "register_model", "split_model_name_tag", "CnnzooError", "InputShapeError", "InvalidArgumentError",
    "UnknownActivationError", "UnknownModelError", "UnknownTagError", "UnsafeWeightsError", "WeightIntegrityError",
    "WeightsNotFoundError", "optimize_for_inference", "__version__",
]
