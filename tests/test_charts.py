"""The analytics charts: Chinese really drawn (not boxes) in the PNG of the analysis report, and
an SVG that is safe and self-contained inside an HTML page. No database needed."""

from __future__ import annotations

import io
import logging
import re
import shutil
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import matplotlib as mpl
import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from PIL import Image

from analytics import charts

TITLE = "中小企业营业收入同比增长"
MONTHS = [f"2024年{m}月" for m in range(1, 13)] + [f"2025年{m}月" for m in range(1, 13)]
GROWTH = [3.5, 4.1, None, 2.2, -1.8, 0.4, 5.6, 6.1, None, None, 7.3, -0.6] * 2
PROFIT = [-2.0, 1.0, 2.5, 3.0, 1.1, -4.2, 0.0, 2.2, 3.3, 1.4, 0.7, 2.9] * 2
PROVINCES = ["浙江省", "广东省", "江苏省", "山东省", "河南省"]
PROVINCE_GROWTH: list[float | None] = [6.24, -3.05, None, 12.0, -0.04]
SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def growth_line() -> charts.Chart:
    return charts.line_chart(TITLE, MONTHS, [("营业收入", GROWTH), ("利润总额", PROFIT)])


def province_bars(title: str = TITLE) -> charts.Chart:
    return charts.bar_chart(title, PROVINCES, PROVINCE_GROWTH)


def pixels(png: bytes) -> bytes:
    with Image.open(io.BytesIO(png)) as image:
        return image.convert("RGB").tobytes()


def font_complaints(render: Callable[[], object], caplog: pytest.LogCaptureFixture) -> list[str]:
    """Whatever matplotlib says about glyphs while rendering, be it a warning or a log line."""
    caplog.clear()
    with (
        caplog.at_level(logging.DEBUG, logger="matplotlib"),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        render()
    said = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    return [s for s in said if "missing from font" in s or "Glyph" in s]


def svg_root(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def ids(root: ET.Element) -> set[str]:
    return {e.attrib["id"] for e in root.iter() if "id" in e.attrib}


def references(root: ET.Element) -> set[str]:
    found: set[str] = set()
    for element in root.iter():
        for name, value in element.attrib.items():
            if name == XLINK_HREF and value.startswith("#"):
                found.add(value[1:])
            found.update(re.findall(r"url\(#([^)]+)\)", value))
    return found


@pytest.fixture
def fresh_font_lookup() -> Iterator[None]:
    charts.cjk_font.cache_clear()
    yield
    charts.cjk_font.cache_clear()


# -- the font ---------------------------------------------------------------------------------


def test_the_font_found_has_every_character_of_the_charts() -> None:
    font = charts.cjk_font()
    face = FT2Font(font.path, face_index=font.face_index)
    used = "".join([TITLE, *MONTHS, "营业收入", "利润总额", *PROVINCES, "暂无数据", "单位：%", "—"])

    missing = [ch for ch in set(used) if not ch.isspace() and face.get_char_index(ord(ch)) == 0]

    assert missing == []
    assert charts.cjk_font_path() == font.path


def test_it_picks_the_simplified_chinese_face_of_the_noto_collection() -> None:
    noto = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
    if not any(e.fname == noto for e in font_manager.fontManager.ttflist):
        pytest.skip("fonts-noto-cjk is not installed here")

    font = charts.cjk_font()

    # Face 0 of the collection is the Japanese one; SC draws 业 and 营 the mainland way.
    assert (font.path, font.family) == (noto, "Noto Sans CJK SC")
    assert FT2Font(noto, face_index=font.face_index).family_name == "Noto Sans CJK SC"


def test_it_registers_a_font_installed_after_matplotlib_built_its_cache(
    fresh_font_lookup: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("fc-match") is None:
        pytest.skip("fontconfig is not installed here")
    without_cjk = [
        e for e in font_manager.fontManager.ttflist if "CJK" not in e.name and "Hei" not in e.name
    ]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", without_cjk)

    font = charts.cjk_font()

    assert font.family in {e.name for e in font_manager.fontManager.ttflist}


def test_it_refuses_to_draw_without_a_chinese_font(
    fresh_font_lookup: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(charts, "_font_candidates", lambda: iter(()))

    with pytest.raises(charts.ChartFontMissing) as raised:
        province_bars().png()

    assert str(raised.value) == (
        "未找到可显示中文的字体，请安装 fonts-noto-cjk（apt-get install fonts-noto-cjk）。"
    )


def test_it_refuses_a_candidate_that_lacks_the_chinese_glyphs(
    fresh_font_lookup: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    dejavu = font_manager.findfont("DejaVu Sans", fallback_to_default=False)
    monkeypatch.setattr(charts, "_font_candidates", lambda: iter([(dejavu, 0)]))

    with pytest.raises(charts.ChartFontMissing, match="fonts-noto-cjk"):
        charts.cjk_font_path()


# -- PNG --------------------------------------------------------------------------------------


def test_the_png_draws_chinese_without_missing_glyphs(caplog: pytest.LogCaptureFixture) -> None:
    rendered: dict[str, bytes] = {}

    def render() -> None:
        rendered["line"] = growth_line().png()
        rendered["bars"] = province_bars().png(dpi=100)

    assert font_complaints(render, caplog) == []
    with Image.open(io.BytesIO(rendered["line"])) as image:
        assert image.format == "PNG"
        assert image.width == pytest.approx(16 / 2.54 * 150, abs=1)  # 16 cm at 150 dpi
        assert 300 < image.height < image.width
    with Image.open(io.BytesIO(rendered["bars"])) as image:
        assert image.width == pytest.approx(16 / 2.54 * 100, abs=1)


def test_the_missing_glyph_check_does_hear_matplotlib_complain(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # DejaVu Sans has no Chinese: this is what the test above would see without a CJK font.
    monkeypatch.setattr(charts, "cjk_font_family", lambda: "DejaVu Sans")

    assert font_complaints(lambda: province_bars().png(dpi=50), caplog) != []


def test_chinese_titles_come_out_as_glyphs_not_boxes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Same length, different characters: boxes would make the two images identical.
    with_cjk = [pixels(province_bars(title).png(dpi=60)) for title in ("中小企业", "营业收入")]
    monkeypatch.setattr(charts, "cjk_font_family", lambda: "DejaVu Sans")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        boxes = [pixels(province_bars(title).png(dpi=60)) for title in ("中小企业", "营业收入")]

    assert boxes[0] == boxes[1]  # the comparison does detect boxes
    assert with_cjk[0] != with_cjk[1]
    assert with_cjk[0] != boxes[0]


# -- SVG --------------------------------------------------------------------------------------


def test_the_svg_is_an_element_for_the_page_with_the_chinese_as_text() -> None:
    svg = growth_line().svg()
    root = svg_root(svg)

    assert svg.startswith("<svg")
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg
    assert root.tag == f"{SVG}svg"
    assert TITLE in texts(root)
    assert "营业收入" in texts(root) and "2024年1月" in texts(root)
    assert root.get("role") == "img" and root.get("aria-label") == TITLE


def test_the_svg_names_fonts_a_browser_has_and_no_page_wide_style() -> None:
    root = svg_root(province_bars().svg())
    fonts = [t.get("font-family", "") for t in root.iter(f"{SVG}text")]

    assert fonts
    assert all("'Noto Sans CJK SC'" in f and "'Microsoft YaHei'" in f for f in fonts)
    assert all(f.endswith("sans-serif") for f in fonts)
    assert not list(root.iter(f"{SVG}style"))  # matplotlib's `*{...}` rule would leak


@pytest.mark.parametrize("chart", [growth_line, province_bars], ids=["line", "bars"])
def test_the_svg_has_no_style_attribute_but_the_same_looks_as_attributes(
    chart: Callable[[], charts.Chart],
) -> None:
    """The Content-Security-Policy (style-src 'self') has browsers ignore every style=""."""
    root = svg_root(chart().svg())

    assert [e.tag for e in root.iter() if "style" in e.attrib] == []
    colours = {e.get(name) for e in root.iter() for name in ("fill", "stroke")}
    assert charts.PALETTE[0] in colours  # the first line, or the positive bars
    titles = [t for t in root.iter(f"{SVG}text") if "".join(t.itertext()) == TITLE]
    assert titles and titles[0].get("font-weight") == "700"
    assert titles[0].get("font-size") == "11px"


def test_the_svg_escapes_markup_from_the_data() -> None:
    hostile = "<script>alert(1)</script>"
    chart = charts.bar_chart(f"{hostile} & 标题", [hostile, "研发 & 创新"], [1.0, -2.0])

    svg = chart.svg()
    root = svg_root(svg)

    assert "<script" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "研发 &amp; 创新" in svg
    assert not [e for e in root.iter() if e.tag.rsplit("}", 1)[-1].lower() == "script"]
    assert hostile in texts(root) and "研发 & 创新" in texts(root)
    assert root.get("aria-label") == f"{hostile} & 标题"


def test_two_charts_on_one_page_share_no_id_and_every_reference_resolves() -> None:
    first, second = svg_root(growth_line().svg()), svg_root(growth_line().svg())
    bars = svg_root(province_bars().svg())

    assert ids(first) and ids(bars)
    assert ids(first).isdisjoint(ids(second))
    assert ids(first).isdisjoint(ids(bars))
    for root in (first, second, bars):
        assert references(root)  # clip paths and markers are referenced
        assert references(root) <= ids(root)


# -- odd data ---------------------------------------------------------------------------------


def test_gaps_and_an_all_empty_series_are_drawn() -> None:
    chart = charts.line_chart(TITLE, MONTHS, [("营业收入", GROWTH), ("利润总额", [None] * 24)])

    root = svg_root(chart.svg())

    assert "营业收入" in texts(root) and "暂无数据" not in texts(root)
    assert pixels(chart.png(dpi=40))


def test_a_missing_bar_is_written_as_a_dash_with_one_decimal_for_the_others() -> None:
    shown = texts(svg_root(province_bars().svg()))

    assert "—" in shown
    assert {"6.2", "-3.0", "12.0", "0.0"} <= set(shown)


@pytest.mark.parametrize(
    "chart",
    [
        charts.line_chart(TITLE, [], []),
        charts.line_chart(TITLE, ["2025年1月"], [("营业收入", [None])]),
        charts.bar_chart(TITLE, [], []),
        charts.bar_chart(TITLE, PROVINCES, [None] * 5, horizontal=False),
    ],
    ids=["no months", "no values", "no bars", "no bar values"],
)
def test_a_chart_without_data_says_so(chart: charts.Chart) -> None:
    assert "暂无数据" in texts(svg_root(chart.svg()))
    assert pixels(chart.png(dpi=40))


def test_values_not_matching_the_labels_are_a_programming_error() -> None:
    with pytest.raises(ValueError):
        charts.bar_chart(TITLE, PROVINCES, [1.0])
    with pytest.raises(ValueError):
        charts.line_chart(TITLE, MONTHS, [("营业收入", [1.0])])


# -- workers ----------------------------------------------------------------------------------


def test_rendering_leaves_matplotlib_settings_as_they_were() -> None:
    before = {key: mpl.rcParams[key] for key in ("svg.fonttype", "svg.hashsalt", "font.family")}

    province_bars().svg()
    province_bars().png(dpi=40)

    assert {key: mpl.rcParams[key] for key in before} == before


def test_charts_render_side_by_side_in_threads() -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        svgs = list(pool.map(lambda _: province_bars().svg(), range(4)))

    roots = [svg_root(svg) for svg in svgs]
    assert all(TITLE in texts(root) for root in roots)
    assert len(set().union(*(ids(root) for root in roots))) == sum(len(ids(r)) for r in roots)


def test_dollar_signs_in_labels_are_text_not_tex() -> None:
    chart = charts.bar_chart("收入 $ 增长", ["A$B", "$x$"], [1.0, -2.0])
    assert chart.png()[:4] == b"\x89PNG"
    assert "A$B" in chart.svg() and "$x$" in chart.svg()
    line = charts.line_chart("$", ["2026-01"], [("a$", [1.0])], unit="$")
    assert line.png()[:4] == b"\x89PNG"
