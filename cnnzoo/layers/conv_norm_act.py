"""Convolution -> BatchNorm -> activation, and the BatchNorm -> activation pair of pre-activation blocks."""
from __future__ import annotations

from torch import nn

from .activations import ActSpec, get_act
from .helpers import same_padding


class ConvNormAct(nn.Sequential):
    """``conv`` -> ``bn`` -> ``act`` (named submodules, so BN folding and converters find them)."""

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = False,
        act_layer: ActSpec = "relu",
        apply_act: bool = True,
        norm_layer: type[nn.Module] = nn.BatchNorm2d,
    ):
        super().__init__()
        if padding is None:
            padding = same_padding(kernel_size, stride, dilation)
        self.conv = nn.Conv2d(in_chs, out_chs, kernel_size, stride, padding, dilation, groups, bias=bias)
        self.bn = norm_layer(out_chs)
        self.act = get_act(act_layer)(inplace=True) if apply_act else nn.Identity()

    @property
    def out_channels(self) -> int:
        return self.conv.out_channels


class NormAct(nn.Sequential):
    """``bn`` -> ``act``: the pre-activation unit of PreAct-ResNet, WRN and DenseNet layers."""

    def __init__(self, channels: int, act_layer: ActSpec = "relu", norm_layer: type[nn.Module] = nn.BatchNorm2d,
                 inplace: bool = True):
        super().__init__()
        self.bn = norm_layer(channels)
        self.act = get_act(act_layer)(inplace=inplace)


class NormActConv(nn.Sequential):
    """``bn`` -> ``act`` -> ``conv``: the pre-activation conv unit of DenseNet transitions and DPN blocks."""

    def __init__(self, in_chs: int, out_chs: int, kernel_size: int = 1, stride: int = 1, groups: int = 1,
                 act_layer: ActSpec = "relu", norm_layer: type[nn.Module] = nn.BatchNorm2d):
        super().__init__()
        self.bn = norm_layer(in_chs)
        self.act = get_act(act_layer)(inplace=True)
        self.conv = nn.Conv2d(in_chs, out_chs, kernel_size, stride, same_padding(kernel_size, stride),
                              groups=groups, bias=False)
