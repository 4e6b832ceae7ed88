"""ImageNet-1k weights of torchvision and timm, converted to cnnzoo safetensors and cached.

The table below says which weight each ``arch.tag`` is; the equivalence table of :mod:`.convert` says which
torchvision / timm model it belongs to and how its parameter names map onto cnnzoo's. A row whose family has
no converter yet is simply not offered, and starts working once the converter is registered.

Online, the source library downloads the weights (torchvision's weights API with its hash check, or timm's
pretrained loading). Offline, ``import_weights(..., source_file=FILE)`` (``cnnzoo import ARCH.TAG --from FILE``)
converts a file fetched elsewhere; ``.pth``/``.bin`` files are read with ``torch.load(weights_only=True)``.
The converted file goes to ``<cache>/imagenet/ARCH.TAG.safetensors`` with a sidecar ``ARCH.TAG.json`` entry
(index fields: sha256, size, labels, data config, the source's published accuracy) that is checked on each load.
"""
from __future__ import annotations

import datetime
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from ...errors import UnknownTagError, WeightsNotFoundError
from ...models._measure import build_on_meta, count_params
from ...registry import is_model
from ..files.download import env_timeout, socket_timeout
from ..files.hf import hub_timeouts
from ..files.io import save_weights, write_json_atomic
from ..files.resolve import cache_dir, offline
from ..index.schema import check_entry, entry_problems
from .convert import convert_state_dict, equivalents, find_equivalent
from .foreign import read_foreign_state_dict, undo_legacy_densenet_keys

logger = logging.getLogger("cnnzoo")

IMAGENET_TRAIN_IMAGES = 1_281_167
IMAGENET_VAL_IMAGES = 50_000


@dataclass(frozen=True)
class ImageNetSource:
    """``arch.tag`` is the weight ``weight`` of ``library``'s equivalent of ``arch``.

    torchvision: ``weight`` is the weights-enum member; its accuracy and labels come from the enum's meta.
    timm: ``weight`` is the pretrained tag; the accuracy (timm's results-imagenet.csv, at ``eval_size``) is here
    because timm does not ship it in the package.
    """

    arch: str
    tag: str
    library: str
    weight: str
    top1: float | None = None
    top5: float | None = None
    eval_size: int | None = None
    # (mean, std) the converted weight needs where the source's transforms say otherwise: torchvision's GoogLeNet
    # and Inception v3 weights turn ImageNet-normalised input into (x - 0.5) / 0.5 inside the model
    # (transform_input=True), a step cnnzoo's models do not hide, so their data config asks for that scaling.
    mean_std: tuple[tuple[float, ...], tuple[float, ...]] | None = None


def _tv(arch: str, *versions: int, mean_std=None) -> list[ImageNetSource]:
    return [ImageNetSource(arch, "tv_in1k" if v == 1 else f"tv{v}_in1k", "torchvision", f"IMAGENET1K_V{v}",
                           mean_std=mean_std) for v in versions]


def _timm(arch: str, weight: str, top1: float, top5: float, eval_size: int = 224) -> ImageNetSource:
    return ImageNetSource(arch, "timm_in1k", "timm", weight, top1, top5, eval_size)


_HALF = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))

SOURCES: list[ImageNetSource] = [
    *_tv("resnet18", 1), *_tv("resnet34", 1), *_tv("resnet50", 1, 2), *_tv("resnet101", 1, 2),
    *_tv("resnet152", 1, 2), *_tv("wide_resnet50_2", 1, 2), *_tv("wide_resnet101_2", 1, 2),
    *_tv("resnext50_32x4d", 1, 2), *_tv("resnext101_32x8d", 1, 2), *_tv("resnext101_64x4d", 1),
    *_tv("densenet121", 1), *_tv("densenet161", 1), *_tv("densenet169", 1), *_tv("densenet201", 1),
    *_tv("mobilenetv2_100", 1, 2), *_tv("efficientnet_b0", 1), *_tv("efficientnet_b1", 1, 2),
    *[s for b in range(2, 8) for s in _tv(f"efficientnet_b{b}", 1)],
    _timm("seresnet50", "ra2_in1k", 81.284, 95.652, 288),
    _timm("seresnext50_32x4d", "racm_in1k", 82.196, 96.148, 288),
    _timm("seresnext101_32x4d", "gluon_in1k", 80.892, 95.296),
    _timm("seresnext26_32x4d", "in1k", 77.108, 93.314),
    _timm("senet154", "gluon_in1k", 81.226, 95.358),
    _timm("resnext101_32x4d", "gluon_in1k", 80.340, 94.930),
    _timm("res2net50_26w_4s", "in1k", 77.950, 93.852),
    _timm("dpn68", "mx_in1k", 76.346, 93.008), _timm("dpn92", "mx_in1k", 80.038, 94.860),
    _timm("dpn98", "mx_in1k", 79.670, 94.654), _timm("dpn107", "mx_in1k", 80.168, 94.942),
    _timm("dpn131", "mx_in1k", 79.814, 94.700),
    _timm("mobilenetv2_100", "ra_in1k", 72.976, 91.010), _timm("efficientnet_b0", "ra_in1k", 77.694, 93.532),
    *_tv("alexnet", 1), *[s for d in (11, 13, 16, 19) for bn in ("", "_bn") for s in _tv(f"vgg{d}{bn}", 1)],
    *_tv("googlenet", 1, mean_std=_HALF), *_tv("inception_v3", 1, mean_std=_HALF),
    *_tv("squeezenet1_0", 1), *_tv("squeezenet1_1", 1),
    _timm("inception_resnet_v2", "tf_in1k", 80.462, 95.308, 299),
    _timm("nasnetalarge", "tf_in1k", 82.626, 96.042, 331),
    _timm("resnetv2_50x1_bit", "goog_in21k_ft_in1k", 80.340, 95.680, 448),
    # timm's README (the MobileNet-V1 baselines table) at 224 px
    _timm("mobilenetv1_100", "ra4_e3600_r224_in1k", 75.382, 92.312),
]


def _available(source: ImageNetSource) -> bool:
    return is_model(source.arch) and bool(equivalents(source.arch, source.library))


def importable_names(arch: str | None = None) -> list[str]:
    """``arch.tag`` of every table row whose architecture and converter exist (table order)."""
    return [f"{s.arch}.{s.tag}" for s in SOURCES if (arch is None or s.arch == arch) and _available(s)]


def is_importable(arch: str, tag: str) -> bool:
    return f"{arch}.{tag}" in importable_names(arch)


def get_source(arch: str, tag: str) -> ImageNetSource:
    for s in SOURCES:
        if s.arch == arch and s.tag == tag and _available(s):
            return s
    names = importable_names()
    ours = [n for n in names if n.split(".")[0] == arch]
    raise UnknownTagError(f"{arch}.{tag} is not an importable ImageNet weight; "
                          f"{'for ' + arch + ': ' + ', '.join(ours) if ours else 'importable: ' + ', '.join(names)}")


def read_sidecar(arch: str, tag: str, sidecar: Path) -> tuple[dict | None, str]:
    """The import's cache record (an index entry), or ``(None, why)`` when it cannot be trusted: unreadable,
    truncated, not JSON, or not a valid entry for ``arch.tag``."""
    try:
        entry = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # ValueError covers bad JSON and bad UTF-8
        return None, f"{type(exc).__name__}: {str(exc)[:120]}"
    if not isinstance(entry, dict):
        return None, f"a JSON {type(entry).__name__}, not an entry"
    try:
        problems = entry_problems(f"{arch}.{tag}", entry)
    except Exception as exc:  # noqa: BLE001 - a validator tripping on a hostile value is one more problem
        problems = [f"{type(exc).__name__}: {exc}"]
    if entry.get("architecture") != arch or entry.get("tag") != tag:
        problems.append(f"it describes {entry.get('architecture')}.{entry.get('tag')}")
    return (None, "; ".join(map(str, problems[:3]))) if problems else (entry, "")


def cached_paths(arch: str, tag: str, root: Path | None = None) -> tuple[Path, Path]:
    folder = (root or cache_dir()) / "imagenet"
    return folder / f"{arch}.{tag}.safetensors", folder / f"{arch}.{tag}.json"


# -- the source's description of the weight ---------------------------------------------------------------------

def describe_source(source: ImageNetSource) -> dict:
    """Labels, data config, published accuracy and origin of ``source`` (from the installed library; no
    download)."""
    eq = find_equivalent(source.arch, source.library)
    if source.library == "torchvision":
        from torchvision.models import get_model_weights

        w = get_model_weights(eq.name)[source.weight]
        t = w.transforms()
        acc = w.meta["_metrics"]["ImageNet-1K"]
        mean, std = source.mean_std or (t.mean, t.std)
        return dict(
            labels=list(w.meta["categories"]),
            input_size=[3, t.crop_size[0], t.crop_size[0]],
            mean=list(mean), std=list(std), interpolation=t.interpolation.value,
            crop_pct=round(t.crop_size[0] / t.resize_size[0], 4),
            metrics=dict(top1=acc["acc@1"], top5=acc["acc@5"], split="val", n=IMAGENET_VAL_IMAGES,
                         source=f"torchvision {eq.name} {source.weight} meta"),
            source=dict(library="torchvision", name=eq.name, weight=source.weight, url=w.url,
                        recipe=w.meta.get("recipe")),
            license="BSD-3-Clause (torchvision); ImageNet terms of access apply",
        )
    from timm.data import ImageNetInfo
    from timm.models import get_pretrained_cfg

    full = f"{eq.name}.{source.weight}"
    cfg = get_pretrained_cfg(full)
    if cfg is None:
        raise UnknownTagError(f"timm has no pretrained weight {full!r}")
    info = ImageNetInfo()
    labels = [info.index_to_description(i).split(",")[0] for i in range(info.num_classes())]
    return dict(
        labels=labels, input_size=list(cfg.input_size), mean=list(cfg.mean), std=list(cfg.std),
        interpolation=cfg.interpolation, crop_pct=cfg.crop_pct,
        metrics=dict(top1=source.top1, top5=source.top5, split="val", n=IMAGENET_VAL_IMAGES,
                     eval_size=source.eval_size, source="timm results/results-imagenet.csv"),
        source=dict(library="timm", name=full, hf_hub_id=cfg.hf_hub_id, url=cfg.url or None),
        license=cfg.license or "see the timm model card",
    )


def _download(source: ImageNetSource) -> dict[str, torch.Tensor]:
    """The source library's own download, with cnnzoo's timeouts (torchvision's passes none to urlopen)."""
    timeout = env_timeout()
    with socket_timeout(timeout), hub_timeouts(timeout, timeout):
        return _download_state_dict(source)


def _download_state_dict(source: ImageNetSource) -> dict[str, torch.Tensor]:
    eq = find_equivalent(source.arch, source.library)
    if source.library == "torchvision":
        from torchvision.models import get_model_weights

        weights = get_model_weights(eq.name)[source.weight]
        return undo_legacy_densenet_keys(weights.get_state_dict(progress=True, check_hash=True, weights_only=True))
    import timm

    return timm.create_model(f"{eq.name}.{source.weight}", pretrained=True, **eq.kwargs).state_dict()


# -- importing -------------------------------------------------------------------------------------------------

def import_weights(arch: str, tag: str, source_file: str | os.PathLike | None = None,
                   root: str | os.PathLike | None = None) -> tuple[Path, dict]:
    """Convert the ImageNet weight ``arch.tag`` to cnnzoo safetensors in the cache; returns (file, entry).

    Without ``source_file`` the source library downloads it. Nothing is written unless the converted
    state_dict matches the cnnzoo model key for key and shape for shape.
    """
    source = get_source(arch, tag)
    described = describe_source(source)
    state = read_foreign_state_dict(source_file) if source_file is not None else _download(source)
    num_classes = len(described["labels"])  # ImageNet-1k; a checkpoint with another head fails the key check
    model = build_on_meta(arch, num_classes=num_classes)
    converted = convert_state_dict(state, arch, source.library, model=model)
    path, sidecar = cached_paths(arch, tag, Path(root) if root is not None else None)
    metadata = dict(arch=arch, tag=tag, num_classes=num_classes, labels=described["labels"],
                    input_size=described["input_size"], mean=described["mean"], std=described["std"],
                    interpolation=described["interpolation"], crop_pct=described["crop_pct"],
                    metrics=described["metrics"], source=described["source"], license=described["license"])
    # save_weights writes the same bytes for the same tensors and metadata in any process, so two processes
    # importing this weight at once write identical files and identical sha256s, whichever rename lands last
    digest = save_weights(converted, path, metadata)
    entry = dict(
        architecture=arch, tag=tag, file=path.name, sha256=digest, size=path.stat().st_size,
        num_classes=num_classes, labels=described["labels"], input_size=described["input_size"],
        mean=described["mean"], std=described["std"], interpolation=described["interpolation"],
        crop_pct=described["crop_pct"],
        dataset=dict(name="ImageNet-1k", split="train", num_images=IMAGENET_TRAIN_IMAGES,
                     note=f"trained by {source.library}; converted by cnnzoo"),
        metrics=described["metrics"], params=count_params(model), license=described["license"],
        source=dict(described["source"], from_file=str(source_file) if source_file else None),
        date=datetime.date.today().isoformat(),
    )
    check_entry(f"{arch}.{tag}", entry)
    write_json_atomic(sidecar, entry)  # written last: its presence means the import is complete
    return path, entry


def _how_offline(source: ImageNetSource) -> str:
    try:
        origin = describe_source(source)["source"]
        where = origin.get("url") or f"the Hugging Face Hub repo {origin.get('hf_hub_id')}"
    except Exception:  # describing needs torchvision/timm; the advice stands without the address
        where = f"{source.library}"
    return (f"download {where} on a connected machine, then run "
            f"`cnnzoo import {source.arch}.{source.tag} --from FILE` (or set CNNZOO_CACHE to a folder holding "
            f"imagenet/{source.arch}.{source.tag}.safetensors and its .json)")


def ensure_imported(arch: str, tag: str) -> tuple[Path, dict]:
    """The cached import of ``arch.tag``, importing it first when online (again when its record is damaged)."""
    path, sidecar = cached_paths(arch, tag)
    cached = "not there"
    if path.is_file() and sidecar.is_file():
        entry, why = read_sidecar(arch, tag, sidecar)
        if entry is not None:
            return path, entry
        cached = f"its record {sidecar.name} is unusable: {why}"
        logger.warning("cnnzoo: %s.%s: cache record %s is unusable (%s); importing again", arch, tag, sidecar, why)
    source = get_source(arch, tag)
    if offline():
        raise WeightsNotFoundError(
            f"weight {arch}.{tag} not found. Looked in:\n  cnnzoo cache: {path} ({cached})\n  {source.library} "
            f"download: skipped (offline: HF_HUB_OFFLINE / CNNZOO_OFFLINE is set)\nTo use it offline: "
            + _how_offline(source) + ".")
    try:
        return import_weights(arch, tag)
    except (OSError, RuntimeError) as exc:  # no network, HTTP errors, a failed hash check
        if isinstance(exc, WeightsNotFoundError):
            raise
        raise WeightsNotFoundError(
            f"weight {arch}.{tag} not found. Looked in:\n  cnnzoo cache: {path} ({cached})\n  {source.library} "
            f"download: {type(exc).__name__}: {str(exc).strip()[:300]}\nTo use it offline: "
            + _how_offline(source) + ".") from None
