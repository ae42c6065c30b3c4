"""运行监测分析报告: the monthly analysis report of a region, written from the figures
(analytics.figures) as a tree of sections, shown on a page (templates/analytics/_document.html)
and downloaded as a Word file (analytics.word, written by the background job `analysis_report`).

Traceability: every number a sentence states is a cell of one of the document's tables, written
by the same formatter (analytics.formatting): a sentence says "同比增长 6.0%" or "下降 13.1%"
where its table says 6.0 or -13.1, "提高 0.5 个百分点" where it says +0.5. So a reader (and the
tests) can find each figure of the text in a table, and text and tables never disagree.

Contribution (拉动) of a group to the scope's growth, in percentage points:
(本年_i − 上年_i) / |Σ上年 of all groups| × 100 over the comparable enterprises (Measure.cmp and
Measure.base), so the contributions of the groups add up to the scope's growth."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.base import ContentFile
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from analytics import figures
from analytics.charts import Chart, bar_chart, line_chart
from analytics.formatting import (
    DASH,
    DisplayUnit,
    amount,
    change_word,
    display_unit,
    number,
    points,
    rounded,
    trend_word,
)
from directory.models import Region
from jobs.models import Job
from jobs.runner import JobRefused, register
from jobs.runner import progress as job_progress
from reports.models import Indicator, Question
from reports.periods import Period
from sme.routers import replica_reads
from stats.completion import CompletionRow, completion

KIND = "analysis_report"
REVENUE, PROFIT = "revenue", "total_profit"
# The indicators 总体情况 speaks of, in this order, where the month's catalogue has them.
HEADLINE = (REVENUE, PROFIT, "gross_output", "electricity", "employees")
VERBS = {REVENUE: "完成"}  # "…家重点监测中小企业完成营业收入"
TREND_MONTHS = 24
TOP = 3  # groups named among the largest rises and among the largest falls
STEPS = 7  # progress steps of compose()
NUMERALS = "一二三四五六七八九十"
ONE = Decimal(1)

OUT_OF_SCOPE = "所选地区不存在或已不在您的管理范围内，无法生成分析报告。"

Progress = Callable[[int, int], None]


# --- The document ------------------------------------------------------------------------------


@dataclass
class DocumentTable:
    caption: str  # "表1 主要指标"
    headers: list[str]
    rows: list[list[str]]
    note: str = ""  # the unit the headers do not say, "金额单位：万元"
    label_columns: int = 1  # the leading columns hold text, the others numbers
    has_total: bool = False  # the last row is the 合计
    remark: str = ""  # "注：…" below the table: what a column means


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[DocumentTable] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


@dataclass
class AnalysisDocument:
    title: str
    subtitle: str
    scope_name: str
    period: Period
    generated_on: dt.date
    sections: list[Section] = field(default_factory=list)
    empty: bool = False  # no counted report: the document says so

    @property
    def file_name(self) -> str:
        return f"运行监测分析报告-{self.scope_name}-{self.period}.docx"

    @property
    def tables(self) -> list[DocumentTable]:
        return [t for s in self.sections for t in s.tables]


# --- Wording -----------------------------------------------------------------------------------


def months_label(period: Period) -> str:
    """The 1-本月 span as the reports write it: "1月" in January, else "1-10月"."""
    return "1月" if period.month == 1 else f"1-{period.month}月"


def earlier_label(period: Period, info: figures.IndicatorInfo) -> str:
    """What 增速变化 compares with: last month's 1-本月 span, or 上月末 for a period-end value."""
    if info.kind == Indicator.Kind.STOCK:
        return "上月末"
    if info.averaged:
        return "上月"
    return "上年全年" if period.month == 1 else months_label(period.previous())


def area_word(scope: figures.Scope) -> str:
    """How the reports name the whole of their region: 全国, 全省, 全市, 全区, 全县…"""
    if scope.region is None:
        return "全国"
    name = scope.region.name
    if name.endswith("地区"):
        return "全地区"
    last = name[-1]  # 浙江省, 宁波市, 广西壮族自治区, 镇海区, 淳安县, 延边朝鲜族自治州…
    return f"全{last}" if last in "省市区县州盟旗" else name


def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def count(n: int) -> str:
    return f"{n:,}"


def level_text(value: Decimal | None, unit: DisplayUnit) -> str:
    """A level in its display unit; head counts whole (formatting.amount gives one decimal)."""
    if unit.label in ("人", "家"):
        return number(unit.scale(value), ONE)
    return amount(value, unit)


def growth_clause(growth: Decimal | None) -> str:
    return "" if growth is None else f"，同比{trend_word(growth)}"


def change_clause(change: Decimal | None, earlier: str) -> str:
    word = change_word(change)
    if not word:
        return ""
    return f"，增速与{earlier}持平" if word == "持平" else f"，增速较{earlier}{word}"


def contributions(table: figures.Table) -> dict[str, Decimal | None]:
    """Each row's contribution to the table's growth, in percentage points (module docstring);
    None where the scope has no comparable base or the indicator is averaged."""
    base = Decimal(table.total.now.base)
    if table.indicator.averaged or not table.total.now.n_cmp or base == 0:
        return {row.key: None for row in table.rows}
    return {
        row.key: (Decimal(row.now.cmp) - Decimal(row.now.base)) * 100 / abs(base)
        if row.now.n_cmp
        else None
        for row in table.rows
    }


# --- Composing ---------------------------------------------------------------------------------


class _Composer:
    def __init__(self, scope: figures.Scope, period: Period, user: User) -> None:
        self.scope = scope
        self.period = period
        self.user = user
        self.area = area_word(scope)
        self.span = months_label(period)
        self.table_count = 0
        self.chart_count = 0

    def table(
        self,
        caption: str,
        headers: list[str],
        rows: list[list[str]],
        note: str = "",
        label_columns: int = 1,
        has_total: bool = False,
        remark: str = "",
    ) -> DocumentTable:
        self.table_count += 1
        caption = f"表{self.table_count} {caption}"
        return DocumentTable(caption, headers, rows, note, label_columns, has_total, remark)

    def chart_title(self, title: str) -> str:
        self.chart_count += 1
        return f"图{self.chart_count} {title}"

    # 一、总体情况 ------------------------------------------------------------------------------

    def overview(self, tables: dict[str, figures.Table], units: dict[str, DisplayUnit]) -> Section:
        section = Section("总体情况")
        reports = max(t.total.now.reports for t in tables.values())
        text = f"{self.span}，{self.area} {count(reports)} 家重点监测中小企业"
        if REVENUE in tables:
            text += self.indicator_clause(tables[REVENUE], units[REVENUE]) + "。"
        else:
            text += "报送了报表。"
        if PROFIT in tables:
            text += self.indicator_clause(tables[PROFIT], units[PROFIT]) + "。"
        section.paragraphs.append(text)
        rest = [self.indicator_clause(tables[c], units[c]) for c in HEADLINE[2:] if c in tables]
        if rest:
            section.paragraphs.append("；".join(rest) + "。")
        return section

    def indicator_clause(self, table: figures.Table, unit: DisplayUnit) -> str:
        """One indicator as the reports say it: 完成营业收入 1,010.1 亿元，同比增长 6.0%，…"""
        info, now = table.indicator, table.total.now
        if not now.n:
            return f"{info.name}暂无数据"
        prefix = "期末" if info.kind == Indicator.Kind.STOCK else VERBS.get(info.code, "")
        text = f"{prefix}{info.name} {level_text(now.level, unit)} {unit.label}"
        text += growth_clause(now.growth)
        text += change_clause(table.total.growth_change, earlier_label(self.period, info))
        if info.code == REVENUE and now.share_up is not None:
            text += f"；{number(now.share_up)}% 的企业{info.name}增长"
        if info.may_lose:
            loss_unit = display_unit(info.unit, abs(now.losses))
            text += (
                f"；亏损企业 {count(now.n_neg)} 家，亏损面 {number(now.loss_share)}%，"
                f"亏损额 {level_text(abs(now.losses), loss_unit)} {loss_unit.label}"
            )
        return text

    # 二、主要指标 ------------------------------------------------------------------------------

    def indicators(
        self, tables: dict[str, figures.Table], units: dict[str, DisplayUnit]
    ) -> Section:
        section = Section("主要指标")
        reports = max(t.total.now.reports for t in tables.values())
        rows = [["纳入统计企业数", "家", count(reports), DASH, DASH, DASH]]
        for code, table in tables.items():
            info, now, unit = table.indicator, table.total.now, units[code]
            label = info.name
            if info.kind == Indicator.Kind.STOCK:
                label += "（期末值）"
            elif info.averaged:
                label += "（平均值）"
            rows.append(
                [
                    label,
                    unit.label,
                    level_text(now.level, unit),
                    number(now.growth),
                    points(table.total.growth_change),
                    number(now.share_up),
                ]
            )
            if info.may_lose and now.n:
                loss_unit = display_unit(info.unit, abs(now.losses))
                rows += [
                    ["其中：亏损企业", "家", count(now.n_neg), DASH, DASH, DASH],
                    ["亏损面", "%", number(now.loss_share), DASH, DASH, DASH],
                    ["亏损额", loss_unit.label, level_text(abs(now.losses), loss_unit)]
                    + [DASH] * 3,
                ]
        headers = ["指标", "单位", f"本年{self.span}", "同比增长(%)"]
        headers += ["增速较上月变化(百分点)", "增长面(%)"]
        averaged = [t.indicator.name for t in tables.values() if t.indicator.averaged]
        remark = "注：期末值指标为本月末数，其增速为较上年同月末的增长。"
        if averaged:
            remark += f"{'、'.join(averaged)}为企业平均值，其同比增长为增减百分点。"
        section.tables.append(self.table("主要指标", headers, rows, label_columns=2, remark=remark))
        return section

    def trend(self, section: Section, tables: dict[str, figures.Table]) -> None:
        shown = [tables[c].indicator for c in (REVENUE, PROFIT) if c in tables]
        if not shown:
            return
        series = [figures.trend(self.scope, self.period, info, TREND_MONTHS) for info in shown]
        months = [p.period for p in series[0]]
        has_data = [any(s[i].measure.reports for s in series) for i in range(len(months))]
        first = has_data.index(True) if True in has_data else len(months) - 1
        months = months[first:]
        growths = [[p.measure.growth for p in s[first:]] for s in series]
        title = "、".join(i.name for i in shown) + "同比增速走势（1-本月累计）"
        section.charts.append(
            line_chart(
                self.chart_title(title),
                [str(m) for m in months],
                [
                    (info.name, [_chart_value(g) for g in values])
                    for info, values in zip(shown, growths, strict=True)
                ],
            )
        )
        rows = [[str(m), *(number(values[i]) for values in growths)] for i, m in enumerate(months)]
        headers = ["月份", *(f"{i.name}同比增长(%)" for i in shown)]
        section.tables.append(self.table(title, headers, rows))

    # 三、分地区 / 四、分行业 ------------------------------------------------------------

    def breakdown(self, heading: str, noun: str, table: figures.Table) -> Section:
        section = Section(heading)
        info, unit = table.indicator, display_unit(table.indicator.unit, table.total.now.level)
        share = contributions(table)
        rows = [
            [
                row.label,
                count(row.now.reports),
                level_text(row.now.level, unit),
                number(row.now.growth),
                points(row.growth_change),
                number(row.now.share_up),
                points(share[row.key]),
            ]
            for row in table.rows
        ]
        total = table.total
        rows.append(
            [
                "合计",
                count(total.now.reports),
                level_text(total.now.level, unit),
                number(total.now.growth),
                points(total.growth_change),
                number(total.now.share_up),
                points(total.now.growth),
            ]
        )
        section.paragraphs.append(self.ranking(noun, table, share))
        headers = ["企业数", f"本年{self.span}", "同比增长(%)", "增速变化(百分点)", "增长面(%)"]
        section.tables.append(
            self.table(
                f"分{noun}{info.name}",
                [noun, *headers, "拉动增长(百分点)"],
                rows,
                note=f"金额单位：{unit.label}",
                remark=f"注：拉动增长为该{noun}对{self.area}{info.name}增速的贡献，"
                f"各{noun}之和等于合计增速。",
                has_total=True,
            )
        )
        reported = [r for r in table.rows if r.now.reports]
        section.charts.append(
            bar_chart(
                self.chart_title(f"分{noun}{info.name}同比增速"),
                [_short(r.label, table) for r in reported],
                [_chart_value(r.now.growth) for r in reported],
            )
        )
        return section

    def ranking(self, noun: str, table: figures.Table, share: dict[str, Decimal | None]) -> str:
        """The largest rises and falls of growth, each with its pull on the scope's growth, then
        the groups that pulled most either way."""
        name = table.indicator.name
        ranked = [r for r in table.rows if r.now.reports and rounded(r.now.growth) is not None]
        if not ranked:
            return f"分{noun}看，各{noun}{name}暂无可比数据。"
        rises = sorted((r for r in ranked if _growth(r) > 0), key=_growth, reverse=True)
        falls = sorted((r for r in ranked if _growth(r) < 0), key=_growth)

        def named(row: figures.Row) -> str:
            c = rounded(share[row.key])
            if c is None:
                effect = ""
            elif c > 0:
                effect = f"，拉动{self.area}{name}增长 {c} 个百分点"
            elif c < 0:
                effect = f"，拉低{self.area}{name}增速 {-c} 个百分点"
            else:
                effect = f"，对{self.area}{name}增速影响甚微"
            return f"{_short(row.label, table)}（{trend_word(row.now.growth)}{effect}）"

        parts = [
            f"{name}增速居前的是" + "、".join(named(r) for r in rises[:TOP])
            if rises
            else f"没有{name}增长的{noun}",
            "下降较多的是" + "、".join(named(r) for r in falls[:TOP])
            if falls
            else f"没有{name}下降的{noun}",
        ]
        text = f"分{noun}看，" + "；".join(parts) + "。"
        pulls = [(rounded(share[r.key]), r) for r in ranked if rounded(share[r.key]) is not None]
        up = max(pulls, key=lambda p: p[0], default=None)
        down = min(pulls, key=lambda p: p[0], default=None)
        said = []
        if up is not None and up[0] > 0:
            said.append(f"{_short(up[1].label, table)}拉动最大（{up[0]} 个百分点）")
        if down is not None and down[0] < 0:
            said.append(f"{_short(down[1].label, table)}拉低最多（{-down[0]} 个百分点）")
        if said:
            text += "从拉动作用看，" + "，".join(said) + "。"
        return text

    # 五、问卷调查情况 ------------------------------------------------------------

    def questionnaire(self) -> Section:
        section = Section("问卷调查情况")
        questions = figures.questionnaires(self.scope, self.period)
        if not questions:
            section.paragraphs.append("本月未开展问卷调查。")
            return section
        rows: list[list[str]] = []
        for q in questions:
            section.paragraphs.append(self.question_sentence(q))
            for i, option in enumerate(q.options):
                rows.append(
                    [
                        q.question.text if i == 0 else "",
                        option.label,
                        count(option.n),
                        number(option.share),
                        number(option.before),
                        points(option.change),
                    ]
                )
            rows.append(["", "作答企业", count(q.respondents), DASH, DASH, DASH])
        headers = ["问题", "选项", "企业数", "占比(%)", "上月占比(%)", "较上月变化(百分点)"]
        remark = "注：占比以作答企业为分母，多选题各选项占比之和可超过 100%。"
        section.tables.append(
            self.table("问卷调查结果", headers, rows, label_columns=2, remark=remark)
        )
        return section

    def question_sentence(self, q: figures.QuestionFigures) -> str:
        text = q.question.text
        if not q.respondents:
            return f"“{text}”：本月无企业作答。"
        kind = "多选" if q.question.type == Question.Type.MULTIPLE else "单选"
        parts = []
        for option in q.options:
            part = f"{number(option.share)}% 的企业选择“{option.label}”"
            word = change_word(option.change, "上升", "下降")
            if word == "持平":
                part += "，与上月持平"
            elif word:
                part += f"，较上月{word}"
            parts.append(part)
        return f"“{text}”（{kind}，{count(q.respondents)} 家企业作答）：" + "；".join(parts) + "。"

    # 六、填报情况 --------------------------------------------------------------------------------

    def completion(self) -> Section:
        section = Section("填报情况")
        table = completion(self.user, self.period, self.scope.code or None)
        total = table.total
        rows = [] if table.by_enterprise else [_completion_row(r.label, r) for r in table.rows]
        rows.append(_completion_row("合计", total))
        if total.enterprises:
            section.paragraphs.append(
                f"{self.period.year}年{self.period.month}月月报，{self.area}共有监测企业 "
                f"{count(total.enterprises)} 家，截至报告生成时已填报 {count(total.reported)} 家，"
                f"其中审核通过 {count(total.approved)} 家；填报率 {number(total.reporting_rate)}%，"
                f"及时率 {number(total.timeliness_rate)}%。"
            )
        else:
            section.paragraphs.append(f"{self.area}暂无监测企业。")
        headers = ["地区", "企业数", "已填报", "审核通过", "填报率(%)", "及时率(%)"]
        remark = "注：已填报含待审核、审核通过和审核退回；填报率、及时率以企业数为分母。"
        section.tables.append(self.table("填报情况", headers, rows, has_total=True, remark=remark))
        return section


def _completion_row(label: str, row: CompletionRow) -> list[str]:
    return [
        label,
        count(row.enterprises),
        count(row.reported),
        count(row.approved),
        number(row.reporting_rate),
        number(row.timeliness_rate),
    ]


def _growth(row: figures.Row) -> Decimal:
    """The growth as shown (rounded): what is "增长" or "下降" in the text."""
    return rounded(row.now.growth) or Decimal(0)


def _chart_value(value: Decimal | None) -> float | None:
    """The value the table shows (one decimal), so that chart and table agree."""
    shown = rounded(value)
    return None if shown is None else float(shown)


def _short(label: str, table: figures.Table) -> str:
    """A 门类 without its letter in sentences and charts ("C 制造业" → "制造业")."""
    return label.split(" ", 1)[-1] if table.grouping == "section" else label


def compose(
    scope: figures.Scope, period: Period, user: User, progress: Progress | None = None
) -> AnalysisDocument:
    """The analysis report of `period` in `scope`, as `user` sees it (the administrator whose
    scope it is: 填报情况 is counted in the same region, within the user's reach);
    `progress(done, STEPS)` between the parts."""

    def step(done: int) -> None:
        if progress is not None:
            progress(done, STEPS)

    step(0)
    writer = _Composer(scope, period, user)
    today = timezone.localdate()
    document = AnalysisDocument(
        title=f"{scope.name}中小企业生产经营运行监测分析报告（{period.year}年{period.month}月）",
        subtitle=f"统计口径：{scope.counted_label}　生成日期：{chinese_date(today)}",
        scope_name=scope.name,
        period=period,
        generated_on=today,
    )
    tables = {
        info.code: figures.aggregate(scope, period, info, "region")
        for info in figures.indicators_of(period)
    }
    step(1)
    if not tables or not max(t.total.now.reports for t in tables.values()):
        document.empty = True
        document.sections.append(
            Section("总体情况", [f"{period.year}年{period.month}月暂无{scope.counted_label}数据。"])
        )
        document.sections.append(writer.completion())
        _number_headings(document)
        step(STEPS)
        return document
    units = {c: display_unit(t.indicator.unit, t.total.now.level) for c, t in tables.items()}
    document.sections.append(writer.overview(tables, units))
    main = writer.indicators(tables, units)
    writer.trend(main, tables)
    document.sections.append(main)
    step(2)
    revenue = tables.get(REVENUE)
    if revenue is not None and not _is_county(scope):
        document.sections.append(writer.breakdown("分地区情况", "地区", revenue))
    step(3)
    if revenue is not None:
        by_industry = figures.aggregate(scope, period, revenue.indicator, "section")
        document.sections.append(writer.breakdown("分行业情况", "行业", by_industry))
    step(4)
    document.sections.append(writer.questionnaire())
    step(5)
    document.sections.append(writer.completion())
    step(6)
    _number_headings(document)
    step(STEPS)
    return document


def _is_county(scope: figures.Scope) -> bool:
    return scope.region is not None and scope.region.level == Region.Level.COUNTY


def _number_headings(document: AnalysisDocument) -> None:
    for numeral, section in zip(NUMERALS, document.sections, strict=False):
        section.heading = f"{numeral}、{section.heading}"


# --- As a background job -----------------------------------------------------------------------


@register(KIND)
@replica_reads()
def handle_document_job(job: Job) -> str:
    """Params: {"period": "YYYY-MM", "region": code or "", "include_pending": bool}. The scope
    is checked again here: the owner's region may have changed since the job was queued.

    Reads from the read replica when there is one (an analysis may trail the latest approvals by a
    moment); the progress and the result file are writes and still go to the primary."""
    owner = User.objects.get(pk=job.owner_id)
    try:
        period = Period.parse(str(job.params.get("period", "")))
        scope = figures.scope_for(
            owner, job.params.get("region") or None, bool(job.params.get("include_pending"))
        )
    except ValueError as exc:
        raise JobRefused(str(exc)) from None
    except Http404:
        raise JobRefused(OUT_OF_SCOPE) from None
    total = STEPS + 1  # and the Word file
    document = compose(
        scope, period, owner, progress=lambda done, _: job_progress(job, done, total)
    )
    from analytics.word import to_docx

    job.result_file.save(f"analysis-{job.pk}.docx", ContentFile(to_docx(document)), save=False)
    job.result_name = document.file_name
    job.save(update_fields=["result_file", "result_name"])
    job_progress(job, total, total)
    done = f"分析报告已生成：{scope.name}{period.year}年{period.month}月"
    return f"{done}，暂无{scope.counted_label}数据。" if document.empty else f"{done}。"
