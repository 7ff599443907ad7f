"""Experiments on the model: designs, sweeps, analysis, comparison and hindcasts."""
