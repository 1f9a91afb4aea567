"""The ledger writer: rows written in the order added (on its background thread), all or nothing."""

import numpy as np
import pytest

from pinpoint_etl.staging.ledger import LedgerWriter, read_batches


def test_rows_keep_their_order_and_counts(tmp_path):
    uri = str(tmp_path / "ledger.csv")
    writer = LedgerWriter(uri)
    for k in range(50):  # many small adds, queued faster than they are written
        writer.add("in.csv", np.arange(k * 10 + 1, k * 10 + 11), "staged" if k % 5 else "rejected",
                   detail=None if k % 5 else "why")
    writer.close()
    rows = [r for b in read_batches(uri) for r in b.to_pylist()]
    assert [r["row"] for r in rows] == list(range(1, 501))
    assert writer.counts == {"staged": 400, "rejected": 100}
    assert {r["detail"] for r in rows if r["fate"] == "rejected"} == {"why"}


def test_a_failed_background_write_is_raised_and_leaves_no_file(tmp_path):
    uri = tmp_path / "ledger.csv"
    writer = LedgerWriter(str(uri))
    writer.add("in.csv", np.arange(1, 11), "staged")
    writer._thread.submit(lambda: None).result()  # the first rows are written
    writer._fh.close()  # the disk goes away under the writer
    writer.add("in.csv", np.arange(11, 21), "staged")
    with pytest.raises(ValueError):
        writer.close()
    assert not uri.exists()


def test_the_callers_error_aborts_the_file(tmp_path):
    uri = tmp_path / "ledger.csv"
    writer = LedgerWriter(str(uri))
    writer.add("in.csv", np.arange(1, 11), "staged")
    writer.close(RuntimeError("the run failed"))
    assert not uri.exists()
