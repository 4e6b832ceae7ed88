"""cnnzoo dev publish ARCH.TAG [--out DIR] [--push] [--repo-id ORG/NAME] [--weights PATH] [--private]"""
from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("name", metavar="ARCH.TAG", help="the weight to publish, e.g. resnet20.cifar10")
    p.add_argument("--out", "--dry-run", dest="out", metavar="DIR",
                   help="write the Hub folder (model.safetensors, config.json, README.md) into DIR "
                        "(default: ./hub/ARCH.TAG without --push, a temporary folder with it)")
    p.add_argument("--push", action="store_true",
                   help="upload the folder through huggingface_hub and tag the commit with the pinned revision")
    p.add_argument("--repo-id", help="Hugging Face Hub repo, ORG/NAME (default: the index entry's hf_repo_id, "
                                     "else the project organisation's ORG/ARCH.TAG)")
    p.add_argument("--weights", metavar="PATH", help="the safetensors file (default: resolve ARCH.TAG)")
    p.add_argument("--private", action="store_true", help="create the repo as private")
    p.add_argument("--token", help="Hub token (default: HF_TOKEN or the saved login)")
    p.add_argument("--no-update-index", action="store_true",
                   help="after uploading, leave the weights index as it is (default: record repo, revision, url)")


def run(args) -> int:
    from pathlib import Path

    from cnnzoo.hub.publishing.publish import FILES, publish

    out = args.out if args.out or args.push else str(Path("hub") / args.name)
    result = publish(args.name, out=out, push=args.push, repo_id=args.repo_id, weights_path=args.weights,
                     private=args.private, token=args.token, update_index=not args.no_update_index)
    if result.folder is not None:
        print(f"wrote the Hub folder of {args.name} (repo {result.repo_id}, revision {result.revision}) to "
              f"{result.folder}:")
        for name in FILES:
            print(f"  {name:20s} {(result.folder / name).stat().st_size:>12,} bytes")
    if result.commit_url:
        print(f"uploaded {args.name} to https://huggingface.co/{result.repo_id} ({result.commit_url}), "
              f"tagged {result.revision}")
    return 0
