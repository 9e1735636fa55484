"""Accessibility checks with axe-core (the copy shipped by axe-playwright-python: no network).

RGAA 4 criteria map onto WCAG 2.1 A and AA, so those are the rules run. Only "serious" and
"critical" violations fail a test: "moderate" and "minor" ones are mostly best practices that
axe cannot judge reliably (and RGAA does not require).
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error as PlaywrightError

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}

_axe = Axe()


#: What Chromium says when a script runs while the page is being replaced by the next one.
_NAVIGATING = ("documentElement", "Execution context was destroyed", "navigation")


def _run(page):
    return _axe.run(
        page,
        options={
            "runOnly": {"type": "tag", "values": WCAG_TAGS},
            "resultTypes": ["violations"],
        },
    )


def axe_violations(page) -> list[dict]:
    """The serious and critical WCAG 2.1 AA violations on the page as it is now.

    A click that submits a form returns once the navigation has started, not once the next
    page is there: axe waits for the page to have loaded, and runs again if the document was
    replaced under it (the previous page was still unloading)."""
    for attempt in range(3):
        page.wait_for_load_state("load")
        try:
            results = _run(page)
            break
        except PlaywrightError as error:
            if attempt == 2 or not any(part in str(error) for part in _NAVIGATING):
                raise
    return [v for v in results.response["violations"] if v["impact"] in FAILING_IMPACTS]


def _describe(violation: dict) -> str:
    targets = "; ".join(" ".join(map(str, node["target"])) for node in violation["nodes"])
    return f"- {violation['id']} ({violation['impact']}): {violation['help']}\n    {targets}"


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    if violations:
        width = page.viewport_size["width"] if page.viewport_size else "?"
        report = "\n".join(_describe(v) for v in violations)
        raise AssertionError(
            f"axe found {len(violations)} serious/critical violation(s) on {page.url} "
            f"at {width}px:\n{report}"
        )
