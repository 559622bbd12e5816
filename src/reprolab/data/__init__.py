"""The data: where a table comes from and what it must look like.

sources (the `data.source.kind` loaders), tables (the CSV/parquet readers every stage
shares), parquet_stream (a pipeline parquet file a column or a batch at a time),
number_format (decimal/thousands separators, missing markers), synthetic (seeded
generated tables), schema_inference (the effective schema: declared roles plus what is
inferred), columns (which columns the model reads, by that schema), contract (the
pandera checks of that schema), config_shapes (the `data` section's shape, checked
first), category_variants (spellings that are likely one category), split_settings
(the `split` section as one frozen dataclass per method), splitting (train/test rows).

Imports: core/ only (and other data/ modules). Knows nothing of models, DVC or git.
"""
