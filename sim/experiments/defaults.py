"""Sweep settings shown by ``ddsim sweep --help``: kept in a module of their own so the
command line can show them without importing pandas and pyarrow at start-up."""

COMMIT_SECONDS = 10.0  # results wait at most this long in the parent before a commit
TARGET_TASK_SECONDS = 1.5  # batches are sized to take about this long
TASKS_PER_WORKER = 4  # ... but at least this many batches per worker remain
LOG_EVERY_SECONDS = 30.0  # progress line interval without a terminal
