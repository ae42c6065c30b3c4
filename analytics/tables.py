"""The analytics figures as display tables: headers and cells, each cell with its text (formatted
the Chinese way, analytics.formatting) and its value in the display unit (for Excel, where the
number stays a number). The page shows these tables beside their charts, and the Excel export
writes the very same tables, so what is read on screen is what is downloaded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from analytics import formatting as fmt
from analytics.figures import (
    CrossTable,
    IndicatorInfo,
    Measure,
    QuestionFigures,
    Row,
    Table,
    TrendPoint,
)

Number = Decimal | int | None


@dataclass
class Cell:
    text: str
    value: Number | str = None
    link: str = ""
    places: int = 1  # decimals of the Excel number format

    @classmethod
    def label(cls, text: str, link: str = "") -> Cell:
        return cls(text, text, link)

    @property
    def numeric(self) -> bool:
        return not isinstance(self.value, str)


@dataclass
class DisplayTable:
    key: str
    caption: str
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""
    total_rows: int = 0  # the last rows that are totals

    @property
    def body(self) -> list[list[Cell]]:
        return self.rows[: len(self.rows) - self.total_rows]

    @property
    def totals(self) -> list[list[Cell]]:
        return self.rows[len(self.rows) - self.total_rows :]


def count(n: int) -> Cell:
    return Cell(f"{n:,}", n, places=0)


def level(value: Decimal | None, unit: fmt.DisplayUnit, averaged: bool = False) -> Cell:
    if averaged:
        return Cell(fmt.number(value), fmt.rounded(value))
    scaled = unit.scale(value)
    return Cell(fmt.amount(value, unit), scaled, places=0 if unit.places == 1 else 1)


def percent(value: Decimal | None) -> Cell:
    return Cell(fmt.number(value) if value is not None else fmt.DASH, fmt.rounded(value))


def points(value: Decimal | None) -> Cell:
    return Cell(fmt.points(value), fmt.rounded(value))


def level_header(info: IndicatorInfo, unit: fmt.DisplayUnit) -> str:
    if info.averaged:
        return f"平均值（{info.unit}）"
    if info.kind == "stock":
        return f"期末值（{unit.label}）"
    return f"本年1-本月（{unit.label}）"


def growth_header(info: IndicatorInfo) -> str:
    return "同比变化（百分点）" if info.averaged else "同比增长（%）"


def unit_for(info: IndicatorInfo, measures: list[Measure]) -> fmt.DisplayUnit:
    largest = max((abs(m.level) for m in measures if m.level is not None), default=None)
    return fmt.display_unit(info.unit, largest)


def group_table(table: Table, link: Callable[[Row], str] | None = None) -> DisplayTable:
    info = table.indicator
    unit = unit_for(info, [table.total.now])
    headers = [
        table.grouping_label,
        "企业数",
        level_header(info, unit),
        growth_header(info),
        "增速较上月变化（百分点）",
        "增长面（%）",
    ]
    if info.may_lose:
        headers += ["亏损企业数", f"亏损额（{unit.label}）"]
    out = DisplayTable(
        f"group-{table.grouping}",
        f"{info.name}：按{table.grouping_label}",
        headers,
        note=f"统计范围：{table.scope.name}，{table.scope.counted_label}；增速按可比口径（本年、上年均有数据的企业）计算。",
    )
    for row in [*table.rows, table.total]:
        cells = [
            Cell.label(row.label, link(row) if link and row.code else ""),
            count(row.now.reports),
            level(row.now.level, unit, info.averaged),
            percent(row.now.growth),
            points(row.growth_change),
            percent(row.now.share_up),
        ]
        if info.may_lose:
            cells += [count(row.now.n_neg), level(row.now.losses, unit)]
        out.rows.append(cells)
    out.total_rows = 1
    return out


def overview_table(
    rows: list[Row], infos: dict[str, IndicatorInfo], scope_name: str
) -> DisplayTable:
    out = DisplayTable(
        "overview",
        f"主要指标：{scope_name}",
        ["指标", "单位", "本年1-本月 / 期末值", "同比增长（%）", "增速较上月变化（百分点）",
         "增长面（%）", "填报企业数"],
    )  # fmt: skip
    for row in rows:
        info = infos[row.key]
        unit = unit_for(info, [row.now])
        out.rows.append(
            [
                Cell.label(info.name),
                Cell.label(info.unit if info.averaged else unit.label),
                level(row.now.level, unit, info.averaged),
                percent(row.now.growth),
                points(row.growth_change),
                percent(row.now.share_up),
                count(row.now.n),
            ]
        )
    return out


def trend_table(points_: list[TrendPoint], info: IndicatorInfo) -> DisplayTable:
    unit = unit_for(info, [p.measure for p in points_])
    out = DisplayTable(
        "trend",
        f"{info.name}：近{len(points_)}个月",
        ["报表月份", "企业数", level_header(info, unit), growth_header(info), "增长面（%）"],
    )
    for p in points_:
        out.rows.append(
            [
                Cell.label(str(p.period)),
                count(p.measure.reports),
                level(p.measure.level, unit, info.averaged),
                percent(p.measure.growth),
                percent(p.measure.share_up),
            ]
        )
    return out


def cross_table(table: CrossTable) -> DisplayTable:
    info = table.indicator
    # Twenty 门类 side by side: the columns carry the code, the note says which is which.
    legend = "；".join(label for _, label in table.columns)
    out = DisplayTable(
        "cross",
        f"{info.name}{growth_header(info)}：地区 × 行业门类",
        ["地区", *[key for key, _ in table.columns], "合计"],
        note=f"单元格为同比增长（%），按可比口径计算；“—”表示无可比数据。行业门类：{legend}。",
    )
    for row, cells in table.rows:
        out.rows.append(
            [
                Cell.label(row.label),
                *[
                    percent(cells[key].growth) if key in cells else percent(None)
                    for key, _ in table.columns
                ],
                percent(row.now.growth),
            ]
        )
    out.rows.append(
        [
            Cell.label("合计"),
            *[percent(table.column_totals[key].growth) for key, _ in table.columns],
            percent(table.total.now.growth),
        ]
    )
    out.total_rows = 1
    return out


def question_table(questions: list[QuestionFigures]) -> DisplayTable:
    asked = [q for q in questions if q.respondents]
    note = "多选题各选项占比之和可超过 100%。"
    if len(asked) < len(questions):
        note += f"另有 {len(questions) - len(asked)} 个题目本月无企业作答，未列出。"
    out = DisplayTable(
        "questions",
        "问卷调查",
        ["题目", "选项", "选择企业数", "占答题企业（%）", "较上月变化（百分点）", "答题企业数"],
        note=note,
    )
    for q in asked:
        for option in q.options:
            out.rows.append(
                [
                    Cell.label(q.question.text),
                    Cell.label(option.label),
                    count(option.n),
                    percent(option.share),
                    points(option.change),
                    count(q.respondents),
                ]
            )
    return out
