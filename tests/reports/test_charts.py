"""The order of a report's bars: by value, hidden cells after the published ones, catch-alls
("Autre…", "Non renseigné") last; the figures themselves never change."""

from reports import charts


def row(code, value, *, suppressed=False):
    return {
        "code": code,
        "label": code.capitalize(),
        "value": None if suppressed else value,
        "display": "< 11" if suppressed else str(value),
        "suppressed": suppressed,
    }


def test_bars_are_sorted_by_value_with_catch_alls_last():
    table = {
        "key": "accompaniments_by_equipment",
        "rows": [
            row("computer", 20),
            row("phone", 90),
            row("tablet", 35),
            row("other", 120),
            row("not_given", 15),
        ],
    }
    chart = charts.bars(table)
    assert [item["label"] for item in chart["items"]] == [
        "Phone",
        "Tablet",
        "Computer",
        "Other",
        "Not_given",
    ]
    assert [item["catch_all"] for item in chart["items"]] == [False, False, False, True, True]


def test_hidden_cells_rank_after_published_ones_and_before_catch_alls():
    table = {
        "key": "accompaniments_by_theme",
        "rows": [
            row("email", 0, suppressed=True),
            row("sante", 12),
            row("not_given", 0, suppressed=True),
            row("bureautique", 0, suppressed=True),
            row("scolarite", 40),
        ],
    }
    order = [r["code"] for r in charts.bar_order(table)]
    assert order == ["scolarite", "sante", "email", "bureautique", "not_given"]
    chart = charts.bars(table)
    assert [item["label"] for item in chart["items"]] == ["Scolarite", "Sante"]
    assert chart["hidden"] == ["Email", "Bureautique", "Not_given"]


def test_ordered_categories_keep_their_order():
    table = {
        "key": "residents_by_age_band",
        "rows": [row("18-24", 12), row("25-39", 40), row("not_given", 50), row("40-59", 30)],
    }
    assert [r["code"] for r in charts.bar_order(table)] == ["18-24", "25-39", "40-59", "not_given"]


def test_sorting_changes_no_figure_and_leaves_the_table_in_its_order():
    rows = [row("computer", 20), row("phone", 90), row("other", 5)]
    table = {"key": "accompaniments_by_equipment", "rows": rows}
    before = [dict(r) for r in rows]
    charts.bars(table)
    assert table["rows"] == before


def test_the_pdf_draws_its_bars_in_the_same_order_and_its_lines_by_month():
    from reports import pdf

    rows = [row("computer", 20), row("other", 120), row("phone", 90)]
    drawn, _masked = pdf._drawn_rows(
        {"key": "accompaniments_by_equipment", "chart": "bar", "rows": rows}
    )
    assert [r["code"] for r in drawn] == ["phone", "computer", "other"]
    months = [row("2026-07", 39), row("2026-08", 19), row("2026-09", 39)]
    drawn, _masked = pdf._drawn_rows({"key": "trend_sessions", "chart": "line", "rows": months})
    assert [r["code"] for r in drawn] == ["2026-07", "2026-08", "2026-09"]
