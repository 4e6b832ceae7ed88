"""Training and evaluation: train(), evaluate(), checkpoint/resume, distributed, metrics log and plots."""
from .config import TrainConfig, build_config, find_recipe
from .evaluate import evaluate, evaluate_loader, evaluate_weight_file
from .trainer import train

__all__ = ["TrainConfig", "build_config", "find_recipe", "evaluate", "evaluate_loader", "evaluate_weight_file", "train"]
