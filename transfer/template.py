"""The enterprise's data template (数据模板) of a month: its layout, shared with the import that
reads it back (transfer.imports), and the builder.

Sheets: 填报说明, 基本情况, 主要经济指标, 产品产销存, and two hidden ones: 代码表 (the lists
behind the drop-downs) and a very hidden version mark (format, month, enterprise, catalogue
fingerprint), so that a template of another month, enterprise or catalogue is refused. Each
data row carries its machine key in a hidden column, so that deleted or moved rows and columns
are noticed instead of read into the wrong field. Input cells are unlocked, the rest is
protected (without a password: protection guides, it does not secure)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from typing import Any

from django.core.cache import cache
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from directory.models import (
    Enterprise,
    EnterpriseSize,
    HoldingType,
    Industry,
    Region,
    RegistrationType,
)
from reports.content import COLUMN_LABELS
from reports.forms import known_basic_info
from reports.models import ProductLine, Report
from reports.periods import Period
from reports.services import MAX_PRODUCTS, carried_products, last_year_prefill, stored_values
from reports.validation import COLUMNS, Spec, specs
from transfer.xlsx import set_value

FORMAT = "SME-MONTHLY-TEMPLATE"
FORMAT_VERSION = "1"
MARK_SHEET = "_版本"
CODES_SHEET = "代码表"
GUIDE_SHEET = "填报说明"
BASIC_SHEET = "基本情况"
INDICATOR_SHEET = "主要经济指标"
PRODUCT_SHEET = "产品产销存"
DATA_SHEETS = (BASIC_SHEET, INDICATOR_SHEET, PRODUCT_SHEET)
FIRST_ROW = 3  # row 1: title, row 2: headers

INPUT_FILL = PatternFill("solid", fgColor="FFFDE7")
CLOSED_FILL = PatternFill("solid", fgColor="D9D9D9")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
UNLOCKED = Protection(locked=False)
TEXT_STYLE, NUMBER_STYLE = "填写", "填写数值"


@dataclass(frozen=True)
class BasicField:
    key: str
    label: str
    required: bool
    note: str = ""
    choices: str = ""  # the 代码表 column of its drop-down list, if any


BASIC_FIELDS: tuple[BasicField, ...] = (
    BasicField("enterprise_name", "企业名称", True, "法定单位名称；与登记不一致需在线申请变更"),
    BasicField("code_type", "代码类型", True, "统一社会信用代码 或 组织机构代码", "code_type"),
    BasicField("code", "机构代码", True, "18位统一社会信用代码或9位组织机构代码"),
    BasicField("legal_representative", "法人代表", True),
    BasicField("industry", "所属行业", True, "从下拉列表选择四级分类（代码 名称）", "industry"),
    BasicField("region", "所在地区", True, "从下拉列表选择到区县（代码 名称）", "region"),
    BasicField("registration_type", "注册类型", True, "从下拉列表选择", "registration_type"),
    BasicField("holding_type", "控股类型", False, "", "holding_type"),
    BasicField("size", "公司规模", False, "", "size"),
    BasicField("listed", "是否上市", False, "是 或 否", "listed"),
    BasicField("stock_code", "股票代码", False, "已上市企业必填"),
    BasicField("address", "通讯地址", True),
    BasicField("postal_code", "邮政编码", True, "6位数字"),
    BasicField("website", "企业网址", False, "以 http:// 或 https:// 开头"),
    BasicField("contact_person", "联系人", True),
    BasicField("phone", "电话", False, "区号-号码，如 0574-86668888；电话和手机至少填一项"),
    BasicField("fax", "传真", False),
    BasicField("mobile", "手机", False, "11位手机号码"),
    BasicField("email", "电子邮箱", False),
    BasicField("main_business", "主营业务/主要产品", True),
)
BASIC_KEY_COLUMN = 4  # D, hidden
INDICATOR_COLUMNS = {column: 3 + n for n, column in enumerate(COLUMNS)}  # C..F
INDICATOR_KEY_COLUMN = 8  # H, hidden
PRODUCT_TEXT_COLUMNS = {"name": 1, "code": 2, "unit": 3}
PRODUCT_NUMBER_COLUMNS = {
    f"{kind}_{column}": 4 + k * 4 + n
    for k, kind in enumerate(("production", "sales"))
    for n, column in enumerate(COLUMNS)
}
PRODUCT_ROWS = MAX_PRODUCTS


def fingerprint(catalogue: dict[str, Any]) -> str:
    """The catalogue version a template was made for: a hash of the month's snapshot."""
    data = json.dumps(catalogue, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def ordered_specs(catalogue: dict[str, Any]) -> list[Spec]:
    positions = {code: d.get("position", 0) for code, d in catalogue.items()}
    return sorted(specs(catalogue), key=lambda s: (positions.get(s.code, 0), s.code))


# --- Code lists ----------------------------------------------------------------------------------


def choice_lists() -> dict[str, list[str]]:
    """Every drop-down's entries, "代码 名称" for the coded ones (the import reads the code).
    Reference tables change a few times a year: the lists are kept ten minutes."""
    return cache.get_or_set("transfer:choice-lists", _choice_lists, 600)


def _choice_lists() -> dict[str, list[str]]:
    leaves = Region.objects.filter(children__isnull=True).order_by("code")
    region_items = [
        f"{code} {''.join(n for n in (grand, parent, name) if n)}"
        for code, name, parent, grand in leaves.values_list(
            "code", "name", "parent__name", "parent__parent__name"
        )
    ]
    industries = Industry.objects.filter(children__isnull=True, is_active=True).order_by("code")
    registrations = RegistrationType.objects.filter(children__isnull=True).order_by("code")
    return {
        "code_type": [label for _, label in Enterprise.CodeType.choices],
        "industry": [f"{c} {n}" for c, n in industries.values_list("code", "name")],
        "region": region_items,
        "registration_type": [f"{c} {n}" for c, n in registrations.values_list("code", "name")],
        "holding_type": [label for _, label in HoldingType.choices],
        "size": [label for _, label in EnterpriseSize.choices],
        "listed": ["否", "是"],
    }


CODE_LIST_ORDER = (
    "code_type",
    "industry",
    "region",
    "registration_type",
    "holding_type",
    "size",
    "listed",
)


def display_value(key: str, value: Any, lists: dict[str, list[str]]) -> Any:
    """A stored basic-info value as the template shows it."""
    if value is None or value == "":
        return None
    if key == "listed":
        return "是" if value else "否"
    if key == "code_type":
        return dict(Enterprise.CodeType.choices).get(value, value)
    if key == "holding_type":
        return dict(HoldingType.choices).get(value, value)
    if key == "size":
        return dict(EnterpriseSize.choices).get(value, value)
    if key in ("industry", "region", "registration_type"):
        prefix = f"{value} "
        return next((item for item in lists[key] if item.startswith(prefix)), str(value))
    return value


# --- Builder -------------------------------------------------------------------------------------


def build_template(enterprise: Enterprise, period: Period, report: Report | None) -> bytes:
    """The month's data template, pre-filled with what the platform knows: this month's saved
    values, else 上年 figures from last year's report and last month's products."""
    catalogue = report.catalogue if report is not None else _catalogue(period)
    lists = choice_lists()
    wb = Workbook()
    _add_styles(wb)
    guide = wb.active
    guide.title = GUIDE_SHEET
    basic = wb.create_sheet(BASIC_SHEET)
    indicators = wb.create_sheet(INDICATOR_SHEET)
    products = wb.create_sheet(PRODUCT_SHEET)
    codes = wb.create_sheet(CODES_SHEET)
    mark = wb.create_sheet(MARK_SHEET)

    ranges = _write_codes(codes, lists)
    _write_guide(guide, enterprise, period, catalogue)
    info = known_basic_info(enterprise, str(period), report)
    _write_basic(basic, period, info, lists, ranges)
    draft = report if report is not None else Report(enterprise=enterprise, period=str(period))
    values = stored_values(report) if report is not None and report.pk else {}
    prefill = last_year_prefill(draft) if not values else {}
    _write_indicators(indicators, period, catalogue, values or prefill)
    lines = list(report.products.all()) if report is not None and report.pk else []
    _write_products(products, period, lines or carried_products(draft))
    for key, value in (
        ("format", FORMAT),
        ("version", FORMAT_VERSION),
        ("period", str(period)),
        ("enterprise", enterprise.code),
        ("catalogue", fingerprint(catalogue)),
    ):
        mark.append([key, value])
    mark.sheet_state = "veryHidden"
    codes.sheet_state = "hidden"
    for ws in (basic, indicators, products, codes, mark, guide):
        ws.protection.sheet = True
        ws.protection.formatColumns = False  # users may widen columns
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _catalogue(period: Period) -> dict[str, Any]:
    from reports.catalogue import catalogue_for, snapshot

    return snapshot(catalogue_for(period))


def _title(ws: Worksheet, text: str, width: int) -> None:
    ws.cell(row=1, column=1, value=text).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)


def _header(ws: Worksheet, labels: list[str]) -> None:
    for n, label in enumerate(labels, start=1):
        cell = ws.cell(row=2, column=n, value=label)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.freeze_panes = ws.cell(row=FIRST_ROW, column=2)


def _add_styles(wb: Workbook) -> None:
    """The input cells' looks as two named styles: one assignment per cell instead of four."""
    for name, number_format in ((TEXT_STYLE, "General"), (NUMBER_STYLE, "0.###")):
        wb.add_named_style(
            NamedStyle(
                name=name,
                fill=INPUT_FILL,
                border=BOX,
                protection=UNLOCKED,
                number_format=number_format,
            )
        )


def _input(cell: Any, value: Any = None, style: str = TEXT_STYLE) -> None:
    if value is not None:
        set_value(cell, value)
    cell.style = style


def _write_codes(ws: Worksheet, lists: dict[str, list[str]]) -> dict[str, str]:
    ranges = {}
    for n, key in enumerate(CODE_LIST_ORDER, start=1):
        letter = get_column_letter(n)
        ws.cell(row=1, column=n, value=key)
        for row, item in enumerate(lists[key], start=2):
            ws.cell(row=row, column=n, value=item)
        ranges[key] = f"'{CODES_SHEET}'!${letter}$2:${letter}${len(lists[key]) + 1}"
    return ranges


def _write_guide(
    ws: Worksheet, enterprise: Enterprise, period: Period, catalogue: dict[str, Any]
) -> None:
    lines = [
        f"{period.year}年{period.month}月 企业月报数据模板",
        f"企业：{enterprise.name}（{enterprise.code}）",
        f"报表类型：{period.report_type_name}（共{len(catalogue)}个指标）",
        "",
        "填写方法：",
        "1. 只在黄色单元格中填写；灰色单元格不需要填写，其他单元格已保护。",
        "2. 带 * 的项目为必填项。所属行业、所在地区、注册类型等请从下拉列表中选择。",
        "3. 指标数值只填数字（可带小数），不要填写单位、文字或公式；金额单位见各指标的计量单位。",
        "4. 本年1-本月不能小于本年本月；除允许为负数的指标外，数值不能为负数。",
        "5. 产品产销存每行一种产品，最多50种；有产量或销量的行必须填写产品名称和计量单位。",
        "6. 填好后在平台【数据采集】→【上报导入】中选择报表月份、填报人和本文件，点击【导入】。",
        "   导入成功后请继续在线完成原因说明、问卷并上报；有错误时平台会列出工作表和单元格，",
        "   请改正后重新导入（导入失败时不会保存任何数据）。",
        "7. 本模板只能用于本企业本月份；请勿增删工作表、行或列，否则无法导入。",
    ]
    for line in lines:
        ws.append([line])
    ws["A1"].font = Font(bold=True, size=14)
    ws.column_dimensions["A"].width = 100


def _write_basic(
    ws: Worksheet,
    period: Period,
    info: dict[str, Any],
    lists: dict[str, list[str]],
    ranges: dict[str, str],
) -> None:
    _title(ws, f"企业基本情况表（{period}）", 3)
    _header(ws, ["项目", "填写内容", "填写说明"])
    for offset, field in enumerate(BASIC_FIELDS):
        row = FIRST_ROW + offset
        label = ws.cell(row=row, column=1, value=f"{field.label}{' *' if field.required else ''}")
        label.border = BOX
        _input(ws.cell(row=row, column=2), display_value(field.key, info.get(field.key), lists))
        ws.cell(row=row, column=3, value=field.note).alignment = Alignment(wrap_text=True)
        ws.cell(row=row, column=BASIC_KEY_COLUMN, value=field.key)
        if field.choices:
            dv = DataValidation(
                type="list",
                formula1=f"={ranges[field.choices]}",
                allow_blank=not field.required,
                showErrorMessage=True,
                errorTitle="请从列表中选择",
                error=f"{field.label}请从下拉列表中选择。",
            )
            ws.add_data_validation(dv)
            dv.add(ws.cell(row=row, column=2))
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 48
    ws.column_dimensions["C"].width = 44
    ws.column_dimensions[get_column_letter(BASIC_KEY_COLUMN)].hidden = True


def _number_validation(ws: Worksheet, negative: bool) -> DataValidation:
    dv = DataValidation(
        type="decimal",
        operator="between",
        formula1="-999999999999999" if negative else "0",
        formula2="999999999999999",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="请填写数字",
        error="请填写数字" + ("" if negative else "，不能为负数") + "。",
    )
    ws.add_data_validation(dv)
    return dv


def _write_indicators(
    ws: Worksheet,
    period: Period,
    catalogue: dict[str, Any],
    values: dict[str, dict[str, Decimal | None]],
) -> None:
    _title(ws, f"企业主要经济指标月报（{period}）", 6)
    _header(ws, ["指标名称", "计量单位", *COLUMN_LABELS.values(), "说明"])
    signed: list[str] = []
    unsigned: list[str] = []
    for offset, spec in enumerate(ordered_specs(catalogue)):
        row = FIRST_ROW + offset
        name = ws.cell(row=row, column=1, value=f"{spec.name}{' *' if spec.required else ''}")
        name.border = BOX
        ws.cell(row=row, column=2, value=catalogue[spec.code].get("unit", "")).border = BOX
        for column, index in INDICATOR_COLUMNS.items():
            cell = ws.cell(row=row, column=index)
            if column in spec.columns:
                _input(cell, values.get(spec.code, {}).get(column), NUMBER_STYLE)
                (signed if spec.may_be_negative else unsigned).append(cell.coordinate)
                if spec.columns != COLUMNS:
                    cell.comment = Comment(f"填写{spec.label(column)}数", "平台")
            else:
                cell.fill = CLOSED_FILL
                cell.border = BOX
        if spec.columns != COLUMNS:
            ws.cell(row=row, column=7, value="只填本年和上年（1-本月或期末）数")
        ws.cell(row=row, column=INDICATOR_KEY_COLUMN, value=spec.code)
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 12
    for index in INDICATOR_COLUMNS.values():
        ws.column_dimensions[get_column_letter(index)].width = 16
    ws.column_dimensions["G"].width = 30
    ws.column_dimensions[get_column_letter(INDICATOR_KEY_COLUMN)].hidden = True
    for cells, negative in ((unsigned, False), (signed, True)):
        if cells:
            _number_validation(ws, negative).sqref = MultiCellRange(" ".join(cells))


def product_headers() -> list[str]:
    """The header row of 产品产销存, in column order (the import checks it whole)."""
    labels = ["产品名称", "产品代码", "计量单位"]
    labels += [f"产量 {label}" for label in COLUMN_LABELS.values()]
    labels += [f"销量 {label}" for label in COLUMN_LABELS.values()]
    return labels


def _write_products(ws: Worksheet, period: Period, lines: list[ProductLine]) -> None:
    labels = product_headers()
    _title(ws, f"主要产品产销存（{period}），每行一种产品", len(labels))
    _header(ws, labels)
    for offset in range(PRODUCT_ROWS):
        row = FIRST_ROW + offset
        line = lines[offset] if offset < len(lines) else None
        for key, index in PRODUCT_TEXT_COLUMNS.items():
            _input(ws.cell(row=row, column=index), getattr(line, key) if line else None)
        for key, index in PRODUCT_NUMBER_COLUMNS.items():
            cell = ws.cell(row=row, column=index)
            _input(cell, getattr(line, key) if line else None, NUMBER_STYLE)
    first, last = min(PRODUCT_NUMBER_COLUMNS.values()), max(PRODUCT_NUMBER_COLUMNS.values())
    numbers = f"{get_column_letter(first)}{FIRST_ROW}:{get_column_letter(last)}"
    _number_validation(ws, False).sqref = MultiCellRange(f"{numbers}{FIRST_ROW + PRODUCT_ROWS - 1}")
    ws.column_dimensions["A"].width = 24
    for index in range(2, len(labels) + 1):
        ws.column_dimensions[get_column_letter(index)].width = 14
