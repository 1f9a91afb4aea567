"""Export: the import pipeline reversed, one stage per module.

``options`` (what to export, where, in which format) → ``job`` (CreateExportJob into the run's S3 folder,
poll, list and check Pinpoint's raw ``.gz`` files, delete them after download) → ``records`` (stream each
file, flatten with the import's flattener, the import's number text) → ``check`` (validate leniently
against ``schemas.exported``, count anomalies, spill) → ``columns`` (the import layout, in the import's
order) → ``write`` (CSV and NDJSON through the import's encoders in ``staging.writers``, Parquet;
``csv_safe`` neutralises formulas) → ``report`` (the run's books, the run-status vocabulary of the
import). ``run`` strings them together; ``flows/`` drives it from Prefect and the CLI.
"""
