"""A lead history as the evaluator reads it: its columns, reading CSV, JSON Lines and Parquet
(directly or through a mapping of a CRM export), every CSV cell written safely, every history
and rejects CSV file written (write), and the synthetic histories the examples and benchmarks
are made of."""
