"""Property tests: the chunker never crashes and its offsets are always sound."""

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.chunk.segment import SegmentOptions, segment_document
from pipeline.chunk.text import normalize
from pipeline.config import ChunkConfig

OPTS = {mode: SegmentOptions.from_config(ChunkConfig(headings=mode, max_paragraph_chars=200)) for mode in ("attach", "keep")}

words = st.sampled_from(
    ["the", "United", "Nations", "peace-", "keeping", "interna-", "tional", "well-known", "12", "A/69/PV.3",
     "said.", "“quote”", "end.", "Mr.", "Leave", "a", "Reply", "*", "\u00a0", "\u00ad", "—", "NATO", "is", "war?"]
)
separators = st.sampled_from([" ", " ", " ", "\n", "\n\n", "\r\n", "\t", "  \n   ", "\x0c"])


@st.composite
def documents(draw):
    parts = draw(st.lists(st.tuples(words, separators), max_size=120))
    return "".join(w + s for w, s in parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(documents(), st.text(max_size=600)), st.sampled_from(["attach", "keep"]))
def test_offsets_sound_for_any_text(source, mode):
    paragraphs = segment_document(source, OPTS[mode])
    last_end = 0
    for p in paragraphs:
        assert 0 <= p.start < p.end <= len(source)
        assert p.start >= last_end, "paragraphs overlap or are out of order"
        last_end = p.end
        assert p.text == p.text.strip() and p.text
        # The letters of the paragraph come from its span, in order. (Dropped page furniture
        # and headers may sit between two halves of a rejoined word, so this is a subsequence.)
        span_letters = iter(re.sub(r"[\W\d_]", "", normalize(source[p.start : p.end])))
        letters = re.sub(r"[\W\d_]", "", p.text)
        assert all(ch in span_letters for ch in letters)
