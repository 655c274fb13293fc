"""The house's rules for the app's side, read from the source: pages wire, numerics live in the library.

Page scripts import neither torch nor numpy; every page that shows the network opens through ui/page.py
(the weights banner in one place, then the picker); no function of the app, the scripts or the dev tools
runs over 70 lines.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import ROOT
from ui.navigation import PAGE_DIR

PAGES = sorted((ROOT / PAGE_DIR).glob("*.py"))
MAX_LINES = 70


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_the_pages_are_found() -> None:
    assert {"feature_maps.py", "ideas.py", "unit.py"} <= {p.name for p in PAGES}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_a_page_script_imports_neither_torch_nor_numpy(page: Path) -> None:
    assert not _imported(_tree(page)) & {"torch", "numpy"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_a_page_opens_through_ui_page_not_the_picker_or_banner_itself(page: Path) -> None:
    called = {node.func.id if isinstance(node.func, ast.Name) else node.func.attr
              for node in ast.walk(_tree(page)) if isinstance(node, ast.Call)
              and isinstance(node.func, ast.Name | ast.Attribute)}
    assert not called & {"image_picker", "weights_banner"}


def test_no_function_of_the_app_scripts_or_dev_tools_runs_over_70_lines() -> None:
    files = [ROOT / "streamlit_app.py", *(f for d in ("ui", PAGE_DIR, "scripts", "devtools")
                                         for f in sorted((ROOT / d).rglob("*.py")))]
    long = [f"{f.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for f in files for node in ast.walk(_tree(f))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None
            and node.end_lineno - node.lineno + 1 > MAX_LINES]
    assert not long
