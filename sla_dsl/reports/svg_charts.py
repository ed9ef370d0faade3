"""Charts as inline SVG, written by hand, for a report that opens with no network and no script.

A plotting library would pull a large dependency into a command-line tool for three kinds of
picture: lines over time against a goal line, horizontal bars against a goal mark, and a tiny
bar inside a table cell. Every chart carries a `<title>` and a `<desc>` (named by
`aria-labelledby`), axis labels and a legend, so a screen reader hears what a reader sees.
Colours come from classes the page's stylesheet defines, with stroke and fill attributes as a
fallback for viewers that ignore the stylesheet.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sla_dsl.printable import escape_html as escape

# One palette for every chart: the goal is always the same dark dashed line, actuals blue.
COLOURS = {"actual": "#1f6fb2", "goal": "#333333", "second": "#d9822b", "third": "#5a9e4b",
           "bar": "#1f6fb2", "bad": "#c0392b"}

_FONT = 12
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 56, 16, 34, 44


@dataclass(frozen=True)
class Series:
    """One line of a line chart. `kind` is `line`, `step` (a cumulative count, held flat until
    it changes), `goal` (dashed) or `points` (markers only, for sparse daily readings). A
    point whose value is None is a period with no data: the line breaks there instead of
    drawing straight across it."""

    name: str
    points: Sequence[tuple[float, float | None]]
    kind: str = "line"
    colour: str = "actual"
    # the x of points drawn as an open marker on the line: a figure that may still change or
    # stands on little (attainment by month: `sla_dsl.reports.month_trend`)
    open_at: frozenset[float] = frozenset()


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    goal: float | None = None
    note: str = ""


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round steps (1, 2, 2.5 or 5 times a power of ten) from 0 to at least `top`, so gridlines
    land on numbers a person would choose."""
    if not math.isfinite(top) or top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    ticks = [0.0]
    while ticks[-1] < top - 1e-9:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def number(value: float) -> str:
    """A tick or value label: no trailing zeros, thousands separated."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _open_svg(ident: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{ident}-t {ident}-d">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(desc)}</desc>',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def _text(x: float, y: float, text: str, *, anchor: str = "middle", size: int = _FONT,
          extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="#222222"{extra}>{escape(text)}</text>')


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    out = []
    for item in series:
        colour = COLOURS[item.colour]
        dash = ' stroke-dasharray="6 4"' if item.kind == "goal" else ""
        if item.kind == "points":
            out.append(f'<circle cx="{x + 9:.1f}" cy="{y - 4:.1f}" r="3" fill="{colour}"/>')
        else:
            out.append(f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 18:.1f}" y2="{y - 4:.1f}" '
                       f'stroke="{colour}" stroke-width="2.5"{dash}/>')
        out.append(_text(x + 23, y, item.name, anchor="start", size=11))
        x += 31 + 6.5 * len(item.name)
    return out


def line_chart(ident: str, title: str, desc: str, series: Sequence[Series], *,
               x_label: str, y_label: str, x_ticks: Sequence[tuple[float, str]],
               x_range: tuple[float, float], width: int = 460, height: int = 260,
               open_label: str | None = None) -> str:
    """Lines over a numeric x axis (a day number, say) from 0 up, with the caller's x ticks.
    `open_label` names what a series' open markers (`Series.open_at`) mean, under the legend
    line, when one is drawn."""
    left, right = _MARGIN_LEFT, width - _MARGIN_RIGHT
    top, bottom = _MARGIN_TOP, height - _MARGIN_BOTTOM
    highest = max((y for s in series for _, y in s.points if y is not None), default=0.0)
    y_ticks = nice_ticks(highest)
    y_top = y_ticks[-1]
    x_low, x_high = x_range
    span = (x_high - x_low) or 1.0

    def px(x: float) -> float:
        return left + (x - x_low) / span * (right - left)

    def py(y: float) -> float:
        return bottom - y / y_top * (bottom - top)

    out = _open_svg(ident, width, height, title, desc)
    for tick in y_ticks:
        out.append(f'<line x1="{left}" y1="{py(tick):.1f}" x2="{right}" y2="{py(tick):.1f}" '
                   f'stroke="#e3e3e3"/>')
        out.append(_text(left - 6, py(tick) + 4, number(tick), anchor="end", size=11))
    for x, label in x_ticks:
        out.append(f'<line x1="{px(x):.1f}" y1="{bottom}" x2="{px(x):.1f}" y2="{bottom + 4}" '
                   f'stroke="#555555"/>')
        out.append(_text(px(x), bottom + 16, label, size=11))
    out.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#555555"/>')
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#555555"/>')
    out.append(_text((left + right) / 2, height - 8, x_label))
    out.append(_text(14, (top + bottom) / 2, y_label,
                     extra=f' transform="rotate(-90 14 {(top + bottom) / 2:.1f})"'))
    for item in series:
        out += _series(item, px, py)
    out += _legend(series, left, 16)
    if open_label and any(item.open_at for item in series):
        out.append(f'<circle cx="{left + 4:.1f}" cy="{top - 9.5:.1f}" r="3.5" fill="#ffffff" '
                   f'stroke="#555555" stroke-width="1.5"/>')
        out.append(_text(left + 12, top - 6, open_label, anchor="start", size=10))
    out.append("</svg>")
    return "\n".join(out)


def _runs(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """The stretches of a series between its gaps (points with no value), in x order."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in sorted(points, key=lambda p: p[0]):
        if y is None:
            runs.append([])
        else:
            runs[-1].append((x, y))
    return [run for run in runs if run]


def _series(item: Series, px, py) -> list[str]:
    lines = [line for run in _runs(item.points) for line in _run(item, run, px, py)]
    colour = COLOURS[item.colour]
    return lines + [f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5" fill="#ffffff" '
                    f'stroke="{colour}" stroke-width="1.5"/>'
                    for x, y in item.points if y is not None and x in item.open_at]


def _run(item: Series, points: list[tuple[float, float]], px, py) -> list[str]:
    """One unbroken stretch: a polyline, or a marker where a stretch is a single point."""
    colour = COLOURS[item.colour]
    if item.kind == "points" or len(points) == 1:
        return [f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>'
                for x, y in points]
    coordinates = []
    for index, (x, y) in enumerate(points):
        if item.kind == "step" and index:
            coordinates.append(f"{px(x):.1f},{py(points[index - 1][1]):.1f}")
        coordinates.append(f"{px(x):.1f},{py(y):.1f}")
    dash = ' stroke-dasharray="6 4"' if item.kind == "goal" else ""
    return [f'<polyline points="{" ".join(coordinates)}" fill="none" stroke="{colour}" '
            f'stroke-width="2.5"{dash}/>']


def bar_chart(ident: str, title: str, desc: str, bars: Sequence[Bar], *, x_label: str,
              width: int = 460, bar_height: int = 22) -> str:
    """Horizontal bars, one per label, each with an optional goal mark (a dark tick)."""
    label_width = min(200, 14 + 7 * max((len(b.label) for b in bars), default=4))
    # room right of the longest bar for its value and note
    shown_width = 6 * max((len(number(b.value or 0)) + len(b.note) + 1 for b in bars), default=8)
    left, right = label_width, width - max(60, shown_width)
    top = 30
    height = top + len(bars) * (bar_height + 8) + 40
    highest = max([b.value or 0 for b in bars] + [b.goal or 0 for b in bars])
    ticks = nice_ticks(highest)
    scale = (right - left) / ticks[-1]
    out = _open_svg(ident, width, height, title, desc)
    bottom = top + len(bars) * (bar_height + 8)
    for tick in ticks:
        x = left + tick * scale
        out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{bottom}" '
                   f'stroke="#e3e3e3"/>')
        out.append(_text(x, bottom + 14, number(tick), size=11))
    for index, bar in enumerate(bars):
        y = top + index * (bar_height + 8)
        out.append(_text(left - 8, y + bar_height * 0.7, bar.label, anchor="end"))
        if bar.value is not None:
            colour = COLOURS["bad" if bar.goal is not None and bar.value < bar.goal else "bar"]
            out.append(f'<rect x="{left}" y="{y}" width="{max(bar.value * scale, 1):.1f}" '
                       f'height="{bar_height}" fill="{colour}"/>')
            shown = number(bar.value) + (f" {bar.note}" if bar.note else "")
            out.append(_text(left + bar.value * scale + 4, y + bar_height * 0.7, shown,
                             anchor="start", size=11))
        if bar.goal is not None:
            x = left + bar.goal * scale
            out.append(f'<line x1="{x:.1f}" y1="{y - 3}" x2="{x:.1f}" y2="{y + bar_height + 3}" '
                       f'stroke="{COLOURS["goal"]}" stroke-width="3"/>')
    out.append(f'<line x1="{left}" y1="{top - 4}" x2="{left}" y2="{bottom}" stroke="#555555"/>')
    out.append(_text((left + right) / 2, height - 8, x_label))
    if any(b.goal is not None for b in bars):
        out.append(f'<line x1="{left}" y1="10" x2="{left}" y2="22" '
                   f'stroke="{COLOURS["goal"]}" stroke-width="3"/>')
        out.append(_text(left + 6, 20, "goal", anchor="start", size=11))
    out.append("</svg>")
    return "\n".join(out)


def cell_bar(percent: float | None, *, width: int = 100, height: int = 10,
             judged: bool = True) -> str:
    """A small bar for a table row. It repeats the number printed beside it, so it is hidden
    from screen readers (the cell's text is the accessible value). A judged bar (attainment)
    turns amber and red as it falls short; a share of a whole is no verdict and stays plain."""
    share = 0.0 if percent is None else max(0.0, min(percent, 100.0)) / 100
    colour = COLOURS["bar"] if share >= 0.8 or not judged else COLOURS["second"] \
        if share >= 0.5 else COLOURS["bad"]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="cell-bar" width="{width}" '
            f'height="{height}" aria-hidden="true" focusable="false">'
            f'<rect width="{width}" height="{height}" fill="#eeeeee"/>'
            f'<rect width="{share * width:.1f}" height="{height}" fill="{colour}"/></svg>')


def sparkline(percents: Sequence[float | None], *, width: int = 90, height: int = 20,
              last_open: bool = False) -> str:
    """A clause's attainment month by month in a table cell, on a 0-100% scale with the last
    month marked (an open marker when `last_open`: a figure that may still change or stands on
    little). Like `cell_bar` it repeats numbers printed beside it (and in the trend charts'
    tables), so it is hidden from screen readers."""
    points = [(i, v) for i, v in enumerate(percents) if v is not None]
    if len(points) < 2:
        return ""
    step = (width - 6) / max(len(percents) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return 3 + i * step, height - 3 - (height - 6) * max(0.0, min(v, 100.0)) / 100

    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in points))
    last_x, last_y = xy(*points[-1])
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="spark" width="{width}" '
            f'height="{height}" aria-hidden="true" focusable="false">'
            f'<rect width="{width}" height="{height}" fill="#f4f4f4"/>'
            f'<polyline points="{line}" fill="none" stroke="{COLOURS["actual"]}" '
            f'stroke-width="1.5"/><circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.5" '
            + (f'fill="#ffffff" stroke="{COLOURS["actual"]}" stroke-width="1.2"/></svg>'
               if last_open else f'fill="{COLOURS["actual"]}"/></svg>'))
