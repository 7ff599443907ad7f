"""The model core: states as Mesa agents, N x N relations, activities, crises, alignment,
events, metrics and parameters. It imports nothing from the layers above it."""
