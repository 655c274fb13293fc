"""The house's rules for the page scripts, read from the source: pages wire, numerics live in the library.

Page scripts import neither torch nor numpy; every page that shows the network opens through ui/page.py
(the weights banner in one place, then the picker). The layers and the 70-line limit: test_house_rules.py.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import ROOT
from ui.navigation import PAGE_DIR

PAGES = sorted((ROOT / PAGE_DIR).glob("*.py"))


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
