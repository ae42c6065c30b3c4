"""The reference tables: industries (GB/T 4754-2017), regions (GB/T 2260), registration types,
the size standard, and the command that loads them."""

from __future__ import annotations

import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from directory.models import Industry, Region, RegistrationType, SizeThreshold
from directory.reference import (
    INDUSTRY_FILE,
    SIZE_STANDARD_FILE,
    LoadResult,
    ReferenceDataError,
    load_all,
    load_industries,
    load_size_standard,
)

pytestmark = pytest.mark.usefixtures("reference_data")


def industry_lines() -> list[str]:
    return INDUSTRY_FILE.read_text(encoding="utf-8").splitlines()


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- Industries --------------------------------------------------------------------------------


def test_it_loads_all_four_levels_of_the_industry_standard() -> None:
    counts = {level: Industry.objects.filter(level=level).count() for level in Industry.Level}
    assert counts == {
        Industry.Level.SECTION: 20,
        Industry.Level.DIVISION: 97,
        Industry.Level.GROUP: 473,
        Industry.Level.CLASS: 1381,
    }
    assert not Industry.objects.filter(is_active=False).exists()


def test_industries_carry_the_names_and_parents_of_the_standard() -> None:
    rice = Industry.objects.get(code="0111")
    assert rice.name == "稻谷种植"
    assert rice.parent_id == "011"
    assert rice.parent.parent.parent_id == "A"  # type: ignore[union-attr]
    aircraft = Industry.objects.get(code="3741")
    assert aircraft.name == "飞机制造"
    assert aircraft.level == Industry.Level.CLASS
    assert aircraft.parent_id == "374"
    assert Industry.objects.get(code="13").parent_id == "C"
    assert Industry.objects.get(code="T").name == "国际组织"


def test_industries_keep_the_order_of_the_standard() -> None:
    first_codes = list(Industry.objects.values_list("code", flat=True)[:4])
    assert first_codes == ["A", "01", "011", "0111"]
    assert Industry.objects.get(code="B").position > Industry.objects.get(code="0519").position


def test_a_second_load_of_the_industries_changes_nothing() -> None:
    assert load_industries() == LoadResult("国民经济行业分类", 0, 0, 0)


def test_a_newer_industry_file_retires_a_missing_code_and_adds_a_new_one(tmp_path: Path) -> None:
    lines = [line for line in industry_lines() if not line.startswith("0119\t")]
    lines.insert(lines.index("0113\t玉米种植") + 1, "0114\t杂粮种植")
    lines[lines.index("0111\t稻谷种植")] = "0111\t水稻种植"

    result = load_industries(write_lines(tmp_path / "gbt4754_2027.tsv", lines))

    # 0114 takes 0119's place in the order, so the rename of 0111 is the only update.
    assert result == LoadResult("国民经济行业分类", created=1, updated=1, retired=1)
    assert Industry.objects.get(code="0111").name == "水稻种植"
    assert Industry.objects.get(code="0114").parent_id == "011"
    assert Industry.objects.get(code="0114").is_active
    assert not Industry.objects.get(code="0119").is_active
    assert (
        Industry.objects.get(code="0114").position == Industry.objects.get(code="0113").position + 1
    )


def test_a_retired_industry_code_becomes_active_when_it_returns(tmp_path: Path) -> None:
    lines = [line for line in industry_lines() if not line.startswith("0119\t")]
    load_industries(write_lines(tmp_path / "without_0119.tsv", lines))

    result = load_industries()

    assert result.retired == 0
    assert Industry.objects.get(code="0119").is_active
    assert Industry.objects.get(code="0119").name == "其他谷物种植"


def test_a_malformed_industry_file_names_the_line_and_writes_nothing(tmp_path: Path) -> None:
    lines = industry_lines()
    lines[lines.index("0111\t稻谷种植")] = "0111\t水稻种植"
    first_data_line = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    lines.insert(first_data_line + 10, "011 9\t其他谷物种植")
    path = write_lines(tmp_path / "broken.tsv", lines)

    with pytest.raises(ReferenceDataError, match=f"第{first_data_line + 11}行") as error:
        load_industries(path)

    assert "行业代码“011 9”无效" in str(error.value)
    assert Industry.objects.get(code="0111").name == "稻谷种植"


@pytest.mark.parametrize(
    ("bad_line", "problem"),
    [
        ("0111 稻谷种植", "应为 2 列"),
        ("0111\t", "缺少名称"),
        ("0112\t小麦种植", "重复"),
        ("0991\t无上级的小类", "上级 099 未在此前出现"),
    ],
)
def test_each_kind_of_malformed_industry_line_is_reported(
    tmp_path: Path, bad_line: str, problem: str
) -> None:
    lines = [
        "# 测试",
        "A\t农、林、牧、渔业",
        "01\t农业",
        "011\t谷物种植",
        "0112\t小麦种植",
        bad_line,
    ]
    with pytest.raises(ReferenceDataError, match=f"第6行：.*{problem}"):
        load_industries(write_lines(tmp_path / "bad.tsv", lines))


def test_a_missing_industry_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match="找不到文件"):
        load_industries(tmp_path / "nowhere.tsv")


# --- Regions -----------------------------------------------------------------------------------


def chain(code: str) -> list[tuple[str, str, int]]:
    region: Region | None = Region.objects.get(code=code)
    links = []
    while region is not None:
        links.append((region.code, region.name, region.level))
        region = region.parent
    return links


def test_it_loads_the_34_provincial_regions() -> None:
    provinces = Region.objects.filter(level=Region.Level.PROVINCE)
    assert provinces.count() == 34
    assert provinces.get(code="710000").name == "台湾省"
    assert provinces.filter(code__in=["810000", "820000"]).count() == 2
    assert not provinces.exclude(parent=None).exists()


def test_counties_sit_under_their_city_and_province() -> None:
    assert chain("330211") == [
        ("330211", "镇海区", 3),
        ("330200", "宁波市", 2),
        ("330000", "浙江省", 1),
    ]
    assert chain("440106")[:2] == [("440106", "天河区", 3), ("440100", "广州市", 2)]


def test_districts_of_a_municipality_sit_under_its_shixiaqu() -> None:
    assert chain("110101") == [
        ("110101", "东城区", 3),
        ("110100", "市辖区", 2),
        ("110000", "北京市", 1),
    ]
    assert chain("500229")[1] == ("500200", "县", 2)


def test_county_level_units_under_a_province_get_the_intermediate_level() -> None:
    assert chain("419001") == [
        ("419001", "济源市", 3),
        ("419000", "省直辖县级行政区划", 2),
        ("410000", "河南省", 1),
    ]


def test_every_region_code_has_six_digits_and_the_prefix_of_its_parent() -> None:
    for code, level, parent in Region.objects.values_list("code", "level", "parent_id"):
        assert len(code) == 6 and code.isdigit()
        if parent is not None:
            assert Region(code=code, level=level).ancestor_codes()[-2] == parent


# --- Registration types and size standard ------------------------------------------------------


def test_registration_types_have_three_levels() -> None:
    assert set(RegistrationType.objects.filter(level=1).values_list("code", flat=True)) == {
        "100",
        "200",
        "300",
    }
    private_llc = RegistrationType.objects.get(code="173")
    assert private_llc.name == "私营有限责任公司"
    assert private_llc.level == 3
    assert private_llc.parent_id == "170"
    assert private_llc.parent.parent_id == "100"  # type: ignore[union-attr]
    assert RegistrationType.objects.get(code="230").name == "港、澳、台商独资经营企业"
    assert RegistrationType.objects.count() == 31


def test_the_size_standard_has_the_30_rows_of_the_2017_rule() -> None:
    assert SizeThreshold.objects.count() == 30
    industry = SizeThreshold.objects.get(industry_group="工业", indicator="Y")
    assert (industry.large_min, industry.medium_min, industry.small_min) == (40000, 2000, 300)
    assert industry.unit == "万元"
    assert industry.industry_codes == "B;C;D"


def test_a_size_standard_file_with_a_bad_number_names_the_line(tmp_path: Path) -> None:
    text = SIZE_STANDARD_FILE.read_text(encoding="utf-8").replace(
        "工业,Y,营业收入,万元,40000,", "工业,Y,营业收入,万元,四万,"
    )
    lines = text.splitlines()
    number = next(i for i, line in enumerate(lines, start=1) if "四万" in line)
    path = write_lines(tmp_path / "size.csv", lines)

    with pytest.raises(ReferenceDataError, match=f"第{number}行：划分下限应为非负整数"):
        load_size_standard(path)


def test_a_second_load_of_everything_creates_nothing_and_is_quick() -> None:
    started = time.perf_counter()
    results = load_all()
    elapsed = time.perf_counter() - started

    assert [(r.created, r.updated, r.retired) for r in results] == [(0, 0, 0)] * 4
    assert elapsed < 2


# --- The command -------------------------------------------------------------------------------


def test_the_command_prints_what_it_loaded() -> None:
    out = StringIO()
    call_command("load_reference_data", stdout=out)
    assert out.getvalue().splitlines() == [
        "行政区划：新增 0，更新 0，停用 0",
        "国民经济行业分类：新增 0，更新 0，停用 0",
        "登记注册类型：新增 0，更新 0，停用 0",
        "企业规模划分标准：新增 0，更新 0，停用 0",
    ]


def test_the_command_is_silent_at_verbosity_zero() -> None:
    out = StringIO()
    call_command("load_reference_data", verbosity=0, stdout=out)
    assert out.getvalue() == ""


def test_the_command_loads_a_newer_industry_file(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "new.tsv", [*industry_lines(), "9600\t新小类"])
    with pytest.raises(CommandError, match="9600 的上级 960 未在此前出现"):
        call_command("load_reference_data", industries=path, verbosity=0)

    path = write_lines(tmp_path / "new.tsv", [*industry_lines(), "960\t新中类", "9600\t新小类"])
    out = StringIO()
    call_command("load_reference_data", "--industries", str(path), stdout=out)

    assert "国民经济行业分类：新增 2，更新 0，停用 0" in out.getvalue()
    assert Industry.objects.get(code="9600").parent.parent_id == "96"  # type: ignore[union-attr]


def test_the_command_fills_empty_tables_quickly() -> None:
    # The session fixture has already loaded; emptying the tables proves a fresh load works too.
    SizeThreshold.objects.all().delete()
    for model in (Industry, Region, RegistrationType):
        for level in (4, 3, 2, 1):
            model.objects.filter(level=level).delete()

    out = StringIO()
    started = time.perf_counter()
    call_command("load_reference_data", stdout=out)
    elapsed = time.perf_counter() - started

    assert elapsed < 3
    assert "国民经济行业分类：新增 1971，更新 0，停用 0" in out.getvalue()
    assert "登记注册类型：新增 31，更新 0，停用 0" in out.getvalue()
    assert "企业规模划分标准：新增 30，更新 0，停用 0" in out.getvalue()
    assert Region.objects.filter(code="330211").exists()


def test_the_command_writes_nothing_when_any_file_is_wrong(tmp_path: Path) -> None:
    industries = write_lines(tmp_path / "new.tsv", [*industry_lines(), "960\t新中类"])
    size_standard = write_lines(
        tmp_path / "size.csv",
        SIZE_STANDARD_FILE.read_text(encoding="utf-8").replace(";591", ";5919").splitlines(),
    )

    with pytest.raises(CommandError, match="行业代码 5919 不在行业分类表中"):
        call_command(
            "load_reference_data",
            industries=industries,
            size_standard=size_standard,
            verbosity=0,
        )

    assert not Industry.objects.filter(code="960").exists()
