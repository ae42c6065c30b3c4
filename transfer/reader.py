"""Opening an uploaded workbook safely, and reading its cells as the forms' input.

Everything an upload can be is checked before openpyxl sees it: its size, that it is a real
.xlsx (a zip holding a workbook, not a renamed file, not a macro workbook), and that it does not
unpack to more than a sane size (zip bombs). Cells are read in openpyxl's read-only (streaming)
mode; formulas are never evaluated: a formula in an input cell is refused with its address."""

from __future__ import annotations

import datetime as dt
import lzma
import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, Any
from xml.etree import ElementTree

from django.conf import settings
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook

MAX_UNPACKED = 200 * 1024 * 1024  # what the parts of a workbook may unpack to, all together
MAX_RATIO = 200  # a part compressed more than this is a bomb, not a spreadsheet
# A workbook opened whole gets an object for every cell of a merged range or of a hyperlink's
# range, and each hyperlink is looked up among the merged ranges: a template has a handful.
MAX_RANGES = 1000
MAX_RANGE_CELLS = 20_000
RANGE_TAGS = ("mergeCell", "hyperlink")
MACRO_TYPES = (
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
)
NOT_XLSX = "文件不是有效的 Excel 工作簿（.xlsx），请使用平台下载的数据模板填写后上传。"
DAMAGED = "文件已损坏或不完整，请重新保存后上传。"
# What zipfile raises on a damaged or hostile archive besides BadZipFile: a corrupt deflate
# stream (zlib.error), a stream cut short (EOFError), an unknown compression method
# (NotImplementedError), an encrypted part (RuntimeError), a name flagged UTF-8 that is not
# (UnicodeDecodeError, a ValueError), a header field out of range (struct.error, OverflowError).
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    OverflowError,
    struct.error,
)


class WorkbookRefused(Exception):
    """The file as a whole cannot be read; `status` is the HTTP answer (400, or 413)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class CellError:
    sheet: str
    cell: str  # "D7", or "" for the sheet as a whole
    message: str

    @property
    def where(self) -> str:
        return f"{self.sheet}!{self.cell}" if self.cell else self.sheet

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def size_limit() -> str:
    """IMPORT_MAX_BYTES as people read it: "10 MB", "1.5 MB", "900 KB" (rounded down)."""
    size = int(settings.IMPORT_MAX_BYTES)
    if size >= 1024 * 1024:
        return f"{int(size * 10 / (1024 * 1024)) / 10:g} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} 字节"


def size_limit_message() -> str:
    return f"文件超过 {size_limit()}，请删除多余内容后重新上传。"


def open_workbook(
    upload: IO[bytes], size: int | None = None, *, streaming: bool = True, max_unpacked: int = 0
) -> Workbook:
    """The upload as a workbook, or WorkbookRefused with the reason in Chinese. `streaming`
    reads rows lazily (bulk workbooks); a small template is opened whole, so that merged cells
    can be seen, and then `max_unpacked` bounds what it may unpack to."""
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    if size > settings.IMPORT_MAX_BYTES:
        raise WorkbookRefused(size_limit_message(), status=413)
    if size == 0:
        raise WorkbookRefused("文件是空的，请选择填写好的数据模板。")
    upload.seek(0)
    if upload.read(4) != b"PK\x03\x04":
        raise WorkbookRefused(NOT_XLSX)
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            _check_archive(archive, max_unpacked or MAX_UNPACKED)
            if not streaming:  # opened whole, openpyxl expands merged cells and hyperlinks
                _check_ranges(archive)
    except ZIP_ERRORS:
        raise WorkbookRefused(DAMAGED) from None
    upload.seek(0)
    try:
        return load_workbook(upload, read_only=streaming, data_only=False, keep_links=False)
    except WorkbookRefused:
        raise
    except Exception:  # openpyxl raises many kinds on a damaged part; the user needs one answer
        raise WorkbookRefused("文件已损坏或不是有效的 Excel 工作簿，请重新保存后上传。") from None


def _check_archive(archive: zipfile.ZipFile, max_unpacked: int) -> None:
    names = set()
    unpacked = 0
    for info in archive.infolist():
        names.add(info.filename)
        unpacked += info.file_size
        if unpacked > max_unpacked:
            raise WorkbookRefused("文件解压后过大，不是正常的数据模板。")
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
            raise WorkbookRefused("文件解压后过大，不是正常的数据模板。")
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise WorkbookRefused(NOT_XLSX)
    types = archive.read("[Content_Types].xml").decode("utf-8", "replace")
    if "xl/vbaProject.bin" in names or any(t in types for t in MACRO_TYPES):
        raise WorkbookRefused("不接受含宏的工作簿（.xlsm），请另存为 .xlsx 后上传。")


def _check_ranges(archive: zipfile.ZipFile) -> dict[str, list[str]]:
    """Count the cells of merged ranges and hyperlinks before openpyxl makes them: a single
    <mergeCell ref="A1:XFD1048576"/> of a few bytes is 17 billion cells. Every part is looked
    at, for a worksheet is wherever the workbook's relationships say. Returns the merged
    ranges of each part."""
    ranges = cells = 0
    merges: dict[str, list[str]] = {}
    for info in archive.infolist():
        try:
            for _event, element in ElementTree.iterparse(archive.open(info)):
                tag = element.tag.rpartition("}")[2]
                if tag in RANGE_TAGS:
                    ranges += 1
                    refs = element.get("ref", "").split()
                    cells += sum(_cells_in(ref) for ref in refs)
                    if ranges > MAX_RANGES or cells > MAX_RANGE_CELLS:
                        raise WorkbookRefused(
                            "工作簿中合并单元格或超链接的范围过大，请取消合并、删除超链接后重新上传。"
                        )
                    if tag == "mergeCell":
                        merges.setdefault(info.filename, []).extend(refs)
                element.clear()
        except ElementTree.ParseError:
            continue  # not XML, or broken: openpyxl refuses it if it is a part it reads
    return merges


def sheet_merges(upload: IO[bytes]) -> dict[str, list[str]]:
    """The merged ranges of each sheet, by its title, read from the parts themselves: the
    template is read in read-only mode, which does not see them. Call after open_workbook."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            by_part = _check_ranges(archive)
            if not by_part:
                return {}
            names = {}
            rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            targets = {
                r.get("Id"): r.get("Target", "").lstrip("/").removeprefix("xl/") for r in rels
            }
            book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            for sheet in book.iter():
                if sheet.tag.rpartition("}")[2] != "sheet":
                    continue
                rel = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
                part = f"xl/{targets.get(rel, '')}"
                names[part] = sheet.get("name", "")
    except (*ZIP_ERRORS, KeyError, ElementTree.ParseError):
        raise WorkbookRefused(DAMAGED) from None
    finally:
        upload.seek(0)
    return {names[part]: refs for part, refs in by_part.items() if part in names}


def _cells_in(ref: str) -> int:
    try:
        min_col, min_row, max_col, max_row = range_boundaries(ref)
    except (ValueError, TypeError):
        return 1  # openpyxl cannot read it either
    columns = abs((max_col or 16384) - (min_col or 1)) + 1  # "A:C" is whole columns
    rows = abs((max_row or 1048576) - (min_row or 1)) + 1  # "1:3" whole rows
    return columns * rows


# --- Cells ---------------------------------------------------------------------------------------

# Groups of three after the first, all with the same separator: 1,234.5 or 1 234 567 (a space
# comes from a pasted non-breaking or thin space, folded by NFKC). Anything else with a comma or
# a space inside ("1,23,4", "12 34") is refused rather than guessed at.
THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?P<sep>[, ])\d{3}((?P=sep)\d{3})*(\.\d+)?$")
PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def is_formula(value: Any, data_type: str | None) -> bool:
    return data_type == "f" or (isinstance(value, str) and value.startswith("="))


def normalise_text(value: Any) -> str:
    """Text as typed: full-width characters folded (ＡＢＣ１２３ → ABC123), spaces trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed as a number: 330211.0 → "330211"
    text = unicodedata.normalize("NFKC", str(value))
    return text.replace("\x00", "").strip()


def number(value: Any) -> tuple[Decimal | None, str | None]:
    """A figure from a cell: (value, None), (None, None) when empty, or (None, message)."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return None, "请填写数字。"
    if isinstance(value, dt.date | dt.datetime | dt.time | dt.timedelta):
        return None, "应为数字，不能是日期或时间（请把单元格格式设为数值）。"
    if isinstance(value, int | float):
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            return None, "请填写数字。"
        return Decimal(str(value)), None
    text = normalise_text(value)
    if not text:
        return None, None
    if THOUSANDS.match(text):
        text = text.replace(",", "").replace(" ", "")
    if not PLAIN_NUMBER.match(text):
        return None, f"“{str(value)[:20]}”不是数字，请填写数字。"
    try:
        return Decimal(text), None
    except InvalidOperation:
        return None, "请填写数字。"
