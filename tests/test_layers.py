"""The floors hold: an app imports only its own floor and the ones below it
(mediation < bookings < cases < reports, see docs/architecture.md). An upward import, even
inside a function, fails here with the line that makes it."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ["mediation", "bookings", "cases", "reports"]


def upward_imports() -> list[str]:
    found = []
    for floor, app in enumerate(FLOORS):
        for path in sorted((ROOT / app).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in FLOORS and FLOORS.index(top) > floor:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    return found


def test_no_app_imports_a_floor_above_it():
    assert upward_imports() == []
