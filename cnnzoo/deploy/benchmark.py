"""The benchmark harness behind ``cnnzoo benchmark``: a cnnzoo model side by side with its timm / torchvision
counterpart (looked up in the converters' equivalence table), measured in one process.

Timing: every side is warmed up, then timed in rounds; each round runs every side for a few iterations, and
the order of the sides rotates from round to round, so drift of the machine (other jobs, thermal state) lands
on all sides alike. Latency is per batch; images/s is ``batch / median latency``.

Peak memory on the CPU cannot be measured fairly for several models inside one process (RSS only grows, and
the allocator keeps what one side freed for the next), so each side is measured once more in a fresh child
process: after the model, input and optimizer exist, the kernel's peak-RSS mark is reset (``/proc/self/
clear_refs``) and the reported figure is the peak RSS during its first steps minus the RSS before them, i.e.
activations, workspaces, gradients and optimizer state, without the weights. On CUDA it is
``max_memory_allocated`` minus the memory allocated before the steps, measured in process.
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from ..errors import InvalidArgumentError
from ..factory import count_macs, create_model
from ..hub.importers.convert import create_reference_model, equivalents, find_equivalent
from ..registry import get_model_spec, split_model_name_tag
from .optimize import optimize_for_inference

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
MODES = ("infer", "train")
LIBRARIES = ("timm", "torchvision")


@dataclass
class BenchConfig:
    model: str
    compare: str | None = "auto"  # "timm", "torchvision", "auto" (first in the table) or None (cnnzoo alone)
    mode: str = "infer"
    batch: int = 32
    img_size: int | None = None  # None: the model's default input size
    device: str = "cpu"
    channels_last: bool = False
    precision: str = "fp32"
    optimized: bool = False  # add a side: cnnzoo after optimize_for_inference
    compile: bool = False  # torch.compile the optimized side
    warmup: int = 3
    iters: int = 10  # timed iterations per side
    rounds: int = 5  # the timed iterations are split over this many interleaved rounds
    memory: bool = True
    threads: int | None = None

    def validate(self) -> None:
        checks = [
            (self.mode in MODES, f"mode must be one of {', '.join(MODES)}, got {self.mode!r}"),
            (self.precision in PRECISIONS, f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"),
            (self.compare in (None, "auto", *LIBRARIES),
             f"compare must be one of timm, torchvision, auto or none, got {self.compare!r}"),
            (self.device in ("cpu", "cuda") or self.device.startswith("cuda:"),
             f"device must be cpu or cuda, got {self.device!r}"),
            (isinstance(self.batch, int) and self.batch >= 1, f"batch must be an integer >= 1, got {self.batch!r}"),
            (self.img_size is None or self.img_size >= 8, f"img_size must be >= 8, got {self.img_size!r}"),
            (self.warmup >= 0 and self.iters >= 1 and self.rounds >= 1,
             f"need warmup >= 0, iters >= 1, rounds >= 1, got {self.warmup}, {self.iters}, {self.rounds}"),
            (not (self.optimized and self.mode == "train"),
             "--optimized folds BatchNorm into the convs, which is valid for inference only; use --mode infer"),
            (not (self.compile and not self.optimized), "--compile applies to the optimized side; add --optimized"),
        ]
        for ok, message in checks:
            if not ok:
                raise InvalidArgumentError(message)
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise InvalidArgumentError(f"device {self.device!r} requested but torch.cuda.is_available() is False")


@dataclass
class SideSpec:
    """How to build one side; plain data so a child process can rebuild it for the memory probe."""

    label: str  # "cnnzoo", "cnnzoo+opt", "timm", "torchvision"
    arch: str
    library: str | None = None  # None for cnnzoo
    name: str | None = None  # the other library's model name
    optimized: bool = False
    compile: bool = False


@dataclass
class SideResult:
    label: str
    model_name: str
    params: int
    gmacs: float
    latencies_ms: list[float] = field(default_factory=list)
    peak_memory_mb: float | None = None
    note: str = ""

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p90_ms(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]

    def images_per_s(self, batch: int) -> float:
        return batch / (self.median_ms / 1000.0)


@dataclass
class BenchResult:
    config: BenchConfig
    img_size: int
    sides: list[SideResult]
    machine: dict

    def side(self, label: str) -> SideResult | None:
        return next((s for s in self.sides if s.label == label), None)

    def ratio(self, label: str = "cnnzoo", other: str | None = None) -> float | None:
        """images/s of ``label`` divided by images/s of the other library's side (> 1: cnnzoo is faster)."""
        other_side = self.side(other) if other else next((s for s in self.sides if s.label in LIBRARIES), None)
        mine = self.side(label)
        if other_side is None or mine is None:
            return None
        return other_side.median_ms / mine.median_ms

    def to_dict(self) -> dict:
        b = self.config.batch
        return dict(
            config=asdict(self.config), img_size=self.img_size, machine=self.machine,
            sides=[dict(asdict(s), median_ms=s.median_ms, p90_ms=s.p90_ms, images_per_s=s.images_per_s(b))
                   for s in self.sides],
            ratios={s.label: self.ratio(s.label) for s in self.sides if s.label.startswith("cnnzoo")},
        )

    def format(self) -> str:
        c = self.config
        lines = [f"{c.model}  {c.mode}  batch {c.batch} at {self.img_size}px  {c.device}  {c.precision}"
                 f"{'  channels_last' if c.channels_last else ''}  threads {self.machine['torch_threads']}",
                 f"{'side':<12} {'model':<26} {'params':>8} {'GMACs':>7} {'img/s':>9} {'median ms':>10} "
                 f"{'p90 ms':>9} {'peak MB':>9}"]
        for s in self.sides:
            mem = f"{s.peak_memory_mb:9.0f}" if s.peak_memory_mb is not None else f"{'-':>9}"
            lines.append(f"{s.label:<12} {s.model_name:<26} {s.params / 1e6:7.2f}M {s.gmacs:7.3f} "
                         f"{s.images_per_s(c.batch):9.1f} {s.median_ms:10.2f} {s.p90_ms:9.2f} {mem}")
        for s in self.sides:
            r = self.ratio(s.label)
            if r is not None and s.label.startswith("cnnzoo"):
                other = next(o.label for o in self.sides if o.label in LIBRARIES)
                lines.append(f"{s.label} / {other}: {r:.2f}x images/s")
        for s in self.sides:
            if s.note:
                lines.append(f"{s.label}: {s.note}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------------
# building the sides
# --------------------------------------------------------------------------------------------------------------
def side_specs(cfg: BenchConfig) -> list[SideSpec]:
    arch = get_model_spec(split_model_name_tag(cfg.model)[0]).name
    specs = [SideSpec("cnnzoo", arch)]
    if cfg.optimized:
        specs.append(SideSpec("cnnzoo+opt", arch, optimized=True, compile=cfg.compile))
    if cfg.compare is not None:
        if cfg.compare == "auto":
            rows = equivalents(arch)
            eq = rows[0] if rows else None
        else:
            eq = find_equivalent(arch, cfg.compare)  # raises with the list of archs that have one
        if eq is not None:
            specs.append(SideSpec(eq.library, arch, library=eq.library, name=eq.name))
    return specs


def build_side(spec: SideSpec) -> tuple[nn.Module, str]:
    """(model, note) for one side; the note says what the optimisation folded."""
    if spec.library is not None:
        return create_reference_model(find_equivalent(spec.arch, spec.library)), ""

    model = create_model(spec.arch)
    if not spec.optimized:
        return model, ""

    model = optimize_for_inference(model, channels_last=True, compile=spec.compile, inplace=True)
    return model, str(model.fold_report) + (", torch.compile" if spec.compile else "")


def default_img_size(arch: str) -> int:
    return get_model_spec(arch).input_size[-1]


class Runner:
    """One side's step (a forward, or forward + backward + SGD step) on a fixed batch."""

    def __init__(self, model: nn.Module, spec: SideSpec, cfg: BenchConfig, img_size: int, in_chans: int = 3):
        device = torch.device(cfg.device)
        self.cfg, self.device = cfg, device
        channels_last = cfg.channels_last or spec.optimized
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        # Without --channels-last each model keeps the layout its library builds it in (cnnzoo: channels_last
        # weights; timm/torchvision: NCHW); the input is NCHW for both.
        self.model = model.to(device=device, memory_format=fmt) if channels_last else model.to(device)
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(cfg.batch, in_chans, img_size, img_size, generator=g).to(device, memory_format=fmt)
        self.num_classes = _num_classes(model)
        self.y = torch.randint(0, max(self.num_classes, 1), (cfg.batch,), generator=g).to(device)
        self.dtype = PRECISIONS[cfg.precision]
        if cfg.mode == "train":
            self.model.train()
            self.optimizer = torch.optim.SGD(self.model.parameters(), lr=1e-4, momentum=0.9)
        else:
            self.model.eval()

    def _autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def step(self) -> None:
        if self.cfg.mode == "infer":
            with torch.inference_mode(), self._autocast():
                self.model(self.x)
        else:
            with self._autocast():
                loss = nn.functional.cross_entropy(self.model(self.x).float(), self.y)
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def timed_step(self) -> float:
        start = time.perf_counter()
        self.step()
        return (time.perf_counter() - start) * 1000.0


def _num_classes(model: nn.Module) -> int:
    n = getattr(model, "num_classes", None)
    if isinstance(n, int):
        return n
    fc = getattr(model, "fc", None) or getattr(model, "classifier", None)
    return getattr(fc, "out_features", 1000)


def _count_gmacs(model: nn.Module, img_size: int, in_chans: int = 3) -> float:
    was_training = model.training
    macs = count_macs(model, (in_chans, img_size, img_size))
    model.train(was_training)
    return round(macs / 1e9, 3)


# --------------------------------------------------------------------------------------------------------------
# memory
# --------------------------------------------------------------------------------------------------------------
def _read_status_kb(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM (the peak RSS) to the current RSS
        return True
    except OSError:
        return False


def measure_cpu_memory_here(runner: Runner, steps: int = 3) -> float | None:
    """Peak RSS during ``steps`` steps minus RSS before them, in MB (Linux; None elsewhere)."""
    before = _read_status_kb("VmRSS")
    if before is None or not _reset_peak_rss():
        return None
    for _ in range(steps):
        runner.step()
    peak = _read_status_kb("VmHWM")
    return (peak - before) / 1024.0


def measure_cpu_memory_in_child(spec: SideSpec, cfg: BenchConfig, img_size: int) -> float | None:
    """Run the memory probe for one side in a fresh interpreter (see the module docstring)."""
    payload = json.dumps(dict(spec=asdict(spec), cfg=asdict(cfg), img_size=img_size))
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, "-m", "cnnzoo.deploy.benchmark", "--memory-probe", payload],
                          capture_output=True, text=True, env=env, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"memory probe for {spec.label} failed:\n{proc.stderr[-2000:]}")
    value = json.loads(proc.stdout.strip().splitlines()[-1])["peak_memory_mb"]
    return value


def measure_cuda_memory(runner: Runner, steps: int = 2) -> float:
    torch.cuda.synchronize(runner.device)
    base = torch.cuda.memory_allocated(runner.device)
    torch.cuda.reset_peak_memory_stats(runner.device)
    for _ in range(steps):
        runner.step()
    return (torch.cuda.max_memory_allocated(runner.device) - base) / 2 ** 20


def _memory_probe_main(payload: str) -> None:
    data = json.loads(payload)
    cfg = BenchConfig(**data["cfg"])
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    spec = SideSpec(**data["spec"])
    model, _ = build_side(spec)
    runner = Runner(model, spec, cfg, data["img_size"], getattr(model, "in_chans", 3))
    # No warm-up first: memory freed by a previous step stays resident in the allocator and would hide the
    # peak. The first step's one-off allocations (oneDNN primitives) are part of the real footprint.
    print(json.dumps(dict(peak_memory_mb=measure_cpu_memory_here(runner))))


# --------------------------------------------------------------------------------------------------------------
# the benchmark
# --------------------------------------------------------------------------------------------------------------
def machine_info() -> dict:
    import importlib.metadata as md

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass

    def version(pkg: str) -> str:
        try:
            return md.version(pkg)
        except md.PackageNotFoundError:
            return "not installed"

    return dict(cpu=cpu, logical_cores=os.cpu_count(), torch_threads=torch.get_num_threads(),
                python=platform.python_version(), platform=platform.platform(),
                cuda=torch.cuda.get_device_name() if torch.cuda.is_available() else None,
                torch=torch.__version__, torchvision=version("torchvision"), timm=version("timm"),
                cnnzoo=version("cnnzoo"), date=time.strftime("%Y-%m-%d %H:%M %Z"))


def run_benchmark(cfg: BenchConfig, progress=None) -> BenchResult:
    """Build every side, count parameters and MACs, warm up, time interleaved rounds, then measure memory."""
    cfg.validate()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    say = progress or (lambda msg: None)
    specs = side_specs(cfg)
    img_size = cfg.img_size or default_img_size(specs[0].arch)
    sides, runners = [], []
    for spec in specs:
        say(f"building {spec.label}")
        model, note = build_side(spec)
        in_chans = getattr(model, "in_chans", 3)
        gmacs = _count_gmacs(model, img_size, in_chans) if not spec.compile else float("nan")
        params = sum(p.numel() for p in model.parameters())
        sides.append(SideResult(spec.label, spec.name or spec.arch, params, gmacs, note=note))
        runners.append(Runner(model, spec, cfg, img_size, in_chans))
    if any(s.compile for s in specs):  # compiled module: MACs of the uncompiled twin, same network
        twin = next(i for i, s in enumerate(specs) if s.label == "cnnzoo")
        for s, spec in zip(sides, specs):
            if spec.compile:
                s.gmacs = sides[twin].gmacs
    say(f"warm-up: {cfg.warmup} steps per side")
    for runner in runners:
        for _ in range(cfg.warmup):
            runner.step()
    per_round = [cfg.iters // cfg.rounds + (1 if r < cfg.iters % cfg.rounds else 0) for r in range(cfg.rounds)]
    for r, n in enumerate(per_round):
        order = list(range(len(runners)))
        order = order[r % len(order):] + order[: r % len(order)]  # rotate who goes first
        for i in order:
            sides[i].latencies_ms.extend(runners[i].timed_step() for _ in range(n))
        say(f"round {r + 1}/{cfg.rounds}")
    if cfg.memory:
        for side, spec, runner in zip(sides, specs, runners):
            say(f"memory: {spec.label}")
            if runner.device.type == "cuda":
                side.peak_memory_mb = measure_cuda_memory(runner)
            else:
                side.peak_memory_mb = measure_cpu_memory_in_child(spec, cfg, img_size)
    return BenchResult(cfg, img_size, sides, machine_info())


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--memory-probe":
        _memory_probe_main(sys.argv[2])
    else:
        print("use `cnnzoo benchmark MODEL ...`; this entry point only runs the memory probe", file=sys.stderr)
        sys.exit(2)
