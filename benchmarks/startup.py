"""Startup cost: wall time of fresh interpreters doing `import cnnzoo`, `cnnzoo list`, and, beside them,
`import torch`, `import timm` and `import torchvision`.

Every command runs in a new process (so nothing is cached in the interpreter; the OS file cache is warm after
the first round, which is the state a user sees on the second run), in interleaved rounds; the median is
reported. It also checks that `import cnnzoo` loads none of the heavy optional modules.

    python benchmarks/startup.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import functools
import subprocess
import sys

from harness import interleave, markdown_table, write_report

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import torch": [sys.executable, "-c", "import torch"],
    "import cnnzoo": [sys.executable, "-c", "import cnnzoo"],
    "cnnzoo list": [sys.executable, "-m", "cnnzoo.cli", "list"],
    "import timm": [sys.executable, "-c", "import timm"],
    "import torchvision": [sys.executable, "-c", "import torchvision"],
}
HEAVY = ["timm", "torchvision", "matplotlib", "huggingface_hub", "onnx", "onnxruntime"]
UNCOMPARED = ("python -c pass", "import torch")  # the baselines themselves: nothing "beyond import torch"


def heavy_modules_after_import() -> list[str]:
    code = f"import sys, cnnzoo; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()
    return [m for m in out.split(",") if m]


def measure(repeats: int = 7) -> dict[str, float]:
    """Median seconds per command over ``repeats`` interleaved rounds (after one untimed round)."""
    sides = {name: functools.partial(subprocess.run, cmd, check=True, stdout=subprocess.DEVNULL)
             for name, cmd in COMMANDS.items()}
    return interleave(sides, repeats, warmup=1).medians  # the untimed round warms the OS file cache


def markdown(medians: dict[str, float], repeats: int) -> str:
    base = medians["import torch"]
    rows = [(f"`{name}`", f"{t:.2f}", "" if name in UNCOMPARED else f"{t - base:+.2f}") for name, t in medians.items()]
    heavy = heavy_modules_after_import()
    return "\n".join([
        *markdown_table(["command", "median wall time (s)", "beyond `import torch` (s)"], rows, "lrr"), "",
        f"Median of {repeats} fresh interpreters per command, interleaved. Heavy optional modules loaded by "
        f"`import cnnzoo`: {', '.join(heavy) if heavy else 'none'} (checked: {', '.join(HEAVY)})."])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", help="also write the table to this markdown file (default: print it only)")
    args = parser.parse_args(argv)
    text = markdown(measure(args.repeats), args.repeats)
    print(text)
    if args.out:
        write_report(args.out, text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
