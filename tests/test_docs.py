"""Generated docs are current: the architecture table equals what its script produces now."""
import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_architecture_table_is_generated_and_current(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("gen", DOCS / "scripts" / "gen_architectures.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    monkeypatch.setattr(gen, "OUT", tmp_path / "architectures.md")
    gen.main()
    fresh = (tmp_path / "architectures.md").read_text()
    assert fresh == (DOCS / "architectures.md").read_text(), "run python docs/scripts/gen_architectures.py"
    assert "| `resnet20` | resnet | 0.27 | 0.041 |" in fresh
