"""The library is an installable package: its wheel holds alexnet_viz only, and an installed copy
runs `alexnet-viz summary` from outside the repository (so nothing leans on the repo's sys.path)."""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow


def _wheel(tmp_path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("alexnet_viz-*.whl")
    return wheel


def test_wheel_holds_the_library_and_its_console_script(tmp_path: Path) -> None:
    names = zipfile.ZipFile(_wheel(tmp_path)).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"alexnet_viz"}
    shipped = {p.relative_to(ROOT).as_posix() for p in (ROOT / "alexnet_viz").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert "alexnet_viz/train/loop.py" in shipped  # subpackages too: `alexnet-viz train` imports them
    assert shipped <= set(names), sorted(shipped - set(names))
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "alexnet-viz = alexnet_viz.cli:main" in zipfile.ZipFile(_wheel(tmp_path / "again")).read(entry).decode()


def test_installed_package_runs_outside_the_repo(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "wheel")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", purelib],
                               check=True, capture_output=True, text=True).stdout.strip())
    # The dependencies (torch is gigabytes) come from this interpreter's environment; the package
    # itself only from the wheel.
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([str(venv / "bin" / "python"), "-c",
                          "import alexnet_viz, alexnet_viz.train.loop, sys; from alexnet_viz.cli import main; "
                          "print(alexnet_viz.__file__); "
                          "sys.exit(main(['summary', '--variant', 'paper', '--format', 'csv']))"],
                         cwd=tmp_path, env=env, check=True, capture_output=True, text=True).stdout
    assert str(site) in out.splitlines()[0]
    assert "60965224" in out.replace(",", "")
