"""The I/O boundary: local files, S3 objects and http(s) URLs, read and written in one place.

``uris`` names and splits locations, ``errors`` is the one translator of I/O and AWS failures into
the pipeline's two error bases, ``write`` writes all or nothing with the run's encryption settings,
``objects`` reads, lists, fingerprints and deletes, ``http`` fingerprints a URL. The Pinpoint API
itself lives in ``pinpoint``; everything that touches bytes at rest goes through here.
"""
