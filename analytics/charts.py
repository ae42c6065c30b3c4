"""The charts of the analytics pages and of the monthly analysis report (运行监测分析报告).

Rendered on the server with matplotlib so that neither the pages nor the Word document need
JavaScript or a CDN: the pages embed the SVG inline, the report embeds the PNG. The inline SVG
carries no style at all (matplotlib's are turned into presentation attributes), since the
Content-Security-Policy (style-src 'self', sme.settings) has browsers ignore inline styles. Only the
object-oriented API is used (a `Figure` per chart, never pyplot), so a web worker thread and a
Celery worker can render side by side. The few settings that matplotlib reads from its global
rcParams at save time (SVG text mode, id salt) are set in an `rc_context` held under a lock, so
one chart's settings never leak into another's.

Chinese text needs a CJK font (fonts-noto-cjk on our servers and in CI); without one matplotlib
would silently draw empty boxes, so `cjk_font` refuses to go on instead.
"""

from __future__ import annotations

import functools
import io
import math
import os
import re
import shutil
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

import matplotlib as mpl
from lxml import etree
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font

# In order of preference: the first that is installed and really has the glyphs wins.
CANDIDATE_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
)
# Characters a usable font must have; a Japanese- or Korean-only font fails on 业 or 营.
PROBE_TEXT = "中小企业营业收入同比增长暂无数据单位：—"
FONT_MISSING_MESSAGE = (
    "未找到可显示中文的字体，请安装 fonts-noto-cjk（apt-get install fonts-noto-cjk）。"
)
# What browsers get in the inline SVG: the page is read on Windows, macOS and Linux alike.
BROWSER_FONT_FAMILY = (
    "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'PingFang SC', "
    "'Hiragino Sans GB', 'WenQuanYi Micro Hei', sans-serif"
)
EMPTY_TEXT = "暂无数据"
MISSING_VALUE_TEXT = "—"

WIDTH_CM = 16.0  # the text width of an A4 page with ordinary margins
LINE_HEIGHT_CM = 8.5
BAR_HEIGHT_CM = 9.0
CM = 1 / 2.54
PALETTE = ("#2f6fb0", "#e07b39", "#3a9a5b", "#8e5ea2", "#c9a227", "#5b6770")
POSITIVE_COLOUR = "#2f6fb0"
NEGATIVE_COLOUR = "#e07b39"
GRID_COLOUR = "#dddddd"
MAX_X_LABELS = 12

_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_URL_REF = re.compile(r"url\(#([^)]+)\)")
# SVG's presentation attributes: the CSS properties that an SVG element also takes as attributes
# of its own. The Content-Security-Policy forbids inline styles, and a browser honouring it
# ignores every style="" of the page, inline SVG included, but not these attributes: matplotlib's
# style="" declarations are rewritten as them. matplotlib writes no other property; one that is
# not here is dropped, as the browser would ignore it anyway.
_PRESENTATION_ATTRIBUTES = frozenset(
    {
        "alignment-baseline", "baseline-shift", "clip", "clip-path", "clip-rule", "color",
        "color-interpolation", "color-interpolation-filters", "color-rendering", "cursor",
        "direction", "display", "dominant-baseline", "fill", "fill-opacity", "fill-rule",
        "filter", "flood-color", "flood-opacity", "font-family", "font-size", "font-size-adjust",
        "font-stretch", "font-style", "font-variant", "font-weight", "image-rendering",
        "letter-spacing", "lighting-color", "marker-end", "marker-mid", "marker-start", "mask",
        "opacity", "overflow", "pointer-events", "shape-rendering", "stop-color", "stop-opacity",
        "stroke", "stroke-dasharray", "stroke-dashoffset", "stroke-linecap", "stroke-linejoin",
        "stroke-miterlimit", "stroke-opacity", "stroke-width", "text-anchor", "text-decoration",
        "text-rendering", "unicode-bidi", "visibility", "word-spacing", "writing-mode",
    }
)  # fmt: skip
# Rendering changes matplotlib's global rcParams for its duration: one chart at a time.
_LOCK = threading.RLock()


class ChartFontMissing(RuntimeError):
    """No installed font can display Simplified Chinese."""


@dataclass(frozen=True)
class CjkFont:
    path: str
    face_index: int  # the face within a .ttc collection (Noto Sans CJK SC is face 2)
    family: str


@functools.cache
def cjk_font() -> CjkFont:
    """The first candidate font that has every glyph of `PROBE_TEXT`, registered with
    matplotlib's font manager (its cache may predate the font's installation)."""
    with _LOCK:
        for path, index in _font_candidates():
            if _covers(path, index, PROBE_TEXT):
                return CjkFont(path=path, face_index=index, family=_register(path, index))
    raise ChartFontMissing(FONT_MISSING_MESSAGE)


def cjk_font_path() -> str:
    return cjk_font().path


def cjk_font_family() -> str:
    return cjk_font().family


def _font_candidates() -> Iterator[tuple[str, int]]:
    """(path, face index) pairs in order of preference, each at most once."""
    seen: set[tuple[str, int]] = set()
    for family in CANDIDATE_FAMILIES:
        for path, index in [*_matplotlib_faces(family), *_fontconfig_faces(family)]:
            key = (os.path.realpath(path), index)
            if key not in seen:
                seen.add(key)
                yield path, index


def _family_matches(name: str, family: str) -> bool:
    # "Noto Sans CJK" stands for any of its regional faces; the others are exact names.
    if family == "Noto Sans CJK":
        return name.startswith("Noto Sans CJK ")
    return name == family


def _matplotlib_faces(family: str) -> list[tuple[str, int]]:
    entries = [e for e in font_manager.fontManager.ttflist if _family_matches(e.name, family)]
    entries.sort(
        key=lambda e: (
            not e.name.endswith(" SC"),
            e.style != "normal",
            abs(_weight(e.weight) - 400),
        )
    )
    return [(e.fname, e.index) for e in entries]


def _weight(weight: int | str) -> int:
    return weight if isinstance(weight, int) else font_manager.weight_dict.get(weight, 400)


def _fontconfig_faces(family: str) -> list[tuple[str, int]]:
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return []
    try:
        done = subprocess.run(
            [fc_match, "--format=%{file}\t%{index}\t%{family}", f"{family}:lang=zh-cn"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        path, index, names = done.stdout.split("\t", 2)
        face_index = int(index)
    except (OSError, subprocess.SubprocessError, ValueError):
        return []
    # fc-match always answers with something; only the asked-for family counts.
    if not any(_family_matches(name.strip(), family) for name in names.split(",")):
        return []
    return [(path, face_index)]


def _covers(path: str, index: int, text: str) -> bool:
    try:
        font = FT2Font(path, face_index=index)
    except (OSError, RuntimeError, ValueError):
        return False
    return all(font.get_char_index(ord(ch)) != 0 for ch in text if not ch.isspace())


def _register(path: str, index: int) -> str:
    """The family name matplotlib knows the face by, adding the file to its font manager when
    its cache was built before the font was installed."""
    real = os.path.realpath(path)

    def faces() -> list[str]:
        return [
            e.name
            for e in font_manager.fontManager.ttflist
            if e.index == index and os.path.realpath(e.fname) == real
        ]

    names = faces()
    if not names:
        font_manager.fontManager.addfont(path)
        names = faces()
    family = FT2Font(path, face_index=index).family_name
    return family if family in names or not names else names[0]


# -- charts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """A chart ready to render; each rendering builds a fresh figure, so a chart may be rendered
    any number of times and from any thread."""

    title: str
    width_cm: float
    height_cm: float
    draw: Callable[[Axes], None] = field(repr=False)

    def svg(self) -> str:
        """An `<svg>` element for inline use in an HTML page: text kept as text, ids unique to
        this rendering, no XML declaration or DOCTYPE."""
        prefix = f"c{uuid.uuid4().hex[:12]}"
        buffer = io.BytesIO()
        with _rendering({"svg.fonttype": "none", "svg.hashsalt": prefix, "svg.id": prefix}):
            figure = self._figure()
            figure.savefig(buffer, format="svg", metadata={"Date": None})
        return _inline_svg(buffer.getvalue(), prefix, self.title)

    def png(self, dpi: int = 150) -> bytes:
        buffer = io.BytesIO()
        with _rendering({}):
            figure = self._figure()
            FigureCanvasAgg(figure)
            figure.savefig(buffer, format="png", dpi=dpi)
        return buffer.getvalue()

    def __html__(self) -> str:
        # `{{ chart }}` in a template embeds the SVG: matplotlib has escaped every text in it.
        return self.svg()

    def _figure(self) -> Figure:
        figure = Figure(
            figsize=(self.width_cm * CM, self.height_cm * CM),
            layout="constrained",
            facecolor="white",
        )
        axes = figure.add_subplot()
        axes.set_title(self.title, fontsize=11, fontweight="bold", loc="center")
        self.draw(axes)
        return figure


@contextmanager
def _rendering(extra: dict[str, object]) -> Iterator[None]:
    """One rendering at a time, with matplotlib's settings for it restored afterwards."""
    with _LOCK:
        # Latin text also comes from the CJK font; DejaVu Sans (shipped with matplotlib) stands
        # behind it for any symbol the font lacks. Ticks get the same ASCII minus as the values
        # written at the bars, as in the statistical tables.
        rc = {
            "font.family": [cjk_font_family(), "DejaVu Sans"],
            "font.size": 9,
            "axes.unicode_minus": False,
            **extra,
        }
        with mpl.rc_context(rc):
            yield


def line_chart(
    title: str,
    categories: list[str],
    series: list[tuple[str, list[float | None]]],
    unit: str = "%",
) -> Chart:
    """One line per series over the categories (e.g. 24 months of growth); None is a gap."""
    title, unit = _plain(title), _plain(unit)
    categories = [_plain(c) for c in categories]
    cleaned = [(_plain(name), [_number(v) for v in values]) for name, values in series]
    for name, values in cleaned:
        if len(values) != len(categories):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(categories)}")

    def draw(axes: Axes) -> None:
        has_data = any(v is not None for _, values in cleaned for v in values)
        if not categories or not has_data:
            _show_empty(axes)
            return
        positions = list(range(len(categories)))
        for i, (name, values) in enumerate(cleaned):
            axes.plot(
                positions,
                [math.nan if v is None else v for v in values],
                label=name,
                color=PALETTE[i % len(PALETTE)],
                linewidth=1.6,
                # A month between two gaps would be invisible without a marker.
                marker="o",
                markersize=2.5,
            )
        axes.axhline(0, color="#666666", linewidth=0.8, zorder=1)
        _thin_x_labels(axes, categories)
        axes.grid(axis="y", color=GRID_COLOUR, linewidth=0.6)
        _style_axes(axes)
        if unit:
            axes.set_ylabel(f"单位：{unit}")
        if len(cleaned) > 1:
            axes.legend(loc="best", frameon=False, fontsize=8, ncols=min(len(cleaned), 3))

    return Chart(title=str(title), width_cm=WIDTH_CM, height_cm=LINE_HEIGHT_CM, draw=draw)


def bar_chart(
    title: str,
    labels: list[str],
    values: list[float | None],
    unit: str = "%",
    horizontal: bool = True,
) -> Chart:
    """One bar per label (e.g. growth by province or industry), negative bars in another colour,
    the value written at each bar; None is no bar and "—"."""
    title, unit = _plain(title), _plain(unit)
    labels = [_plain(label) for label in labels]
    numbers = [_number(v) for v in values]
    if len(numbers) != len(labels):
        raise ValueError(f"{len(numbers)} values for {len(labels)} labels")

    def draw(axes: Axes) -> None:
        if not labels or all(v is None for v in numbers):
            _show_empty(axes)
            return
        positions = list(range(len(labels)))
        heights = [0.0 if v is None else v for v in numbers]
        colours = [NEGATIVE_COLOUR if v is not None and v < 0 else POSITIVE_COLOUR for v in numbers]
        bars = (axes.barh if horizontal else axes.bar)(positions, heights, 0.65, color=colours)
        for bar, value in zip(bars, numbers, strict=True):
            if value is None:
                bar.set_visible(False)
        _write_values(axes, positions, numbers, horizontal)
        value_axis = axes.xaxis if horizontal else axes.yaxis
        if horizontal:
            axes.set_yticks(positions, labels, fontsize=_label_size(len(labels)))
            axes.invert_yaxis()  # the first label on top, as in a table
            axes.axvline(0, color="#666666", linewidth=0.8)
            axes.margins(x=0.12, y=0.01)
            axes.grid(axis="x", color=GRID_COLOUR, linewidth=0.6)
        else:
            _thin_x_labels(axes, labels, thin=False)
            axes.axhline(0, color="#666666", linewidth=0.8)
            axes.margins(y=0.12)
            axes.grid(axis="y", color=GRID_COLOUR, linewidth=0.6)
        _style_axes(axes)
        if unit:
            value_axis.set_label_text(f"单位：{unit}")

    height = BAR_HEIGHT_CM
    if horizontal:
        # Room for every label: 40 provinces still fit an A4 page.
        height = max(6.0, 2.8 + 0.5 * len(labels))
    return Chart(title=str(title), width_cm=WIDTH_CM, height_cm=height, draw=draw)


def _plain(text: object) -> str:
    """Text as text: matplotlib reads $…$ as TeX (an unbalanced $ in a region or indicator name
    would raise), so a dollar sign is escaped."""
    return str(text).replace("$", r"\$")


def _number(value: float | Decimal | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _show_empty(axes: Axes) -> None:
    axes.set_axis_off()
    axes.text(
        0.5,
        0.5,
        EMPTY_TEXT,
        transform=axes.transAxes,
        ha="center",
        va="center",
        fontsize=12,
        color="#888888",
    )


def _style_axes(axes: Axes) -> None:
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(labelsize=8)


def _thin_x_labels(axes: Axes, labels: list[str], thin: bool = True) -> None:
    """Every k-th label when there are many (months), rotated when they would crowd."""
    step = max(1, math.ceil(len(labels) / MAX_X_LABELS)) if thin else 1
    shown = list(range(0, len(labels), step))
    axes.set_xticks(shown, [labels[i] for i in shown])
    if len(shown) > 6 or max(len(label) for label in labels) > 8:
        for tick in axes.get_xticklabels():
            tick.set_rotation(45)
            tick.set_horizontalalignment("right")
            tick.set_rotation_mode("anchor")
    if not thin:
        axes.tick_params(axis="x", labelsize=_label_size(len(labels)))


def _label_size(count: int) -> float:
    return 8 if count <= 20 else 7


def _one_decimal(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _write_values(
    axes: Axes, positions: list[int], numbers: list[float | None], horizontal: bool
) -> None:
    size = _label_size(len(numbers))
    for position, value in zip(positions, numbers, strict=True):
        text = MISSING_VALUE_TEXT if value is None else _one_decimal(value)
        outward = -1 if value is not None and value < 0 else 1
        if horizontal:
            axes.annotate(
                text,
                (value or 0.0, position),
                xytext=(3 * outward, 0),
                textcoords="offset points",
                ha="left" if outward > 0 else "right",
                va="center",
                fontsize=size,
            )
        else:
            axes.annotate(
                text,
                (position, value or 0.0),
                xytext=(0, 2 * outward),
                textcoords="offset points",
                ha="center",
                va="bottom" if outward > 0 else "top",
                fontsize=size,
            )


def _inline_svg(document: bytes, prefix: str, title: str) -> str:
    """matplotlib's SVG document made fit for the inside of an HTML page."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(document, parser)
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    for element in elements:
        tag = etree.QName(element).localname
        # The style's `*{...}` rule would apply to the whole page: the svg element carries it.
        if tag in {"metadata", "style", "script"}:
            element.getparent().remove(element)
            continue
        style = element.attrib.pop("style", None)
        if style is not None:
            _style_as_attributes(element, style)
        if tag == "text":
            # matplotlib names the font it drew with; a browser needs names it may have.
            element.set("font-family", BROWSER_FONT_FAMILY)
    _prefix_ids(root, prefix)
    root.set("id", prefix)
    root.set("stroke-linejoin", "round")
    root.set("stroke-linecap", "butt")
    root.set("role", "img")
    root.set("aria-label", title)
    # Its size on the page (max-width: 100%, height: auto) comes from static/css/site.css.
    for defs in [d for d in root.iter(f"{{{_SVG_NS}}}defs") if len(d) == 0]:
        defs.getparent().remove(defs)
    return etree.tostring(root, encoding="unicode")


def _style_as_attributes(element: etree._Element, style: str) -> None:
    """A style="" attribute's declarations as presentation attributes (`_PRESENTATION_ATTRIBUTES`
    says why); a declaration wins over an attribute of the same name, as in CSS."""
    for declaration in style.split(";"):
        name, colon, value = declaration.partition(":")
        name, value = name.strip().lower(), value.strip()
        if colon and value and name in _PRESENTATION_ATTRIBUTES:
            element.set(name, value)


def _prefix_ids(root: etree._Element, prefix: str) -> None:
    """Give every id this rendering's prefix (matplotlib numbers its groups figure_1, axes_1…
    in every chart alike) and point every reference at the renamed id."""
    renamed: dict[str, str] = {}
    for element in root.iter():
        old = element.get("id") if isinstance(element.tag, str) else None
        if old is not None and element is not root:
            renamed[old] = f"{prefix}-{old}"
            element.set("id", renamed[old])

    def rename(match: re.Match[str]) -> str:
        return f"url(#{renamed.get(match.group(1), match.group(1))})"

    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            if name == _XLINK_HREF and value.startswith("#"):
                element.set(name, f"#{renamed.get(value[1:], value[1:])}")
            elif "url(#" in value:
                element.set(name, _URL_REF.sub(rename, value))
