"""Scenario files: reading, schema, extends, overrides, and the builder of scenarios from data."""
