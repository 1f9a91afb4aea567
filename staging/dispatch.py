"""What the driver hands to its executor: ``run_chunk``, which imports the chunk work
(``staging.chunks``, with Pandera and the normalisers) only where it runs, so the driver never loads it."""

from __future__ import annotations

from pinpoint_etl.staging.tasks import ChunkResult, ChunkTask


def run_chunk(task: ChunkTask) -> ChunkResult:
    """``staging.chunks.stage_chunk``, imported in the process (or thread, or Dask worker) that runs it."""
    from pinpoint_etl.staging.chunks import stage_chunk

    return stage_chunk(task)
