"""Importing this package registers every architecture family."""
from . import resnet  # noqa: F401
from . import densenet, dpn  # noqa: F401
from . import mobilenetv2, efficientnet  # noqa: F401
from . import nasnet  # noqa: F401
from . import googlenet, inception_resnet_v2, inception_v3  # noqa: F401
from . import alexnet, squeezenet, vgg  # noqa: F401
from . import mobilenetv1, resnetv2  # noqa: F401
from . import res2next_cifar, resnet18_cifar, simplenet  # noqa: F401
