"""Record train_images_per_s for weights published before the index had the field.

The median is taken over the epochs of the run's own metrics.jsonl, which publishing copied to
docs/weights/<name>/ (the same computation `cnnzoo dev register` now does when it publishes).

    python docs/scripts/backfill_train_throughput.py && python docs/scripts/gen_model_zoo.py
"""
from __future__ import annotations

from pathlib import Path

from cnnzoo.hub.index.store import load_index, upsert_entry
from cnnzoo.hub.publishing.register_run import median_throughput

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    for name, entry in load_index(ROOT / "weights" / "index.json").items():
        if entry.get("train_images_per_s") is not None:
            continue
        rate = median_throughput(ROOT / "docs" / "weights" / name / "metrics.jsonl")
        if rate is not None:
            upsert_entry({**entry, "train_images_per_s": rate}, path=ROOT / "weights" / "index.json")
            print(f"{name}: {rate} img/s")


if __name__ == "__main__":
    main()
