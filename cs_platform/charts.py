"""Server-rendered SVG charts: geometry computed here, drawn by templates/charts/*.html.
No JavaScript, nothing loaded from the internet, readable without colour (values are
in each mark's <title> and in the chart's text alternative)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTH, HEIGHT, LEFT, BOTTOM, TOP, RIGHT = 560, 220, 62, 26, 12, 10


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    points: str = ""  # polyline
    marks: list[dict] = field(default_factory=list)  # x, y, (w, h), label, value, css
    y_ticks: list[dict] = field(default_factory=list)
    x_labels: list[dict] = field(default_factory=list)
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT
    summary: str = ""  # text alternative

    @property
    def empty(self) -> bool:
        return not self.marks


def _scale(low: float, high: float):
    span = (high - low) or 1.0
    inner = HEIGHT - TOP - BOTTOM
    return lambda v: TOP + inner * (1 - (v - low) / span)


def _ticks(low: float, high: float, count: int = 4) -> list[float]:
    step = (high - low) / count if high > low else 1
    return [low + i * step for i in range(count + 1)]


def _whole_ticks(high: float, count: int = 4) -> list[float]:
    """0, step, 2·step … up to at least `high`, with a whole step (counts: 0, 1, 2)."""
    step = max(1, math.ceil(high / count))
    return [float(step * i) for i in range(math.ceil(high / step) + 1)]


def compact(value: float) -> str:
    """Axis numbers that fit: 1,250 -> 1.3k, 123,395 -> 123k, 2,500,000 -> 2.5M."""
    size = abs(value)
    if size >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if size >= 10_000:
        return f"{value / 1000:.0f}k"
    if size >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.0f}"


def _every(n: int, most: int = 8) -> int:
    return max(1, -(-n // most))


def line(points: list[tuple[str, float | None]], low=None, high=None, fmt="{:.0f}") -> Chart:
    """A line over labelled points (None values leave a gap in the marks)."""
    known = [v for _, v in points if v is not None]
    chart = Chart()
    if not known:
        return chart
    low = min(known) if low is None else low
    high = max(known) if high is None else high
    if low == high:
        low, high = low - 1, high + 1
    y = _scale(low, high)
    inner = WIDTH - LEFT - RIGHT
    step = inner / max(len(points) - 1, 1)
    every = _every(len(points))
    coords = []
    for i, (label, value) in enumerate(points):
        x = LEFT + i * step if len(points) > 1 else LEFT + inner / 2
        if i % every == 0:
            chart.x_labels.append({"x": round(x, 1), "label": label})
        if value is None:
            continue
        coords.append(f"{x:.1f},{y(value):.1f}")
        chart.marks.append(
            {"x": round(x, 1), "y": round(y(value), 1), "label": label, "value": fmt.format(value)}
        )
    chart.points = " ".join(coords)
    chart.y_ticks = [{"y": round(y(t), 1), "label": fmt.format(t)} for t in _ticks(low, high)]
    chart.summary = "; ".join(f"{m['label']}: {m['value']}" for m in chart.marks)
    return chart


def bars(
    items: list[tuple[str, float, str]], fmt="{:,.0f}", whole: bool = False, labels: int = 12
) -> Chart:
    """Vertical bars from (label, value, css class); the axis starts at zero. `whole`:
    the values are counts, so the axis ticks are whole numbers. At most `labels` x
    labels are written."""
    chart = Chart()
    if not items or not any(v for _, v, _ in items):
        return chart
    high = max(v for _, v, _ in items)
    ticks = _whole_ticks(high) if whole else _ticks(0, high)
    y = _scale(0, ticks[-1])
    inner = WIDTH - LEFT - RIGHT
    slot = inner / len(items)
    every = _every(len(items), labels)
    for i, (label, value, css) in enumerate(items):
        x = LEFT + i * slot + slot * 0.12
        top = y(value)
        chart.marks.append(
            {
                "x": round(x, 1),
                "y": round(top, 1),
                "w": round(slot * 0.76, 1),
                "h": round(chart.baseline - top, 1),
                "label": label,
                "value": fmt.format(value),
                "css": css,
            }
        )
        if i % every == 0:
            chart.x_labels.append({"x": round(x + slot * 0.38, 1), "label": label})
    chart.y_ticks = [{"y": round(y(t), 1), "label": compact(t)} for t in ticks]
    chart.summary = "; ".join(f"{m['label']}: {m['value']}" for m in chart.marks)
    return chart


def stacked(
    months: list[str], series: list[tuple[str, list[float], str]], fmt="{:,.0f}", labels=6
) -> Chart:
    """Bars stacked above and below zero per month: `series` of (name, values, css);
    positive values stack up, negative ones down (MRR gained and lost)."""
    chart = Chart()
    if not months or not any(v for _, values, _ in series for v in values):
        return chart
    ups = [sum(max(vs[i], 0) for _, vs, _ in series) for i in range(len(months))]
    downs = [sum(min(vs[i], 0) for _, vs, _ in series) for i in range(len(months))]
    high, low = max(ups) or 1.0, min(downs)
    y = _scale(low, high)
    inner = WIDTH - LEFT - RIGHT
    slot = inner / len(months)
    every = _every(len(months), labels)
    for i, month in enumerate(months):
        x = LEFT + i * slot + slot * 0.12
        up = down = 0.0
        for name, values, css in series:
            value = values[i]
            if not value:
                continue
            start = up if value > 0 else down
            end = start + value
            top, bottom = y(max(start, end)), y(min(start, end))
            chart.marks.append(
                {
                    "x": round(x, 1),
                    "y": round(top, 1),
                    "w": round(slot * 0.76, 1),
                    "h": round(max(bottom - top, 0.5), 1),
                    "label": f"{month} {name}",
                    "value": fmt.format(value),
                    "css": css,
                }
            )
            up, down = (end, down) if value > 0 else (up, end)
        if i % every == 0:
            chart.x_labels.append({"x": round(x + slot * 0.38, 1), "label": month})
    chart.y_ticks = [{"y": round(y(t), 1), "label": compact(t)} for t in _ticks(low, high)]
    chart.baseline = round(y(0), 1)
    chart.summary = "; ".join(f"{m['label']}: {m['value']}" for m in chart.marks)
    return chart
