"""The ``cnnzoo`` console script.

Each sub-command lives in ``cnnzoo/commands/<name>.py`` with ``add_arguments(parser)`` and ``run(args)``, and is
imported only when it runs, so ``cnnzoo list`` stays fast. Maintainer commands (registering a run, publishing to
the Hugging Face Hub) live under ``cnnzoo dev``; their old top-level spellings still work for one release.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

# name -> (module under cnnzoo.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("list_cmd", "list architectures or weights (shipped, or converted on first use)"),
    "info": ("info", "show an architecture's or a weight's details (accuracy, data, sha256, recipe, licence)"),
    "train": ("train", "train a model on an image folder or a named dataset"),
    "eval": ("eval_cmd", "evaluate a model or weight on a dataset split"),
    "predict": ("predict", "top-k labels for image files"),
    "finetune": ("finetune", "fine-tune a pretrained weight on your own image folders"),
    "benchmark": ("benchmark", "speed and memory, side by side with timm / torchvision"),
    "export": ("export", "export to ONNX or TorchScript"),
    "import": ("import_cmd", "import torchvision / timm ImageNet weights as cnnzoo safetensors"),
    "experiment": ("experiment", "run or continue an experiment grid (models x activations x lrs x seeds)"),
}
DEV_COMMANDS: dict[str, tuple[str, str]] = {
    "register": ("register", "publish a finished training run into weights/ and the index"),
    "publish": ("publish", "write (and upload) a Hugging Face Hub folder for a weight"),
    "store-as": ("store_as", "re-store a published weight as float16, measured again, to fit the weights budget"),
}
DEV_HELP = ("maintainer commands: register a training run as a weight, publish a weight to the Hugging Face Hub, "
            "re-store a published weight as float16")
USAGE_ERROR, RUN_ERROR = 2, 1


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every option's help ends with its default, unless the help already says it (or there is none to say)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (action.default is None or action.default is False or action.default == argparse.SUPPRESS
                or "default" in text
                or (not action.option_strings and action.nargs not in ("?", "*"))):
            return text
        return f"{text} (default: %(default)s)"


def _add_commands(sub, commands: dict, wanted: str | None, load_all: bool) -> None:
    for name, (module, help_text) in commands.items():
        p = sub.add_parser(name, help=help_text, description=help_text, formatter_class=HelpFormatter)
        if load_all or name == wanted:  # import only the command that runs
            importlib.import_module(f"cnnzoo.commands.{module}").add_arguments(p)


def build_parser(argv: list[str], load_all: bool = False) -> argparse.ArgumentParser:
    """The parser, with the arguments of the command in ``argv`` (or of every command with ``load_all``)."""
    parser = argparse.ArgumentParser(prog="cnnzoo", description="Classic CNNs with a verifiable weight hub.",
                                     formatter_class=HelpFormatter,
                                     epilog="maintainer commands: cnnzoo dev --help")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    words = [a for a in argv if not a.startswith("-")]
    _add_commands(sub, COMMANDS, words[0] if words else None, load_all)
    dev = sub.add_parser("dev", help=DEV_HELP, description=DEV_HELP, formatter_class=HelpFormatter)
    dev_sub = dev.add_subparsers(dest="dev_command", metavar="DEV_COMMAND")
    _add_commands(dev_sub, DEV_COMMANDS, words[1] if words[:1] == ["dev"] and len(words) > 1 else None, load_all)
    parser.dev_parser = dev  # main() prints its help for a bare `cnnzoo dev`
    return parser


def _version() -> str:
    from .version import __version__

    return f"cnnzoo {__version__}"


def _moved(argv: list[str]) -> list[str]:
    """``cnnzoo register ...`` -> ``cnnzoo dev register ...``, with a note (the old spelling goes in 0.3)."""
    if argv and argv[0] in DEV_COMMANDS:
        print(f"cnnzoo: `cnnzoo {argv[0]}` is now `cnnzoo dev {argv[0]}`; the old spelling will be removed in "
              f"cnnzoo 0.3", file=sys.stderr)
        return ["dev", *argv]
    return argv


def one_line(exc: BaseException) -> str:
    """An error message on one line (a multi-line one joined with '; ')."""
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())


def _quiet_stdout() -> None:
    """The reader of our stdout went away (``| head``): send what is left nowhere, without a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests capture it)
        pass


def main(argv: list[str] | None = None) -> int:
    argv = _moved(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser(argv)
    args = parser.parse_args(argv)  # bad usage: argparse prints it and exits with 2
    if args.command is None or (args.command == "dev" and args.dev_command is None):
        (parser if args.command is None else parser.dev_parser).print_help()
        return USAGE_ERROR
    from .errors import CnnzooError

    # PIL only warns below twice its pixel limit; a command refuses such an image outright (data/images.py)
    warnings.filterwarnings("error", message=".*could be decompression bomb", category=RuntimeWarning)
    name = args.command if args.command != "dev" else f"dev {args.dev_command}"
    module_name = (COMMANDS[args.command] if args.command != "dev" else DEV_COMMANDS[args.dev_command])[0]
    module = importlib.import_module(f"cnnzoo.commands.{module_name}")
    try:
        code = int(module.run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows up here, inside the try, not at interpreter exit
        from .engine.distributed import exit_without_teardown

        exit_without_teardown(code)  # a torchrun process ends here: gloo can abort in the interpreter's teardown
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except CnnzooError as exc:  # bad input: the message (what is wrong and what to do), no traceback
        print(f"cnnzoo {name}: error: {one_line(exc)}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as exc:  # the environment (a disk, a permission, the network): also no traceback
        print(f"cnnzoo {name}: error: {one_line(exc)}", file=sys.stderr)
        return RUN_ERROR
    except KeyboardInterrupt:
        print(f"cnnzoo {name}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
