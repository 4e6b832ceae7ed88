"""cnnzoo experiment CONFIG.yaml [--out DIR] [--jobs N] [--force] [--retry-failed] [--report-only] [--page PATH]
   cnnzoo experiment report DIR [--page PATH]"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path


def add_arguments(p) -> None:
    p.add_argument("config", metavar="CONFIG|report",
                   help="grid YAML (a path or a shipped name such as activations_cifar10), or `report`")
    p.add_argument("folder", nargs="?", metavar="DIR", help="with `report`: the results folder (default: none)")
    p.add_argument("--out", help="results folder (default runs/<experiment name>)")
    p.add_argument("--force", action="store_true",
                   help="adopt a results folder written by a different config (changed runs are moved aside)")
    p.add_argument("--retry-failed", action="store_true", help="train again the runs that failed (non-finite loss)")
    p.add_argument("--report-only", action="store_true", help="regenerate plots and tables; train nothing")
    p.add_argument("--page", help="also write the report as this Markdown page (figures copied to its img/) "
                                  "(default: no page)")
    p.add_argument("--jobs", type=int, default=1,
                   help="train N cells at a time in N processes, each with cores/N torch threads (on a small CPU "
                        "several one-thread runs outpace one run on all cores: docs/training.md)")
    p.add_argument("--shard", default="1/1", metavar="K/N",
                   help="train only cells K, K+N, K+2N, ... (what each of the --jobs processes does)")
    p.add_argument("--threads", type=int, help="torch threads of every run (default: the grid's)")
    p.add_argument("--order", default="grid", choices=("grid", "seed"),
                   help="grid: the grid's order; seed: every cell's first seed before any second one, so a grid "
                        "carried on over many sessions gives a one-seed picture of every cell first")


def run(args) -> int:
    from cnnzoo.errors import ConfigError
    from cnnzoo.experiment import load_spec, run_experiment, write_report
    from cnnzoo.experiment.runner import parse_shard

    if args.config == "report":
        if not args.folder:
            raise ConfigError("usage: cnnzoo experiment report DIR [--page PATH]")
        out = Path(args.folder)
    else:
        if args.folder:
            raise ConfigError(f"unexpected argument {args.folder!r}; the results folder is given with --out")
        spec = load_spec(args.config)
        out = Path(args.out or Path("runs") / spec.name)
        if not args.report_only:
            if args.jobs < 1:
                raise ConfigError(f"--jobs must be >= 1, got {args.jobs}")
            command = " ".join(shlex.quote(a) for a in ["cnnzoo", *sys.argv[1:]]) if sys.argv[1:] else ""
            if args.jobs > 1:
                code = _run_jobs(args, spec, out, command)
                if code:
                    return code
            else:
                shard = parse_shard(args.shard)
                actions = run_experiment(spec, out, force=args.force, retry_failed=args.retry_failed,
                                         command=command if shard == (1, 1) else "", shard=shard,
                                         threads=args.threads, order=args.order)
                counts = {a: sum(x == a for _, x in actions) for a in dict.fromkeys(x for _, x in actions)}
                print("grid: " + ", ".join(f"{n} {a}" for a, n in counts.items()))
                if shard != (1, 1):
                    return 0  # the process that started the shards writes the report
    written = write_report(out, page=args.page)
    for key, path in written.items():
        print(f"{key}: {path}")
    return 0


def _run_jobs(args, spec, out: Path, command: str) -> int:
    """Prepare the folder once, then train the grid in ``--jobs`` shard processes and wait for all of them."""
    from cnnzoo.experiment.runner import prepare_folder

    prepare_folder(spec, out, args.force, command)
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    base = [sys.executable, "-m", "cnnzoo.cli", "experiment", args.config, "--out", str(out),
            "--threads", str(threads), "--order", args.order] + (["--retry-failed"] if args.retry_failed else [])
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    children = [subprocess.Popen([*base, "--shard", f"{k}/{args.jobs}"], env=env) for k in range(1, args.jobs + 1)]
    codes = [child.wait() for child in children]
    failed = [f"{k}/{args.jobs} (exit {c})" for k, c in enumerate(codes, 1) if c]
    if failed:
        print(f"cnnzoo experiment: shard(s) {', '.join(failed)} stopped; rerun the same command to continue",
              file=sys.stderr)
        return max(codes)
    return 0
