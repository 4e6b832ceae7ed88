"""Startup cost: wall time of fresh interpreters doing `import cnnzoo`, `cnnzoo list`, and, beside them,
`import torch`, `import timm` and `import torchvision`.

Every command runs in a new process (so nothing is cached in the interpreter; the OS file cache is warm after
the first round, which is the state a user sees on the second run), in interleaved rounds; the median is
reported. It also checks that `import cnnzoo` loads none of the heavy optional modules.

    python benchmarks/startup.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import torch": [sys.executable, "-c", "import torch"],
    "import cnnzoo": [sys.executable, "-c", "import cnnzoo"],
    "cnnzoo list": [sys.executable, "-m", "cnnzoo.cli", "list"],
    "import timm": [sys.executable, "-c", "import timm"],
    "import torchvision": [sys.executable, "-c", "import torchvision"],
}
HEAVY = ["timm", "torchvision", "matplotlib", "huggingface_hub", "onnx", "onnxruntime"]


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def heavy_modules_after_import() -> list[str]:
    code = f"import sys, cnnzoo; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()
    return [m for m in out.split(",") if m]


def measure(repeats: int = 7) -> dict[str, float]:
    """Median seconds per command over ``repeats`` interleaved rounds (after one untimed round)."""
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for cmd in COMMANDS.values():  # warm the file cache
        _time(cmd)
    for _ in range(repeats):
        for name, cmd in COMMANDS.items():
            times[name].append(_time(cmd))
    return {name: statistics.median(ts) for name, ts in times.items()}


def markdown(medians: dict[str, float], repeats: int) -> str:
    base = medians["import torch"]
    lines = ["| command | median wall time (s) | beyond `import torch` (s) |", "|---|---:|---:|"]
    for name, t in medians.items():
        extra = f"{t - base:+.2f}" if name not in ("python -c pass", "import torch") else ""
        lines.append(f"| `{name}` | {t:.2f} | {extra} |")
    heavy = heavy_modules_after_import()
    lines.append("")
    lines.append(f"Median of {repeats} fresh interpreters per command, interleaved. Heavy optional modules loaded "
                 f"by `import cnnzoo`: {', '.join(heavy) if heavy else 'none'} (checked: {', '.join(HEAVY)}).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    print(markdown(measure(args.repeats), args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
