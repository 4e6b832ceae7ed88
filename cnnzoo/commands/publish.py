"""cnnzoo dev publish ARCH.TAG --repo-id ORG/NAME [--dry-run DIR] [--weights PATH] [--private]"""
from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("name", metavar="ARCH.TAG", help="the weight to publish, e.g. resnet20.cifar10")
    p.add_argument("--repo-id", required=True, help="(required) Hugging Face Hub repo, ORG/NAME")
    p.add_argument("--dry-run", metavar="DIR", help="only write the Hub folder into DIR (default: upload)")
    p.add_argument("--weights", metavar="PATH", help="the safetensors file (default: resolve ARCH.TAG)")
    p.add_argument("--private", action="store_true", help="create the repo as private")
    p.add_argument("--token", help="Hub token (default: HF_TOKEN or the saved login)")
    p.add_argument("--no-update-index", action="store_true",
                   help="do not record the repo as hf_repo_id in the weights index after uploading")


def run(args) -> int:
    from pathlib import Path

    from cnnzoo.hub.publishing.publish import FILES, publish

    result = publish(args.name, args.repo_id, dry_run_dir=args.dry_run, weights_path=args.weights,
                     private=args.private, token=args.token, update_index=not args.no_update_index)
    if args.dry_run:
        print(f"wrote the Hub folder for {args.name} (repo {args.repo_id}) to {result}:")
        for name in FILES:
            print(f"  {name:20s} {(Path(result) / name).stat().st_size:>12,} bytes")
    else:
        print(f"uploaded {args.name} to https://huggingface.co/{args.repo_id} ({result})")
    return 0
