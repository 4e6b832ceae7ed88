"""ResNet family: torchvision ``resnet*/wide_resnet*/resnext*`` and timm ``resnet.py`` / ``senet.py`` /
``res2net.py`` parameter names -> cnnzoo."""
from __future__ import annotations

from ..equivalence import register_equivalent

_BLOCK = r"layer(\d)\.(\d+)\."


def in_stage(template: str):
    """Replacement for a ``layerN.i.`` match: torchvision/timm count stages from 1, cnnzoo from 0."""
    return lambda m: m.expand(template).replace("{s}", str(int(m.group(1)) - 1))


# torchvision and timm's resnet.py share their names.
RESNET_RULES = [
    (r"conv1\.weight", r"stem.conv.conv.weight"),
    (r"bn1\.(.+)", r"stem.conv.bn.\1"),
    (_BLOCK + r"conv(\d)\.weight", in_stage(r"stages.{s}.\2.conv\3.conv.weight")),
    (_BLOCK + r"bn(\d)\.(.+)", in_stage(r"stages.{s}.\2.conv\3.bn.\4")),
    (_BLOCK + r"downsample\.0\.(.+)", in_stage(r"stages.{s}.\2.downsample.conv.\3")),
    (_BLOCK + r"downsample\.1\.(.+)", in_stage(r"stages.{s}.\2.downsample.bn.\3")),
    (_BLOCK + r"se\.(.+)", in_stage(r"stages.{s}.\2.se.\3")),
    (r"fc\.(.+)", r"head.fc.\1"),
]

# timm's deep stem: conv1 = [conv, bn, act, conv, bn, act, conv], then bn1.
DEEP_STEM_RULES = [
    (r"conv1\.0\.weight", r"stem.conv1.conv.weight"),
    (r"conv1\.1\.(.+)", r"stem.conv1.bn.\1"),
    (r"conv1\.3\.weight", r"stem.conv2.conv.weight"),
    (r"conv1\.4\.(.+)", r"stem.conv2.bn.\1"),
    (r"conv1\.6\.weight", r"stem.conv3.conv.weight"),
    (r"bn1\.(.+)", r"stem.conv3.bn.\1"),
] + RESNET_RULES

RES2NET_RULES = [
    (_BLOCK + r"convs\.(\d+)\.weight", in_stage(r"stages.{s}.\2.convs.\3.conv.weight")),
    (_BLOCK + r"bns\.(\d+)\.(.+)", in_stage(r"stages.{s}.\2.convs.\3.bn.\4")),
] + RESNET_RULES

# timm's legacy SENet (the original Caffe model's layout).
LEGACY_SENET_RULES = [
    (r"layer0\.conv1\.weight", r"stem.conv.conv.weight"),
    (r"layer0\.bn1\.(.+)", r"stem.conv.bn.\1"),
    (_BLOCK + r"se_module\.(fc\d)\.(.+)", in_stage(r"stages.{s}.\2.se.\3.\4")),
    (r"last_linear\.(.+)", r"head.fc.\1"),
] + RESNET_RULES


for _arch in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "wide_resnet50_2",
              "wide_resnet101_2", "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d"):
    register_equivalent(_arch, "torchvision", _arch, RESNET_RULES)
    register_equivalent(_arch, "timm", _arch, RESNET_RULES)

for _arch in ("resnext101_32x4d", "seresnet18", "seresnet34", "seresnet50", "seresnet101", "seresnet152",
              "seresnext50_32x4d", "seresnext101_32x4d"):
    register_equivalent(_arch, "timm", _arch, RESNET_RULES)

register_equivalent("senet154", "timm", "senet154", DEEP_STEM_RULES)
register_equivalent("seresnext26_32x4d", "timm", "legacy_seresnext26_32x4d", LEGACY_SENET_RULES)
register_equivalent("res2net50_26w_4s", "timm", "res2net50_26w_4s", RES2NET_RULES)
