"""Experiment grids (models x activations x learning rates x optimizers x seeds) over the training engine:
run or continue a grid, collect its results, and regenerate the study's plots and table."""
from .report import write_report
from .runner import ResultsFolderError, run_experiment
from .spec import Cell, ExperimentSpec, load_spec, parse_spec

__all__ = ["Cell", "ExperimentSpec", "ResultsFolderError", "load_spec", "parse_spec", "run_experiment",
           "write_report"]
