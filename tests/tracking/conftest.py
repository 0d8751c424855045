"""Fixtures of the tracking tests: an MLflow database template, made once."""

from __future__ import annotations

import pytest

from tests.helpers.tracking import template_db


@pytest.fixture(scope="session")
def mlflow_db(request, tmp_path_factory):
    """A migrated MLflow SQLite database to copy (pytest's cache keeps it between runs)."""
    pytest.importorskip("mlflow")
    return template_db(request, tmp_path_factory)
