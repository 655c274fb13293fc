"""The library's layering, read from the code itself: who may import whom, no borrowed private names,
public names that resolve, a command line that starts without torch, functions a reader can hold."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "alexnet_viz"
# A part may import its own modules and the parts on lower layers, never a higher one.
LAYERS: dict[str, int] = {"errors": 0, "core": 1, "inputs": 2, "analysis": 3, "ideas": 4, "figures": 5,
                          "report": 6, "compare": 6, "lab": 6, "train": 6, "errata": 7,
                          "serving": 8, "cli": 9, "__init__": 10, "__main__": 10}
OUR_CODE = [LIBRARY, ROOT / "ui", ROOT / "app_pages", ROOT / "scripts", ROOT / "devtools", ROOT / "streamlit_app.py"]


def _files(*roots: Path) -> list[Path]:
    return sorted(f for r in roots for f in ([r] if r.is_file() else r.rglob("*.py")))


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names imported from it) for every import in the file, nested ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names]
    return found


def _part(module: str) -> str | None:
    bits = module.split(".")
    return bits[1] if bits[0] == "alexnet_viz" and len(bits) > 1 else None


def test_every_part_of_the_library_is_on_a_layer() -> None:
    parts = {p.stem if p.is_file() else p.name for p in LIBRARY.iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").is_file())}
    assert parts <= set(LAYERS), f"give {sorted(parts - set(LAYERS))} a layer in LAYERS"


def test_no_import_reaches_up_a_layer() -> None:
    upward = []
    for path in _files(LIBRARY):
        me = path.relative_to(LIBRARY).parts[0].removesuffix(".py")
        for line, module, names in _imports(path):
            targets = [module] if _part(module) else []
            if module == "alexnet_viz":  # from alexnet_viz import errata: the part is the name
                targets = [f"alexnet_viz.{n}" for n in names if n in LAYERS]
            for target in targets:
                part = _part(target)
                if part and part != me and LAYERS[part] >= LAYERS[me]:
                    upward.append(f"{path.relative_to(ROOT)}:{line} ({me}) imports {target} ({part})")
    assert not upward, "\n".join(upward)


def test_no_module_imports_another_modules_private_name() -> None:
    borrowed = [f"{path.relative_to(ROOT)}:{line} from {module} import {name}"
                for path in _files(*OUR_CODE) for line, module, names in _imports(path)
                for name in names + [module.rsplit(".", 1)[-1]]
                if name.startswith("_") and not name.startswith("__")]
    assert not borrowed, "\n".join(borrowed)


def test_every_public_name_of_the_package_resolves() -> None:
    import alexnet_viz

    for name in alexnet_viz.__all__:
        assert getattr(alexnet_viz, name) is not None, name


@pytest.mark.slow
def test_the_command_line_starts_without_torch() -> None:
    """`alexnet-viz summary` builds every command's parser: none of them may import torch to do it."""
    code = "import sys, alexnet_viz.cli; alexnet_viz.cli.build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_no_function_in_the_library_is_over_70_lines() -> None:
    long = [f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path in _files(LIBRARY) for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and (node.end_lineno or node.lineno) - node.lineno + 1 > 70]
    assert not long, "\n".join(long)


def test_the_app_reads_no_command_line() -> None:
    """The server's choices come from the environment (ALEXNET_WEIGHTS, ALEXNET_DEVICE), never from sys.argv."""
    reads = [f"{path.relative_to(ROOT)}:{node.lineno}" for path in _files(ROOT / "ui", ROOT / "app_pages",
                                                                          ROOT / "streamlit_app.py")
             for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Attribute) and node.attr == "argv"]
    assert not reads, reads


def _calls_and_signatures() -> tuple[list[str], list[str]]:
    """get_spec( calls outside core/spec.py, and signatures with a `str | Spec` parameter, in our code."""
    calls, signatures = [], []
    for path in _files(*OUR_CODE):
        for node in ast.walk(ast.parse(path.read_text())):
            where = f"{path.relative_to(ROOT)}:{node.lineno}" if hasattr(node, "lineno") else ""
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "get_spec"
                    and path != LIBRARY / "core" / "spec.py"):
                calls.append(where)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
                if any(a.annotation is not None and {"str", "Spec"} <= {n.id for n in ast.walk(a.annotation)
                                                                          if isinstance(n, ast.Name)}
                       for a in args):
                    signatures.append(f"{where} {node.name}")
    return calls, signatures


def test_the_variant_is_resolved_at_the_edges_and_travels_as_a_spec() -> None:
    """A variant name becomes a Spec in few places (the ledger and load_model for callers' convenience, the
    command line, a training run's config); everything else takes the Spec itself."""
    calls, signatures = _calls_and_signatures()
    assert len(calls) <= 4, calls
    assert len(signatures) <= 3, signatures
