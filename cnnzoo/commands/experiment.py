"""cnnzoo experiment CONFIG.yaml [--out DIR] [--force] [--retry-failed] [--report-only] [--page PATH]
   cnnzoo experiment report DIR [--page PATH]"""
from __future__ import annotations

import shlex
import sys
from pathlib import Path


def add_arguments(p) -> None:
    p.add_argument("config", metavar="CONFIG|report",
                   help="grid YAML (a path or a shipped name such as activations_cifar10), or `report`")
    p.add_argument("folder", nargs="?", metavar="DIR", help="with `report`: the results folder")
    p.add_argument("--out", help="results folder (default runs/<experiment name>)")
    p.add_argument("--force", action="store_true",
                   help="adopt a results folder written by a different config (changed runs are moved aside)")
    p.add_argument("--retry-failed", action="store_true", help="train again the runs that failed (non-finite loss)")
    p.add_argument("--report-only", action="store_true", help="regenerate plots and tables; train nothing")
    p.add_argument("--page", help="also write the report as this Markdown page (figures copied to its img/)")


def run(args) -> int:
    from cnnzoo.errors import ConfigError
    from cnnzoo.experiment import load_spec, run_experiment, write_report

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
            command = " ".join(shlex.quote(a) for a in ["cnnzoo", *sys.argv[1:]]) if sys.argv[1:] else ""
            actions = run_experiment(spec, out, force=args.force, retry_failed=args.retry_failed, command=command)
            counts = {a: sum(x == a for _, x in actions) for a in dict.fromkeys(x for _, x in actions)}
            print("grid: " + ", ".join(f"{n} {a}" for a, n in counts.items()))
    written = write_report(out, page=args.page)
    for key, path in written.items():
        print(f"{key}: {path}")
    return 0
