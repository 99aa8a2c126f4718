"""Stand-ins for dbt's ``adapter`` and ``dbt`` objects when sqlfluff lints the project.

sqlfluff's jinja templater renders models without dbt: it knows ``ref``, ``source`` and
``config`` but not the adapter (``adapter.dispatch``, ``adapter.get_columns_in_relation``) or
dbt's cross-database macros. The modules here give them for linting only: each dispatching macro
renders as a plain call of the same name, which is valid SQL for the linter to check the model's
layout around it. dbt never reads this folder.
"""
