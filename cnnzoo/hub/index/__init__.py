"""The weights index (``index.json``): reading, validated writing and its schema."""
from .schema import check_entry, entry_problems
from .store import (INDEX_ENV, INDEX_FORMAT, INDEX_NAME, PACKAGED_INDEX, add_entry, checkout_weights_dir, get_entry,
                    index_path, indexed_names, indexed_tags, load_index, remove_entry, upsert_entry, validate_index)

__all__ = ["check_entry", "entry_problems", "INDEX_ENV", "INDEX_FORMAT", "INDEX_NAME", "PACKAGED_INDEX", "add_entry",
           "checkout_weights_dir", "get_entry", "index_path", "indexed_names", "indexed_tags", "load_index",
           "remove_entry", "upsert_entry", "validate_index"]
