"""Geometry of the dashboard's SVG charts (whole numbers: a localised "12,5" in an SVG
attribute would be read as two coordinates), drawn by the server (no JavaScript, no inline
style: the template writes SVG presentation attributes). Every chart sits next to its table,
which is what screen readers read; the charts are marked decorative."""

from __future__ import annotations

from reports.publish import ceil_to

WIDTH = 600


def bars(table: dict, *, limit: int = 25) -> dict | None:
    """Bars of the published cells, biggest scale first (hidden cells are left out and
    named under the chart). Drawn as <progress> elements: text stays readable at any
    width, and no inline style is needed."""
    rows = table["rows"]
    shown = [row for row in rows if row["value"] is not None and row["value"] > 0][:limit]
    if not shown:
        return None
    return {
        "items": [
            {"label": row["label"], "display": row["display"], "value": row["value"]}
            for row in shown
        ],
        "top": max(row["value"] for row in shown),
        "hidden": [row["label"] for row in rows if row["suppressed"]],
    }


def lines(tables: list[dict]) -> dict | None:
    """One line per monthly table (sessions, accompaniments), on a shared axis."""
    series = []
    for table in tables:
        points = list(table["rows"])
        if points:
            series.append((table, points))
    if not series:
        return None
    months = [row["label"] for row in series[0][1]]
    values = [row["value"] for _t, points in series for row in points if row["value"]]
    top = ceil_to(max(values, default=1))
    left, right, height, bottom = 56, 56, 220, 40
    inner_w = WIDTH - left - right
    step = inner_w / max(1, len(months) - 1) if len(months) > 1 else 0
    result = []
    for index, (table, points) in enumerate(series):
        coords = []
        for i, row in enumerate(points):
            if row["value"] is None:
                continue
            x = left + (step * i if len(months) > 1 else inner_w / 2)
            y = height - (height - 10) * row["value"] / top
            coords.append({"x": round(x), "y": round(y), "display": row["display"]})
        result.append(
            {
                "title": table["title"],
                "points": coords,
                "path": " ".join(f"{p['x']},{p['y']}" for p in coords),
                "class": f"series-{index}",
            }
        )
    ticks = [
        {"y": round(height - (height - 10) * fraction), "label": round(top * fraction)}
        for fraction in (0, 0.25, 0.5, 0.75, 1)
    ]
    labels = []
    for i, label in enumerate(months):
        anchor = "middle"
        if len(months) > 1 and i == 0:
            anchor = "start"
        elif len(months) > 1 and i == len(months) - 1:
            anchor = "end"
        x = round(left + (step * i if len(months) > 1 else inner_w / 2))
        labels.append({"x": x, "label": label, "anchor": anchor})
    return {
        "series": result,
        "ticks": ticks,
        "months": labels,
        "width": WIDTH,
        "height": height + bottom,
        "axis_y": height,
        "left": left,
        "right": WIDTH - right,
    }
