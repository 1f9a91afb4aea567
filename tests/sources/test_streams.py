"""The byte stream under the CSV parser: stray-quote detection agrees with its definition, across reads."""

from __future__ import annotations

import io
import re

from hypothesis import given
from hypothesis import strategies as st

from pinpoint_etl.sources.streams import SourceStream, has_stray_quote

#: the definition: a quote with an ordinary byte (not delimiter, CR, LF or quote) on both sides
STRAY = re.compile(rb'[^,\r\n"]"[^,\r\n"]')
TEXT = st.binary(max_size=60).map(lambda b: bytes(b'ab,"\r\n'[x % 6] for x in b))


@given(TEXT)
def test_has_stray_quote_matches_the_definition(data):
    assert has_stray_quote(data, b',\r\n"') == bool(STRAY.search(data))


@given(TEXT, st.lists(st.integers(1, 7), min_size=1, max_size=20))
def test_stream_finds_a_stray_quote_split_across_reads(data, sizes):
    stream = SourceStream(io.BytesIO(data))
    stream.count_quotes, stream.quote_neighbours = True, b',\r\n"'
    i = 0
    while stream.read(sizes[i % len(sizes)]):
        i += 1
    assert stream.suspicious == bool(STRAY.search(data))
    assert stream.quotes == data.count(b'"')


def test_examples():
    assert has_stray_quote(b'"ab"c,d', b',\r\n"')
    assert has_stray_quote(b'a,5" screen', b',\r\n"')
    assert not has_stray_quote(b'"a ""quoted"" word",b\r\n', b',\r\n"')
    assert not has_stray_quote(b'a;"b;c";d', b';\r\n"')
    assert has_stray_quote(b'a,"b;c"d', b';\r\n"')
