"""The ``cnnzoo`` console script.

Each sub-command lives in ``cnnzoo/commands/<name>.py`` with ``add_arguments(parser)`` and ``run(args)``, and is
imported only when it runs, so ``cnnzoo list`` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module under cnnzoo.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("list_cmd", "list architectures or published weights"),
    "info": ("info", "show an architecture's or weight's details"),
    "train": ("train", "train a model on an image folder or a named dataset"),
    "eval": ("eval_cmd", "evaluate a model or weight on a dataset split"),
    "predict": ("predict", "top-k labels for image files"),
    "finetune": ("finetune", "fine-tune a pretrained weight on your own image folders"),
    "benchmark": ("benchmark", "speed and memory, side by side with timm / torchvision"),
    "export": ("export", "export to ONNX or TorchScript"),
    "register": ("register", "publish a finished training run into weights/ and the index"),
    "publish": ("publish", "write (and upload) a Hugging Face Hub folder for a weight"),
    "import": ("import_cmd", "import torchvision / timm ImageNet weights as cnnzoo safetensors"),
    "experiment": ("experiment", "run or continue an experiment grid (models x activations x lrs x seeds)"),
}


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnnzoo", description="Classic CNNs with a verifiable weight hub.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == wanted:  # import only the command that runs
            importlib.import_module(f"cnnzoo.commands.{module}").add_arguments(p)
    return parser


def _version() -> str:
    from .version import __version__

    return f"cnnzoo {__version__}"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from .errors import CnnzooError

    module = importlib.import_module(f"cnnzoo.commands.{COMMANDS[args.command][0]}")
    try:
        return int(module.run(args) or 0)
    except CnnzooError as exc:  # user errors: the message, no traceback
        print(f"cnnzoo {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"cnnzoo {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
