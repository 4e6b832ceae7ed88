"""Datasets (image folders, Kaggle layouts, named datasets), the uint8 tensor cache, batch augmentation, and
the preprocessing a weight expects (``resolve_data_config``, ``create_transform``, ``prepare_image``)."""
from .builder import DataBundle, build_data, scan_splits
from .data_config import resolve_data_config
from .folder import FolderIndex, find_split, scan_folder
from .images import load_rgb
from .named import DATASETS, list_datasets, resolve_dataset, sample_dir
from .paths import cache_dir, data_root
from .preprocess import prepare_image
from .split import carve_validation
from .transforms import create_transform

__all__ = ["DataBundle", "build_data", "scan_splits", "FolderIndex", "find_split", "scan_folder", "load_rgb",
           "DATASETS", "list_datasets", "resolve_dataset", "sample_dir", "cache_dir", "data_root", "carve_validation",
           "resolve_data_config", "create_transform", "prepare_image"]
