"""MLflow's telemetry thread edits os.environ when its config fetch fails (offline): lightdsl
lets it finish before touching a store, so no HTTP call races it (a KeyError from
``os.environ`` mid-run, seen under load against a real server)."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("mlflow")

from mlflow.environment_variables import _MLFLOW_TELEMETRY_SESSION_ID
from mlflow.telemetry import client as telemetry

from lightdsl.trainer.mlflow_logger import mlflow_client


@pytest.fixture
def fresh_telemetry(monkeypatch):
    """A new, inactive telemetry client whose config fetch fails as it does offline; the
    process's own client back afterwards."""
    fetched = []
    monkeypatch.setattr(telemetry.TelemetryClient, "_get_config",
                        lambda self: fetched.append(self))  # no config: telemetry stops
    monkeypatch.setenv(_MLFLOW_TELEMETRY_SESSION_ID.name, "before")
    before = telemetry.get_telemetry_client()
    telemetry._set_telemetry_client(telemetry.TelemetryClient())
    yield fetched
    telemetry._set_telemetry_client(before)


def test_the_config_fetch_has_ended_before_a_client_is_handed_out(fresh_telemetry):
    client = telemetry.get_telemetry_client()
    assert client is not None and not client.is_active
    mlflow_client()
    assert fresh_telemetry == [client]  # fetched, in its own thread, which has ended:
    assert not client._config_thread.is_alive()
    # what the thread does to os.environ is done, so nothing can change it under a request
    assert _MLFLOW_TELEMETRY_SESSION_ID.name not in os.environ
    assert telemetry.get_telemetry_client() is None


def test_no_telemetry_no_wait(monkeypatch):
    monkeypatch.setattr(telemetry, "get_telemetry_client", lambda: None)
    assert mlflow_client().__name__ == "MlflowClient"
