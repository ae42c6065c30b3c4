"""上报导入 for an enterprise: a filled data template (transfer.template) read back, checked with
the same rules as the online forms (reports.basic_info.BasicInfoForm, the validation engine through
reports.services) and saved through the same service functions with method 上报导入 — all of it
or nothing. Every problem is reported with its sheet and cell, e.g. "主要经济指标!D7: …"."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.db import transaction
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook

from accounts.models import User
from audit.context import current_ip
from directory.models import Enterprise, EnterpriseSize, HoldingType
from reports.basic_info import BasicInfoForm, changed_key_fields
from reports.content import PRODUCT_LABELS
from reports.models import Report, ValidationRule
from reports.periods import Period
from reports.services import (
    check_indicators,
    parse_indicator_values,
    parse_products,
    report_or_draft,
    save_basic_info,
    save_indicators,
    save_products,
)
from reports.validation import Issue, focus_column
from reports.workflow import check_period_open
from transfer.models import ImportLog
from transfer.reader import (
    DAMAGED,
    CellError,
    WorkbookRefused,
    is_formula,
    normalise_text,
    number,
    open_workbook,
    sheet_merges,
)
from transfer.template import (
    BASIC_FIELDS,
    BASIC_KEY_COLUMN,
    BASIC_SHEET,
    DATA_SHEETS,
    FIRST_ROW,
    FORMAT,
    INDICATOR_COLUMNS,
    INDICATOR_KEY_COLUMN,
    INDICATOR_SHEET,
    MARK_SHEET,
    PRODUCT_NUMBER_COLUMNS,
    PRODUCT_ROWS,
    PRODUCT_SHEET,
    PRODUCT_TEXT_COLUMNS,
    fingerprint,
    ordered_specs,
    product_headers,
)

TEMPLATE_MAX_UNPACKED = 30 * 1024 * 1024  # a filled template unpacks to well under 1 MB
FORMULA = "单元格含公式，请直接填写数值（可复制后“选择性粘贴→数值”）。"
KEY_CHANGE = (
    "与登记的关键信息不一致：变更企业名称、机构代码或所属行业，请在线填写企业基本情况表并确认"
    "变更（需国家高级管理员审核）。"
)
CASCADE_PARTS = {
    "industry": ("industry_1", "industry_2", "industry_3", "industry_4"),
    "region": ("province", "city", "county"),
    "registration_type": ("registration_1", "registration_2", "registration_3"),
}
CHOICES = {
    "code_type": dict((label, code) for code, label in Enterprise.CodeType.choices),
    "holding_type": dict((label, code) for code, label in HoldingType.choices),
    "size": dict((label, code) for code, label in EnterpriseSize.choices),
}


@dataclass
class ParsedTemplate:
    """What the cells say, before the rules: the shapes the services take, and where each
    value came from."""

    basic_info: dict[str, Any] = field(default_factory=dict)
    indicators: dict[str, dict[str, Decimal | None]] = field(default_factory=dict)
    products: list[dict[str, Any]] = field(default_factory=list)
    basic_rows: dict[str, int] = field(default_factory=dict)
    indicator_rows: dict[str, int] = field(default_factory=dict)
    product_rows: list[int] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    ignored_sheets: list[str] = field(default_factory=list)


@dataclass
class ImportOutcome:
    saved: bool
    report: Report | None = None
    errors: list[CellError] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # what each error's cell is, in words
    warnings: list[Issue] = field(default_factory=list)  # soft rules: reasons wanted at step 2
    indicators: int = 0  # indicators with at least one figure
    products: int = 0
    ignored_sheets: list[str] = field(default_factory=list)


# --- Reading -------------------------------------------------------------------------------------


def read_mark(wb: Workbook) -> dict[str, str]:
    if MARK_SHEET not in wb.sheetnames:
        raise WorkbookRefused("该文件不是本平台下载的数据模板，请先下载数据模板，填写后再导入。")
    rows = wb[MARK_SHEET].iter_rows(min_row=1, max_row=10, max_col=2, values_only=True)
    mark = {str(k): str(v) for k, v in rows if k is not None and v is not None}
    if mark.get("format") != FORMAT:
        raise WorkbookRefused("该文件不是本平台下载的数据模板，请先下载数据模板，填写后再导入。")
    return mark


def check_mark(
    mark: dict[str, str], enterprise: Enterprise, period: Period, catalogue: dict[str, Any]
) -> None:
    if mark.get("period") != str(period):
        raise WorkbookRefused(
            f"该模板是 {mark.get('period')} 月的数据模板，不能导入 {period} 月的报表，"
            "请下载本月的数据模板。"
        )
    if mark.get("enterprise") != enterprise.code:
        raise WorkbookRefused("该模板不是本企业的数据模板，请下载本企业的数据模板。")
    if mark.get("catalogue") != fingerprint(catalogue):
        raise WorkbookRefused("本月的指标目录已调整，该模板已过期，请重新下载数据模板。")


def _cell_value(ws: Any, row: int, column: int, errors: list[CellError]) -> Any:
    cell = ws.cell(row=row, column=column)
    if is_formula(cell.value, cell.data_type):
        errors.append(CellError(ws.title, cell.coordinate, FORMULA))
        return None
    return cell.value


@dataclass(frozen=True)
class _Blank:
    row: int
    column: int
    value: None = None
    data_type: str = "n"

    @property
    def coordinate(self) -> str:
        return f"{get_column_letter(self.column)}{self.row}"


class Grid:
    """A sheet of the template held as its filled cells, read once in openpyxl's read-only
    mode (which parses a sheet only when asked: the 代码表 of a few thousand rows never is)."""

    def __init__(self, ws: Any, last_row: int) -> None:
        self.title = ws.title
        self.cells: dict[tuple[int, int], Any] = {}
        for row in ws.iter_rows(min_row=1, max_row=last_row):
            for cell in row:
                if cell.value is not None:
                    self.cells[(cell.row, cell.column)] = cell

    def cell(self, row: int, column: int) -> Any:
        return self.cells.get((row, column)) or _Blank(row, column)


def _check_structure(wb: Workbook, merges: dict[str, list[str]], parsed: ParsedTemplate) -> None:
    missing = [name for name in DATA_SHEETS if name not in wb.sheetnames]
    if missing:
        raise WorkbookRefused(
            f"工作簿缺少工作表「{'」「'.join(missing)}」，请使用平台下载的数据模板，不要删除或改名工作表。"
        )
    known = {*DATA_SHEETS, MARK_SHEET, "代码表", "填报说明"}
    parsed.ignored_sheets = [name for name in wb.sheetnames if name not in known]
    for name in DATA_SHEETS:
        for ref in merges.get(name, []):
            try:
                _min_col, _min_row, _max_col, max_row = range_boundaries(ref)
            except (ValueError, TypeError):
                max_row = FIRST_ROW
            if max_row is None or max_row >= FIRST_ROW:
                parsed.errors.append(
                    CellError(name, ref, "填写区域不能合并单元格，请取消合并后再导入。")
                )


def parse_template(
    wb: Workbook, catalogue: dict[str, Any], merges: dict[str, list[str]] | None = None
) -> ParsedTemplate:
    parsed = ParsedTemplate()
    _check_structure(wb, merges or {}, parsed)
    _parse_basic(Grid(wb[BASIC_SHEET], FIRST_ROW + len(BASIC_FIELDS) + 1), parsed)
    last = FIRST_ROW + len(catalogue) + 1
    _parse_indicators(Grid(wb[INDICATOR_SHEET], last), catalogue, parsed)
    _parse_products(Grid(wb[PRODUCT_SHEET], FIRST_ROW + PRODUCT_ROWS + 50), parsed)
    return parsed


def _structure_error(ws: Any, row: int) -> WorkbookRefused:
    return WorkbookRefused(
        f"工作表「{ws.title}」第{row}行的结构与模板不一致（行或列被删除、插入或移动），"
        "请在新下载的数据模板中填写。"
    )


def _parse_basic(ws: Any, parsed: ParsedTemplate) -> None:
    for offset, spec in enumerate(BASIC_FIELDS):
        row = FIRST_ROW + offset
        if ws.cell(row=row, column=BASIC_KEY_COLUMN).value != spec.key:
            raise _structure_error(ws, row)
        parsed.basic_rows[spec.key] = row
        parsed.basic_info[spec.key] = basic_value(spec.key, _cell_value(ws, row, 2, parsed.errors))


def basic_value(key: str, raw: Any) -> Any:
    """A basic-information cell as BasicInfoForm.from_json takes it: the code of a "代码 名称"
    list entry, the code of a choice's label, 是/否 as a boolean; names and addresses as typed
    (their own full-width characters kept), everything else folded to half width."""
    text = normalise_text(raw)
    if key in CASCADE_PARTS:
        return text.split(" ", 1)[0] if text else None
    if key in CHOICES:
        return CHOICES[key].get(text, text)
    if key == "listed":
        return {"是": True, "否": False, "": False}.get(text, text)
    if key in ("enterprise_name", "address", "main_business", "contact_person"):
        return str(raw).strip() if raw is not None else ""
    return text


def _parse_indicators(ws: Any, catalogue: dict[str, Any], parsed: ParsedTemplate) -> None:
    for offset, spec in enumerate(ordered_specs(catalogue)):
        row = FIRST_ROW + offset
        if ws.cell(row=row, column=INDICATOR_KEY_COLUMN).value != spec.code:
            raise _structure_error(ws, row)
        parsed.indicator_rows[spec.code] = row
        columns: dict[str, Decimal | None] = {}
        for column, index in INDICATOR_COLUMNS.items():
            raw = _cell_value(ws, row, index, parsed.errors)
            value, problem = number(raw)
            where = f"{get_column_letter(index)}{row}"
            if problem:
                parsed.errors.append(CellError(ws.title, where, problem))
            elif value is not None and column not in spec.columns:
                parsed.errors.append(
                    CellError(
                        ws.title, where, f"{spec.name}没有“{column}”栏，请不要填写灰色单元格。"
                    )
                )
                value = None
            columns[column] = value
        parsed.indicators[spec.code] = columns
    extra = ws.cell(row=FIRST_ROW + len(catalogue), column=INDICATOR_KEY_COLUMN).value
    if extra:
        raise _structure_error(ws, FIRST_ROW + len(catalogue))


def _parse_products(ws: Any, parsed: ParsedTemplate) -> None:
    expected = product_headers()
    header = [ws.cell(row=2, column=i).value for i in range(1, len(expected) + 2)]
    if header != [*expected, None]:  # a column deleted, inserted or moved
        raise _structure_error(ws, 2)
    for offset in range(PRODUCT_ROWS + 50):  # rows typed below the template's 50 are refused
        row = FIRST_ROW + offset
        line: dict[str, Any] = {"production": {}, "sales": {}}
        filled = False
        for key, index in PRODUCT_TEXT_COLUMNS.items():
            text = normalise_text(_cell_value(ws, row, index, parsed.errors))
            line[key] = text
            filled = filled or bool(text)
        for key, index in PRODUCT_NUMBER_COLUMNS.items():
            raw = _cell_value(ws, row, index, parsed.errors)
            value, problem = number(raw)
            if problem:
                where = f"{get_column_letter(index)}{row}"
                parsed.errors.append(CellError(ws.title, where, problem))
            kind, column = key.split("_", 1)
            line[kind][column] = value
            filled = filled or raw not in (None, "")
        if filled:
            if offset >= PRODUCT_ROWS:
                parsed.errors.append(
                    CellError(ws.title, f"A{row}", f"主要产品最多填写{PRODUCT_ROWS}种。")
                )
                continue
            parsed.products.append(line)
            parsed.product_rows.append(row)


# --- Checking with the platform's rules ----------------------------------------------------------


def _basic_errors(form: BasicInfoForm, parsed: ParsedTemplate) -> list[CellError]:
    errors = []
    part_of = {part: tree for tree, parts in CASCADE_PARTS.items() for part in parts}
    reported: set[tuple[str, str]] = set()
    for name, messages in form.errors.items():
        key = part_of.get(name, name)
        row = parsed.basic_rows.get(key)
        if key == "__all__" or row is None:
            row = parsed.basic_rows["enterprise_name"]
        if key in CASCADE_PARTS and name != key:  # a level of the tree: say which list
            label = next(f.label for f in BASIC_FIELDS if f.key == key)
            messages = [f"请从下拉列表中选择{label}。"]
        for message in messages:
            if (key, message) not in reported:
                reported.add((key, message))
                errors.append(CellError(BASIC_SHEET, f"B{row}", str(message)))
    return errors


def _indicator_cell(parsed: ParsedTemplate, code: str | None, column: str | None) -> str:
    if not code or code not in parsed.indicator_rows:
        return ""
    row = parsed.indicator_rows[code]
    if column in INDICATOR_COLUMNS:
        return f"{get_column_letter(INDICATOR_COLUMNS[column])}{row}"
    return f"A{row}"


def _product_errors(paths: list[Any], parsed: ParsedTemplate) -> list[CellError]:
    errors = []
    for error in paths:
        where = ""
        head = error.field
        if head.startswith("products[") and "]" in head:
            index = int(head[len("products[") : head.index("]")])
            rest = head[head.index("]") + 2 :]
            row = parsed.product_rows[index] if index < len(parsed.product_rows) else FIRST_ROW
            if rest in PRODUCT_TEXT_COLUMNS:
                where = f"{get_column_letter(PRODUCT_TEXT_COLUMNS[rest])}{row}"
            elif rest.replace(".", "_") in PRODUCT_NUMBER_COLUMNS:
                index_col = PRODUCT_NUMBER_COLUMNS[rest.replace(".", "_")]
                where = f"{get_column_letter(index_col)}{row}"
            else:
                where = f"A{row}"
        errors.append(CellError(PRODUCT_SHEET, where, error.message))
    return errors


def check_template(
    user: User, period: Period, upload: IO[bytes], size: int | None = None
) -> tuple[ParsedTemplate, Report, BasicInfoForm, list[Issue]]:
    """Everything the import checks, nothing saved. Raises WorkbookRefused for a file that is not
    this month's template; cell errors are in the parsed template's `errors`."""
    enterprise = user.enterprise
    assert enterprise is not None
    period = check_period_open(period)
    report = report_or_draft(user, period)
    if report.pk is not None and not report.is_editable:
        raise WorkbookRefused(
            f"{period} 月报表当前状态为「{report.get_status_display()}」，不能导入。", status=409
        )
    wb, merges = open_template(upload, size)
    try:
        check_mark(read_mark(wb), enterprise, period, report.catalogue)
        parsed = parse_template(wb, report.catalogue, merges)
    except WorkbookRefused:
        raise
    except Exception:  # read-only mode parses a sheet when it is read: damage shows up here
        raise WorkbookRefused(DAMAGED) from None
    finally:
        wb.close()
    form = BasicInfoForm.from_json(parsed.basic_info)
    if form.is_valid():
        changed = changed_key_fields(enterprise, form.stored())
        for key in changed:
            row = parsed.basic_rows[key]
            parsed.errors.append(CellError(BASIC_SHEET, f"B{row}", KEY_CHANGE))
    else:
        parsed.errors += _basic_errors(form, parsed)
    values, problems = parse_indicator_values(report, parsed.indicators)
    for problem in problems:
        _, code, column = [*problem.field.split("."), "", ""][:3]
        where = _indicator_cell(parsed, code, column)
        parsed.errors.append(CellError(INDICATOR_SHEET, where, problem.message))
    warnings: list[Issue] = []
    if not problems:
        result = check_indicators(report, values)
        expressions = dict(ValidationRule.objects.values_list("code", "expression"))
        # An indicator with a cell that could not be read is judged on a blank: its rule errors
        # ("为必填项", "不能小于") would only repeat the cell's own error in other words.
        unreadable = {
            code
            for code, row in parsed.indicator_rows.items()
            for e in parsed.errors
            if e.sheet == INDICATOR_SHEET and re.sub(r"^[A-Z]+", "", e.cell) == str(row)
        }
        for issue in result.errors:
            if issue.indicator in unreadable:
                continue
            column = issue.field or focus_column(expressions.get(issue.rule, ""), issue.indicator)
            where = _indicator_cell(parsed, issue.indicator, column)
            parsed.errors.append(CellError(INDICATOR_SHEET, where, issue.message))
        warnings = list(result.unexplained_warnings)
    _lines, product_problems = parse_products(parsed.products)
    parsed.errors += _product_errors(product_problems, parsed)
    return parsed, report, form, warnings


def cell_label(error: CellError, catalogue: dict[str, Any]) -> str:
    """What a cell of the template holds, e.g. "工业总产值 本年1-本月" for 主要经济指标!D3."""
    match = re.fullmatch(r"([A-Z]+)(\d+)", error.cell)
    if not match:
        return ""
    column = column_index_from_string(match.group(1))
    offset = int(match.group(2)) - FIRST_ROW
    if offset < 0:
        return ""
    if error.sheet == BASIC_SHEET and offset < len(BASIC_FIELDS):
        return BASIC_FIELDS[offset].label
    if error.sheet == INDICATOR_SHEET:
        specs = ordered_specs(catalogue)
        if offset < len(specs):
            spec = specs[offset]
            names = {index: name for name, index in INDICATOR_COLUMNS.items()}
            return f"{spec.name} {spec.label(names[column])}" if column in names else spec.name
    if error.sheet == PRODUCT_SHEET:
        headers = {i: k for k, i in {**PRODUCT_TEXT_COLUMNS, **PRODUCT_NUMBER_COLUMNS}.items()}
        key = headers.get(column)
        return f"第{offset + 1}种产品 {PRODUCT_LABELS.get(key, '')}".strip() if key else ""
    return ""


def open_template(upload: IO[bytes], size: int | None) -> tuple[Workbook, dict[str, list[str]]]:
    """The template in read-only mode, and the merged ranges of its sheets."""
    wb = open_workbook(upload, size, streaming=True, max_unpacked=TEMPLATE_MAX_UNPACKED)
    try:
        return wb, sheet_merges(upload)
    except WorkbookRefused:
        wb.close()
        raise


def import_template(
    user: User,
    period: Period,
    upload: IO[bytes],
    *,
    filename: str = "",
    filler: str = "",
    size: int | None = None,
    dry_run: bool = False,
    method: str = Report.Method.IMPORT,
) -> ImportOutcome:
    """Check the filled template and, unless `dry_run` or anything is wrong, save all three forms
    in one transaction (method 上报导入). Raises WorkbookRefused for a file that cannot be read as
    this month's template. Every attempt is logged (ImportLog), saved or not."""
    log = ImportLog(
        user=user,
        enterprise_id=user.enterprise_id,
        period=str(period),
        filename=filename[:200],
        filler=filler[:30],
        sha256=_digest(upload),
        dry_run=dry_run,
        ip=current_ip(),
    )
    try:
        parsed, report, form, warnings = check_template(user, period, upload, size)
    except WorkbookRefused as exc:
        _save_log(log, ImportLog.Outcome.REFUSED, [exc.message])
        raise
    outcome = ImportOutcome(
        saved=False,
        report=report if report.pk else None,
        errors=parsed.errors,
        labels=[cell_label(e, report.catalogue) for e in parsed.errors],
        warnings=warnings,
        indicators=sum(
            1 for c in parsed.indicators.values() if any(v is not None for v in c.values())
        ),
        products=len(parsed.products),
        ignored_sheets=parsed.ignored_sheets,
    )
    if parsed.errors:
        _save_log(log, ImportLog.Outcome.REFUSED, [str(e) for e in parsed.errors])
        return outcome
    if dry_run:
        _save_log(log, ImportLog.Outcome.CHECKED, [])
        return outcome
    with transaction.atomic():
        save_basic_info(user, period, form, method=method)
        save_indicators(user, period, parsed.indicators, method=method)
        outcome.report = save_products(user, period, parsed.products, method=method).report
        _save_log(log, ImportLog.Outcome.SAVED, [])
    outcome.saved = True
    return outcome


def _digest(upload: IO[bytes]) -> str:
    upload.seek(0)
    sha = hashlib.sha256()
    for chunk in iter(lambda: upload.read(1 << 16), b""):
        sha.update(chunk)
    upload.seek(0)
    return sha.hexdigest()


def _save_log(log: ImportLog, outcome: str, errors: list[str]) -> None:
    log.outcome = outcome
    log.error_count = len(errors)
    log.first_error = errors[0][:300] if errors else ""
    log.save()
