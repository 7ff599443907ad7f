"""Scenario files: the line-tracking YAML reader, the schema, ``extends``, ``--set`` overrides,
and serialization of resolved scenarios; and scenarios built from data: the year-Y builder
(``builder``), the source datasets it reads (``sources``), the project's tables (``tables``)
and the table-to-scenario rules shared with scripts/ (``rules``)."""
