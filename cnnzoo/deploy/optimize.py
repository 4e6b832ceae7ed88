"""Inference optimisation: fold BatchNorm into the preceding convolution, channels_last, torch.compile.

Which BatchNorm can be folded is decided from the data flow of one eval-mode forward pass, not from module
names, so every family (ConvNormAct blocks, pre-activation blocks, dense and dual-path blocks) is handled by the
same rule: a BatchNorm2d folds into a Conv2d when the conv's output feeds that BatchNorm and nothing else. The
autograd graph of the pass records exactly that (a conv node with a single consumer, the BN node).

What cannot fold: a BatchNorm that reads a residual sum or a concatenation (the first BN-act of a
pre-activation block, the closing BN-act of PreAct-ResNet/WRN/DenseNet/DPN, every BN of a DenseNet layer that
reads the concatenated features), and a BN whose conv output is also used elsewhere (the stem conv of a
pre-activation CIFAR net feeds both the first BN and the identity shortcut). Folding a BN into the *following*
conv is not done: there is always an activation between them, and zero padding would break it anyway. These
BNs stay as they are (an eval-mode BN is a per-channel affine op).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
from torch import nn

from ..errors import InvalidArgumentError


@dataclass
class FoldReport:
    """The (conv, bn) module names that were folded and the BatchNorms left in place."""

    folded: list[tuple[str, str]] = field(default_factory=list)
    unfolded: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        total = len(self.folded) + len(self.unfolded)
        return f"folded {len(self.folded)} of {total} BatchNorm layers into the preceding conv"


def _probe_input(model: nn.Module) -> torch.Tensor:
    """A small input every cnnzoo model accepts: twice its total stride, at least 32 px."""
    in_chans = getattr(model, "in_chans", 3)
    info = getattr(model, "feature_info", None) or [{"reduction": 32}]
    size = max(32, 2 * max(f["reduction"] for f in info))
    param = next(model.parameters())
    return torch.randn(1, in_chans, size, size, device=param.device, dtype=param.dtype)


def _output_nodes(out) -> list:
    if isinstance(out, torch.Tensor):
        return [out.grad_fn] if out.grad_fn is not None else []
    if isinstance(out, (list, tuple)):
        return [n for o in out for n in _output_nodes(o)]
    if isinstance(out, dict):
        return [n for o in out.values() for n in _output_nodes(o)]
    return []


def _consumers(roots: list) -> dict:
    """For every autograd node reachable from ``roots``: the list of nodes that take its output as input."""
    users: dict = {}
    seen, stack = set(), list(roots)
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        for child, _ in node.next_functions:
            if child is not None:
                users.setdefault(child, []).append(node)
                stack.append(child)
    return users


def find_foldable(model: nn.Module, example: torch.Tensor | None = None) -> FoldReport:
    """Trace one eval-mode forward and pair each BatchNorm2d with the Conv2d that alone feeds it."""
    names = {}
    for name, m in model.named_modules(remove_duplicate=False):
        names.setdefault(m, name)
    calls: dict[nn.Module, list] = {}  # module -> autograd node of each call's output

    def record(module, _inp, out):
        calls.setdefault(module, []).append(out.grad_fn if isinstance(out, torch.Tensor) else None)

    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    bn_inputs: dict[nn.Module, list] = {}

    def record_bn_input(module, inp):
        bn_inputs.setdefault(module, []).append(inp[0].grad_fn)

    hooks = [m.register_forward_hook(record) for m in convs + bns]
    hooks += [m.register_forward_pre_hook(record_bn_input) for m in bns]
    was_training = model.training
    model.eval()
    try:
        x = _probe_input(model) if example is None else example
        with torch.inference_mode(False), torch.enable_grad():
            out = model(x.detach().clone().requires_grad_(True))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)

    users = _consumers(_output_nodes(out))
    conv_of_node = {nodes[0]: conv for conv, nodes in calls.items() if conv in convs and len(nodes) == 1}
    report = FoldReport()
    for bn in bns:
        conv = None
        if len(calls.get(bn, [])) == 1 and len(bn_inputs.get(bn, [])) == 1 and bn.track_running_stats:
            producer = bn_inputs[bn][0]
            candidate = conv_of_node.get(producer)
            # The conv's output must feed this BN and nothing else (not a shortcut, not a concat).
            if candidate is not None and users.get(producer) == [calls[bn][0]]:
                conv = candidate
        if conv is not None and conv.out_channels == bn.num_features:
            report.folded.append((names[conv], names[bn]))
        elif bn in calls:  # BNs never called (e.g. in an unused branch) are not reported
            report.unfolded.append(names[bn])
    return report


@torch.no_grad()
def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """Rewrite ``conv`` in place so that ``conv(x)`` equals ``bn(conv(x))`` in eval mode (computed in float64)."""
    w = conv.weight.double()
    b = conv.bias.double() if conv.bias is not None else torch.zeros(conv.out_channels, dtype=torch.float64,
                                                                          device=w.device)
    scale = (bn.running_var.double() + bn.eps).rsqrt()
    if bn.weight is not None:
        scale = scale * bn.weight.double()
    shift = -bn.running_mean.double() * scale
    if bn.bias is not None:
        shift = shift + bn.bias.double()
    conv.weight.copy_((w * scale.view(-1, 1, 1, 1)).to(conv.weight.dtype))
    new_bias = (b * scale + shift).to(conv.weight.dtype)
    if conv.bias is None:
        conv.bias = nn.Parameter(new_bias, requires_grad=conv.weight.requires_grad)
    else:
        conv.bias.copy_(new_bias)


def _set_module(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)


def fold_batchnorm(model: nn.Module, example: torch.Tensor | None = None) -> FoldReport:
    """Fold every foldable BatchNorm2d into its conv (in place) and replace it by ``nn.Identity``."""
    report = find_foldable(model, example)
    for conv_name, bn_name in report.folded:
        fold_conv_bn(model.get_submodule(conv_name), model.get_submodule(bn_name))
        _set_module(model, bn_name, nn.Identity())
    return report


def optimize_for_inference(model: nn.Module, channels_last: bool = True, compile: bool = False,
                           fold_bn: bool = True, inplace: bool = False,
                           example: torch.Tensor | None = None) -> nn.Module:
    """An eval-mode copy of ``model`` with BatchNorm folded, in channels_last, optionally ``torch.compile``d.

    The result computes the same logits (to float rounding); it is for inference only: the folded convs no
    longer have a BatchNorm to train. ``model.fold_report`` says which BNs were folded and which could not be.
    ``inplace=True`` rewrites ``model`` itself instead of a copy.
    """
    if not isinstance(model, nn.Module):
        raise InvalidArgumentError(f"optimize_for_inference expects a torch.nn.Module, got {type(model).__name__}")
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    report = fold_batchnorm(model, example) if fold_bn else FoldReport()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    for p in model.parameters():  # an inference model: no autograd bookkeeping
        p.requires_grad_(False)
    model.fold_report = report
    if compile:
        compiled = torch.compile(model)
        compiled.fold_report = report
        return compiled
    return model
