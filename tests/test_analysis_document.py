"""The monthly analysis report (analytics.document): its sentences state the figures of its own
tables and of analytics.figures, contributions add up to the growth, a local administrator's
report holds nothing of other regions, an empty month says so, the Word file opens (and renders
Chinese in LibreOffice), the background job saves it or fails with a reason."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from analytics import cube, document, figures
from analytics.document import AnalysisDocument, DocumentTable, compose
from analytics.formatting import number, rounded, trend_word
from analytics.word import to_docx
from directory.models import Enterprise, Region
from jobs.models import Job
from jobs.runner import run
from reports.models import Answer, IndicatorValue, Question, Questionnaire, Report
from reports.periods import Period
from tests.conftest import Personas

PERIOD = Period(2026, 10)
BEFORE = Period(2026, 9)
SUBMITTED = timezone.make_aware(dt.datetime(2026, 11, 5, 10, 0))
HEADINGS = [
    "一、总体情况",
    "二、主要指标",
    "三、分地区情况",
    "四、分行业情况",
    "五、问卷调查情况",
    "六、填报情况",
]

# county, 小类, 营业收入 (本年, 上年 1-10月), 利润总额 (本年, 上年), 流动资金状况
FIRMS = [
    ("330211", "1311", 12000, 10000, 800, 700, "tight"),
    ("330211", "5131", 8000, 8500, -200, 100, "normal"),
    ("330203", "1711", 15000, 14000, 900, 1000, "tight"),
    ("330106", "1311", 20000, 18000, 1500, 1200, "normal"),
    ("330106", "5131", 5000, 5200, 100, 150, "tight"),
    ("440106", "1711", 300000, 250000, 20000, 18000, "normal"),
    ("440106", "1311", 9000, 9500, -500, -300, "tight"),
]


Figures = tuple[Decimal | int | None, Decimal | int | None, Decimal | int | None, Decimal | int]


def values_of(
    month: Period, revenue: tuple[int, int], profit: tuple[int, int]
) -> dict[str, Figures]:
    """本月, 1-本月, 上年本月, 上年1-本月 of a month: September's 1-本月 is 90 % of October's,
    against a base 7 % lower, so its growth differs."""
    scale = Decimal(1) if month == PERIOD else Decimal("0.9")
    last = Decimal(1) if month == PERIOD else Decimal("0.93")
    r, p = revenue, profit
    return {
        "revenue": (None, r[0] * scale, None, r[1] * scale * last),
        "total_profit": (None, p[0] * scale, None, p[1] * scale * last),
        "gross_output": (r[0] // 10, r[0] * scale, r[1] // 10, r[1] * scale),
        "electricity": (r[0] // 3, r[0] * 3 * scale, r[1] // 3, r[1] * 3 * last),
        "employees": (None, Decimal(r[0] // 100), None, Decimal(r[1] // 100)),
    }


def build() -> None:
    survey = Questionnaire.objects.create(title="企业经营状况调查", periods=f"{BEFORE},{PERIOD}")
    question = Question.objects.create(
        questionnaire=survey,
        position=1,
        text="流动资金状况",
        type=Question.Type.SINGLE,
        options=[{"value": "tight", "label": "紧张"}, {"value": "normal", "label": "正常"}],
    )
    for n, (county, industry, *money, answer) in enumerate(FIRMS):
        enterprise = Enterprise.objects.create(
            name=f"监测企业{n}",
            code_type=Enterprise.CodeType.ORGANIZATION,
            code=f"D{n:08d}",
            region=Region.objects.get(code=county),
            industry_id=industry,
            contact_person="张三",
            contact_phone="0574-86601234",
        )
        for month in (BEFORE, PERIOD):
            report = Report.objects.create(
                enterprise=enterprise,
                period=str(month),
                status=Report.Status.APPROVED,
                submitted_at=SUBMITTED,
                basic_info={"region": county, "industry": industry},
            )
            for code, figures_ in values_of(month, money[0:2], money[2:4]).items():
                IndicatorValue.objects.create(
                    report=report,
                    code=code,
                    current=figures_[0],
                    ytd=figures_[1],
                    last_year_current=figures_[2],
                    last_year_ytd=figures_[3],
                )
            # September: everyone but the first says "normal".
            said = answer if month == PERIOD or n == 0 else "normal"
            Answer.objects.create(report=report, question=question, value=said)
    # An enterprise of 镇海 that has not reported (nor has the persona's): 填报率 below 100 %.
    Enterprise.objects.create(
        name="未报企业",
        code_type=Enterprise.CodeType.ORGANIZATION,
        code="D99999999",
        region=Region.objects.get(code="330211"),
        contact_person="李四",
        contact_phone="0574-86601234",
    )
    cube.rebuild([str(BEFORE), str(PERIOD)])


@pytest.fixture
def data(personas: Personas) -> None:
    build()


def texts(doc: AnalysisDocument) -> list[str]:
    """Everything a reader sees: title, headings, sentences, captions, notes, cells."""
    found = [doc.title, doc.subtitle]
    for section in doc.sections:
        found += [section.heading, *section.paragraphs]
        for table in section.tables:
            found += [table.caption, table.note, *table.headers]
            found += [cell for row in table.rows for cell in row]
        found += [chart.title for chart in section.charts]
    return found


def table(doc: AnalysisDocument, caption: str) -> DocumentTable:
    return next(t for t in doc.tables if t.caption.split(" ", 1)[1] == caption)


def row(t: DocumentTable, label: str) -> list[str]:
    return next(r for r in t.rows if r[0] == label)


DATES = re.compile(r"\d{4}年|\d+-\d+月|\d+月|\d+日")
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def numbers_in(sentence: str) -> list[str]:
    return NUMBER.findall(DATES.sub("", sentence))


def assert_traceable(doc: AnalysisDocument) -> None:
    cells = {cell.lstrip("+-") for t in doc.tables for r in t.rows for cell in r}
    for section in doc.sections:
        for sentence in section.paragraphs:
            for figure in numbers_in(sentence):
                assert figure in cells, (figure, sentence)


def revenue_info() -> figures.IndicatorInfo:
    return figures.indicator_info(PERIOD, "revenue")


# --- What the document says ----------------------------------------------------------------------


def test_the_national_report_states_the_figures_of_its_tables(
    personas: Personas, data: None
) -> None:
    scope = figures.scope_for(personas.senior_admin, None)
    doc = compose(scope, PERIOD, personas.senior_admin)

    assert doc.title == "全国中小企业生产经营运行监测分析报告（2026年10月）"
    assert "审核通过的报表" in doc.subtitle
    assert [s.heading for s in doc.sections] == HEADINGS
    assert not doc.empty
    total = figures.aggregate(scope, PERIOD, revenue_info()).total
    overview = doc.sections[0].paragraphs[0]
    assert overview.startswith(f"1-10月，全国 {total.now.reports} 家重点监测中小企业完成营业收入")
    growth = rounded(total.now.growth)
    assert growth is not None and f"同比{trend_word(total.now.growth)}" in overview
    assert "增速较1-9月" in overview
    main = row(table(doc, "主要指标"), "营业收入")
    assert main[3] == str(growth) == number(total.now.growth)
    assert row(table(doc, "主要指标"), "纳入统计企业数")[2] == "7"
    assert "亏损企业 2 家" in overview
    assert row(table(doc, "主要指标"), "其中：亏损企业")[2] == "2"
    assert_traceable(doc)


def test_every_number_of_a_sentence_is_in_a_table_for_every_scope(
    personas: Personas, data: None
) -> None:
    for user, region in (
        (personas.senior_admin, None),
        (personas.zhejiang_admin, None),
        (personas.ningbo_admin, None),
        (personas.ningbo_admin, "330211"),
        (personas.guangdong_admin, None),
    ):
        doc = compose(figures.scope_for(user, region), PERIOD, user)
        assert_traceable(doc)


def test_the_contributions_of_regions_and_industries_add_up_to_the_growth(
    personas: Personas, data: None
) -> None:
    admin = personas.zhejiang_admin
    scope = figures.scope_for(admin, None)
    doc = compose(scope, PERIOD, admin)
    assert doc.title == "浙江省中小企业生产经营运行监测分析报告（2026年10月）"
    for grouping, caption in (("region", "分地区营业收入"), ("section", "分行业营业收入")):
        figures_table = figures.aggregate(scope, PERIOD, revenue_info(), grouping)
        exact = document.contributions(figures_table)
        total = figures_table.total.now.growth
        assert total is not None
        assert abs(sum(c for c in exact.values() if c is not None) - total) < Decimal("1e-20")
        shown = table(doc, caption)
        body, last = shown.rows[:-1], shown.rows[-1]
        assert last[0] == "合计" and last[-1].lstrip("+") == number(total)
        summed = sum(Decimal(r[-1]) for r in body if r[-1] != "—")
        assert abs(summed - Decimal(number(total))) <= Decimal("0.05") * len(body)
    regions = doc.sections[2]
    assert "宁波市" in regions.paragraphs[0] and "拉动全省营业收入增长" in regions.paragraphs[0]
    ningbo = row(table(doc, "分地区营业收入"), "宁波市")
    assert ningbo[1] == "3"
    assert (
        f"宁波市（增长 {ningbo[3]}%，拉动全省营业收入增长 {ningbo[6].lstrip('+')} 个百分点）"
        in (regions.paragraphs[0])
    )
    assert row(table(doc, "分地区营业收入"), "温州市")[1] == "0"  # every city has its row
    assert len(regions.charts) == 1 and len(doc.sections[3].charts) == 1


def test_ningbo_reads_nothing_of_guangdong_or_hangzhou(personas: Personas, data: None) -> None:
    admin = personas.ningbo_admin
    doc = compose(figures.scope_for(admin, None), PERIOD, admin)
    assert doc.title.startswith("宁波市")
    seen = "\n".join(texts(doc))
    for elsewhere in ("广东", "广州", "天河", "杭州", "西湖"):
        assert elsewhere not in seen
    assert row(table(doc, "主要指标"), "纳入统计企业数")[2] == "3"
    assert doc.sections[0].paragraphs[0].startswith("1-10月，全市 3 家")
    # 35,000 千元 (12,000 + 8,000 + 15,000) is 3,500.0 万元.
    assert row(table(doc, "主要指标"), "营业收入")[1:3] == ["万元", "3,500.0"]
    completion = table(doc, "填报情况")
    # 宁波: the 3 reporting firms, the one that has not reported and the persona's enterprise.
    assert row(completion, "合计")[1:3] == ["5", "3"]
    assert "已填报 3 家" in doc.sections[-1].paragraphs[0]


def test_a_county_report_has_no_regional_breakdown(personas: Personas, data: None) -> None:
    admin = personas.ningbo_admin
    doc = compose(figures.scope_for(admin, "330211"), PERIOD, admin)
    assert [s.heading[2:] for s in doc.sections] == [
        "总体情况",
        "主要指标",
        "分行业情况",
        "问卷调查情况",
        "填报情况",
    ]
    assert doc.sections[0].paragraphs[0].startswith("1-10月，全区 2 家")
    assert table(doc, "填报情况").rows == [["合计", "4", "2", "2", "50.0", "50.0"]]


def test_the_questionnaire_states_shares_and_their_change(personas: Personas, data: None) -> None:
    admin = personas.senior_admin
    doc = compose(figures.scope_for(admin, None), PERIOD, admin)
    survey = doc.sections[4]
    # October: 4 of 7 say 紧张; September: 1 of 7.
    assert survey.paragraphs == [
        "“流动资金状况”（单选，7 家企业作答）：57.1% 的企业选择“紧张”，较上月上升 42.9 个百分点；"
        "42.9% 的企业选择“正常”，较上月下降 42.9 个百分点。"
    ]
    assert table(doc, "问卷调查结果").rows == [
        ["流动资金状况", "紧张", "4", "57.1", "14.3", "+42.9"],
        ["", "正常", "3", "42.9", "85.7", "-42.9"],
        ["", "作答企业", "7", "—", "—", "—"],
    ]


def test_a_month_without_counted_reports_says_so(personas: Personas, data: None) -> None:
    calls: list[tuple[int, int]] = []
    admin = personas.zhejiang_admin
    scope = figures.scope_for(admin, None)
    doc = compose(scope, Period(2026, 11), admin, lambda d, t: calls.append((d, t)))
    assert doc.empty
    assert doc.sections[0].paragraphs == ["2026年11月暂无审核通过的报表数据。"]
    assert [s.heading for s in doc.sections] == ["一、总体情况", "二、填报情况"]
    assert calls[-1][0] == calls[-1][1]
    assert to_docx(doc)[:2] == b"PK"


def test_pending_reports_count_when_asked(personas: Personas, data: None) -> None:
    report = Report.objects.filter(period=str(PERIOD)).first()
    assert report is not None
    report.status = Report.Status.PENDING
    report.save(update_fields=["status"])
    cube.rebuild([str(PERIOD)])
    admin = personas.senior_admin
    approved = compose(figures.scope_for(admin, None), PERIOD, admin)
    early = compose(figures.scope_for(admin, None, include_pending=True), PERIOD, admin)
    assert row(table(approved, "主要指标"), "纳入统计企业数")[2] == "6"
    assert row(table(early, "主要指标"), "纳入统计企业数")[2] == "7"
    assert "审核通过和待审核的报表" in early.subtitle


def test_progress_goes_up_to_its_total(personas: Personas, data: None) -> None:
    calls: list[tuple[int, int]] = []
    admin = personas.zhejiang_admin
    compose(figures.scope_for(admin, None), PERIOD, admin, lambda d, t: calls.append((d, t)))
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[0] == 0 and 6 <= len(calls) <= 9
    assert {t for _, t in calls} == {done[-1]}


def test_months_are_named_as_the_reports_name_them() -> None:
    info = figures.IndicatorInfo("revenue", "营业收入", "千元", "ytd")
    stock = figures.IndicatorInfo("employees", "从业人员", "人", "stock")
    assert document.months_label(Period(2026, 1)) == "1月"
    assert document.months_label(Period(2026, 10)) == "1-10月"
    assert document.earlier_label(Period(2026, 2), info) == "1月"
    assert document.earlier_label(Period(2026, 1), info) == "上年全年"
    assert document.earlier_label(Period(2026, 10), stock) == "上月末"


# --- The page fragment and the Word file ---------------------------------------------------------


@pytest.fixture
def zhejiang_document(personas: Personas, data: None) -> AnalysisDocument:
    admin = personas.zhejiang_admin
    return compose(figures.scope_for(admin, None), PERIOD, admin)


def test_the_fragment_shows_sections_tables_and_inline_charts(
    zhejiang_document: AnalysisDocument,
) -> None:
    html = render_to_string("analytics/_document.html", {"document": zhejiang_document})
    assert zhejiang_document.title in html
    for heading in HEADINGS:
        assert heading in html
    assert html.count("<svg") == 3  # the trend, by region, by industry
    assert html.count("<table") == len(zhejiang_document.tables)
    assert '<tr class="total">' in html
    assert "<?xml" not in html


def test_the_word_file_has_headings_tables_and_pictures(
    zhejiang_document: AnalysisDocument,
) -> None:
    word = docx.Document(io.BytesIO(to_docx(zhejiang_document)))
    # The title breaks its line before the month.
    paragraphs = [(p.style.name, p.text.replace("\n", "")) for p in word.paragraphs]
    assert ("Title", zhejiang_document.title) in paragraphs
    assert [t for s, t in paragraphs if s == "Heading 1"] == HEADINGS
    assert len(word.tables) == len(zhejiang_document.tables)
    assert word.tables[0].style.name == "Table Grid"
    assert word.tables[0].rows[0].cells[0].text == "指标"
    assert len(word.inline_shapes) == 3
    section = word.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    fonts = word.styles["Normal"].element.rPr.rFonts
    assert fonts.get(docx.oxml.ns.qn("w:eastAsia")).startswith("Noto Serif CJK")
    assert "PAGE" in section.footer.paragraphs[0]._p.xml


def soffice_or_skip() -> str:
    soffice = shutil.which("soffice")
    if soffice is None:
        if os.environ.get("REQUIRE_LIBREOFFICE") == "true":
            pytest.fail("REQUIRE_LIBREOFFICE=true 但找不到 soffice（libreoffice-writer-nogui）")
        pytest.skip("LibreOffice (soffice) is not installed")
    return soffice


@pytest.fixture
def libreoffice(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    # A profile of its own: parallel runs would otherwise fight over the user's profile lock.
    profile = Path("/tmp") / f"lo-profile-{uuid.uuid4().hex}"
    yield soffice_or_skip(), profile
    shutil.rmtree(profile, ignore_errors=True)


def convert(libreoffice: tuple[str, Path], source: Path, target: str, out: Path) -> None:
    soffice, profile = libreoffice
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            target,
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_libreoffice_renders_the_word_file_in_chinese(
    zhejiang_document: AnalysisDocument, libreoffice: tuple[str, Path], tmp_path: Path
) -> None:
    source = tmp_path / "report.docx"
    source.write_bytes(to_docx(zhejiang_document))
    convert(libreoffice, source, "pdf", tmp_path)
    pdf = tmp_path / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    # The CJK faces are embedded: the Chinese text was not drawn in a fallback without glyphs.
    assert b"NotoSerifCJK" in pdf.read_bytes() and b"NotoSansCJK" in pdf.read_bytes()
    pdftotext = shutil.which("pdftotext")
    if pdftotext is not None:
        done = subprocess.run(
            [pdftotext, str(pdf), "-"], check=True, capture_output=True, timeout=60
        )
        text = done.stdout.decode()
    else:
        convert(libreoffice, source, "txt:Text (encoded):UTF8", tmp_path)
        text = (tmp_path / "report.txt").read_text(encoding="utf-8-sig")
    seen = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", zhejiang_document.title) in seen
    assert "一、总体情况" in seen
    assert re.sub(r"\s+", "", zhejiang_document.sections[0].paragraphs[0]) in seen


# --- The background job --------------------------------------------------------------------------


def test_the_job_saves_the_word_file(personas: Personas, data: None) -> None:
    job = Job.objects.create(
        kind=document.KIND,
        title="运行监测分析报告",
        owner=personas.zhejiang_admin,
        params={"period": "2026-10", "region": "", "include_pending": False},
    )
    run(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.message
    assert job.message == "分析报告已生成：浙江省2026年10月。"
    assert job.result_name == "运行监测分析报告-浙江省-2026-10.docx"
    assert job.done == job.total > 0
    with job.result_file.open("rb") as saved:
        word = docx.Document(saved)
    assert word.paragraphs[0].text == "浙江省中小企业生产经营运行监测分析报告\n（2026年10月）"


def test_a_job_for_a_region_outside_the_owner_s_scope_fails_with_the_reason(
    personas: Personas, data: None
) -> None:
    job = Job.objects.create(
        kind=document.KIND,
        title="运行监测分析报告",
        owner=personas.zhejiang_admin,
        params={"period": "2026-10", "region": "440000", "include_pending": False},
    )
    run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.message) == (Job.Status.FAILED, document.OUT_OF_SCOPE)
    assert not job.result_file and job.finished_at is not None
