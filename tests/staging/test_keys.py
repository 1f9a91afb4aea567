"""Partitioned on-disk keys decide exactly what the whole-input rules decide, whatever the chunking."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pinpoint_etl.core import catalogue as cat
from pinpoint_etl.staging.keys import PARTITIONS, KeyStore
from pinpoint_etl.transforms.dedupe import MISSING, superseded_by


def _reference(ids: np.ndarray, users: np.ndarray):
    """The rules over the whole input at once: last occurrence of an Id wins; a user's 16th+ survivor overflows."""
    by = superseded_by(ids)
    sup = by >= 0
    seen: dict[int, int] = {}
    over = np.zeros(len(ids), dtype=bool)
    for i, u in enumerate(users.tolist()):
        if sup[i] or u == 0:
            continue
        seen[u] = seen.get(u, 0) + 1
        over[i] = seen[u] > cat.MAX_ENDPOINTS_PER_USER
    return sup, by, over


# few distinct values spread over every partition (the top bits choose it), and MISSING
HASHES = st.sampled_from([0, 1, 2, 2**63 + 5, 2**58 * 7 + 3, 2**64 - 1, 2**60 + 9])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(HASHES, HASHES), max_size=120), st.lists(st.integers(1, 40), min_size=1, max_size=8))
def test_decisions_match_the_whole_input_rules(tmp_path_factory, rows, cuts):
    ids = np.array([r[0] for r in rows], dtype=np.uint64)
    users = np.array([r[1] for r in rows], dtype=np.uint64)
    src_rows = np.arange(1, len(rows) + 1, dtype=np.int64) * 10
    store = KeyStore(tmp_path_factory.mktemp("keys"))
    start, i = 0, 0
    while start < len(rows):  # chunks of varying size, alternating source index
        stop = min(len(rows), start + cuts[i % len(cuts)])
        store.add(ids[start:stop], users[start:stop], i % 2, src_rows[start:stop])
        start, i = stop, i + 1
    decided = store.decide()
    sup, by, over = _reference(ids, users)
    assert decided.superseded.tolist() == np.flatnonzero(sup).tolist()
    assert decided.winner_row.tolist() == src_rows[by[sup]].tolist()
    assert decided.overflow.tolist() == np.flatnonzero(over).tolist()
    got_sup, _, wrow, got_over = decided.in_range(0, len(rows))
    assert got_sup.tolist() == sup.tolist() and got_over.tolist() == over.tolist()
    assert wrow.tolist() == src_rows[by[sup]].tolist()


def test_user_with_more_than_15_endpoints_overflows_after_dedupe(tmp_path):
    store = KeyStore(tmp_path / "k")
    n = cat.MAX_ENDPOINTS_PER_USER + 3
    ids = np.arange(1, n + 1, dtype=np.uint64) << np.uint64(58)  # one Id per partition region
    ids[0] = ids[1]  # the first row is superseded by the second: it does not count for the user
    users = np.full(n, 2**62 + 1, dtype=np.uint64)
    store.add(ids, users, 0, np.arange(1, n + 1))
    decided = store.decide()
    assert decided.superseded.tolist() == [0] and decided.winner_row.tolist() == [2]
    assert decided.overflow.tolist() == list(range(cat.MAX_ENDPOINTS_PER_USER + 1, n))


def test_missing_keys_are_never_written_and_files_are_removed(tmp_path):
    store = KeyStore(tmp_path / "k")
    store.add(np.full(5, MISSING, dtype=np.uint64), np.full(5, MISSING, dtype=np.uint64), 0, np.arange(5))
    assert sum(p.stat().st_size for p in (tmp_path / "k").iterdir()) == 0
    assert len(list((tmp_path / "k").iterdir())) == 2 * PARTITIONS
    decided = store.decide()
    assert len(decided.superseded) == 0 and len(decided.overflow) == 0
    assert list((tmp_path / "k").iterdir()) == []
