import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from tests.transforms.helpers import PROPERTY, series
from pinpoint_etl.transforms.dedupe import MISSING, IdLedger, drop_superseded, id_hashes, superseded_by, superseded_mask


def test_last_occurrence_wins():
    ids = series(["a", "b", "a", None, "c", "b", "a", None])
    h = id_hashes(ids)
    assert superseded_mask(h).tolist() == [True, True, True, False, False, False, False, False]
    assert superseded_by(h).tolist() == [6, 5, 6, -1, -1, -1, -1, -1]


def test_missing_ids_never_superseded():
    h = id_hashes(series([None, None, None]))
    assert (h == MISSING).all()
    assert not superseded_mask(h).any()


def test_hashes_are_stable_across_chunks_and_dtypes():
    assert (id_hashes(series(["x", "y"], "str")) == id_hashes(series(["x", "y"], object))).all()
    assert (id_hashes(series(["x", "y"], "string")) == id_hashes(series(["x", "y"], "str"))).all()
    assert id_hashes(series(["x"]))[0] != MISSING


def test_ids_compared_exactly():
    assert not superseded_mask(id_hashes(series(["a", "A", "a "]))).any()


def test_empty():
    assert superseded_mask(np.zeros(0, dtype=np.uint64)).shape == (0,)
    assert superseded_by(np.zeros(0, dtype=np.uint64)).shape == (0,)


def test_drop_superseded_in_a_chunk():
    frame = pd.DataFrame({"Id": series(["a", "b", "a"]), "_row": ["1", "2", "3"]})
    kept, dropped = drop_superseded(frame)
    assert kept["_row"].tolist() == ["2", "3"] and dropped["_row"].tolist() == ["1"]
    kept, dropped = drop_superseded(frame.drop(columns="Id"))
    assert len(kept) == 3 and len(dropped) == 0


def test_ledger_across_chunks():
    ledger = IdLedger()
    assert ledger.add(series(["a", "b"])) == 0
    assert ledger.add(series(["c", "a", None])) == 1
    assert ledger.add(series(["b"])) == 2
    masks = ledger.masks()
    assert [m.tolist() for m in masks] == [[True, True], [False, False, False], [False]]
    assert ledger.superseded_count() == 2 and ledger.rows == 6


def reference(ids):
    last = {}
    for i, v in enumerate(ids):
        if v is not None:
            last[v] = i
    by = [last[v] if v is not None and last[v] != i else -1 for i, v in enumerate(ids)]
    return [b >= 0 for b in by], by


@PROPERTY
@given(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", ""]), st.text(max_size=3)),
                max_size=60))
def test_matches_reference(ids):
    h = id_hashes(series(ids))
    mask, by = reference(ids)
    assert superseded_mask(h).tolist() == mask
    assert superseded_by(h).tolist() == by
    # chunked: same answer whichever way the rows are cut
    ledger = IdLedger()
    for start in range(0, len(ids), 7):
        ledger.add(series(ids[start:start + 7]))
    assert (np.concatenate(ledger.masks()) if ids else np.zeros(0, bool)).tolist() == mask
