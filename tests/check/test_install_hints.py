"""Missing optional packages at check time (issue 16 item 10): the digits source warns without
scikit-learn (found without importing it), install hints fit an editable checkout, and the
CIFAR hint says that download = true is needed too."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from lightdsl import install
from lightdsl.analysis import analyze_text

from ..helpers.runner import run_code

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "specs" / "digits_mlp.lit"


def _check(path: Path):
    return analyze_text(path.read_text(encoding="utf-8"), str(path))


def test_digits_without_scikit_learn_warns_at_the_source(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # find_spec: not installed
    analysis = _check(DIGITS)
    assert analysis.errors == []
    (warning,) = [d for d in analysis.diagnostics if d.code == "missing-package"]
    assert (warning.line, warning.column) == (15, 18)  # `digits()` in `source = digits()`
    assert warning.message == "the digits source needs scikit-learn, which is not installed"
    assert warning.hint == "pip install scikit-learn"


def test_digits_with_scikit_learn_does_not_warn():
    pytest.importorskip("sklearn")
    assert [d for d in _check(DIGITS).diagnostics if d.code == "missing-package"] == []


def test_check_finds_scikit_learn_without_importing_it():
    code = ("import sys; from lightdsl.cli import main; code = main(['check', '-q', "
            f"{str(DIGITS)!r}]); print('IMPORTED' if 'sklearn' in sys.modules or 'torch' in "
            "sys.modules else 'CLEAN'); sys.exit(code)")
    done = run_code(code, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("CLEAN"), done.stdout


def _installed_as(monkeypatch, direct_url, package: Path):
    text = None if direct_url is None else json.dumps(direct_url)
    monkeypatch.setattr(install, "_direct_url_text", lambda: text)
    monkeypatch.setattr(install, "package_dir", lambda: package)


def test_the_installed_distributions_direct_url_is_found_as_importlib_metadata_finds_it():
    import importlib.metadata

    try:
        expected = importlib.metadata.distribution("lightdsl").read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        expected = None
    assert install._direct_url_text() == expected


def test_direct_url_comes_from_the_first_lightdsl_dist_info_on_sys_path(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    for folder, url in ((first, "file:///first"), (second, "file:///second")):
        (folder / "lightdsl-0.1.0.dist-info").mkdir(parents=True)
        (folder / "lightdsl-0.1.0.dist-info" / "direct_url.json").write_text(url)
    (tmp_path / "a.zip").write_bytes(b"")
    monkeypatch.setattr(sys, "path", [str(tmp_path / "missing"), str(tmp_path / "a.zip"),
                                      str(first), str(second)])
    assert install._direct_url_text() == "file:///first"
    (first / "lightdsl-0.1.0.dist-info" / "direct_url.json").unlink()
    assert install._direct_url_text() is None  # an index install: no direct_url.json


def test_an_editable_install_is_told_pip_install_e(tmp_path, monkeypatch):
    checkout = tmp_path / "lightdsl-clone"
    (checkout / "lightdsl").mkdir(parents=True)
    _installed_as(monkeypatch, {"url": checkout.as_uri(), "dir_info": {"editable": True}},
                  checkout / "lightdsl")
    monkeypatch.chdir(checkout)
    assert install.extra_command("vision") == "pip install -e '.[vision]'"
    monkeypatch.chdir(checkout / "lightdsl")
    assert install.extra_command("vision") == "pip install -e '..[vision]'"
    monkeypatch.chdir(tmp_path)
    assert install.extra_command("vision") == f"pip install -e '{checkout}[vision]'"


def test_a_wheel_install_is_told_the_package_name(tmp_path, monkeypatch):
    site = tmp_path / "site-packages"
    (site / "lightdsl").mkdir(parents=True)
    _installed_as(monkeypatch, {"url": "https://files.example/lightdsl.whl",
                                "archive_info": {}}, site / "lightdsl")
    assert install.extra_command("vision") == "pip install 'lightdsl[vision]'"
    _installed_as(monkeypatch, None, site / "lightdsl")  # from an index: no direct_url.json
    assert install.extra_command("vision") == "pip install 'lightdsl[vision]'"


def test_a_checkout_run_without_installing_is_told_pip_install_e(tmp_path, monkeypatch):
    (tmp_path / "lightdsl").mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'lightdsl'\n")

    monkeypatch.setattr(install, "_direct_url_text", lambda: None)  # not installed
    monkeypatch.setattr(install, "package_dir", lambda: tmp_path / "lightdsl")
    monkeypatch.chdir(tmp_path)
    assert install.extra_command("vision") == "pip install -e '.[vision]'"


CIFAR = """
model Net { layers { flatten()  linear(3072, 10) } }
data images { source = cifar10(root = "data"DOWNLOAD)  batch_size = 8 }
train { model = Net  data = images  loss = cross_entropy }
"""


@pytest.mark.parametrize("download, folder_there, tail", [
    ("", False, ", and set download = true (data/cifar-10-batches-py/ does not exist)"),
    ("", True, ""),  # the files are there: only torchvision is missing
    (", download = true", False, "")])
def test_cifar_without_torchvision_says_download_true_too(tmp_path, monkeypatch, download,
                                                          folder_there, tail):
    from lightdsl.checker import data

    monkeypatch.setattr(data, "torchvision_installed", lambda: False)
    monkeypatch.setattr(data, "extra_command", lambda extra: f"pip install 'lightdsl[{extra}]'")
    monkeypatch.chdir(tmp_path)
    if folder_there:
        (tmp_path / "data" / "cifar-10-batches-py").mkdir(parents=True)
    spec = tmp_path / "cifar.lit"
    spec.write_text(CIFAR.replace("DOWNLOAD", download), encoding="utf-8")
    (warning,) = [d for d in _check(spec).diagnostics if "torchvision" in d.message]
    assert warning.message == "the cifar10 source needs torchvision, which is not installed"
    assert warning.hint == "install lightdsl[vision] (pip install 'lightdsl[vision]')" + tail
