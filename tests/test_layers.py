"""The floors hold: an app imports only its own floor and the ones below it
(mediation < bookings < cases < reports and api, see docs/architecture.md); the two top
apps never import each other. An upward import, even
inside a function, fails here with the line that makes it."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOORS = {"mediation": 0, "bookings": 1, "cases": 2, "reports": 3, "api": 3}


def upward_imports() -> list[str]:
    found = []
    for app, floor in FLOORS.items():
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
                    if top in FLOORS and top != app and FLOORS[top] >= floor:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    return found


def test_no_app_imports_a_floor_above_it():
    assert upward_imports() == []
