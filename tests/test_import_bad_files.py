"""上报导入 of files that are not a filled data template, or not quite: renamed files, damaged
and hostile archives, macro workbooks, files over the size limit, formulas, merged cells, deleted
rows and columns, extra or missing sheets, and the ways figures get typed. Each is answered with a
message in Chinese on the import page, never a server error, and nothing is saved."""

from __future__ import annotations

import datetime as dt
import functools
import struct
import zipfile
from collections.abc import Callable
from io import BytesIO
from typing import Any

import hypothesis
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client
from hypothesis import strategies as st

from reports.models import IndicatorValue, ProductLine, Report
from tests.conftest import Personas
from tests.test_import_template import frozen_time, good, template  # noqa: F401
from tests.xlsx_filling import cell_of, fill
from transfer.imports import FORMULA
from transfer.models import ImportLog
from transfer.reader import DAMAGED, NOT_XLSX

pytestmark = pytest.mark.usefixtures("reference_data")

NOT_OUR_TEMPLATE = "该文件不是本平台下载的数据模板"
MACROS = "不接受含宏的工作簿（.xlsm），请另存为 .xlsx 后上传。"
TOO_BIG_UNPACKED = "文件解压后过大，不是正常的数据模板。"
# Every damaged-file message starts so, whichever step noticed the damage.
DAMAGED_START = "文件已损坏"
MAIN_XML = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MACRO_XML = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
MARK_PART = "xl/worksheets/sheet6.xml"  # the very hidden version sheet, the sixth written


@pytest.fixture
def clerk(personas: Personas) -> Client:
    return personas.client_for(personas.ningbo_enterprise)


_filled: dict[str, bytes] = {}


def filled(client: Client, period: str = "2026-10") -> bytes:
    """The month's template as good() fills it. Every test has the same personas on the same
    frozen day, so it is the same workbook each time: made once, it saves a second a test."""
    if period not in _filled:
        _filled[period] = good(template(client, period))
    return _filled[period]


# cell_of() opens the workbook; the cells of the one filled template are looked up once.
cell_address = functools.cache(cell_of)


# --- Sending and looking --------------------------------------------------------------------------


def send(
    client: Client, content: bytes | None, name: str = "数据模板.xlsx", **extra: str
) -> HttpResponse:
    data: dict[str, Any] = {"period": "2026-10", "filler": "杨莎莎", **extra}
    if content is not None:
        data["file"] = SimpleUploadedFile(name, content)
    return client.post("/transfer/import/", data)


def page(response: HttpResponse) -> str:
    return response.content.decode()


def assert_refused(
    response: HttpResponse, message: str, status: int = 400, *, logged: bool = True
) -> None:
    """What the user sees of a refused upload, and that nothing came of it."""
    assert response.status_code == status, page(response)[-1500:]
    assert message in page(response)
    assert not Report.objects.exists()
    if logged:
        assert ImportLog.objects.get().outcome == ImportLog.Outcome.REFUSED


# --- Making bad files -----------------------------------------------------------------------------


def rezip(
    content: bytes,
    change: Callable[[str, bytes], bytes | None] = lambda name, data: data,
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """The archive with each part passed through `change` (None drops it), and `extra` added."""
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(content)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = change(info.filename, src.read(info))
            if data is not None:
                dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
        for name, data in (extra or {}).items():
            dst.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def central_records(content: bytes) -> list[tuple[int, str]]:
    """(offset, name) of each central directory record of a zip written by Python or openpyxl."""
    records = []
    at = content.find(b"PK\x01\x02")
    while at >= 0:
        (length,) = struct.unpack_from("<H", content, at + 28)
        records.append((at, content[at + 46 : at + 46 + length].decode("utf-8", "replace")))
        at = content.find(b"PK\x01\x02", at + 46 + length)
    return records


def patch_record(content: bytes, part: str, field_at: int, value: int) -> bytes:
    """Overwrite a 2-byte field of a part's central directory record (method at 10, flags at 8)."""
    data = bytearray(content)
    at = next(at for at, name in central_records(content) if name == part)
    struct.pack_into("<H", data, at + field_at, value)
    return bytes(data)


def corrupt_part(content: bytes, part: str) -> bytes:
    """A part whose compressed bytes are damaged, the rest of the archive intact."""
    with zipfile.ZipFile(BytesIO(content)) as archive:
        info = archive.getinfo(part)
    data = bytearray(content)
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length
    for i in range(start + 2, start + min(info.compress_size, 40)):
        data[i] ^= 0xFF
    return bytes(data)


def zeros_part(archive: zipfile.ZipFile, name: str, megabytes: int) -> None:
    """A part of `megabytes` of zeros, written in 1 MB steps so that it never sits in memory."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    chunk = bytes(1024 * 1024)
    with archive.open(info, "w") as part:
        for _ in range(megabytes):
            part.write(chunk)


def zip_bomb(megabytes: int = 300) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        zeros_part(archive, "xl/workbook.xml", megabytes)
    return out.getvalue()


def docx() -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
    return out.getvalue()


def in_sheet(content: bytes, part: str, change: Callable[[bytes], bytes]) -> bytes:
    return rezip(content, lambda name, data: change(data) if name == part else data)


def with_doctype(sheet: bytes, doctype: bytes, old: bytes, new: bytes) -> bytes:
    head, body = sheet.split(b"<worksheet", 1)
    assert old in body
    return head + doctype + b"<worksheet" + body.replace(old, new, 1)


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)  # an old .xls, or a password-protected .xlsx


# --- Not a workbook -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("企业名称,工业总产值\n宁波康尔企业,1000\n".encode(), "数据模板.xlsx", NOT_XLSX),
        (PNG, "数据模板.xlsx", NOT_XLSX),
        (PDF, "数据模板.xlsx", NOT_XLSX),
        (XLS, "数据模板.xls", NOT_XLSX),
        (b"PK\x03\x04 only the start of a zip", "数据模板.xlsx", DAMAGED),
    ],
    ids=["text", "png", "pdf", "xls", "zip-signature-only"],
)
def test_a_file_that_is_not_a_workbook_is_refused(
    clerk: Client, content: bytes, name: str, message: str
) -> None:
    assert_refused(send(clerk, content, name), message)


def test_a_word_document_is_a_zip_but_not_a_workbook(clerk: Client) -> None:
    assert_refused(send(clerk, docx(), "数据模板.xlsx"), NOT_XLSX)


def test_an_empty_file_is_refused(clerk: Client) -> None:
    assert_refused(send(clerk, b""), "文件是空的，请选择填写好的数据模板。")


def test_the_file_is_required(clerk: Client) -> None:
    response = send(clerk, None)
    assert_refused(response, "请选择要导入的数据模板文件。", logged=False)


def test_a_spreadsheet_that_is_not_our_template_is_refused(clerk: Client) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["企业名称", "工业总产值"])
    out = BytesIO()
    wb.save(out)
    assert_refused(send(clerk, out.getvalue()), NOT_OUR_TEMPLATE)


# --- Damaged and hostile archives -----------------------------------------------------------------


def test_a_truncated_template_is_refused(clerk: Client) -> None:
    content = filled(clerk)
    assert_refused(send(clerk, content[: len(content) // 2]), DAMAGED)


@pytest.mark.parametrize(
    "part",
    ["[Content_Types].xml", "xl/workbook.xml", "xl/styles.xml", "xl/worksheets/sheet3.xml"],
)
def test_a_template_with_a_corrupted_part_is_refused(clerk: Client, part: str) -> None:
    content = corrupt_part(filled(clerk), part)
    assert_refused(send(clerk, content), DAMAGED_START)


@pytest.mark.parametrize(
    ("part", "field_at", "value"),
    [
        ("[Content_Types].xml", 10, 99),  # a compression method nobody knows
        ("xl/worksheets/sheet3.xml", 10, 99),
        ("[Content_Types].xml", 8, 1),  # flagged encrypted
        ("xl/workbook.xml", 8, 1),
    ],
    ids=["unknown-method-first", "unknown-method-sheet", "encrypted-first", "encrypted-sheet"],
)
def test_a_part_that_cannot_be_unpacked_is_refused(
    clerk: Client, part: str, field_at: int, value: int
) -> None:
    content = patch_record(filled(clerk), part, field_at, value)
    assert_refused(send(clerk, content), DAMAGED_START)


def test_a_part_name_that_is_not_utf8_is_refused(clerk: Client) -> None:
    content = filled(clerk)
    content = content.replace(b"docProps/app.xml", b"docProps/\xff\xfe\xfd.xml")
    content = patch_record(content, "docProps/\ufffd\ufffd\ufffd.xml", 8, 0x800)  # says UTF-8
    assert_refused(send(clerk, content), DAMAGED)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return zip_bomb(300)


def test_a_zip_bomb_is_refused_without_unpacking_it(clerk: Client, bomb: bytes) -> None:
    assert len(bomb) < 1024 * 1024  # 300 MB of zeros, under the upload limit
    assert_refused(send(clerk, bomb), TOO_BIG_UNPACKED)


def test_a_bomb_inside_a_real_template_is_refused(clerk: Client) -> None:
    out = BytesIO()
    with (
        zipfile.ZipFile(BytesIO(filled(clerk))) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        zeros_part(dst, "xl/media/image1.png", 40)
    assert_refused(send(clerk, out.getvalue()), TOO_BIG_UNPACKED)


def test_a_part_that_lies_about_its_size_is_refused(clerk: Client) -> None:
    """A part whose directory entry says 1 KB but which unpacks to 40 MB is read no further than
    the 1 KB, so its check sum does not match."""
    out = BytesIO()
    with (
        zipfile.ZipFile(BytesIO(filled(clerk))) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst,
    ):
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet3.xml":
                dst.writestr(info.filename, src.read(info))
        zeros_part(dst, "xl/worksheets/sheet3.xml", 40)
    content = bytearray(out.getvalue())
    at = next(at for at, name in central_records(bytes(content)) if name.endswith("sheet3.xml"))
    struct.pack_into("<I", content, at + 24, 1024)  # uncompressed size
    struct.pack_into("<I", content, at + 20, 1024)  # compressed size, so the ratio looks normal
    assert_refused(send(clerk, bytes(content)), DAMAGED_START)


def test_an_xml_entity_bomb_is_refused(clerk: Client) -> None:
    entities = b'<!ENTITY a "aaaaaaaaaa">'
    for n in range(1, 10):
        entities += b"<!ENTITY a%d '%s'>" % (n, (b"&a%d;" % (n - 1) if n > 1 else b"&a;") * 10)
    content = in_sheet(
        filled(clerk),
        MARK_PART,
        lambda xml: with_doctype(
            xml, b"<!DOCTYPE worksheet [" + entities + b"]>", b"2026-10", b"&a9;"
        ),
    )
    assert_refused(send(clerk, content), DAMAGED_START)


def test_an_external_entity_is_not_read(clerk: Client) -> None:
    content = fill(filled(clerk), indicators={"gross_output": {"current": "PLACEHOLDER"}})
    content = in_sheet(
        content,
        "xl/worksheets/sheet3.xml",
        lambda xml: with_doctype(
            xml,
            b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
            b"PLACEHOLDER",
            b"&xxe;",
        ),
    )
    response = send(clerk, content)
    assert "root:" not in page(response)
    assert_refused(response, DAMAGED_START)


@pytest.mark.parametrize(
    "element",
    [
        b'<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>',
        b'<mergeCells count="1"><mergeCell ref="A&#58;A"/></mergeCells>',  # "A:A", escaped
        b'<hyperlinks><hyperlink ref="A1:XFD1048576" location="A1"/></hyperlinks>',
    ],
    ids=["merged-sheet", "merged-column", "hyperlink"],
)
def test_a_range_over_a_whole_sheet_is_refused_before_its_cells_are_made(
    clerk: Client, element: bytes
) -> None:
    """openpyxl makes an object for each cell of a merged range or a hyperlink's range: these few
    bytes would be 17 billion cells (or a million), tens of gigabytes."""
    content = in_sheet(
        filled(clerk),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"</sheetData>", b"</sheetData>" + element, 1),
    )
    assert_refused(send(clerk, content), "合并单元格或超链接的范围过大")


# --- Size -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("limit", "shown"), [(1024 * 1024, "1"), (10 * 1024 * 1024, "10")])
def test_a_file_over_the_size_limit_is_413(
    clerk: Client, settings: Any, limit: int, shown: str
) -> None:
    settings.IMPORT_MAX_BYTES = limit
    response = send(clerk, b"PK\x03\x04" + bytes(limit))
    message = f"文件超过 {shown} MB，请删除多余内容后重新上传。"
    assert_refused(response, message, 413, logged=False)


def test_a_file_at_the_size_limit_is_read(clerk: Client, settings: Any) -> None:
    content = filled(clerk)
    settings.IMPORT_MAX_BYTES = len(content)
    assert send(clerk, content).status_code == 302


# --- Macros ---------------------------------------------------------------------------------------


def macro_workbook(content: bytes, *, vba: bool, content_type: bool) -> bytes:
    """The template re-saved as Excel saves an .xlsm: a VBA part and the macro content type."""

    def change(name: str, data: bytes) -> bytes:
        if name == "[Content_Types].xml" and content_type:
            data = data.replace(MAIN_XML.encode(), MACRO_XML.encode())
            data = data.replace(
                b"</Types>",
                b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
                b"</Types>",
            )
        return data

    extra = {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + bytes(512)} if vba else {}
    return rezip(content, change, extra)


@pytest.mark.parametrize(
    ("vba", "content_type"),
    [(True, True), (False, True), (True, False)],
    ids=["xlsm", "macro-content-type-only", "vba-part-only"],
)
def test_a_macro_workbook_is_refused(clerk: Client, vba: bool, content_type: bool) -> None:
    content = macro_workbook(filled(clerk), vba=vba, content_type=content_type)
    assert_refused(send(clerk, content, "数据模板.xlsm"), MACROS)


# --- Formulas -------------------------------------------------------------------------------------


def test_a_formula_in_an_indicator_cell_is_refused_with_its_cell(clerk: Client) -> None:
    content = filled(clerk)
    bad = fill(content, indicators={"gross_output": {"current": "=1+1"}})
    current = cell_address(content, "主要经济指标", "gross_output", "current")
    response = send(clerk, bad)
    assert_refused(response, f"主要经济指标!{current}")
    assert FORMULA in page(response)


def test_a_formula_with_excels_cached_result_is_refused_too(clerk: Client) -> None:
    """Excel saves a formula with its last result (<v>); the import neither uses nor computes it."""
    content = filled(clerk)
    current = cell_address(content, "主要经济指标", "gross_output", "current")
    bad = fill(content, indicators={"gross_output": {"current": "=SUM(999,1)"}})
    bad = in_sheet(
        bad,
        "xl/worksheets/sheet3.xml",
        lambda xml: xml.replace(b"<f>SUM(999,1)</f><v />", b"<f>SUM(999,1)</f><v>1000</v>"),
    )
    response = send(clerk, bad)
    assert_refused(response, f"主要经济指标!{current}")
    assert FORMULA in page(response)


def test_formulas_in_text_and_product_cells_are_refused(clerk: Client) -> None:
    content = filled(clerk)
    bad = fill(
        content,
        basic={"address": '=HYPERLINK("http://example.com","宁波")'},
        products=[{"name": "大米", "unit": "吨", "production_current": "=100+20"}],
    )
    response = send(clerk, bad)
    address = cell_address(content, "基本情况", "address", "")
    assert_refused(response, f"基本情况!{address}")
    assert "产品产销存!D3" in page(response)
    assert page(response).count(FORMULA) == 2


# --- Layout: merged cells, deleted rows and columns, sheets ---------------------------------------


def test_merged_cells_in_the_input_area_are_refused(clerk: Client) -> None:
    content = filled(clerk)
    current = cell_address(content, "主要经济指标", "gross_output", "current")
    ytd = cell_address(content, "主要经济指标", "gross_output", "ytd")
    bad = fill(content, edit=lambda wb: wb["主要经济指标"].merge_cells(f"{current}:{ytd}"))
    response = send(clerk, bad)
    assert_refused(response, f"主要经济指标!{current}:{ytd}")
    assert "填写区域不能合并单元格，请取消合并后再导入。" in page(response)


def structure(sheet: str, row: int) -> str:
    return f"工作表「{sheet}」第{row}行的结构与模板不一致（行或列被删除、插入或移动）"


@pytest.mark.parametrize(
    ("sheet", "edit", "row"),
    [
        ("主要经济指标", lambda ws: ws.delete_cols(3), 3),
        ("主要经济指标", lambda ws: ws.delete_cols(8), 3),  # the hidden key column
        ("主要经济指标", lambda ws: ws.insert_cols(2), 3),
        ("主要经济指标", lambda ws: ws.delete_rows(5), 5),
        ("主要经济指标", lambda ws: ws.insert_rows(4), 4),
        ("基本情况", lambda ws: ws.delete_rows(6), 6),
        ("基本情况", lambda ws: ws.delete_cols(2), 3),
        ("产品产销存", lambda ws: ws.delete_cols(1), 2),
    ],
    ids=[
        "indicator-column",
        "indicator-key-column",
        "indicator-inserted-column",
        "indicator-row",
        "indicator-inserted-row",
        "basic-row",
        "basic-column",
        "product-name-column",
    ],
)
def test_a_deleted_or_inserted_row_or_column_is_refused(
    clerk: Client, sheet: str, edit: Callable[[Any], None], row: int
) -> None:
    bad = fill(filled(clerk), edit=lambda wb: edit(wb[sheet]))
    assert_refused(send(clerk, bad), structure(sheet, row))


def test_a_deleted_product_figure_column_is_refused(clerk: Client) -> None:
    bad = fill(filled(clerk), edit=lambda wb: wb["产品产销存"].delete_cols(4))
    assert_refused(send(clerk, bad), structure("产品产销存", 2))


def test_an_extra_sheet_is_ignored_and_the_user_is_told(clerk: Client) -> None:
    def add_sheet(wb: Any) -> None:
        wb.create_sheet("草稿").append(["工业总产值", "=SUM(1,2)", "随便写的"])

    content = fill(filled(clerk), edit=add_sheet)
    checked = send(clerk, content, dry_run="1")
    assert checked.status_code == 200
    assert "模板以外的工作表不会导入：草稿" in page(checked)
    response = send(clerk, content)
    assert response.status_code == 302
    shown = page(clerk.get(response["Location"]))
    assert "已忽略模板以外的工作表：草稿。" in shown
    assert IndicatorValue.objects.get(code="gross_output").current == 1000
    assert [log.outcome for log in ImportLog.objects.order_by("id")] == ["checked", "saved"]


def test_a_template_without_its_version_sheet_is_refused(clerk: Client) -> None:
    bad = fill(filled(clerk), edit=lambda wb: wb.remove(wb["_版本"]))
    assert_refused(send(clerk, bad), NOT_OUR_TEMPLATE)


def test_a_template_with_a_data_sheet_deleted_is_refused(clerk: Client) -> None:
    bad = fill(filled(clerk), edit=lambda wb: wb.remove(wb["产品产销存"]))
    assert_refused(send(clerk, bad), "工作簿缺少工作表「产品产销存」")


def test_a_template_of_another_month_is_refused(clerk: Client) -> None:
    september = filled(clerk, "2026-09")
    response = send(clerk, september)
    assert_refused(response, "该模板是 2026-09 月的数据模板，不能导入 2026-10 月的报表")


# --- Figures as typed -----------------------------------------------------------------------------


def test_text_in_a_numeric_cell_is_refused_with_its_cell(clerk: Client) -> None:
    content = filled(clerk)
    bad = fill(content, indicators={"gross_output": {"current": "abc"}})
    current = cell_address(content, "主要经济指标", "gross_output", "current")
    response = send(clerk, bad)
    assert_refused(response, f"主要经济指标!{current}")
    assert "“abc”不是数字，请填写数字。" in page(response)


def test_spaces_only_in_a_numeric_cell_count_as_empty(clerk: Client) -> None:
    line = {"name": "大米", "unit": "吨", "production_current": 120, "production_ytd": 1100}
    content = fill(filled(clerk), products=[{**line, "sales_current": "  "}])
    assert send(clerk, content).status_code == 302
    assert ProductLine.objects.get().sales_current is None


def test_spaces_only_in_a_required_cell_are_missing_not_text(clerk: Client) -> None:
    content = filled(clerk)
    bad = fill(content, indicators={"gross_output": {"current": " \u3000 "}})
    response = send(clerk, bad)
    current = cell_address(content, "主要经济指标", "gross_output", "current")
    assert_refused(response, f"主要经济指标!{current}")
    assert "工业总产值为必填项，请填写本年本月。" in page(response)
    assert "不是数字" not in page(response)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("１２３", 123),
        ("1,234.5", 1234.5),
        ("１，２３４．５", 1234.5),
        (" 1,234 ", 1234),
        ("1\u00a0234", 1234),  # a thousands separator pasted from a web page
    ],
)
def test_figures_typed_the_usual_ways_are_read(clerk: Client, typed: str, stored: float) -> None:
    line = {"name": "大米", "unit": "吨", "production_current": typed, "production_ytd": 5000}
    content = fill(filled(clerk), products=[line])
    response = send(clerk, content)
    assert response.status_code == 302, page(response)[-1500:]
    assert float(ProductLine.objects.get().production_current) == stored


@pytest.mark.parametrize("typed", ["1,23,4", "12 34", "1.234,5", "1e3", "一百", "120吨"])
def test_figures_that_are_not_numbers_are_refused(clerk: Client, typed: str) -> None:
    line = {"name": "大米", "unit": "吨", "production_current": typed, "production_ytd": 5000}
    response = send(clerk, fill(filled(clerk), products=[line]))
    assert_refused(response, "产品产销存!D3")
    assert f"“{typed}”不是数字，请填写数字。" in page(response)


@pytest.mark.parametrize(
    "typed", [dt.datetime(2026, 10, 1), dt.date(2026, 10, 1), dt.time(12, 0)], ids=str
)
def test_a_date_in_a_numeric_cell_is_refused(clerk: Client, typed: Any) -> None:
    content = filled(clerk)
    bad = fill(content, indicators={"gross_output": {"current": typed}})
    current = cell_address(content, "主要经济指标", "gross_output", "current")
    response = send(clerk, bad)
    assert_refused(response, f"主要经济指标!{current}")
    assert "应为数字，不能是日期或时间（请把单元格格式设为数值）。" in page(response)


def test_a_dry_run_with_errors_lists_them_and_saves_nothing(clerk: Client) -> None:
    content = filled(clerk)
    bad = fill(content, indicators={"gross_output": {"current": "abc", "ytd": "=1"}})
    current = cell_address(content, "主要经济指标", "gross_output", "current")
    ytd = cell_address(content, "主要经济指标", "gross_output", "ytd")
    response = send(clerk, bad, dry_run="1")
    assert_refused(response, "没有保存任何数据")
    shown = page(response)
    assert f"主要经济指标!{current}" in shown and "“abc”不是数字" in shown
    assert f"主要经济指标!{ytd}" in shown and FORMULA in shown
    assert "校验通过" not in shown
    assert ImportLog.objects.get().dry_run


# --- Anything at all ------------------------------------------------------------------------------

ANSWERS = {200, 302, 400, 409, 413}


def test_no_upload_whatever_its_bytes_gives_a_server_error(clerk: Client) -> None:
    """Random bytes, and a good template with bytes flipped, cut short or its zip directory
    garbled: the page always answers with a message (the test client re-raises a 500's error)."""
    content = filled(clerk)
    size = len(content)
    directory = content.find(b"PK\x01\x02")  # the zip's table of contents, at its end

    def flipped(changes: list[tuple[int, int]]) -> bytes:
        data = bytearray(content)
        for at, mask in changes:
            data[at % size] ^= mask
        return bytes(data)

    anywhere = st.tuples(st.integers(0, size - 1), st.integers(1, 255))
    in_directory = st.tuples(st.integers(directory, size - 1), st.integers(1, 255))
    files = st.one_of(
        st.binary(max_size=4096),
        st.binary(max_size=4096).map(lambda b: b"PK\x03\x04" + b),
        st.lists(anywhere, min_size=1, max_size=8).map(flipped),
        st.lists(in_directory, min_size=1, max_size=4).map(flipped),
        st.integers(0, size - 1).map(lambda n: content[:n]),
    )

    @hypothesis.settings(
        max_examples=30,
        deadline=None,
        database=None,
        suppress_health_check=[hypothesis.HealthCheck.too_slow],
    )
    @hypothesis.given(files)
    def answers(blob: bytes) -> None:
        response = send(clerk, blob)
        assert response.status_code in ANSWERS
        if response.status_code != 302:
            assert 'role="alert"' in page(response) or "校验通过" in page(response)

    answers()
