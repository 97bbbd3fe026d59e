"""Paragraph reconstruction on small hand-written documents."""

import itertools
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


# ----------------------------------------------------------------------------- lost indents and page breaks


def lost_indent_lines(paras, width, indent):
    """Greedy wrap with each paragraph's first line ``indent`` narrower, printed without the indent."""
    lines = []
    for p in paras:
        wrapped = textwrap.wrap(p, width, initial_indent=" " * indent)
        lines.extend([wrapped[0].lstrip(), *wrapped[1:]])
    return lines


def fits(line, next_line, width):
    return len(line) + 1 + len(next_line.split()[0]) <= width


def test_lost_indent_alone_tells_the_break():
    width = 43
    lines = lost_indent_lines(PARAS, width, indent=5)
    k = len(textwrap.wrap(PARAS[0], width, initial_indent=" " * 5))
    # Only the short first line of the second paragraph tells: the first paragraph's last
    # line is full (the next word would not have fitted), the second's first line is not.
    assert lines[k - 1].endswith(".") and not fits(lines[k - 1], lines[k], width)
    assert fits(lines[k], lines[k + 1], width) and lines[k + 1][0].islower()
    assert texts("\n".join(lines)) == PARAS
    # The same pair wrapped without the indent leaves no trace: one paragraph.
    plain = textwrap.wrap(PARAS[0], width) + textwrap.wrap(PARAS[1], width)
    assert texts("\n".join(plain + lines[k + len(textwrap.wrap(PARAS[1], width)):]))[0] == f"{PARAS[0]} {PARAS[1]}"


def test_lost_indent_on_typeset_text():
    # Proportional-font text extracted from a PDF (session 60): a line of 41 characters is
    # followed by one that continues its sentence and whose first word would have fitted.
    source = (
        "The world has changed more in the past fifteen\n"
        "years than in the fifty that came before them,\n"
        "and the Organization must change with it. Its\n"
        "founders could not foresee every threat we face.\n"
        "At the beginning of the third millennium,\n"
        "faster means of travel that began in the nineteenth\n"
        "century have made the planet smaller than ever and\n"
        "brought its peoples closer to one another, for good\n"
        "and for ill. Diseases now cross oceans in hours, and\n"
        "so do money, weapons and ideas that threaten peace.\n"
        "No country can face such challenges by itself, and\n"
        "none should have to. That is why we need an\n"
        "Assembly able to act, and a Council that reflects\n"
        "the world of today rather than that of 1945.\n"
    )
    got = texts(source)
    assert len(got) == 2
    assert got[1].startswith("At the beginning of the third millennium, faster means")


def test_short_last_line_is_not_a_paragraph_start():
    width = 50
    cite = ("As the Secretary-General wrote, preventing such wars is no longer a matter of defending States "
            "or protecting allies; it is a matter of defending humanity (A/52/871, para. 3)")
    paras = [PARAS[0], cite, PARAS[1], PARAS[2]]
    lines = lost_indent_lines(paras, width, indent=4)
    last = textwrap.wrap(cite, width, initial_indent="    ")[-1]
    assert len(last) < 0.8 * width and not last.endswith(".")
    got = segment_document("\n".join(lines), opts())
    assert [p.text for p in got] == paras


def test_short_line_ending_a_heading_stays_in_the_heading():
    # The heading's short last line is followed by a line that continues nothing (it starts
    # a sentence with a capital): no lost indent there, the heading stays whole.
    heading = ["Reform of the Security Council and of the", "General Assembly"]
    body = textwrap.wrap(PARAS[1], 44) + textwrap.wrap(PARAS[2], 44) + textwrap.wrap(PARAS[3], 44)
    source = "\n".join([*textwrap.wrap(PARAS[0], 44), "", *heading, *body])
    got = texts(source, headings="keep")
    assert got == [PARAS[0], "Reform of the Security Council and of the General Assembly", PARAS[1], PARAS[2], PARAS[3]]


def test_blank_line_at_a_page_break_inside_a_sentence():
    # Blank lines separate the paragraphs, and also mark page breaks in mid-sentence where
    # nothing ends: before a lower-case word, after "an", inside "post-2015".
    paras = [
        PARAS[0],
        "Turning to development, the minister said that post-2015 agenda must put the poorest first and "
        "that the financing of the Goals must not depend on the goodwill of a few donors alone.",
        *PARAS[1:],
        *PARAS,
    ]
    blocks = [textwrap.wrap(p, 50) for p in paras]
    assert blocks[1][:2] == ["Turning to development, the minister said that", "post-2015 agenda must put the poorest first and"]
    blocks[1][0:2] = ["Turning to development, the minister said that post-", "", "", "2015 agenda must put the poorest first and"]
    blocks[0][2:2] = [""]  # a page break inside the first paragraph, after a full line
    blocks[3][1:1] = ["", "", ""]  # On climate, the speaker called for an / ... / international
    source = "\n\n".join("\n".join(b) for b in blocks)
    assert texts(source) == paras


def test_one_space_indents_mark_paragraphs():
    lines = []
    for p in PARAS * 2:
        wrapped = textwrap.wrap(p, 52)
        lines.extend([" " + wrapped[0], *wrapped[1:]])
    assert texts("\n".join(lines)) == PARAS * 2


def test_page_and_job_number_line_dropped():
    lines = textwrap.wrap(PARAS[0], 48) + textwrap.wrap(PARAS[1], 48)
    lines[2:2] = ["", "37 10-55276", ""]
    lines[-2:-2] = ["", "10-55276 38", ""]
    assert texts("\n".join(lines)) == PARAS[:2]


SPEECH = [
    "Mr. President",
    "It is an honour to address the Assembly once again on behalf of my people and my Government, and to "
    "speak of the work that lies ahead of all of us in the coming year.",
    "Mr. President",
    "Our region has suffered three droughts in five years. Harvests have failed, herds have been lost and "
    "families have left their villages for the cities in search of work and water.",
    "Mr. President",
    "We therefore call on our partners to honour the pledges made in Paris, and we stand ready to work "
    "with every delegation in this Hall to make the coming year one of action.",
    "Mr. President",
    "I thank you.",
]


def test_a_repeated_address_to_the_room_is_a_paragraph_not_a_running_header():
    source = "\n".join(line for p in SPEECH for line in textwrap.wrap(p, 60))
    assert texts(source) == SPEECH


def test_a_line_ending_in_a_title_ends_no_sentence():
    paras = ["It is a great honour for me to begin by congratulating Mr. Peter Thomson on his election to the "
             "presidency of the General Assembly at its seventy-first session, and to wish him every success.",
             PARAS[1], PARAS[2]]
    lines = lost_indent_lines(paras, 64, 5)
    # the first line ends in "Mr." and is short for its lost indent: it must not end the paragraph
    assert lines[0].endswith("Mr.")
    assert texts("\n".join(lines)) == paras


def test_a_short_first_line_ending_a_sentence_is_explained_by_a_lost_indent():
    paras = ["One of our priorities is to ensure gender equality now. Together we must educate our "
             "communities in the values of respect, tolerance and equal dignity for all.",
             # paragraphs long enough for the document to be measured as a fixed-width (greedy) wrap
             *(PARAS[i] + " " + PARAS[j] for i, j in ((0, 1), (2, 3), (1, 2), (3, 0), (0, 2), (1, 3)))]
    lines = lost_indent_lines(paras, 70, 8)
    # room for "Together" in the full width, not in the indented one
    assert lines[0].endswith("now.") and fits(lines[0], lines[1], 70) and not fits(lines[0], lines[1], 62)
    assert texts("\n".join(lines)) == paras


# The lost-indent cue when the next line starts with a capital, when the first line ends in a broken
# word, and when a page break stands between the first line and its continuation.
# FILLER: no line of them recurs three times, which would make it a running header.
FILLER = [PARAS[i] + " " + PARAS[j] for i, j in ((0, 1), (2, 3), (1, 2), (3, 0))]
THANKS = ("I want to thank Secretary-General António Guterres, the President of the General Assembly, Mr. Peter "
          "Thomson, the United Nations Development Programme and the Peacebuilding Fund, because they have "
          "accompanied every step of the peace process in our country with patience and resolve.")
CONCERN = ("At the same time, we continue to be concerned about security developments in and around our region, "
           "where unresolved conflicts threaten the progress achieved over recent decades by all of our neighbours.")


def _layouts(para, indents):
    """``(width, indent, lines, k)`` of ``para`` wrapped with lost indents after each FILLER paragraph in turn, where
    line ``k`` (``para``'s first) follows a full line that ends a sentence, so only its lost indent can tell."""
    for width, indent, lead in itertools.product(range(40, 76), indents, range(len(FILLER))):
        lines = lost_indent_lines([FILLER[lead], para, *FILLER[:lead], *FILLER[lead + 1:]], width, indent)
        k = len(textwrap.wrap(FILLER[lead], width, initial_indent=" " * indent))
        if (lines[k - 1].endswith(".") and not fits(lines[k - 1], lines[k], width)
                and max(map(len, lines)) == width):  # some line as long as the width, so it is measured right
            yield width, indent, lines, k


def _starts_paragraph(got, para):
    """``para`` starts a paragraph, and the paragraph before it ends where a FILLER paragraph ends."""
    k = next((i for i, t in enumerate(got) if t.startswith(para[:60])), None)
    return k is not None and k > 0 and any(got[k - 1].endswith(f[-60:]) for f in FILLER)


def test_lost_indent_before_a_capitalised_continuation():
    found = 0
    for width, indent, lines, k in _layouts(THANKS, (3, 5, 7)):
        if lines[k + 1][0].isupper() and fits(lines[k], lines[k + 1], width):
            found += 1
            assert _starts_paragraph(texts("\n".join(lines)), THANKS), (width, indent, lines[k], lines[k + 1])
    assert found >= 3  # the layouts this test is about exist


def test_lost_indent_on_a_first_line_ending_in_a_broken_word():
    found = 0
    for width, indent, lines, k in _layouts(CONCERN, (4, 6, 8)):
        word = lines[k + 1].split()[0]
        # break the next line's first word at the end of the narrower first line, as a hyphenating wrapper would
        cut = width - indent - len(lines[k]) - 2
        if word.isalpha() and word.islower() and 2 <= cut <= len(word) - 2 and len(lines[k]) + 1 + len(word) <= width:
            found += 1
            lines[k] += " " + word[:cut] + "-"
            lines[k + 1] = word[cut:] + lines[k + 1][len(word):]
            assert _starts_paragraph(texts("\n".join(lines)), CONCERN), (width, indent, lines[k], lines[k + 1])
    assert found >= 3


def test_lost_indent_across_a_page_break():
    found = 0
    for width, _, lines, k in _layouts(THANKS, (6,)):
        if fits(lines[k], lines[k + 1], width):
            found += 1
            lines[k + 1 : k + 1] = ["", "A/71/PV.27", ""]  # the page ends after the paragraph's first line
            assert _starts_paragraph(texts("\n".join(lines)), THANKS), (width, lines[k])
    assert found >= 3
