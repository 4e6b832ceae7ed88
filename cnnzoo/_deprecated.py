"""Old module paths of cnnzoo 0.1, kept importable for one release: each warns once and is the new module itself
(same functions, same state), so ``from cnnzoo._factory import create_model`` keeps working until 0.3."""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

REMOVED_IN = "0.3"
MOVED = {
    "cnnzoo._registry": "cnnzoo.registry",
    "cnnzoo._factory": "cnnzoo.factory",
    "cnnzoo.finetune_recipe": "cnnzoo.finetune",
    "cnnzoo.finetune_report": "cnnzoo.finetune.report",
    "cnnzoo.bench": "cnnzoo.deploy.benchmark",
    "cnnzoo.optimize": "cnnzoo.deploy.optimize",
    "cnnzoo.export": "cnnzoo.deploy.export",
    "cnnzoo.hub.io": "cnnzoo.hub.files.io",
    "cnnzoo.hub.resolve": "cnnzoo.hub.files.resolve",
    "cnnzoo.hub.schema": "cnnzoo.hub.index.schema",
    "cnnzoo.hub.convert": "cnnzoo.hub.importers.convert",
    "cnnzoo.hub.converters": "cnnzoo.hub.importers.converters",
    "cnnzoo.hub.imagenet": "cnnzoo.hub.importers.imagenet",
    "cnnzoo.hub.publish": "cnnzoo.hub.publishing.publish",
    "cnnzoo.hub.model_card": "cnnzoo.hub.publishing.model_card",
    "cnnzoo.hub.register_run": "cnnzoo.hub.publishing.register_run",
    "cnnzoo.hub.comparisons": "cnnzoo.hub.publishing.comparisons",
}


def _new_name(old: str) -> str | None:
    """The new path of ``old`` (also for submodules of a moved package: cnnzoo.hub.converters.resnet)."""
    for prefix, target in MOVED.items():
        if old == prefix or old.startswith(prefix + "."):
            return target + old[len(prefix):]
    return None


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers imports of the old paths with the new module, after a DeprecationWarning."""

    def find_spec(self, fullname, path=None, target=None):
        return importlib.util.spec_from_loader(fullname, self) if _new_name(fullname) else None

    def create_module(self, spec):
        new = _new_name(spec.name)
        warnings.warn(f"{spec.name} moved to {new}; the old path goes away in cnnzoo {REMOVED_IN}",
                      DeprecationWarning, stacklevel=2)
        module = importlib.import_module(new)
        self._own_spec = module.__spec__  # the import system overwrites __spec__; exec_module restores it
        return module

    def exec_module(self, module):
        module.__spec__ = self._own_spec


def install() -> None:
    if not any(isinstance(f, MovedModuleFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, MovedModuleFinder())  # before the path finder, which would load a second copy
