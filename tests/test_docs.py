"""Generated docs are current: each generated page equals what its script produces now."""
import importlib.util
import json
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _generate(script: str, page: str, tmp_path, monkeypatch) -> str:
    spec = importlib.util.spec_from_file_location(script, DOCS / "scripts" / f"{script}.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    monkeypatch.setattr(gen, "OUT", tmp_path / page)
    gen.main()
    fresh = (tmp_path / page).read_text()
    assert fresh == (DOCS / page).read_text(), f"run python docs/scripts/{script}.py"
    return fresh


def test_architecture_table_is_generated_and_current(tmp_path, monkeypatch):
    fresh = _generate("gen_architectures", "architectures.md", tmp_path, monkeypatch)
    assert "| `resnet20` | resnet | 0.27 | 0.041 |" in fresh


def test_model_zoo_table_is_generated_from_the_index_and_current(tmp_path, monkeypatch):
    fresh = _generate("gen_model_zoo", "model_zoo.md", tmp_path, monkeypatch)
    index = json.loads((DOCS.parent / "weights" / "index.json").read_text())["weights"]
    for name, entry in index.items():
        row = next(line for line in fresh.splitlines() if line.startswith(f"| [`{name}`]"))
        assert f"| {entry['metrics']['top1']:.2f} ({entry['metrics']['split']}) |" in row


def test_model_zoo_row_shows_comparison_speed_and_cost(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("gen_model_zoo", DOCS / "scripts" / "gen_model_zoo.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    entry = dict(dataset=dict(name="CIFAR-10 (JPEG q75 copy)"), metrics=dict(top1=91.5, split="test"),
                 params=269722, gmacs=0.0408, epochs=100, wall_time_s=7200,
                 hardware=dict(torch_threads=1, cores=2, precision="bf16"), recipe="cnnzoo/recipes/x.yaml",
                 comparison=dict(paper=dict(top1=91.25, source="He et al. 2015"),
                                 public=dict(top1=94.03, source="pytorchcv")),
                 speed=dict(images_per_s=5000.4, optimized_images_per_s=7000.0, batch=256, threads=2))
    row = gen.table({"resnet20.cifar10": entry})[2]
    assert row == ("| [`resnet20.cifar10`](weights/resnet20.cifar10/) | CIFAR-10 (JPEG q75 copy) | 91.50 (test) | "
                   "91.25 (He et al. 2015) | 94.03 (pytorchcv) | 0.27 | 0.041 | 5,000 / 7,000 (batch 256, 2 threads)"
                   " | 100 epochs, 2.00 h, 1 thread(s) of 2-core CPU, bf16 | [`x.yaml`](../cnnzoo/recipes/x.yaml) |")
    no_paper = dict(entry, comparison=dict(note="no paper reports this architecture on this dataset"))
    assert "| none | none |" in gen.table({"dpn29.cifar10": no_paper})[2]
