import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from tests.transforms.helpers import PROPERTY, series
from pinpoint_etl.transforms.dedupe import MISSING, id_hashes, superseded_by


def test_last_occurrence_wins():
    ids = series(["a", "b", "a", None, "c", "b", "a", None])
    h = id_hashes(ids)
    assert (superseded_by(h) >= 0).tolist() == [True, True, True, False, False, False, False, False]
    assert superseded_by(h).tolist() == [6, 5, 6, -1, -1, -1, -1, -1]


def test_missing_ids_never_superseded():
    h = id_hashes(series([None, None, None]))
    assert (h == MISSING).all()
    assert (superseded_by(h) == -1).all()


def test_hashes_are_stable_across_chunks_and_dtypes():
    assert (id_hashes(series(["x", "y"], "str")) == id_hashes(series(["x", "y"], object))).all()
    assert (id_hashes(series(["x", "y"], "string")) == id_hashes(series(["x", "y"], "str"))).all()
    assert id_hashes(series(["x"]))[0] != MISSING


def test_ids_compared_exactly():
    assert (superseded_by(id_hashes(series(["a", "A", "a "]))) == -1).all()


def test_empty():
    assert superseded_by(np.zeros(0, dtype=np.uint64)).shape == (0,)


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
    assert (superseded_by(h) >= 0).tolist() == mask
    assert superseded_by(h).tolist() == by
    # chunked: the same answer whichever way the rows are cut and hashed
    chunks = [id_hashes(series(ids[start:start + 7])) for start in range(0, len(ids), 7)]
    assert superseded_by(np.concatenate(chunks) if chunks else np.zeros(0, np.uint64)).tolist() == by
