"""cnnzoo: classic CNNs (ResNet, SE, ResNeXt, DenseNet, DPN, MBConv) with a verifiable pretrained-weight hub."""
from ._factory import create_model, model_info
from ._registry import is_model, list_families, list_models, register_model, split_model_name_tag
from .errors import (CnnzooError, InputShapeError, InvalidArgumentError, UnknownActivationError,
                     UnknownModelError, UnknownTagError, UnsafeWeightsError, WeightIntegrityError,
                     WeightsNotFoundError)
from .layers.activations import list_activations
from .optimize import optimize_for_inference

__version__ = "0.1.0"

__all__ = [
    "create_model", "model_info", "list_models", "list_families", "list_activations", "is_model",
    "register_model", "split_model_name_tag", "CnnzooError", "InputShapeError", "InvalidArgumentError",
    "UnknownActivationError", "UnknownModelError", "UnknownTagError", "UnsafeWeightsError", "WeightIntegrityError",
    "WeightsNotFoundError", "optimize_for_inference", "__version__",
]
