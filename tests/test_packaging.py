"""A non-editable install into a fresh virtualenv, run from another folder, checks the examples.

This proves the grammar ships inside the wheel and the console script works. The wheel (built
once per test run, tests/conftest.py) is installed by pip, which resolves its dependencies
(constrained by constraints.txt) against what the new environment sees. So that no test run
copies a gigabyte of torch, the environment sees this interpreter's installed packages through
a ``.pth`` file (as ``--system-site-packages`` would show the base interpreter's), all but
lightdsl's own: the only lightdsl it can import is the one pip installs from the wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args, **kwargs):
    result = subprocess.run(args, check=False, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def _is_lightdsls(name: str) -> bool:
    """An entry of site-packages that belongs to this checkout's own (editable) install."""
    return name.startswith(("lightdsl", "_editable_impl_lightdsl", "__editable__.lightdsl",
                            "__editable___lightdsl"))


def _dependencies_without_lightdsl(folder: Path) -> Path:
    """A folder of links to every package installed here, except lightdsl itself."""
    folder.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        if not _is_lightdsls(entry.name) and entry.suffix != ".pth":
            (folder / entry.name).symlink_to(entry)
    return folder


@pytest.fixture(scope="session")
def installed(tmp_path_factory, lightdsl_wheel) -> Path:
    """A fresh virtualenv with the wheel installed by pip; its folder."""
    root = tmp_path_factory.mktemp("installed")
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=False)  # pip runs from here, targeting it (--python)
    python = env_dir / "bin" / "python"
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    deps = _dependencies_without_lightdsl(root / "dependencies")
    (Path(site.stdout.strip()) / "test_dependencies.pth").write_text(f"{deps}\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
          "--disable-pip-version-check", "-c", str(ROOT / "constraints.txt"),
          str(lightdsl_wheel)])
    return env_dir


@pytest.mark.slow
def test_wheel_install_checks_examples_from_another_directory(installed, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    specs = [str(p) for p in sorted((ROOT / "specs").glob("*.lit"))]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = _run([str(installed / "bin" / "lightdsl"), "check", *specs], cwd=elsewhere, env=env)
    assert "Success: no errors in" in result.stdout
    located = _run([str(installed / "bin" / "python"), "-c",
                    "import lightdsl.frontend.parser as p; print(p.__file__)"],
                   cwd=elsewhere, env=env)
    assert str(installed) in located.stdout  # the installed copy, not the source tree
