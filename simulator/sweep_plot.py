"""The plot of a sweep: attainment against the swept value, its 95% interval as a band.

Written as SVG by hand: a chart of a few lines needs no plotting library, and SVG opens in every
browser and pull request. One line per clause (per clause and value of the other keys, for a
grid); a point the model refused (an overloaded team) leaves a gap.
"""

from __future__ import annotations

import math
from pathlib import Path
from xml.sax.saxutils import escape

from sla_dsl.simulator.sweep import SweepError, clause_names

WIDTH, PLOT_HEIGHT = 720, 330
LEFT, RIGHT, TOP, BOTTOM = 70, 30, 50, 60
LEGEND_LINE = 18
DASHES = ("", "7 4", "2 3", "10 3 2 3")
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#7f7f7f", "#bcbd22")


def check_plot_path(path: str) -> None:
    """SVG only: a PNG would need an imaging library this project does not depend on."""
    suffix = Path(path).suffix.lower()
    if suffix != ".svg":
        raise SweepError(f"--plot {path}: only SVG plots are written, not {suffix or 'no type'}"
                         "\n  help: name the file .svg (a browser opens it; convert it to PNG "
                         "with any image tool if needed)")
    folder = Path(path).parent
    if not folder.is_dir():
        raise SweepError(f"--plot {path}: the folder {folder} does not exist\n"
                         "  help: create it first, or name a file in an existing folder")


Line = tuple[str, int, int, list[tuple[float, float, float, float]]]


def _series(doc: dict) -> list[Line]:
    """(label, clause number, number of the other keys' values, [(x, mean, low, high), ...])
    per line, in percent: a clause keeps its colour, the other keys' values change the dash."""
    first, others = doc["sweep"][0], doc["sweep"][1:]
    lines: dict[str, list[tuple[float, float, float, float]]] = {}
    styles: dict[str, tuple[int, int]] = {}
    combos: list[str] = []
    for number, name in enumerate(clause_names(doc)):
        for point in doc["points"]:
            fixed = ", ".join(f"{k}={point['values'][k]:g}" for k in others)
            if fixed not in combos:
                combos.append(fixed)
            label = f"{name} ({fixed})" if fixed else name
            styles.setdefault(label, (number, combos.index(fixed)))
            series = lines.setdefault(label, [])
            clause = next((c for c in point["clauses"]
                           if f"{c['handoff']}: {c['clause']}" == name), None)
            if clause is None:
                series.append((point["values"][first], math.nan, math.nan, math.nan))
                continue
            a = clause["attainment"]
            mean = math.nan if a["mean"] is None else 100 * a["mean"]
            low, high = (math.nan, math.nan) if a["ci95"][0] is None else a["ci95"]
            series.append((point["values"][first], mean, 100 * low, 100 * high))
    return [(label, *styles[label], points) for label, points in lines.items()]


def _nice_step(span: float) -> float:
    raw = span / 5
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(s * power for s in (1, 2, 2.5, 5, 10) if s * power >= raw)


def _y_range(values: list[float]) -> tuple[float, float, float]:
    finite = [v for v in values if not math.isnan(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 100.0)
    step = _nice_step(max(high - low, 1.0))
    low = max(0.0, math.floor(low / step) * step)
    high = min(100.0, math.ceil(high / step) * step)
    if high <= low:
        low, high = max(0.0, high - step), min(100.0, low + step)
    return low, high, step


def _runs(points: list[tuple[float, ...]]) -> list[list[tuple[float, ...]]]:
    """Stretches of points with figures (a refused point breaks the line)."""
    runs: list[list[tuple[float, ...]]] = [[]]
    for point in points:
        if math.isnan(point[1]):
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(point)
    return [r for r in runs if r]


def render_svg(doc: dict) -> str:
    if not doc["sweep"]:
        raise SweepError("nothing was swept, so there is nothing to plot")
    series = _series(doc)
    xs = [float(p["values"][doc["sweep"][0]]) for p in doc["points"]]
    x_low, x_high = min(xs), max(xs)
    if x_high == x_low:
        x_low, x_high = x_low - 1, x_high + 1
    every = [v for *_, pts in series for p in pts for v in p[1:]]
    y_low, y_high, y_step = _y_range(every)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, PLOT_HEIGHT
    height = TOP + plot_h + BOTTOM + LEGEND_LINE * len(series) + 10

    def sx(x: float) -> float:
        return LEFT + (x - x_low) / (x_high - x_low) * plot_w

    def sy(y: float) -> float:
        y = min(max(y, y_low), y_high)
        return TOP + (y_high - y) / (y_high - y_low) * plot_h

    title = (f"{doc['policy'] or 'Policy'}: attainment against {doc['sweep'][0]}")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
           f"<title>{escape(title)}</title>",
           f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
           f'<text x="{WIDTH / 2:.0f}" y="24" text-anchor="middle" font-size="15">'
           f"{escape(title)}</text>"]
    tick = y_low
    while tick <= y_high + 1e-9:
        y = sy(tick)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" '
                   f'stroke="#e5e5e5"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:g}%</text>')
        tick += y_step
    for x in sorted(set(xs)) if len(set(xs)) <= 20 else _x_ticks(x_low, x_high):
        out.append(f'<line x1="{sx(x):.1f}" y1="{TOP + plot_h}" x2="{sx(x):.1f}" '
                   f'y2="{TOP + plot_h + 5}" stroke="black"/>')
        out.append(f'<text x="{sx(x):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">'
                   f"{x:g}</text>")
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
               f'stroke="black"/>')
    out.append(f'<text x="{LEFT + plot_w / 2:.0f}" y="{TOP + plot_h + 40}" text-anchor="middle">'
               f"{escape(doc['sweep'][0])}</text>")
    out.append(f'<text transform="translate(18 {TOP + plot_h / 2:.0f}) rotate(-90)" '
               f'text-anchor="middle">attainment (%, band: 95% interval)</text>')
    for index, (label, clause, combo, points) in enumerate(series):
        colour = COLOURS[clause % len(COLOURS)]
        dash = DASHES[combo % len(DASHES)]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        for run in _runs(points):
            if not any(math.isnan(v) for p in run for v in p[2:]):
                band = [f"{sx(p[0]):.1f},{sy(p[3]):.1f}" for p in run]
                band += [f"{sx(p[0]):.1f},{sy(p[2]):.1f}" for p in reversed(run)]
                out.append(f'<polygon points="{" ".join(band)}" fill="{colour}" '
                           f'fill-opacity="0.18" stroke="none"/>')
            line = " ".join(f"{sx(p[0]):.1f},{sy(p[1]):.1f}" for p in run)
            out.append(f'<polyline points="{line}" fill="none" stroke="{colour}" '
                       f'stroke-width="2"{dashed}/>')
            out += [f'<circle cx="{sx(p[0]):.1f}" cy="{sy(p[1]):.1f}" r="3" fill="{colour}"/>'
                    for p in run]
        y = TOP + plot_h + BOTTOM + LEGEND_LINE * index + 4
        out.append(f'<line x1="{LEFT}" y1="{y}" x2="{LEFT + 24}" y2="{y}" stroke="{colour}" '
                   f'stroke-width="2"{dashed}/>')
        out.append(f'<text x="{LEFT + 30}" y="{y + 4}">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _x_ticks(low: float, high: float) -> list[float]:
    step = _nice_step(high - low)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def write_plot(doc: dict, path: str) -> None:
    check_plot_path(path)
    Path(path).write_text(render_svg(doc), encoding="utf-8")
