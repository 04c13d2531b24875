"""Clients for the emulator tests: raw httpx (sees everything) and OneSignal's own SDK."""

from __future__ import annotations

import csv
import gzip
import io

import httpx
import pytest


@pytest.fixture
def api(emulator):
    """httpx client authenticated as the emulator's first app."""
    with httpx.Client(base_url=emulator.url, headers={"Authorization": f"Key {emulator.api_key}"},
                      timeout=10) as client:
        yield client


@pytest.fixture
def anon(emulator):
    """httpx client without credentials (file downloads, auth failures)."""
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        yield client


def read_csv_gz(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(gzip.decompress(content).decode())))


def create_segment(api, app_id: str, name: str, filters: list[dict]) -> str:
    response = api.post(f"/apps/{app_id}/segments", json={"name": name, "filters": filters})
    assert response.status_code == 201, response.text
    return response.json()["id"]
