"""cnnzoo dev register RUN_DIR --tag TAG --recipe FILE: publish a finished run into weights/ and the index."""
from __future__ import annotations

import json
from pathlib import Path

from ..engine.evaluate import evaluate_weight_file
from ..hub.index.schema import STORAGE_DTYPES
from ..hub.publishing.register_run import register_run


def add_arguments(p) -> None:
    p.add_argument("run_dir", help="a finished `cnnzoo train` run directory (summary.json, model.safetensors)")
    p.add_argument("--tag", required=True, help="(required) weight tag, e.g. cifar10 (the weight becomes ARCH.TAG)")
    p.add_argument("--recipe", required=True, help="(required) the committed recipe the run used (path in the repository)")
    p.add_argument("--weights-dir", default="weights", help="where published files live (default: weights)")
    p.add_argument("--docs-dir", default="docs/weights", help="where curves and logs go (default: docs/weights)")
    p.add_argument("--data", help="dataset to evaluate on (default: the run's)")
    p.add_argument("--default", action="store_true", help="make this the architecture's default weight")
    p.add_argument("--notes", help="free text for the index entry (default: none)")
    p.add_argument("--replace-worse", action="store_true",
                   help="replace a published weight of the same name even when this run does not score higher")
    p.add_argument("--storage-dtype", choices=STORAGE_DTYPES, default="float32",
                   help="dtype of the published file's floating tensors; float16 halves a large weight and the "
                        "published accuracy is measured on the float16 values (default: float32)")


def run(args) -> int:
    entry = register_run(Path(args.run_dir), args.tag, recipe=args.recipe, weights_dir=args.weights_dir,
                         docs_dir=args.docs_dir, data=args.data, default=args.default, notes=args.notes,
                         evaluate_weight=evaluate_weight_file, replace_worse=args.replace_worse,
                         storage_dtype=args.storage_dtype)
    print(json.dumps({k: entry[k] for k in ("architecture", "tag", "file", "sha256", "metrics")}, indent=2))
    return 0
