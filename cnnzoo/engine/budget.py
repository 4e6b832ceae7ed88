"""Fit a run into a wall-time budget: measure the training step, then choose the number of epochs.

The schedule (cosine or one-cycle) needs its length up front, so a run with ``time_budget_s`` times a few steps
of a throw-away copy of the model on the real batches before it starts (under the same sharing of the device as
the real run: runs started together by one launcher wait for each other first), and keeps ``epochs`` as an
upper bound. The RNG states are restored afterwards, so the run itself is the one ``epochs=N`` would give.
"""
from __future__ import annotations

import copy
import math
import os
import time
from pathlib import Path

import torch
from torch import nn

from .checkpoint import rng_state, set_rng_state

PEERS_ENV = "CNNZOO_BUDGET_PEERS"  # "<folder>:<n>": wait until n runs have reached their probe
SAFETY = 0.9  # leave a tenth of the budget for what the probe cannot see (plots, checkpoints, stragglers)


def wait_for_peers(spec: str | None = None, timeout_s: float = 300.0) -> None:
    """Runs launched together probe together, so each measures the device as shared for the whole run."""
    spec = spec if spec is not None else os.environ.get(PEERS_ENV)
    if not spec:
        return
    folder, _, count = spec.rpartition(":")
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / f"{os.getpid()}.ready").touch()
    deadline = time.monotonic() + timeout_s
    while len(list(Path(folder).glob("*.ready"))) < int(count) and time.monotonic() < deadline:
        time.sleep(0.2)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def seconds_per_step(model: nn.Module, loader, precision, criterion, steps: int = 10, warmup: int = 3) -> float:
    """Mean time of a training step (forward, backward, SGD) on ``loader``'s batches."""
    probe = copy.deepcopy(model).train()
    optimizer = torch.optim.SGD(probe.parameters(), lr=0.0, momentum=0.9)
    saved = rng_state()
    batches = iter(loader)
    try:
        for i in range(warmup + steps):
            if i == warmup:
                _sync(precision.device)
                start = time.perf_counter()
            try:
                x, y = next(batches)
            except StopIteration:
                batches = iter(loader)
                x, y = next(batches)
            x = x.contiguous(memory_format=precision.memory_format())
            with precision.autocast():
                loss = criterion(probe(x).float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        _sync(precision.device)
        return (time.perf_counter() - start) / steps
    finally:
        set_rng_state(saved)
        del probe, optimizer


def epochs_for_budget(budget_s: float, step_s: float, train_batches: int, eval_batches_per_epoch: int,
                      final_eval_batches: int, max_epochs: int) -> int:
    """Whole epochs that fit ``budget_s``: training steps, per-epoch validation (an eval batch costs about a
    third of a training step) and ~1 s of logging per epoch, after the final evaluation; at least 1."""
    epoch_s = train_batches * step_s + eval_batches_per_epoch * step_s / 3 + 1.0
    fixed_s = final_eval_batches * step_s / 3 + 5.0
    return max(1, min(max_epochs, math.floor((budget_s * SAFETY - fixed_s) / epoch_s)))
