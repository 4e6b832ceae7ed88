"""TAct and mTAct train in every CIFAR-size family (issue 26): the signal survives the network at init under
bf16, and a few steps lift a batch above chance."""
import pytest
import torch

import cnnzoo
from cnnzoo.data import sample_dir, scan_folder
from cnnzoo.data.cache import load_or_build
from cnnzoo.factory import build_on_meta, count_params
from cnnzoo.registry import get_model_spec


def _smallest_per_family() -> list[str]:
    best: dict[str, tuple[int, str]] = {}
    for name in cnnzoo.list_models(size="cifar"):
        params = count_params(build_on_meta(name))
        family = get_model_spec(name).family
        if family not in best or params < best[family][0]:
            best[family] = (params, name)
    return sorted(name for _, name in best.values())


FAMILIES = _smallest_per_family()
# A training step of these takes seconds on one core: the signal test covers them, the step test does not.
TRAIN_SKIP = {n for n in FAMILIES if count_params(build_on_meta(n)) > 3e6}


@pytest.fixture(scope="module")
def batch():
    x, y = load_or_build(scan_folder(sample_dir() / "train"))
    return ((x[:32].float() / 255 - 0.47) / 0.25).contiguous(memory_format=torch.channels_last), y[:32]


def _feature_spread(name: str, act: str, x: torch.Tensor) -> float:
    """How much the classifier's input differs between images, in bf16 as the engine trains."""
    torch.manual_seed(0)
    model = cnnzoo.create_model(name, act_layer=act).train()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        pooled = model.forward_head(model.forward_features(x), pre_logits=True).float()
    return pooled.std(0).mean().item()


@pytest.mark.parametrize("name", FAMILIES)
def test_trainable_activations_keep_images_apart_at_init(name, batch):
    # The old init (a, b in [0, 0.5)) made TAct a contraction: se_resnet20's features had a spread of 0.0000 in
    # bf16 against ReLU's 0.018, every image got the same logits and training sat at 10.00% (chance).
    relu = _feature_spread(name, "relu", batch[0])
    for act in ("tact", "mtact"):
        assert _feature_spread(name, act, batch[0]) >= 0.25 * relu, f"{name} {act}"


@pytest.mark.parametrize("act", ["tact", "mtact"])
@pytest.mark.parametrize("name", [n for n in FAMILIES if n not in TRAIN_SKIP])
def test_trainable_activations_lift_a_batch_above_chance(name, act, batch):
    x, y = batch
    torch.manual_seed(0)
    model = cnnzoo.create_model(name, act_layer=act).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(12):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    assert accuracy >= 0.25, f"{name} {act}: {accuracy:.2f} of 32 images after 12 steps (chance 0.10)"
