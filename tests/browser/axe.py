"""Accessibility checks with axe-core (the copy shipped by axe-playwright-python: no network).

RGAA 4 criteria map onto WCAG 2.1 A and AA, so those are the rules run. Only "serious" and
"critical" violations fail a test: "moderate" and "minor" ones are mostly best practices that
axe cannot judge reliably (and RGAA does not require).
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}

_axe = Axe()


def axe_violations(page) -> list[dict]:
    """The serious and critical WCAG 2.1 AA violations on the page as it is now."""
    results = _axe.run(
        page,
        options={
            "runOnly": {"type": "tag", "values": WCAG_TAGS},
            "resultTypes": ["violations"],
        },
    )
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
