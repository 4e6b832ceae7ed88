"""cnnzoo list [PATTERN] [--pretrained [--shipped]] [--family F] [--size imagenet|cifar] [--families]"""
from __future__ import annotations

from ..factory import list_models, list_pretrained
from ..registry import list_families, split_model_name_tag


def add_arguments(p) -> None:
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern, e.g. 'resnet*' (default: all)")
    p.add_argument("--pretrained", action="store_true",
                   help="list weights (arch.tag), each marked `shipped` (in cnnzoo's weights/, ready to load) or "
                        "`import` (a torchvision / timm ImageNet weight, converted by `cnnzoo import` or on first use)")
    p.add_argument("--shipped", action="store_true", help="with --pretrained: only the weights that ship")
    p.add_argument("--family", help="only this family (see `cnnzoo list --families`) (default: every family)")
    p.add_argument("--size", choices=["imagenet", "cifar"],
                   help="only ImageNet-size or CIFAR-size models (default: both)")
    p.add_argument("--families", action="store_true", help="list the families")


def run(args) -> int:
    if args.families:
        print("\n".join(list_families()))
        return 0
    archs = set(list_models(family=args.family, size=args.size))
    if not args.pretrained:
        names = list_models(args.pattern, family=args.family, size=args.size)
        print("\n".join(names))
        return 0
    shipped = set(list_pretrained(importable=False))
    names = [n for n in list_pretrained(args.pattern, importable=not args.shipped)
             if split_model_name_tag(n)[0] in archs]
    width = max((len(n) for n in names), default=0)
    for name in names:
        print(f"{name:<{width}}  {'shipped' if name in shipped else 'import'}")
    return 0
