"""torch.jit.script, torch.export and torch.compile (inductor) on the smallest model of every family: does each
work, and how far are its outputs from eager (max abs difference, eval mode, one image at the model's input size).
Each family runs in a fresh process: a failed torch.jit.script leaves TorchScript's type cache in a state that
fails later, unrelated scripts.

    OMP_NUM_THREADS=1 python docs/scripts/compile_export_check.py [--families resnet densenet] > table.md
"""
import argparse
import subprocess
import sys
import time

import torch

import cnnzoo
from cnnzoo.factory import build_on_meta, count_params


def smallest(family: str) -> str:
    return min(cnnzoo.list_models(family=family), key=lambda n: count_params(build_on_meta(n)))


def attempt(make, expected: torch.Tensor, x: torch.Tensor) -> str:
    start = time.perf_counter()
    try:
        with torch.no_grad():
            got = make()(x)
    except Exception as exc:  # noqa: BLE001  (the table reports it)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"fails: {type(exc).__name__}: {first[:120]}"
    return f"{(got - expected).abs().max().item():.1e} ({time.perf_counter() - start:.0f} s)"


def row(family: str) -> str:
    name = smallest(family)
    spec = cnnzoo.registry.get_model_spec(name)
    torch.manual_seed(0)
    model = cnnzoo.create_model(name).eval()
    x = torch.randn(1, *spec.input_size)
    with torch.no_grad():
        expected = model(x)
    cells = [attempt(lambda: torch.jit.script(model), expected, x),
             attempt(lambda: torch.export.export(model, (x,)).module(), expected, x),
             attempt(lambda: torch.compile(model), expected, x)]
    return f"| {family} | {name} | {spec.input_size[-1]} px | " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=cnnzoo.list_families())
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child process: print one family's row
    args = parser.parse_args()
    if args.one:
        print(row(args.one))
        return
    print("| family | model | input | torch.jit.script | torch.export | torch.compile (inductor) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for family in args.families:
        done = subprocess.run([sys.executable, __file__, "--one", family], capture_output=True, text=True)
        lines = done.stdout.strip().splitlines()
        print(lines[-1] if lines else f"| {family} | ? | ? | crashed: {done.stderr.strip()[-120:]} | | |", flush=True)


if __name__ == "__main__":
    main()
