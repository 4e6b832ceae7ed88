"""Dense blocks (Huang et al. 2017): every layer reads the concatenation of all earlier feature maps of its block.

``DenseLayer``  BN-act-1x1 (to ``bn_size * k``) -> BN-act-3x3 (to the growth rate ``k``), or BN-act-3x3 alone
                without the bottleneck (the original DenseNet-40).
``DenseBlock``  ``n`` layers; outputs the input and every layer's ``k`` new channels, concatenated.
``Transition``  BN-act-1x1 (compression) -> 2x2 average pool.

Memory-efficient mode (Pleiss et al. 2017, gpleiss/efficient_densenet_pytorch): the concatenation and the
BN-act-conv that reads it are the part whose saved activations grow quadratically with depth (every layer would
keep its own copy of the concatenation and of its normalised version). With ``memory_efficient=True`` that part
runs under ``torch.utils.checkpoint``: only the layer inputs (which the block keeps anyway) and the narrow conv
output are stored, and the concatenation + BN-act are recomputed in the backward pass. Gradients are the same
as in the plain mode; the recomputation does not update the BN running statistics a second time.
"""
from __future__ import annotations

import contextlib
from typing import List

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from .activations import ActSpec
from .conv_norm_act import NormAct


class DenseLayer(nn.Module):
    """One dense layer. ``forward`` takes the list of the block's feature maps so far and returns ``k`` new ones.

    ``norm1``/``conv1`` read the concatenation (1x1 bottleneck, or the 3x3 conv when ``bn_size`` is 0/None);
    ``norm2``/``conv2`` (bottleneck only) are the 3x3 conv to ``growth_rate`` channels.
    """

    def __init__(self, in_chs: int, growth_rate: int, bn_size: int | None = 4, act_layer: ActSpec = "relu",
                 drop_rate: float = 0.0, memory_efficient: bool = False):
        super().__init__()
        self.bottleneck = bool(bn_size)
        first_out = bn_size * growth_rate if self.bottleneck else growth_rate
        self.norm1 = NormAct(in_chs, act_layer)
        self.conv1 = nn.Conv2d(in_chs, first_out, 1 if self.bottleneck else 3, 1, 0 if self.bottleneck else 1,
                               bias=False)
        if self.bottleneck:
            self.norm2 = NormAct(first_out, act_layer)
            self.conv2 = nn.Conv2d(first_out, growth_rate, 3, 1, 1, bias=False)
        self.drop_rate = drop_rate
        self.memory_efficient = memory_efficient
        self._recomputing = False

    def _norm1(self, x: torch.Tensor) -> torch.Tensor:
        bn = self.norm1.bn
        if self._recomputing and bn.training and bn.track_running_stats:
            # The same op as the first pass (so autograd saves the same tensors), but the running estimates it
            # updates are throwaway copies: the recomputation must not count the batch twice.
            x = F.batch_norm(x, bn.running_mean.clone(), bn.running_var.clone(), bn.weight, bn.bias, True,
                             0.0, bn.eps)
        else:
            x = bn(x)
        return self.norm1.act(x)

    def _concat_norm_conv(self, *features: torch.Tensor) -> torch.Tensor:
        return self.conv1(self._norm1(torch.cat(features, 1)))

    @contextlib.contextmanager
    def _recompute_context(self):
        self._recomputing = True
        try:
            yield
        finally:
            self._recomputing = False

    @torch.jit.unused
    def _eager_concat_norm_conv(self, features: List[torch.Tensor]) -> torch.Tensor:
        if self.memory_efficient and torch.is_grad_enabled() and any(f.requires_grad for f in features):
            return checkpoint(self._concat_norm_conv, *features, use_reentrant=False,
                              context_fn=lambda: (contextlib.nullcontext(), self._recompute_context()))
        return self._concat_norm_conv(*features)

    def forward(self, features: List[torch.Tensor]) -> torch.Tensor:
        if torch.jit.is_scripting():  # TorchScript: no checkpointing (it is a training-time memory saving)
            out = self.conv1(self.norm1(torch.cat(features, 1)))
        else:
            out = self._eager_concat_norm_conv(features)
        if self.bottleneck:
            out = self.conv2(self.norm2(out))
        if self.drop_rate > 0:
            out = F.dropout(out, self.drop_rate, self.training)
        return out

    def extra_repr(self) -> str:
        return f"memory_efficient={self.memory_efficient}"


class DenseBlock(nn.Module):
    """``num_layers`` dense layers; the output has ``in_chs + num_layers * growth_rate`` channels."""

    def __init__(self, num_layers: int, in_chs: int, growth_rate: int, bn_size: int | None = 4,
                 act_layer: ActSpec = "relu", drop_rate: float = 0.0, memory_efficient: bool = False):
        super().__init__()
        self.layers = nn.ModuleList(
            DenseLayer(in_chs + i * growth_rate, growth_rate, bn_size, act_layer, drop_rate, memory_efficient)
            for i in range(num_layers)
        )
        self.out_chs = in_chs + num_layers * growth_rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.layers:
            features.append(layer(features))
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    """BN-act-1x1 conv to ``out_chs`` (``out_chs < in_chs`` is DenseNet-BC's compression) -> 2x2 average pool.

    The pool rounds down on odd sizes, as torchvision's and timm's DenseNets do (so their weights give the same
    logits at every input size).
    """

    def __init__(self, in_chs: int, out_chs: int, act_layer: ActSpec = "relu"):
        super().__init__()
        self.norm = NormAct(in_chs, act_layer)
        self.conv = nn.Conv2d(in_chs, out_chs, 1, bias=False)
        self.pool = nn.AvgPool2d(2, 2)


def set_memory_efficient(model: nn.Module, enabled: bool = True) -> nn.Module:
    """Switch every dense layer of ``model`` to (or from) the checkpointed memory-efficient mode."""
    for m in model.modules():
        if isinstance(m, DenseLayer):
            m.memory_efficient = enabled
    return model


__all__ = ["DenseLayer", "DenseBlock", "Transition", "set_memory_efficient"]
