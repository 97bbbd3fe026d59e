"""PDFs built with ReportLab for the PDF reader's tests: the paragraphs that went in are known exactly."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.enums import TA_JUSTIFY
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph

SHY = "\u00ad"

#: one-column report: (kind, text); ``h`` a bold heading, ``p`` a paragraph (soft hyphens mark break points)
REPORT = [
    ("p", "The General Assembly opened its annual debate with a call for renewed cooperation among its "
          f"members. Speakers stressed that the {SHY.join(['inter', 'national'])} order rests on rules that "
          "every state has accepted, and that those rules lose their force when they are applied "
          "selectively or ignored by the powerful."),
    ("p", "Several delegations described the economic damage of the past year in detail. Rising food "
          "prices, disrupted supply chains and the cost of borrowing have pushed millions of families back "
          f"into poverty, they said, and the promise of {SHY.join(['sus', 'tain', 'able'])} "
          f"{SHY.join(['devel', 'op', 'ment'])} is slipping out of reach for the poorest countries."),
    ("h", "Reform of the Security Council"),
    ("p", "A long-standing debate returned to the floor. Many speakers argued that the decision-making "
          "bodies of the Organization still reflect the world of 1945 rather than the world of today, and "
          "that a council without permanent members from Africa or Latin America cannot claim to speak for "
          "all. Others warned that reform by itself would not end the paralysis of recent years, which "
          "stems from the divisions among the great powers themselves."),
    ("p", f"Small island states spoke with particular urgency about the rising sea. For them the question of "
          f"climate finance is not an abstract matter of {SHY.join(['ac', 'count', 'ability'])} but one of "
          "survival, and they asked the largest emitters to honour the pledges made at earlier conferences "
          "before making new ones."),
    ("p", "The debate also turned to the protection of civilians in armed conflict. Speakers condemned "
          "attacks on hospitals, schools and humanitarian convoys, and called for those responsible to be "
          f"held to account before {SHY.join(['com', 'pe', 'tent'])} courts, whoever they may be."),
    ("p", f"Finally, a number of delegations welcomed the well-known initiatives on digital cooperation and "
          f"artificial intelligence, while cautioning that new technologies must serve people rather than "
          f"replace the {SHY.join(['demo', 'cratic'])} choices that societies make for themselves."),
]

RUNNING_HEADER = "Proceedings of the General Assembly"


def expected(paragraphs: list[tuple[str, str]]) -> list[str]:
    """The paragraphs the chunker should return: headings attached to the next paragraph, soft hyphens gone."""
    out: list[str] = []
    heading = None
    for kind, text in paragraphs:
        text = text.replace(SHY, "")
        if kind == "h":
            heading = text
            continue
        out.append(f"{heading}\n{text}" if heading else text)
        heading = None
    return out


def _wrap(text: str, width: float, first_indent: float, font: str, size: float) -> list[str]:
    """Greedy line breaking; a word that does not fit may break at a hyphen or a soft hyphen."""
    lines: list[str] = []
    line = ""
    room = width - first_indent
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if stringWidth(candidate.replace(SHY, ""), font, size) <= room:
            line = candidate
            continue
        for cut in range(len(word) - 1, 0, -1):  # the longest head that fits, broken at a (soft) hyphen
            if word[cut - 1] == "-" or word[cut] == SHY:
                head = word[:cut] if word[cut - 1] == "-" else word[:cut] + "-"
                trial = f"{line} {head}" if line else head
                if stringWidth(trial.replace(SHY, ""), font, size) <= room:
                    lines.append(trial.replace(SHY, ""))
                    line = word[cut:].lstrip(SHY)
                    break
        else:
            lines.append(line.replace(SHY, ""))
            line = word
        room = width
    lines.append(line.replace(SHY, ""))
    return lines


def one_column_pdf(path: Path, paragraphs: list[tuple[str, str]] = REPORT, width: float = 205.0) -> list[list[str]]:
    """Ragged-right paragraphs with first-line indents, a running header and page numbers.

    Returns the lines drawn on each page (header and page number left out).
    """
    page_w, page_h = width + 120, 430
    canvas = Canvas(str(path), pagesize=(page_w, page_h), invariant=1)
    canvas.setTitle("Annual debate: summary")
    canvas.setAuthor("Rapporteur")
    pages: list[list[str]] = [[]]
    top, bottom, leading = page_h - 70, 60, 14.0

    def furniture() -> None:
        canvas.setFont("Times-Italic", 9)
        canvas.drawString(60, page_h - 40, RUNNING_HEADER)
        canvas.setFont("Times-Roman", 9)
        canvas.drawCentredString(page_w / 2, 30, str(len(pages)))

    furniture()
    y = top
    for kind, text in paragraphs:
        font = "Times-Bold" if kind == "h" else "Times-Roman"
        indent = 0.0 if kind == "h" else 18.0
        if kind == "h":
            y -= 6
        for i, line in enumerate(_wrap(text, width, indent, font, 11)):
            if y < bottom:
                canvas.showPage()
                pages.append([])
                furniture()
                y = top
            canvas.setFont(font, 11)
            canvas.drawString(60 + (indent if i == 0 else 0), y, line)
            pages[-1].append(line)
            y -= leading
    canvas.save()
    return pages


#: two-column article: block paragraphs (no indent, a gap between paragraphs), justified
ARTICLE = [
    "Negotiators meeting in Geneva this week reached a provisional agreement on the protection of migrant "
    "workers, ending two years of talks that had repeatedly stalled over the question of enforcement.",
    "The text obliges signatory states to guarantee equal pay for equal work, access to emergency health "
    "care and the right to join a trade union, regardless of a worker's residence status. It also creates "
    "a committee of independent experts that will examine national reports every four years and may visit "
    "the countries concerned.",
    "Employers' organisations welcomed the compromise but warned that small businesses would need time and "
    "support to adapt. Trade unions said the agreement was a first step, and that its value would depend on "
    "how seriously governments treated the committee's recommendations and whether inspectors had the "
    "means to visit workplaces.",
    "Several countries of origin pressed for stronger provisions on recruitment fees, which often leave "
    "workers in debt before they have earned their first wage. The final text bans such fees outright but "
    "leaves the means of enforcement to national law.",
    "Human rights groups were more sceptical. They pointed out that several of the largest destination "
    "countries had not taken part in the final round, and that a convention without them would protect only "
    "a fraction of the people it was meant for.",
    "The agreement will be opened for signature in the spring. It enters into force once twenty states "
    "have ratified it, a process that observers expect to take at least three years.",
    "Diplomats involved in the talks described the final night as tense but constructive. A disagreement "
    "over the definition of domestic work was resolved only shortly before dawn, when the chair proposed "
    "language borrowed from an earlier convention of the International Labour Organization.",
    "Observers noted that the outcome reflected a broader shift in the way migration is discussed in "
    "international forums, with more attention to the rights of individual workers and less to border "
    "control alone.",
]
ARTICLE_TITLE = "Geneva talks end with deal on migrant workers"


def two_column_pdf(path: Path, paragraphs: list[str] = ARTICLE) -> None:
    """Two justified columns on two small pages, a bold title across both columns on the first page."""
    page_w, page_h = 420, 400
    style = ParagraphStyle("body", fontName="Helvetica", fontSize=9, leading=11, alignment=TA_JUSTIFY, spaceAfter=7)
    gutter, margin = 18, 40
    col_w = (page_w - 2 * margin - gutter) / 2

    def title(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.setFont("Helvetica-Bold", 14)
        canvas.drawCentredString(page_w / 2, page_h - 60, ARTICLE_TITLE)

    def frames(top: float) -> list[Frame]:
        return [Frame(margin + i * (col_w + gutter), margin, col_w, top - margin, id=f"c{i}", leftPadding=0,
                      rightPadding=0, topPadding=0, bottomPadding=0) for i in range(2)]

    doc = BaseDocTemplate(str(path), pagesize=(page_w, page_h), invariant=1, title="Migrant workers",
                          author="Staff reporter")
    doc.addPageTemplates([PageTemplate("first", frames(page_h - 90), onPage=title, autoNextPageTemplate="rest"),
                          PageTemplate("rest", frames(page_h - margin))])
    doc.build([Paragraph(text, style) for text in paragraphs])


#: a page with footnotes: markers in the body (superscript), notes in small type at the foot of the page
FOOTNOTED = [
    "The committee examined the reports of eleven states at its spring session.<super>1</super> It noted "
    "progress in the collection of data on forced labour, but regretted that most reports said little about "
    "the situation of domestic workers.",
    "In its concluding observations the committee recommended that states establish independent complaint "
    "mechanisms and publish their findings every year.<super>2</super> It will review the follow-up to "
    "these recommendations at its next session.",
]
FOOTNOTES = [
    "See the summary records of the 41st to 45th meetings.",
    "The recommendations are reproduced in annex II to the present report.",
]


def footnote_pdf(path: Path) -> None:
    """One page: two indented justified paragraphs with superscript markers, two footnotes below a rule."""
    page_w, page_h = 420, 595
    style = ParagraphStyle("body", fontName="Times-Roman", fontSize=11, leading=14, alignment=TA_JUSTIFY,
                           firstLineIndent=18)

    def notes(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.line(50, 110, 150, 110)
        y = 98.0
        for number, note in enumerate(FOOTNOTES, start=1):
            canvas.setFont("Times-Roman", 6)
            canvas.drawString(50, y + 3, str(number))
            canvas.setFont("Times-Roman", 8)
            canvas.drawString(55, y, note)
            y -= 10

    doc = BaseDocTemplate(str(path), pagesize=(page_w, page_h), invariant=1)
    doc.addPageTemplates([PageTemplate("page", [Frame(50, 120, page_w - 100, page_h - 170)], onPage=notes)])
    doc.build([Paragraph(text, style) for text in FOOTNOTED])


def scanned_pdf(path: Path) -> None:
    """One page holding only a bitmap (a "scan"): no text layer."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader

    image = Image.new("L", (400, 200), 255)
    ImageDraw.Draw(image).text((20, 80), "This is a scanned page with no text layer.", fill=0)
    canvas = Canvas(str(path), pagesize=(420, 595), invariant=1)
    canvas.drawImage(ImageReader(image), 10, 300, width=400, height=200)
    canvas.save()


def encrypted_pdf(path: Path) -> None:
    canvas = Canvas(str(path), encrypt="secret", invariant=1)
    canvas.drawString(72, 720, "Only for those who know the password.")
    canvas.save()
