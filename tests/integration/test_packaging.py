"""A wheel (what `pip install .` builds) must carry everything the shop needs at run time, migrations and the
dashboard's page included."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_carries_every_migration_and_the_revision_template(tmp_path):
    source = tmp_path / "src"  # build from a copy, so the checkout gets no build/ folder
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("cauldrons-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = ROOT / "adapters" / "migrations"
    needed = {str(p.relative_to(ROOT)) for p in migrations.rglob("*") if p.suffix in (".py", ".mako")}
    assert needed and needed <= names, needed - names
    page = {
        f"entrypoints/dashboard/{name}"
        for name in (
            "index.html",
            "dashboard.js",
            "dashboard.css",
            "uPlot.iife.min.js",
            "uPlot.min.css",
            "uPlot.LICENSE.txt",
        )
    }
    assert page <= names, page - names  # the dashboard's page, served from the package
