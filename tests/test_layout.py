"""The package layout holds: imports point bot → briefings → storage, pure parts stay pure."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PURE = ("briefings/text", "briefings/summary", "briefings/topics", "briefings/stories")


def _modules(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Top-level package names of every module that ``path`` imports (absolute imports)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def _offenders(folders: tuple[str, ...], banned: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(*folders)
        for name in sorted(_imports(path))
        if name.split(".")[0] in banned
    ]


def test_nothing_below_bot_imports_telegram() -> None:
    assert _offenders(("briefings", "storage"), ("telegram", "bot")) == []


def test_storage_knows_nothing_of_the_domain() -> None:
    assert _offenders(("storage",), ("briefings",)) == []


@pytest.mark.parametrize("folder", PURE)
def test_pure_packages_do_not_touch_the_store(folder: str) -> None:
    assert _offenders((folder,), ("storage", "sqlalchemy")) == []


_HTML = re.compile(r"</?(?:b|i|u|s|a|code|pre|tg-spoiler)\b[^>]*>")


def _renders_html(path: Path) -> bool:
    """True when a string literal holds a Telegram HTML tag or the code calls html.escape."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found = bool(_HTML.search(node.value))
        else:
            found = (
                isinstance(node, ast.Attribute)
                and node.attr == "escape"
                and isinstance(node.value, ast.Name)
                and node.value.id == "html"
            )
        if found:
            return True
    return False


def test_briefings_render_no_telegram_html() -> None:
    found = [str(p.relative_to(ROOT)) for p in _modules("briefings") if _renders_html(p)]
    assert found == []


def test_the_renderer_is_found_by_the_check() -> None:
    assert _renders_html(ROOT / "bot" / "render.py")


def test_every_sub_package_says_what_it_owns() -> None:
    for init in (ROOT / "briefings").glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and "import" in doc, f"{init.relative_to(ROOT)} needs an owning docstring"
