"""cnnzoo list [PATTERN] [--pretrained] [--family F] [--size imagenet|cifar]"""
from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern, e.g. 'resnet*' (default: all)")
    p.add_argument("--pretrained", action="store_true", help="list published weights (arch.tag) instead")
    p.add_argument("--family", help="only this family (see `cnnzoo list --families`)")
    p.add_argument("--size", choices=["imagenet", "cifar"], help="only ImageNet-size or CIFAR-size models")
    p.add_argument("--families", action="store_true", help="list the families")


def run(args) -> int:
    from cnnzoo.factory import list_models
    from cnnzoo.registry import list_families

    names = list_families() if args.families else list_models(
        args.pattern, pretrained=args.pretrained, family=args.family, size=args.size)
    for name in names:
        print(name)
    return 0
