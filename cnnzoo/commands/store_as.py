"""cnnzoo dev store-as NAME --storage-dtype float16: halve a published weight whose training run is gone."""
from __future__ import annotations

import json

from ..engine.evaluate import evaluate_weight_file
from ..hub.index.schema import STORAGE_DTYPES
from ..hub.publishing.store_as import MAX_DROP, store_published_as


def add_arguments(p) -> None:
    p.add_argument("name", help="a published weight, e.g. resnet10.imagenette")
    p.add_argument("--storage-dtype", choices=STORAGE_DTYPES, default="float16",
                   help="dtype for the file's floating tensors")
    p.add_argument("--weights-dir", default="weights", help="where published files live")
    p.add_argument("--data", help="dataset to measure on (default: the one the index entry names)")
    p.add_argument("--max-drop", type=float, default=MAX_DROP,
                   help="top-1 points the conversion may cost before it is refused")


def run(args) -> int:
    entry = store_published_as(args.name, args.storage_dtype, weights_dir=args.weights_dir, data=args.data,
                               evaluate_weight=evaluate_weight_file, max_drop=args.max_drop)
    print(json.dumps({k: entry[k] for k in ("file", "sha256", "size", "storage_dtype", "metrics")}, indent=2))
    return 0
