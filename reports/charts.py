"""Geometry of the dashboard's SVG charts (whole numbers: a localised "12,5" in an SVG
attribute would be read as two coordinates), drawn by the server (no JavaScript, no inline
style: the template writes SVG presentation attributes). Every chart sits next to its table,
which is what screen readers read; the charts are marked decorative."""

from __future__ import annotations

from reports.publish import ceil_to

WIDTH = 600


#: Catch-all categories ("Autre…", "Non renseigné"): drawn after the others whatever their
#: value, "Autre…" before "Non renseigné".
CATCH_ALL_CODES = ("other", "not_given")
#: Tables whose categories have an order of their own (age bands, durations): their bars keep
#: it rather than being sorted by value.
ORDINAL_TABLES = frozenset(
    {"accompaniments_by_duration", "residents_by_age_band", "anonymous_by_age_band"}
)


def is_catch_all(row: dict) -> bool:
    return row["code"] in CATCH_ALL_CODES


def bar_order(table: dict) -> list[dict]:
    """The table's rows in the order their bars are drawn (web and PDF). Only the order
    changes, never a figure; the tables themselves keep the reference order.

    - published cells by value, largest first (ties keep the table's order);
    - then the hidden cells ("< 11", "s": their value is not published, so they cannot be
      ranked), in the table's order; they are not drawn, only named under the chart;
    - then the catch-alls, "Autre…" before "Non renseigné", hidden or not.
    Tables with an order of their own (`ORDINAL_TABLES`) keep it, catch-alls still last."""
    rows = list(table.get("rows") or [])
    ordinal = table.get("key") in ORDINAL_TABLES

    def key(item):
        index, row = item
        if is_catch_all(row):
            return (2, CATCH_ALL_CODES.index(row["code"]), 0, index)
        hidden = row.get("suppressed") or row.get("value") is None
        if hidden:
            return (1, 0, 0, index)
        return (0, 0, 0 if ordinal else -row["value"], index)

    return [row for _index, row in sorted(enumerate(rows), key=key)]


def bars(table: dict, *, limit: int = 25) -> dict | None:
    """Bars of the published cells, largest first and catch-alls last (`bar_order`; hidden
    cells are left out and named under the chart). Drawn as <progress> elements: text stays
    readable at any width, and no inline style is needed."""
    rows = bar_order(table)
    shown = [
        row
        for row in rows
        if not row.get("suppressed") and row["value"] is not None and row["value"] > 0
    ][:limit]
    if not shown:
        return None
    return {
        "items": [
            {
                "label": row["label"],
                "display": row["display"],
                "value": row["value"],
                "catch_all": is_catch_all(row),
            }
            for row in shown
        ],
        "top": max(row["value"] for row in shown),
        "hidden": [row["label"] for row in rows if row["suppressed"]],
        "ordinal": table.get("key") in ORDINAL_TABLES,
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
