"""Peak memory of one training step with and without ``model.set_grad_checkpointing()``, one model per family.

Each measurement runs in a fresh process: build the model and a batch, note the resident memory, run one
forward + backward, and report the peak resident memory above that point (``ru_maxrss``; large tensors are
mmap-ed, so freed activations leave the resident set; ``MALLOC_MMAP_THRESHOLD_`` keeps glibc from moving that
threshold up, which would keep freed buffers resident and blur the figure). On a GPU it reports ``torch.cuda.max_memory_allocated``
instead. The plain and checkpointed steps also return the same loss, which is printed as a check.

    OMP_NUM_THREADS=1 python docs/scripts/grad_checkpointing_memory.py [--models resnet50 densenet121] [--batch 8]
"""
import argparse
import json
import os
import resource
import subprocess
import sys

import torch

import cnnzoo

MODELS = ("resnet50", "seresnext26_32x4d", "res2net50_26w_4s", "densenet121", "dpn68b", "mobilenetv2_100",
          "efficientnet_b0", "resnet56", "preact_resnet56", "densenet_bc_52_k12", "dpn29")


def _rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() // 1024


def one_step(name: str, batch: int, checkpointing: bool, device: str) -> dict:
    torch.manual_seed(0)
    model = cnnzoo.create_model(name).train().to(device)
    model.set_grad_checkpointing(checkpointing)
    size = model.pretrained_cfg["input_size"]
    x = torch.randn(batch, *size, device=device)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = _rss_kib() * 1024
    loss = model(x).logsumexp(1).mean()
    loss.backward()
    if device == "cuda":
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated()
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return dict(model=name, batch=batch, input_size=list(size), checkpointing=checkpointing, device=device,
                peak_mib=round((peak - base) / 2 ** 20, 1), loss=loss.item())


def measure(name: str, batch: int, checkpointing: bool, device: str) -> dict:
    code = (f"import json, sys; sys.path.insert(0, {sys.path[0]!r}); import grad_checkpointing_memory as g; "
            f"print(json.dumps(g.one_step({name!r}, {batch}, {checkpointing}, {device!r})))")
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--batch", type=int, default=8, help="batch of ImageNet-size models (CIFAR-size: 16x)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    print(f"| model | input | batch | peak MiB plain | peak MiB checkpointed | ratio | same loss |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for name in args.models:
        spec = cnnzoo.registry.get_model_spec(name)
        batch = args.batch * (16 if spec.size == "cifar" else 1)
        plain, saved = (measure(name, batch, flag, args.device) for flag in (False, True))
        print(f"| {name} | {spec.input_size[-1]} px | {batch} | {plain['peak_mib']} | {saved['peak_mib']} | "
              f"{saved['peak_mib'] / plain['peak_mib']:.2f} | {plain['loss'] == saved['loss']} |", flush=True)


if __name__ == "__main__":
    main()
