"""A non-editable install into a fresh virtualenv, run from another folder, checks the examples.

This proves the grammar ships inside the wheel and the console script works. It builds the
wheel and installs it with its dependencies (torch pinned by constraints.txt).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args, **kwargs):
    result = subprocess.run(args, check=False, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.slow
def test_wheel_install_checks_examples_from_another_directory(tmp_path):
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)])
    (wheel,) = wheels.glob("lightdsl-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
          "-c", str(ROOT / "constraints.txt"), str(wheel)])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    specs = [str(p) for p in sorted((ROOT / "specs").glob("*.lit"))]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = _run([str(env_dir / "bin" / "lightdsl"), "check", *specs], cwd=elsewhere, env=env)
    assert "Success: no errors in" in result.stdout
    located = _run([str(python), "-c", "import lightdsl.frontend.parser as p; print(p.__file__)"],
                   cwd=elsewhere, env=env)
    assert str(env_dir) in located.stdout  # the installed copy, not the source tree
