"""The SIRG meeting pack as a Word document (the team works in Word), marked OFFICIAL-SENSITIVE."""

from __future__ import annotations

import io
from collections.abc import Sequence

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

from review.render import uk_date, uk_datetime
from storage.meeting_papers import Paper, Papers
from storage.workflow import status_label

MARKING = "OFFICIAL-SENSITIVE"
AGENDA_HEADERS = (
    "No.",
    "Reference",
    "Child",
    "Referring agency",
    "Review requested",
    "Panel notification due",
    "Rapid Review due",
)


# Styles of the default template, by id.
TITLE, HEADING1, HEADING2, BULLET, GRID = "Title", "Heading1", "Heading2", "ListBullet", "TableGrid"


def _styled(doc: DocxDocument, text: str, style_id: str) -> Paragraph:
    """A paragraph in a style given by id. python-docx finds a style named in its API by
    scanning every style each time: that was four fifths of the time to build a pack."""
    paragraph = doc.add_paragraph(text)
    paragraph._p.style = style_id
    return paragraph


def child(paper: Paper) -> str:
    """'L.K., 4 years': the most of the child the pack names."""
    parts = [paper.initials or "initials not given", paper.age or "age not known"]
    return ", ".join(parts)


def _marked(doc: DocxDocument) -> None:
    """The protective marking at the top and bottom of every page."""
    section = doc.sections[0]
    for part in (section.header, section.footer):
        paragraph = part.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(MARKING)
        run.bold = True
        run.font.size = Pt(11)
        run.font.color.rgb = RGBColor(0xA6, 0x1B, 0x1B)


def _table(doc: DocxDocument, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    # Made at full size at once: adding rows one by one re-reads the table each time.
    table: Table = doc.add_table(rows=len(rows) + 1, cols=len(headers))
    table._tbl.tblStyle_val = GRID  # by id: see _styled
    grid = table.rows
    for cell, text in zip(grid[0].cells, headers, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    for number, row in enumerate(rows, start=1):
        for cell, text in zip(grid[number].cells, row, strict=True):
            cell.text = text
    return table


def _none(doc: DocxDocument, text: str = "None given.") -> None:
    doc.add_paragraph(text).runs[0].italic = True


def _paper(doc: DocxDocument, paper: Paper) -> None:
    title = f"{paper.position}. {paper.reference}"
    heading = _styled(doc, title + (" – URGENT" if paper.urgent else ""), HEADING1)
    heading.paragraph_format.page_break_before = True  # each referral starts a page
    facts = [
        ("Child", child(paper)),
        ("Referring agency", paper.agency or "not given"),
        ("Received", uk_datetime(paper.received_at)),
        ("Status", status_label(paper.status)),
    ]
    if paper.decision is not None:
        facts.append(("Decision recorded", paper.decision.label))
    table: Table = doc.add_table(rows=len(facts), cols=2)
    table._tbl.tblStyle_val = GRID  # by id: see _styled
    for row, (name, value) in zip(table.rows, facts, strict=True):
        row.cells[0].paragraphs[0].add_run(name).bold = True
        row.cells[1].text = value

    _styled(doc, "Summary", HEADING2)
    if paper.summary:
        for line in paper.summary.splitlines():
            if line.strip():
                doc.add_paragraph(line.strip())
    else:
        _none(doc)
    _styled(doc, "Criteria", HEADING2)
    for item in paper.criteria:
        _styled(doc, item, BULLET)
    if not paper.criteria:
        _none(doc, "None ticked.")
    _styled(doc, "Review type requested", HEADING2)
    doc.add_paragraph(paper.review_type or "Not stated.")
    _styled(doc, "Parallel processes", HEADING2)
    if paper.processes:
        processes = [(p.label, p.status, p.details) for p in paper.processes]
        _table(doc, ("Process", "Yes / No / Not known", "Details"), processes)
    else:
        _none(doc)
    _styled(doc, "Agencies involved", HEADING2)
    for agency in paper.agencies:
        involved = f" (currently involved: {agency.involved})" if agency.involved else ""
        _styled(doc, agency.name + involved, BULLET)
    if not paper.agencies:
        _none(doc)
    _styled(doc, "Key dates", HEADING2)
    if paper.key_dates:
        rows = [(uk_date(k.day) if k.day else k.raw, k.event) for k in paper.key_dates]
        _table(doc, ("Date", "Event"), rows)
    else:
        _none(doc)
    _styled(doc, "Statutory dates", HEADING2)
    _table(
        doc,
        ("Milestone", "Due"),
        [
            ("National Panel notification due", uk_date(paper.panel_due) or "no date"),
            ("Rapid Review due", uk_date(paper.rapid_review_due) or "no date"),
        ],
    )


def meeting_pack(papers: Papers) -> bytes:
    """The pack: title, agenda table, then one part per referral, each on a new page."""
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(11)
    _marked(doc)
    doc.core_properties.title = f"SIRG meeting pack {papers.day.isoformat()}"
    doc.core_properties.author = "LSCP SIRG"
    doc.core_properties.keywords = MARKING
    _styled(doc, f"SIRG meeting pack – {uk_date(papers.day)}", TITLE)
    when = " · ".join(t for t in (papers.time_note, papers.place_note) if t)
    if when:
        doc.add_paragraph(when)
    doc.add_paragraph(
        f"{MARKING}. Liverpool Safeguarding Children Partnership, Serious Incident Review "
        "Group. Children are named by initials and age only. Do not forward outside the "
        "partnership; destroy printed copies after the meeting."
    )
    _styled(doc, "Agenda", HEADING1)
    if papers.papers:
        rows = [
            (
                str(p.position),
                p.reference + (" (urgent)" if p.urgent else ""),
                child(p),
                p.agency or "not given",
                p.review_type or "not stated",
                uk_date(p.panel_due) or "no date",
                uk_date(p.rapid_review_due) or "no date",
            )
            for p in papers.papers
        ]
        _table(doc, AGENDA_HEADERS, rows)
    else:
        _none(doc, "No referrals on the agenda yet.")
    for paper in papers.papers:
        _paper(doc, paper)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def pack_filename(papers: Papers) -> str:
    """'SIRG-meeting-2026-12-08-OFFICIAL-SENSITIVE.docx'."""
    return f"SIRG-meeting-{papers.day.isoformat()}-{MARKING}.docx"
