"""cnnzoo import ARCH.TAG [--from FILE] | cnnzoo import --list: torchvision / timm ImageNet weights as
cnnzoo safetensors in the cache ($CNNZOO_CACHE or ~/.cache/cnnzoo)."""
from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("name", nargs="?", metavar="ARCH.TAG",
                   help="the weight to import, e.g. resnet50.tv_in1k, dpn92.timm_in1k (default: none; see --list)")
    p.add_argument("--from", dest="source_file", metavar="FILE",
                   help="convert this local checkpoint (.pth/.bin read with torch.load(weights_only=True), or "
                        ".safetensors) instead of downloading (default: download)")
    p.add_argument("--list", action="store_true", help="list the importable weights")


def run(args) -> int:
    from cnnzoo.errors import InvalidArgumentError
    from cnnzoo.hub.importers import imagenet
    from cnnzoo.registry import split_model_name_tag

    if args.list:
        for name in imagenet.importable_names():
            print(name)
        return 0
    arch, tag = split_model_name_tag(args.name or "")
    if not arch or tag is None:
        raise InvalidArgumentError(f"give a weight as ARCH.TAG (see `cnnzoo import --list`), got {args.name!r}")
    path, entry = imagenet.import_weights(arch, tag, source_file=args.source_file)
    metrics = entry.get("metrics") or {}
    print(f"{arch}.{tag}: {path}")
    print(f"  sha256  {entry['sha256']}")
    print(f"  size    {entry['size']:,} bytes, {entry['num_classes']} classes, input {tuple(entry['input_size'])}")
    if metrics.get("top1") is not None:
        print(f"  source accuracy  top-1 {metrics['top1']}  top-5 {metrics.get('top5')}  ({metrics.get('source')})")
    print(f"  use: cnnzoo.create_model('{arch}.{tag}', pretrained=True)")
    return 0
