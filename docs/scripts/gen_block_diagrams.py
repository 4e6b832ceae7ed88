"""Draw the five block types from the code: python docs/scripts/gen_block_diagrams.py

Each block is traced with torch.fx and its graph drawn top to bottom (one box per op, in execution order);
edges between non-adjacent ops (shortcuts, concatenations, SE rescaling) are drawn as arcs on the right. The
figures therefore show what the code computes, not what a paper says.
"""
from __future__ import annotations

import functools
from pathlib import Path

import torch
from torch import fx, nn

from cnnzoo.layers.dense import DenseBlock
from cnnzoo.layers.dual_path import DualPathBlock
from cnnzoo.layers.mbconv import MBConv
from cnnzoo.layers.residual import BasicBlock, Bottleneck
from cnnzoo.layers.squeeze_excite import SqueezeExcite

OUT = Path(__file__).resolve().parents[1] / "img"

BLOCKS = {
    "se_basic_block": ("SE basic block (SE-ResNet-20 stage 2)",
                       lambda: BasicBlock(32, 32, attn_layer=functools.partial(SqueezeExcite, rd_ratio=1 / 16))),
    "resnext_bottleneck": ("ResNeXt bottleneck, 32 groups x 4 (ResNeXt-50 stage 1)",
                           lambda: Bottleneck(256, 64, groups=32, base_width=4)),
    "dense_block": ("Dense block, 3 layers, k=12, bottleneck 4k (DenseNet-BC)",
                    lambda: DenseBlock(3, 24, 12, 4)),
    "dual_path_block": ("Dual-path block, first of a stage (DPN)",
                        lambda: DualPathBlock(64, 96, 256, 16, groups=32, project=True)),
    "mbconv": ("MBConv, expansion 6, 5x5 depthwise, SE 0.25 (EfficientNet)",
               lambda: MBConv(40, 40, kernel_size=5, exp_ratio=6, se_ratio=0.25, act_layer="silu")),
}


def _label(node: fx.Node, modules: dict[str, nn.Module]) -> str:
    if node.op == "placeholder":
        return "input"
    if node.op == "output":
        return "output"
    if node.op == "call_module":
        m = modules[node.target]
        if isinstance(m, nn.Conv2d):
            k, s = m.kernel_size[0], m.stride[0]
            kind = "depthwise " if m.groups == m.in_channels and m.groups > 1 else ""
            groups = f" g{m.groups}" if 1 < m.groups < m.in_channels else ""
            stride = f" /{s}" if s > 1 else ""
            return f"{kind}conv {k}x{k}{stride}{groups}  {m.in_channels}->{m.out_channels}"
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            return "BN"
        return type(m).__name__.lower()
    name = getattr(node.target, "__name__", str(node.target))
    return {"getitem": "split", "add": "add (+)", "cat": "concat", "mul": "scale (x)", "iadd": "add (+)"}.get(
        name, name)


def draw(name: str, title: str, block: nn.Module) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    graph = fx.symbolic_trace(block.eval())
    modules = dict(graph.named_modules())
    nodes = list(graph.graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    height = 0.55 * len(nodes) + 1.2
    fig, ax = plt.subplots(figsize=(6.2, height))
    ax.set_xlim(0, 10)
    ax.set_ylim(-len(nodes) - 0.2, 1.2)
    ax.axis("off")
    ax.set_title(title, fontsize=10)
    colors = {"conv": "#cfe2f3", "BN": "#eeeeee", "add (+)": "#d9ead3", "concat": "#fce5cd",
              "scale (x)": "#f4cccc", "split": "#fff2cc"}
    for i, node in enumerate(nodes):
        label = _label(node, modules)
        color = next((c for key, c in colors.items() if label.startswith(key) or key in label), "#ffffff")
        ax.add_patch(FancyBboxPatch((2.0, -i - 0.32), 5.0, 0.64, boxstyle="round,pad=0.02", fc=color, ec="#555555"))
        ax.text(4.5, -i, label, ha="center", va="center", fontsize=8)
    lane = 0
    for node in nodes:
        for src in node.all_input_nodes:
            i, j = index[src], index[node]
            if j == i + 1:
                ax.add_patch(FancyArrowPatch((4.5, -i - 0.32), (4.5, -j + 0.32), arrowstyle="-|>",
                                             mutation_scale=8, color="#333333"))
            else:
                lane += 1
                rad = -0.25 - 0.05 * (lane % 4)
                ax.add_patch(FancyArrowPatch((7.0, -i), (7.0, -j), connectionstyle=f"arc3,rad={rad}",
                                             arrowstyle="-|>", mutation_scale=8, color="#3c78d8", lw=1.0))
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"block_{name}.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def main() -> None:
    torch.manual_seed(0)
    for name, (title, make) in BLOCKS.items():
        print("wrote", draw(name, title, make()))


if __name__ == "__main__":
    main()
