"""Experiments: experiment files and designs, sweeps and their store, executors, analysis."""
