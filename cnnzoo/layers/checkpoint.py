"""Activation (gradient) checkpointing of one block, as ``set_grad_checkpointing()`` applies it to every block.

The block's activations are not kept for the backward pass; it runs a second time there instead. That second run
must not count the batch twice in the BatchNorm running statistics, so they are restored after it: a
checkpointed model ends a training step with the same statistics, outputs and gradients as a plain one (dropout
and drop-path draw the same masks: the RNG state is replayed).
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

_BatchNorm = nn.modules.batchnorm._BatchNorm


@contextlib.contextmanager
def bn_statistics_kept(module: nn.Module) -> Iterator[None]:
    """Restore the running statistics of every training-mode BatchNorm inside ``module`` on exit."""
    saved = [(m, [b.clone() for b in (m.running_mean, m.running_var, m.num_batches_tracked)])
             for m in module.modules()
             if isinstance(m, _BatchNorm) and m.training and m.running_mean is not None]
    try:
        yield
    finally:
        with torch.no_grad():
            for m, (mean, var, count) in saved:
                m.running_mean.copy_(mean)
                m.running_var.copy_(var)
                m.num_batches_tracked.copy_(count)


def checkpoint_block(block: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``block(x)`` without storing its activations (recomputed in the backward pass)."""
    if not torch.is_grad_enabled():
        return block(x)
    return checkpoint(block, x, use_reentrant=False,
                      context_fn=lambda: (contextlib.nullcontext(), bn_statistics_kept(block)))
