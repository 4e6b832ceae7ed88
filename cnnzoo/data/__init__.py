"""Datasets (image folders, Kaggle layouts, named datasets), the uint8 tensor cache and batch augmentation."""
from .builder import DataBundle, build_data, scan_splits
from .folder import FolderIndex, find_split, scan_folder
from .images import load_rgb
from .named import DATASETS, list_datasets, resolve_dataset, sample_dir
from .paths import cache_dir, data_root
from .split import carve_validation

__all__ = ["DataBundle", "build_data", "scan_splits", "FolderIndex", "find_split", "scan_folder", "load_rgb",
           "DATASETS", "list_datasets", "resolve_dataset", "sample_dir", "cache_dir", "data_root", "carve_validation"]
