"""Experiments: experiment files and designs, sweeps and their store, executors, analysis;
hindcasts: observations of a window (``observed``), scores (``scoring``) and baselines."""
