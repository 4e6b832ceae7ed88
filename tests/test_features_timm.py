"""features_only as timm defines it, for every architecture timm also has: the same feature list (channels,
reductions, the matching module, the stem's stride-2 map first) and, with converted weights, the same maps."""
import re

import pytest
import timm
import torch

import cnnzoo
from cnnzoo.factory import build_on_meta
from cnnzoo.hub.importers.convert import convert_state_dict, create_reference_model, equivalents

from helpers import randomize_

TIMM_ROWS = equivalents(library="timm")
# timm module name -> cnnzoo module name
MODULE_MAP = [
    (r"act1|layer0|features\.norm0|features\.conv1_1|Conv2d_2b_3x3|conv2d_2b", None),  # see _stem_module
    (r"conv0", lambda m: "stem"),  # NASNet: a stem without a pool
    (r"Conv2d_4a_3x3|conv2d_4a", lambda m: "stages.0"),  # Inception: stage 0 ends in the stem's 3x3 (192)
    (r"Mixed_5d|repeat", lambda m: "stages.1"),
    (r"Mixed_6e|repeat_1", lambda m: "stages.2"),
    (r"Mixed_7c|conv2d_7b", lambda m: "stages.3"),
    (r"(cell_stem_1|reduction_cell_0|reduction_cell_1)\.conv_1x1\.act",  # NASNet taps the next cell's input
     lambda m: {"cell_stem_1": "stages.0", "reduction_cell_0": "stages.1", "reduction_cell_1": "stages.2"}[m[1]]),
    (r"act", lambda m: "stages.3"),
    (r"stem\.\w+|stages\.\d+", lambda m: m[0]),  # timm models that name their parts as cnnzoo does (ResNetV2)
    (r"layer(\d)", lambda m: f"stages.{int(m[1]) - 1}"),
    (r"features\.denseblock(\d)", lambda m: f"stages.{int(m[1]) - 1}"),
    (r"features\.norm5", lambda m: "final"),
    (r"features\.conv(\d)_\d+", lambda m: f"stages.{int(m[1]) - 2}"),
    (r"blocks\.(\d)", lambda m: f"stages.{m[1]}"),
]


def _stem_module(model) -> str:
    """The last conv unit before the stem's pool (stem.conv, or stem.conv3 of a deep stem)."""
    return f"stem.{list(model.stem._modules)[-2]}"


def _ours(timm_module: str, model) -> str:
    for pattern, repl in MODULE_MAP:
        m = re.fullmatch(pattern, timm_module)
        if m:
            return _stem_module(model) if repl is None else repl(m)
    raise AssertionError(f"no mapping for timm module {timm_module}")


def _timm_features(eq, **kwargs):
    return timm.create_model(eq.name, features_only=True, **eq.kwargs, **kwargs)


def _timm_maps(model, modules, x):
    """The outputs of ``modules`` (timm's feature_info names) in one forward of the full timm model; DPN's
    (dense, residual) pairs concatenated as its features_only wrapper does."""
    maps, hooks = {}, []
    named = dict(model.named_modules())
    for name in modules:
        def keep(_m, _i, out, name=name):
            maps[name] = torch.cat(out, 1) if isinstance(out, tuple) else out.clone()
        hooks.append(named[name].register_forward_hook(keep))
    model(x)
    for h in hooks:
        h.remove()
    return [maps[name] for name in modules]


def test_every_timm_equivalent_is_covered():
    assert len(TIMM_ROWS) >= 39


@pytest.mark.parametrize("eq", TIMM_ROWS, ids=lambda e: e.arch)
def test_feature_info_equals_timm(eq):
    ours = build_on_meta(eq.arch)
    with torch.device("meta"):
        theirs = _timm_features(eq)
    timm_info = theirs.feature_info.get_dicts()
    assert [(f["num_chs"], f["reduction"]) for f in ours.feature_info] == \
        [(f["num_chs"], f["reduction"]) for f in timm_info]
    assert [f["module"] for f in ours.feature_info] == [_ours(f["module"], ours) for f in timm_info]


# one architecture per family, with timm's weights converted: the maps themselves agree
FAMILY_ROWS = ["resnet18", "seresnext26_32x4d", "res2net50_26w_4s", "densenet121", "dpn68b", "mobilenetv2_050",
               "efficientnet_b0"]


@pytest.mark.parametrize("arch", FAMILY_ROWS)
def test_feature_maps_equal_timm(arch):
    eq = equivalents(arch, "timm")[0]
    ref = randomize_(create_reference_model(eq)).eval()
    with torch.device("meta"):
        modules = [f["module"] for f in _timm_features(eq).feature_info.get_dicts()]
    model = cnnzoo.create_model(arch, channels_last=False).eval()
    model.load_state_dict(convert_state_dict(ref.state_dict(), arch, "timm", model=model))
    feats = cnnzoo.models._skeleton.FeatureExtractor(model).eval()
    x = torch.randn(2, 3, 64, 80, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a, b = feats(x), _timm_maps(ref, modules, x)
    assert [t.shape for t in a] == [t.shape for t in b]
    for ours_map, theirs_map in zip(a, b):
        scale = max(1.0, theirs_map.abs().max().item())
        assert (ours_map - theirs_map).abs().max().item() < 1e-4 * scale
