"""批量导入 for national and provincial administrators: one workbook holding many enterprises'
reports of a month, one row per enterprise (the columns of the enterprise's data template, less
the products), e.g. data collected offline by a county office.

Each row is checked and saved on its own through reports.services.import_for_enterprise (the
same rules as the enterprise's own saves), submitted in the administrator's name (待审核, method
上报导入, audited). Only enterprises inside the administrator's region are accepted. The file is
read in streaming mode and processed as a background job (jobs.runner) with progress; the result
(created / updated / refused, with each refused row's cell and message) is kept as a workbook."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.core.files import File
from django.db import IntegrityError, transaction
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from accounts.models import User
from analytics.cube import deferred
from directory.models import Enterprise
from lib.memo import remembered_lookups
from reports.basic_info import BasicInfoForm
from reports.catalogue import catalogue_for, snapshot
from reports.forms import enterprise_info
from reports.periods import Period
from reports.selectors import enterprises_visible_to
from reports.services import FieldError, ReportInputError, import_for_enterprise
from reports.workflow import TransitionError, check_period_open
from transfer.imports import CASCADE_PARTS, basic_value
from transfer.reader import (
    DAMAGED,
    WorkbookRefused,
    is_formula,
    normalise_text,
    number,
    open_workbook,
)
from transfer.template import (
    BASIC_FIELDS,
    CODE_LIST_ORDER,
    CODES_SHEET,
    choice_lists,
    display_value,
    fingerprint,
    ordered_specs,
)
from transfer.xlsx import row_cells

BULK_KIND = "bulk_import"  # the Job kind
BULK_FORMAT = "SME-MONTHLY-BULK"
DATA_SHEET = "月报数据"
MARK_SHEET = "_版本"
HEADER_ROW, KEY_ROW, FIRST_DATA_ROW = 2, 3, 4
MAX_ROWS = 200_000
# Rows whose enterprises are looked up with one query, and committed together: each row is still
# all or nothing (a savepoint of its own), but the disk is synced once per chunk, not per row.
CHUNK = 100
# Basic facts of the row, after 用户ID / 机构代码 / 企业名称 (the enterprise is found by its code).
ROW_BASIC = tuple(f for f in BASIC_FIELDS if f.key not in ("enterprise_name", "code"))
NOT_IN_SCOPE = "机构代码在您的管理范围内不存在。"
CONCURRENT = "该企业本月报表正在被同时填写或导入，请稍后重新导入这一行。"


@dataclass(frozen=True)
class Column:
    key: str  # "code", "basic.region", "ind.revenue.ytd", "explanation"
    header: str


def columns_for(catalogue: dict[str, Any]) -> list[Column]:
    columns = [
        Column("username", "用户ID"),
        Column("code", "机构代码 *"),
        Column("enterprise_name", "企业名称"),
    ]
    columns += [
        Column(f"basic.{f.key}", f"{f.label}{' *' if f.required else ''}") for f in ROW_BASIC
    ]
    for spec in ordered_specs(catalogue):
        unit = catalogue[spec.code].get("unit", "")
        for column in spec.columns:
            star = " *" if spec.required else ""
            header = f"{spec.name} {spec.label(column)}（{unit}）{star}"
            columns.append(Column(f"ind.{spec.code}.{column}", header))
    columns.append(Column("explanation", "原因说明（有提示时必填）"))
    return columns


# --- The workbook to fill --------------------------------------------------------------------


def bulk_template(user: User, period: Period) -> IO[bytes]:
    """The month's bulk workbook, one pre-filled row per enterprise in the user's scope (its
    basic facts as on file; the figures empty). Written row by row to a temporary file."""
    catalogue = snapshot(catalogue_for(period))
    columns = columns_for(catalogue)
    lists = choice_lists()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(DATA_SHEET)
    ws.append(row_cells(ws, [f"{period} 月报批量导入（每行一家企业）"], bold=True))
    ws.append(row_cells(ws, [c.header for c in columns], bold=True))
    ws.append(row_cells(ws, [c.key for c in columns]))
    ws.row_dimensions[KEY_ROW].hidden = True
    ws.freeze_panes = f"D{FIRST_DATA_ROW}"
    for n in range(1, len(columns) + 1):
        ws.column_dimensions[get_column_letter(n)].width = 16
    enterprises = enterprises_visible_to(user).select_related("user").order_by("region_id", "code")
    for enterprise in enterprises.iterator(chunk_size=2000):
        ws.append(row_cells(ws, _prefilled_row(enterprise, columns, lists)))
    codes = wb.create_sheet(CODES_SHEET)
    longest = max(len(lists[k]) for k in CODE_LIST_ORDER)
    codes.append(row_cells(codes, CODE_LIST_ORDER))
    for i in range(longest):
        codes.append(
            row_cells(codes, [lists[k][i] if i < len(lists[k]) else None for k in CODE_LIST_ORDER])
        )
    codes.sheet_state = "hidden"
    mark = wb.create_sheet(MARK_SHEET)
    for key, value in (
        ("format", BULK_FORMAT),
        ("period", str(period)),
        ("catalogue", fingerprint(catalogue)),
    ):
        mark.append([key, value])
    mark.sheet_state = "veryHidden"
    out = tempfile.TemporaryFile(suffix=".xlsx")
    wb.save(out)
    out.seek(0)
    return out


def _prefilled_row(
    enterprise: Enterprise, columns: list[Column], lists: dict[str, list[str]]
) -> list[Any]:
    known = enterprise_info(enterprise)  # the enterprise record, as step 1 starts from it
    user = getattr(enterprise, "user", None)
    row: list[Any] = []
    for column in columns:
        if column.key == "username":
            row.append(user.username if user else None)
        elif column.key == "code":
            row.append(enterprise.code)
        elif column.key == "enterprise_name":
            row.append(enterprise.name)
        elif column.key.startswith("basic."):
            key = column.key.removeprefix("basic.")
            row.append(display_value(key, known.get(key), lists))
        else:
            row.append(None)
    return row


# --- Reading it back ---------------------------------------------------------------------------


@dataclass
class RowProblem:
    row: int
    cell: str
    code: str
    message: str


@dataclass
class BulkResult:
    created: int = 0
    updated: int = 0
    refused: int = 0
    checked: int = 0  # dry run: rows that would be saved
    problems: list[RowProblem] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # column letter → its header

    def label(self, problem: RowProblem) -> str:
        """What the problem's cell holds: the header of its column."""
        return self.headers.get(problem.cell.rstrip("0123456789"), "")

    @property
    def counts(self) -> dict[str, int]:
        return {"新建": self.created, "更新": self.updated, "拒绝": self.refused}


@dataclass
class BulkRow:
    number: int
    code: str
    name: str
    basic: dict[str, Any]
    values: dict[str, dict[str, Decimal | None]]
    explanation: str
    problems: list[tuple[str, str]]  # (cell, message) found while reading


class BulkFile:
    """An opened bulk workbook: its mark checked, its columns found by their keys (so that moved
    columns still read right, and missing ones are named)."""

    def __init__(self, upload: IO[bytes], period: Period, size: int | None = None) -> None:
        self.wb = open_workbook(upload, size, streaming=True)
        self.period = period
        self.catalogue = snapshot(catalogue_for(period))
        self._check_mark()
        if DATA_SHEET not in self.wb.sheetnames:
            raise WorkbookRefused(
                f"工作簿缺少工作表「{DATA_SHEET}」，请使用平台下载的批量导入模板。"
            )
        self.ws = self.wb[DATA_SHEET]
        rows = self.ws.iter_rows(min_row=KEY_ROW, max_row=KEY_ROW, values_only=True)
        keys = next(rows, ())
        self.index = {str(k): n for n, k in enumerate(keys) if isinstance(k, str) and k}
        expected = columns_for(self.catalogue)
        missing = [c.header for c in expected if c.key not in self.index]
        if missing:
            raise WorkbookRefused(
                f"工作表「{DATA_SHEET}」缺少列：{'、'.join(missing[:5])}"
                f"{'等' if len(missing) > 5 else ''}；请不要删除模板的列或第3行（隐藏行）。"
            )
        self.columns = expected

    def _check_mark(self) -> None:
        if MARK_SHEET not in self.wb.sheetnames:
            raise WorkbookRefused("该文件不是本平台下载的批量导入模板，请先下载模板。")
        pairs = self.wb[MARK_SHEET].iter_rows(min_row=1, max_row=10, max_col=2, values_only=True)
        mark = {str(k): str(v) for k, v in pairs if k is not None and v is not None}
        if mark.get("format") != BULK_FORMAT:
            raise WorkbookRefused("该文件不是本平台下载的批量导入模板，请先下载模板。")
        if mark.get("period") != str(self.period):
            raise WorkbookRefused(
                f"该模板是 {mark.get('period')} 月的批量导入模板，不能导入 {self.period} 月的报表。"
            )
        if mark.get("catalogue") != fingerprint(self.catalogue):
            raise WorkbookRefused("本月的指标目录已调整，该模板已过期，请重新下载批量导入模板。")

    def count_rows(self) -> int:
        """Read the sheet once through before anything is saved: the exact number of rows for
        the progress bar, and a damaged part refused now rather than half-way through."""
        try:
            return sum(1 for _ in self.ws.iter_rows(min_row=FIRST_DATA_ROW, values_only=True))
        except WorkbookRefused:
            raise
        except Exception:  # openpyxl and zipfile raise many kinds on a broken part
            raise WorkbookRefused(DAMAGED) from None

    def rows(self) -> Iterator[BulkRow]:
        n = FIRST_DATA_ROW - 1
        for n, values in enumerate(
            self.ws.iter_rows(min_row=FIRST_DATA_ROW, values_only=True), start=FIRST_DATA_ROW
        ):
            if n - FIRST_DATA_ROW >= MAX_ROWS:
                raise WorkbookRefused(f"每个文件最多导入 {MAX_ROWS} 家企业，请分成几个文件。")
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            yield self._row(n, values)

    def cell_of_key(self, key: str, n: int) -> str:
        return f"{get_column_letter(self.index[key] + 1)}{n}"

    def _row(self, n: int, values: tuple[Any, ...]) -> BulkRow:
        problems: list[tuple[str, str]] = []

        def get(key: str) -> Any:
            index = self.index[key]
            value = values[index] if index < len(values) else None
            if is_formula(value, None):
                problems.append((self.cell_of_key(key, n), "单元格含公式，请直接填写数值。"))
                return None
            return value

        code = normalise_text(get("code")).upper().replace("-", "")
        basic = {f.key: basic_value(f.key, get(f"basic.{f.key}")) for f in ROW_BASIC}
        figures: dict[str, dict[str, Decimal | None]] = {}
        for spec in ordered_specs(self.catalogue):
            columns: dict[str, Decimal | None] = {}
            for column in spec.columns:
                key = f"ind.{spec.code}.{column}"
                value, problem = number(get(key))
                if problem:
                    problems.append((self.cell_of_key(key, n), problem))
                columns[column] = value
            figures[spec.code] = columns
        explanation = str(get("explanation") or "").strip()
        return BulkRow(
            n, code, normalise_text(get("enterprise_name")), basic, figures, explanation, problems
        )

    def cell_of(self, n: int, error: FieldError) -> str:
        """The cell of a service error (basic_info.x, indicators.code.column, explanations)."""
        parts = error.field.split(".")
        if parts[0] == "basic_info" and len(parts) > 1:
            name = parts[1]
            tree = next((t for t, subs in CASCADE_PARTS.items() if name in subs), name)
            key = f"basic.{tree}"
            if key in self.index:
                return self.cell_of_key(key, n)
            if name in ("enterprise_name", "code"):
                return self.cell_of_key(name, n)
        if parts[0] == "indicators" and len(parts) > 1:
            code = parts[1]
            column = parts[2] if len(parts) > 2 else None
            spec = next((s for s in ordered_specs(self.catalogue) if s.code == code), None)
            if spec is not None:
                column = column if column in spec.columns else spec.columns[0]
                return self.cell_of_key(f"ind.{code}.{column}", n)
        if parts[0] == "explanations":
            return self.cell_of_key("explanation", n)
        return f"A{n}"

    def close(self) -> None:
        self.wb.close()


def run_bulk_import(
    admin: User,
    period: Period,
    upload: IO[bytes],
    *,
    size: int | None = None,
    dry_run: bool = False,
    progress: Any = None,
) -> BulkResult:
    """Check (and unless `dry_run`, save) every row; `progress(done, total)` now and then."""
    period = check_period_open(period)
    bulk = BulkFile(upload, period, size)
    result = BulkResult()
    result.headers = {
        get_column_letter(bulk.index[c.key] + 1): c.header.removesuffix(" *") for c in bulk.columns
    }
    total = bulk.count_rows()
    if progress:
        progress(0, total)
    scope = enterprises_visible_to(admin)
    seen: dict[str, int] = {}
    with remembered_lookups():
        try:
            batch: list[BulkRow] = []
            done = 0
            for row in bulk.rows():
                batch.append(row)
                if len(batch) >= CHUNK:
                    done += _process(admin, period, bulk, batch, scope, seen, result, dry_run)
                    batch = []
                    if progress:
                        progress(done, max(total, done))
            done += _process(admin, period, bulk, batch, scope, seen, result, dry_run)
            if progress:
                progress(done, max(total, done))
        finally:
            bulk.close()
    return result


@transaction.atomic  # one commit per chunk; each row is a savepoint of its own
def _process(
    admin: User,
    period: Period,
    bulk: BulkFile,
    rows: list[BulkRow],
    scope: Any,
    seen: dict[str, int],
    result: BulkResult,
    dry_run: bool,
) -> int:
    codes = {r.code for r in rows if r.code}
    enterprises = {e.code: e for e in scope.filter(code__in=codes).select_related("region")}
    # The analytics aggregate moves once for the chunk, at its end (no cells held row by row).
    with deferred():
        for row in rows:
            _process_row(admin, period, bulk, row, enterprises, seen, result, dry_run)
    return len(rows)


def _process_row(
    admin: User,
    period: Period,
    bulk: BulkFile,
    row: BulkRow,
    enterprises: dict[str, Enterprise],
    seen: dict[str, int],
    result: BulkResult,
    dry_run: bool,
) -> None:
    problems = [RowProblem(row.number, cell, row.code, message) for cell, message in row.problems]
    enterprise = enterprises.get(row.code)
    if not row.code:
        problems.append(
            RowProblem(row.number, bulk.cell_of_key("code", row.number), "", "请填写机构代码。")
        )
    elif enterprise is None:
        problems.append(
            RowProblem(row.number, bulk.cell_of_key("code", row.number), row.code, NOT_IN_SCOPE)
        )
    elif row.code in seen:
        message = f"与第{seen[row.code]}行是同一家企业，同一企业只能导入一行。"
        problems.append(
            RowProblem(row.number, bulk.cell_of_key("code", row.number), row.code, message)
        )
    if row.code and row.code not in seen:
        seen[row.code] = row.number
    if problems or enterprise is None:
        result.refused += 1
        result.problems += problems
        return
    basic = {"enterprise_name": enterprise.name, "code": enterprise.code, **row.basic}
    if row.name and row.name != enterprise.name:
        problems.append(
            RowProblem(
                row.number,
                bulk.cell_of_key("enterprise_name", row.number),
                row.code,
                "企业名称与登记不一致：企业名称的变更须由企业在线申请。",
            )
        )
        result.refused += 1
        result.problems += problems
        return
    form = BasicInfoForm.from_json(basic)
    try:
        if dry_run:
            _dry_check(admin, enterprise, period, form, row, bulk.catalogue)
            result.checked += 1
        else:
            _report, created = import_for_enterprise(
                admin, enterprise, period, form, row.values, row.explanation, bulk.catalogue
            )
            if created:
                result.created += 1
            else:
                result.updated += 1
    except ReportInputError as exc:
        result.refused += 1
        result.problems += [
            RowProblem(row.number, bulk.cell_of(row.number, e), row.code, e.message)
            for e in exc.errors
        ]
    except TransitionError as exc:
        result.refused += 1
        result.problems.append(RowProblem(row.number, f"A{row.number}", row.code, exc.message))
    except IntegrityError:  # the month was created meanwhile by someone else
        result.refused += 1
        result.problems.append(RowProblem(row.number, f"A{row.number}", row.code, CONCURRENT))


class _DryRun(Exception):
    pass


def _dry_check(
    admin: User,
    enterprise: Enterprise,
    period: Period,
    form: Any,
    row: BulkRow,
    catalogue: dict[str, Any],
) -> None:
    """Everything the import would do, then undone: the same checks, no second implementation."""
    try:
        with transaction.atomic():
            import_for_enterprise(
                admin, enterprise, period, form, row.values, row.explanation, catalogue
            )
            raise _DryRun
    except _DryRun:
        pass


# --- The result ----------------------------------------------------------------------------------


def result_workbook(result: BulkResult, period: Period, dry_run: bool) -> IO[bytes]:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("导入结果")
    title = f"{period} 月报批量导入结果{'（只校验，未导入）' if dry_run else ''}"
    ws.append(row_cells(ws, [title], bold=True))
    if dry_run:
        ws.append(row_cells(ws, ["校验通过", result.checked, "拒绝", result.refused]))
    else:
        summary = [f"{label} {count}" for label, count in result.counts.items()]
        ws.append(row_cells(ws, summary))
    ws.append(row_cells(ws, ["行号", "机构代码", "单元格", "项目", "问题"], bold=True))
    for p in result.problems:
        cell = f"{DATA_SHEET}!{p.cell}"
        ws.append(row_cells(ws, [p.row, p.code, cell, result.label(p), p.message]))
    out = tempfile.TemporaryFile(suffix=".xlsx")
    wb.save(out)
    out.seek(0)
    return out


# --- As a background job -----------------------------------------------------------------------


def handle_bulk_job(job: Any) -> str:
    from jobs.runner import progress

    admin = User.objects.get(pk=job.owner_id)
    period = Period.parse(job.params["period"])
    dry_run = bool(job.params.get("dry_run"))
    try:
        with job.input_file.open("rb") as upload:
            result = run_bulk_import(
                admin,
                period,
                upload,
                dry_run=dry_run,
                progress=lambda done, total: progress(job, done, total),
            )
    except WorkbookRefused as exc:
        job.problems = [{"row": "", "cell": "", "code": "", "message": exc.message}]
        job.summary = {}
        job.save(update_fields=["problems", "summary"])
        return exc.message
    job.summary = {"校验通过": result.checked, "拒绝": result.refused} if dry_run else result.counts
    job.problems = [
        {
            "row": p.row,
            "cell": f"{DATA_SHEET}!{p.cell}",
            "label": result.label(p),
            "code": p.code,
            "message": p.message,
        }
        for p in result.problems[:500]
    ]
    with result_workbook(result, period, dry_run) as out:
        job.result_file.save(f"result-{job.pk}.xlsx", File(out), save=False)
    job.result_name = f"批量导入结果-{period}.xlsx"
    job.save(update_fields=["summary", "problems", "result_file", "result_name"])
    if dry_run:
        return f"校验完成（未导入）：{result.checked} 家可以导入，{result.refused} 家有错误。"
    return (
        f"导入完成：新建 {result.created} 家，更新 {result.updated} 家，拒绝 {result.refused} 家。"
    )
