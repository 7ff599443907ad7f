"""Scenario files: the line-tracking YAML reader, the schema, ``extends``, ``--set`` overrides,
and serialization of resolved scenarios."""
