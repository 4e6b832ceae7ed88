"""How much of the input survives a freshly initialised network, per activation (docs/experiments/activations.md).

For each model and activation: the standard deviation of every stage's output, and how much the pooled features
(the classifier's input) vary from image to image, on one fixed batch of 64 random 32x32 inputs. A spread near
zero means every image gets the same logits at the start, so no gradient tells the images apart.

    python docs/scripts/act_signal_at_init.py [--models se_resnet20 densenet_bc_52_k12 mobilenetv2_050_cifar]
"""
import argparse

import torch

import cnnzoo

ACTS = ("relu", "swish", "mish", "tact", "mtact")


def signal(model_name: str, act: str, x: torch.Tensor) -> tuple[list[float], float]:
    torch.manual_seed(0)
    model = cnnzoo.create_model(model_name, act_layer=act, channels_last=False).train()
    stds = []
    hooks = [stage.register_forward_hook(lambda _m, _i, out: stds.append(out.float().std().item()))
             for stage in model.stages]
    with torch.no_grad():
        pooled = model.forward_head(model.forward_features(x), pre_logits=True)
    for h in hooks:
        h.remove()
    return stds, pooled.std(0).mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["se_resnet20", "densenet_bc_52_k12", "mobilenetv2_050_cifar"])
    args = parser.parse_args()
    x = torch.randn(64, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    print("| model | activation | std of each stage's output | pooled features: std across images |")
    print("| --- | --- | --- | ---: |")
    for name in args.models:
        for act in ACTS:
            stds, spread = signal(name, act, x)
            print(f"| {name} | {act} | {' / '.join(f'{s:.3f}' for s in stds)} | {spread:.4f} |")


if __name__ == "__main__":
    main()
