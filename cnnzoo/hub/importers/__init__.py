"""Foreign checkpoints: the timm / torchvision equivalence table (``equivalence``, ``converters/``), state-dict
conversion (``convert``), safe reading of their files (``foreign``) and the ImageNet import table (``imagenet``)."""
