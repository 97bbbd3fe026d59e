"""Paragraph reconstruction on small hand-written documents."""

import re
import textwrap

import pytest

from pipeline.chunk.segment import SegmentOptions, SegmentStats, segment_document
from pipeline.chunk.text import normalize
from pipeline.config import ChunkConfig

PARAS = [
    "The delegation welcomed the agreement reached last week on the reform of the regional development "
    "bank. It noted, however, that the new voting rules still leave the smallest members without a voice.",
    "Turning to security, the minister said that the border talks had made real progress. Both sides agreed "
    "to withdraw heavy weapons from the demilitarised zone and to exchange maps of the minefields.",
    "On climate, the speaker called for an international fund to help island states adapt to rising seas, "
    "and asked the wealthiest economies to honour the pledges they made at the last conference.",
    "Finally, she thanked the Secretary-General for his leadership and expressed confidence that the "
    "Assembly would rise to the challenges of the coming year.",
]


def opts(**kw):
    return SegmentOptions.from_config(ChunkConfig(**kw))


def texts(source, **kw):
    return [p.text for p in segment_document(source, opts(**kw))]


def test_blank_line_separated():
    assert texts("\n\n".join(PARAS)) == PARAS


def test_single_newline_separated():
    assert texts("\n".join(PARAS)) == PARAS


def test_crlf_and_trailing_spaces():
    assert texts("\r\n".join(p + "  " for p in PARAS)) == PARAS


@pytest.mark.parametrize("width", [42, 55, 61, 75])
def test_hard_wrapped_without_blank_lines(width):
    lines = []
    for p in PARAS:
        lines.extend(textwrap.wrap(p, width))
    source = "\n".join(lines)
    got = segment_document(source, opts())
    assert [p.text for p in got] == PARAS
    for para in got:
        assert normalize(source[para.start : para.end].replace("\n", " ")) == para.text


def test_page_furniture_inside_wrapped_paragraph_is_dropped():
    lines = textwrap.wrap(PARAS[0], 48) + textwrap.wrap(PARAS[1], 48)
    lines[2:2] = ["", "17", "A/69/PV.12", "14-54321 (E)", ""]
    source = "\n".join(lines)
    got = texts(source)
    assert got[0] == PARAS[0]
    assert got[1] == PARAS[1]
    assert not any(re.search(r"PV\.12|54321", t) for t in got)


def test_page_break_splits_nothing_when_paragraph_continues():
    lines = textwrap.wrap(PARAS[0], 45) + textwrap.wrap(PARAS[1], 45)
    lines.insert(3, "12")
    assert texts("\n".join(lines))[:2] == PARAS[:2]


def test_soft_hyphen_rejoined_and_compound_kept():
    source = (
        "The conference adopted a declaration on interna-\n"
        "tional cooperation that was described as a well-\n"
        "known compromise by the delegates of the region.\n"
        "Its long-\n"
        "term effects on the development of the\n"
        "region remain to be seen by everyone here."
    )
    got = texts(source, headings="keep")
    joined = " ".join(got)
    assert "international cooperation" in joined
    assert "well-known compromise" in joined
    assert "long-term effects" in joined


def test_repeated_page_headers_dropped():
    header = "General Assembly Seventieth session"
    lines = []
    for i, p in enumerate(PARAS):
        lines.append(header)
        lines.append(f"Page {i + 1}")
        lines.append(p)
    got = texts("\n".join(lines))
    assert got == PARAS


def test_web_boilerplate_dropped():
    source = "\n\n".join([PARAS[0], "Sharing is caring!", "*", "Published by Example News", PARAS[1], "Leave a Reply"])
    assert texts(source) == PARAS[:2]


def test_boilerplate_words_inside_wrapped_text_are_kept():
    para = ("Readers who wish to subscribe to the bulletin of the mission should write to the press office, "
            "which will add them to the list at no cost.")
    source = "\n".join(textwrap.wrap(PARAS[0], 55) + textwrap.wrap(para, 55) + textwrap.wrap(PARAS[1], 55))
    assert texts(source) == [PARAS[0], para, PARAS[1]]


@pytest.mark.parametrize(("mode", "expected"), [
    ("attach", ["Talks in Geneva\n" + PARAS[0], PARAS[1]]),
    ("drop", [PARAS[0], PARAS[1]]),
    ("keep", ["Talks in Geneva", PARAS[0], PARAS[1]]),
])
def test_headings(mode, expected):
    source = "Talks in Geneva\n\n" + PARAS[0] + "\n\n" + PARAS[1]
    got = segment_document(source, opts(headings=mode))
    assert [p.text for p in got] == expected
    if mode == "attach":
        assert got[0].start == 0


def test_long_paragraph_split_at_sentences():
    long = " ".join(PARAS)  # one paragraph of ~800 characters
    got = segment_document(long, opts(max_paragraph_chars=300))
    assert len(got) > 2
    assert all(len(p.text) <= 300 for p in got)
    assert " ".join(p.text for p in got) == long
    for p in got:
        assert long[p.start : p.end] == p.text
        assert p.text.endswith(".")


def test_curly_quotes_and_odd_spaces_normalised_offsets_in_source():
    source = "\ufeff  \u201cWe will not\u00a0yield,\u201d  the minister\u2019s aide said.\u200b\n\nSecond paragraph here."
    got = segment_document(source, opts(headings="keep"))
    assert got[0].text == "\"We will not yield,\" the minister's aide said."
    assert source[got[0].start] == "\u201c"
    assert source[got[0].start : got[0].end].endswith("said.")
    assert got[1].text == "Second paragraph here."


def test_stats_and_empty_document():
    stats = SegmentStats()
    assert segment_document("  \n\n 12 \n", opts(), stats) == []
    assert stats.noise_lines == 1
