"""Running: one path from a scenario (with overrides) to results, run directories, replays."""
