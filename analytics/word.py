"""The analysis report (analytics.document) as a Word file: A4, Chinese fonts, tables with
borders and a repeated header row, charts as PNG, page numbers. Government offices exchange .docx;
LibreOffice opens it too (tests/test_analysis_document.py converts it to PDF)."""

from __future__ import annotations

import io

import docx
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Emu, Length, Pt, RGBColor
from docx.styles.style import BaseStyle
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from docx.text.parfmt import ParagraphFormat
from lxml import etree

from analytics.document import AnalysisDocument, DocumentTable

# --- Word --------------------------------------------------------------------------------------

# The fonts named in the file. Our servers and LibreOffice have fonts-noto-cjk; Word on Windows
# usually has not, so the font table also names the Windows fonts of the same role as their
# alternatives (w:altName: 宋体 for the serif body text, 黑体 for the headings), which Word uses
# in place of a missing font.
BODY_FONT, BODY_ALTERNATIVE = "Noto Serif CJK SC", "宋体"
HEADING_FONT, HEADING_ALTERNATIVE = "Noto Sans CJK SC", "黑体"
LATIN_BODY, LATIN_HEADING = "Times New Roman", "Arial"
TEXT_WIDTH = Cm(16)  # A4 less 2.5 cm margins: the width the charts are drawn for
GB2312_CHARSET = "86"


def to_docx(document: AnalysisDocument) -> bytes:
    """The document as a Word file: A4, Chinese fonts, tables with borders, charts as PNG."""
    doc = docx.Document()
    _page_setup(doc)
    _styles(doc)
    _font_table(doc)
    doc.core_properties.title = document.title
    doc.core_properties.author = "全国中小企业生产经营运行监测平台"
    doc.core_properties.language = "zh-CN"
    # The month on a line of its own rather than wherever the title happens to wrap.
    name, bracket, month = document.title.partition("（")
    title = doc.add_paragraph(name, style="Title")
    if bracket:
        title.add_run().add_break()
        title.add_run(bracket + month)
    doc.add_paragraph(document.subtitle, style="Subtitle")
    for section in document.sections:
        doc.add_heading(section.heading, level=1)
        for text in section.paragraphs:
            doc.add_paragraph(text).paragraph_format.first_line_indent = Pt(21)
        for table in section.tables:
            _add_table(doc, table)
        for chart in section.charts:
            doc.add_picture(io.BytesIO(chart.png(dpi=200)), width=TEXT_WIDTH)
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _page_setup(doc: DocxDocument) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2.54)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("第 ")
    _page_field(footer)
    footer.add_run(" 页")


def _page_field(paragraph: Paragraph) -> None:
    """A PAGE field: Word and LibreOffice put the page's number in its place."""
    parts = [("fldChar", "begin"), ("instrText", " PAGE "), ("fldChar", "separate")]
    parts += [("t", "1"), ("fldChar", "end")]
    for tag, value in parts:
        element = OxmlElement(f"w:{tag}")
        if tag == "fldChar":
            element.set(qn("w:fldCharType"), value)
        else:
            element.set(qn("xml:space"), "preserve")
            element.text = value
        paragraph.add_run()._r.append(element)


def _fonts(rpr: object, latin: str, east_asia: str) -> None:
    """Explicit fonts on an rPr; the template's theme fonts would override them otherwise."""
    fonts = rpr.get_or_add_rFonts()  # type: ignore[attr-defined]
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    for slot in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(slot), latin)
    fonts.set(qn("w:eastAsia"), east_asia)


def _style(style: BaseStyle, latin: str, east_asia: str, size: float, bold: bool = False) -> None:
    _fonts(style.element.get_or_add_rPr(), latin, east_asia)
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.color.rgb = RGBColor(0, 0, 0)


def _styles(doc: DocxDocument) -> None:
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _fonts(rpr, LATIN_BODY, BODY_FONT)
    lang = rpr.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")
    styles = doc.styles
    _style(styles["Normal"], LATIN_BODY, BODY_FONT, 12)
    styles["Normal"].paragraph_format.line_spacing = 1.5
    styles["Normal"].paragraph_format.space_after = Pt(4)
    _style(styles["Title"], LATIN_HEADING, HEADING_FONT, 18, bold=True)
    title = styles["Title"].paragraph_format
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    border = styles["Title"].element.pPr.find(qn("w:pBdr"))
    if border is not None:  # the template underlines the title in blue
        styles["Title"].element.pPr.remove(border)
    _style(styles["Subtitle"], LATIN_BODY, BODY_FONT, 11)
    styles["Subtitle"].font.italic = False
    styles["Subtitle"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _style(styles["Heading 1"], LATIN_HEADING, HEADING_FONT, 14, bold=True)
    styles["Heading 1"].paragraph_format.space_before = Pt(12)
    styles["Heading 1"].paragraph_format.space_after = Pt(6)
    _style(styles["Caption"], LATIN_HEADING, HEADING_FONT, 10.5, bold=True)
    styles["Caption"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    styles["Caption"].paragraph_format.keep_with_next = True


def _font_table(doc: DocxDocument) -> None:
    """Name the Windows alternatives of the CJK fonts in word/fontTable.xml (see BODY_FONT)."""
    part = next(p for p in doc.part.package.iter_parts() if p.partname.endswith("/fontTable.xml"))
    root = etree.fromstring(part.blob)
    for name, alternative in ((BODY_FONT, BODY_ALTERNATIVE), (HEADING_FONT, HEADING_ALTERNATIVE)):
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        etree.SubElement(font, qn("w:altName")).set(qn("w:val"), alternative)
        etree.SubElement(font, qn("w:charset")).set(qn("w:val"), GB2312_CHARSET)
        etree.SubElement(font, qn("w:family")).set(qn("w:val"), "auto")
        etree.SubElement(font, qn("w:pitch")).set(qn("w:val"), "variable")
    # A generic part keeps its bytes in _blob; python-docx has no API for the font table.
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _add_table(doc: DocxDocument, table: DocumentTable) -> None:
    doc.add_paragraph(table.caption, style="Caption")
    if table.note:
        _small(doc.add_paragraph(table.note), WD_ALIGN_PARAGRAPH.RIGHT).keep_with_next = True
    grid = doc.add_table(rows=1 + len(table.rows), cols=len(table.headers), style="Table Grid")
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    for column, width in zip(grid.columns, _widths(table), strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width
    header = grid.rows[0]
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))  # repeated on every page
    for cell, text in zip(header.cells, table.headers, strict=True):
        _cell(cell, text, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, shade=True)
    last = len(table.rows) - 1
    for i, (row, values) in enumerate(zip(grid.rows[1:], table.rows, strict=True)):
        for j, (cell, text) in enumerate(zip(row.cells, values, strict=True)):
            numeric = j >= table.label_columns
            align = WD_ALIGN_PARAGRAPH.RIGHT if numeric else WD_ALIGN_PARAGRAPH.LEFT
            _cell(cell, text, bold=table.has_total and i == last, align=align)
    if table.remark:
        _small(doc.add_paragraph(table.remark), WD_ALIGN_PARAGRAPH.LEFT).space_after = Pt(10)
    else:
        doc.add_paragraph()


def _small(paragraph: Paragraph, align: WD_ALIGN_PARAGRAPH) -> ParagraphFormat:
    paragraph.alignment = align
    paragraph.paragraph_format.first_line_indent = Pt(0)
    for run in paragraph.runs:
        run.font.size = Pt(9)
    return paragraph.paragraph_format


def _text_width(text: str) -> int:
    """Width in half-ems: a Chinese character is two, a digit or letter one."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _widths(table: DocumentTable) -> list[Length]:
    """Columns as wide as their cells (a header may wrap to two lines), filling the text width."""
    wanted = []
    for i, header in enumerate(table.headers):
        cells = max((_text_width(row[i]) for row in table.rows), default=0)
        wanted.append(min(max(cells, (_text_width(header) + 1) // 2, 8), 30) + 2)
    total = sum(wanted)
    return [Emu(int(TEXT_WIDTH * w / total)) for w in wanted]


def _cell(
    cell: _Cell, text: str, bold: bool, align: WD_ALIGN_PARAGRAPH, shade: bool = False
) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = align
    paragraph.paragraph_format.line_spacing = 1.0
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.first_line_indent = Pt(0)
    run = paragraph.add_run(text)
    run.font.size = Pt(9)
    run.font.bold = bold
    if shade:
        fill = OxmlElement("w:shd")
        fill.set(qn("w:val"), "clear")
        fill.set(qn("w:color"), "auto")
        fill.set(qn("w:fill"), "F2F5F9")
        cell._tc.get_or_add_tcPr().append(fill)
