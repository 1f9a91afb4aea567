"""Extract stage: find sources and stream their records as chunks of text columns.

``locate.expand_sources`` turns paths, globs, directories, s3:// keys/prefixes/globs and http(s)://
URLs into URIs; ``read.read_header`` gives a source's column names; ``read.read_tables`` yields
Arrow tables of at most ``ReadOptions.chunk_rows`` rows with ``_source`` and ``_row``. CSV goes
through ``csv_reader`` (pyarrow), JSON/NDJSON through ``json_reader`` + ``flatten``; sources are
opened by ``storage.objects.open_source`` and every I/O failure becomes a one-line
``SourceError``/``TransientError`` (``storage.errors``); ``streams`` wraps what was opened.
"""
