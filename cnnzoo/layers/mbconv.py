"""MBConv, the inverted residual of MobileNetV2 (Sandler et al. 2018) that EfficientNet (Tan & Le 2019) adds
squeeze-and-excitation to, and DepthwiseSeparable, its form without the expanding 1x1.

Both blocks add their input back only when the output has the same shape (stride 1, same channel count); there
is no activation after the 1x1 projection ("linear bottleneck"), so nothing follows the addition.
"""
from __future__ import annotations

from torch import nn

from .activations import ActSpec
from .conv_norm_act import ConvNormAct
from .drop import DropPath
from .squeeze_excite import SqueezeExcite

NormLayer = type[nn.Module]


def mbconv_se(se_ratio: float, in_chs: int, mid_chs: int, act_layer: ActSpec) -> nn.Module:
    """SE on the expanded (``mid_chs``) features, its width a fraction of the block's *input* channels, as in
    EfficientNet (torchvision floors it, timm rounds it; both agree on every width the builders produce)."""
    if not se_ratio:
        return nn.Identity()
    return SqueezeExcite(mid_chs, rd_channels=max(1, int(in_chs * se_ratio)), act_layer=act_layer)


class DepthwiseSeparable(nn.Module):
    """Depthwise kxk -> (SE) -> linear 1x1: the expansion-1 block that opens MobileNetV2 and EfficientNet."""

    def __init__(self, in_chs: int, out_chs: int, kernel_size: int = 3, stride: int = 1, se_ratio: float = 0.0,
                 act_layer: ActSpec = "relu6", norm_layer: NormLayer = nn.BatchNorm2d, drop_path: float = 0.0):
        super().__init__()
        self.has_skip = stride == 1 and in_chs == out_chs
        self.conv_dw = ConvNormAct(in_chs, in_chs, kernel_size, stride, groups=in_chs, act_layer=act_layer,
                                   norm_layer=norm_layer)
        self.se = mbconv_se(se_ratio, in_chs, in_chs, act_layer)
        self.conv_pw = ConvNormAct(in_chs, out_chs, 1, apply_act=False, norm_layer=norm_layer)
        self.drop_path = DropPath(drop_path) if drop_path > 0 and self.has_skip else nn.Identity()

    def forward(self, x):
        out = self.conv_pw(self.se(self.conv_dw(x)))
        return self.drop_path(out) + x if self.has_skip else out


class MBConv(nn.Module):
    """1x1 expand (x ``exp_ratio``) -> depthwise kxk (carries the stride) -> (SE) -> linear 1x1 project."""

    def __init__(self, in_chs: int, out_chs: int, kernel_size: int = 3, stride: int = 1, exp_ratio: float = 6.0,
                 se_ratio: float = 0.0, act_layer: ActSpec = "relu6", norm_layer: NormLayer = nn.BatchNorm2d,
                 drop_path: float = 0.0):
        super().__init__()
        mid_chs = int(round(in_chs * exp_ratio))
        self.has_skip = stride == 1 and in_chs == out_chs
        self.conv_pw = ConvNormAct(in_chs, mid_chs, 1, act_layer=act_layer, norm_layer=norm_layer)
        self.conv_dw = ConvNormAct(mid_chs, mid_chs, kernel_size, stride, groups=mid_chs, act_layer=act_layer,
                                   norm_layer=norm_layer)
        self.se = mbconv_se(se_ratio, in_chs, mid_chs, act_layer)
        self.conv_pwl = ConvNormAct(mid_chs, out_chs, 1, apply_act=False, norm_layer=norm_layer)
        # Stochastic depth drops the residual branch, so it only exists where there is a shortcut.
        self.drop_path = DropPath(drop_path) if drop_path > 0 and self.has_skip else nn.Identity()

    def forward(self, x):
        out = self.conv_pwl(self.se(self.conv_dw(self.conv_pw(x))))
        return self.drop_path(out) + x if self.has_skip else out
