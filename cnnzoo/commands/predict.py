"""cnnzoo predict MODEL[.TAG]|WEIGHTS IMAGE... [--topk 5]: top-k labels with probabilities."""
from __future__ import annotations

import json


def add_arguments(p) -> None:
    p.add_argument("model", help="a weight (resnet20.cifar10), or an architecture with --weights")
    p.add_argument("images", nargs="+", help="image files")
    p.add_argument("--weights", help="a model.safetensors file (or run directory) to load into MODEL "
                                     "(default: MODEL's own weight)")
    p.add_argument("--topk", type=int, default=5, help="labels shown per image")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args) -> int:
    from cnnzoo.factory import create_model
    from cnnzoo.engine.predict import predict

    model = create_model(args.model, pretrained=args.weights or True)
    results = predict(model, args.images, topk=args.topk)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for item in results:
        print(item["image"])
        for label, prob in item["topk"]:
            print(f"  {prob * 100:6.2f}%  {label}")
    return 0
