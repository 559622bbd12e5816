"""The data: where a table comes from and what it must look like.

sources (the `data.source.kind` loaders), tables (the CSV/parquet readers every stage
shares), number_format (decimal/thousands separators, missing markers), synthetic
(seeded generated tables), schema_inference (the effective schema: declared roles plus
what is inferred), contract (the pandera checks of that schema), splitting (train/test).

Imports: core/ only (and other data/ modules). Knows nothing of models, DVC or git.
"""
