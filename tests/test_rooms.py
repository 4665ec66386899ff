"""What may import what (README, "How one email moves through the house"): each room
imports only from the rooms below it, so the house has no cycles that grow by accident."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROOMS = ("intake", "parsers", "storage", "notifications", "review")
# Room -> the other rooms it may import from.
ALLOWED = {
    "parsers": set(),
    # The one path that creates or changes a referral checks the record against its form
    # and sets the statutory clock: pure functions of `parsers`, the room with no imports.
    "storage": {"parsers"},
    "notifications": {"storage"},
    "intake": {"parsers", "storage", "notifications"},
    "review": {"parsers", "storage", "notifications"},
}
# The few imports against the grain, each for a reason.
EXCEPTIONS = {
    # The command line starts the web app and manages its accounts.
    ("intake/cli.py", "review"),
    ("intake/users_cli.py", "review"),
    # The web app reads the same documented settings and logs the same way.
    ("review/*", "intake.settings"),
    ("review/*", "intake.logsetup"),
}


def _imports(path: Path) -> list[str]:
    out: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out.extend(alias.name for alias in node.names)
    return out


def _excepted(relative: str, module: str) -> bool:
    for where, what in EXCEPTIONS:
        place = relative == where or (where.endswith("/*") and relative.startswith(where[:-1]))
        if place and (module == what or module.startswith(what + ".")):
            return True
    return False


def test_each_room_imports_only_from_the_rooms_below_it() -> None:
    wrong: list[str] = []
    checked = 0
    for room in ROOMS:
        for path in sorted((ROOT / room).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for module in _imports(path):
                top = module.split(".")[0]
                if top not in ROOMS or top == room:
                    continue
                checked += 1
                if top not in ALLOWED[room] and not _excepted(relative, module):
                    wrong.append(f"{relative} imports {module}")
    assert checked > 50  # the walk really saw the imports between rooms
    assert wrong == []


def test_the_rule_catches_an_import_against_the_grain(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from intake.runner import run_once\nimport review.app\n")
    assert _imports(bad) == ["intake.runner", "review.app"]
    assert not _excepted("parsers/bad.py", "intake.runner")
    assert not _excepted("review/app.py", "intake.runner")
    assert _excepted("review/app.py", "intake.settings")
