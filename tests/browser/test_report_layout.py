"""The web report is compact: at 1280 px its cards fill rows (no half-empty rows), and the
whole page is well under half of what it was (about 7,000 px); at 360 px it reads in one
column without sideways scrolling. Its bars are sorted by value, catch-alls last."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.browser.conftest import DESKTOP, MOBILE
from tests.browser.test_coordinator_reports import PASSWORD, coordination  # noqa: F401
from tests.browser.test_login_and_home import assert_no_horizontal_scroll

both_widths = pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["360px", "1280px"])


@both_widths
def test_the_web_report_is_compact_and_its_bars_sorted(
    page,
    live_server,
    login,
    screenshot,
    coordination,  # noqa: F811 (the fixture imported above)
    viewport,
):
    network, user = coordination
    login(page, live_server, user.email, PASSWORD)
    page.goto(f"{live_server.url}/reseaux/{network.slug}/bilans/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bilan d'activité")
    height = page.evaluate("document.body.scrollHeight")
    width = viewport["width"]
    print(f"report height at {width}px: {height}px")
    screenshot(page, f"report-layout-{width}")
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    if viewport == DESKTOP:
        assert height < 3500, height  # 6,001 px before (this data), about 7,000 with the demo

    # Every chart's bars: values never grow down the list, except catch-alls at the end.
    for chart in page.locator("ul.bars").all():
        values = [
            float(v.get_attribute("value"))
            for v in chart.locator("li:not(.catch-all) progress").all()
        ]
        ordinal = chart.get_attribute("data-ordinal") == "1"
        if not ordinal:
            assert values == sorted(values, reverse=True), values
        items = chart.locator("li").all()
        catch = [
            i for i, item in enumerate(items) if "catch-all" in (item.get_attribute("class") or "")
        ]
        assert catch == list(range(len(items) - len(catch), len(items)))
