"""Fault injection: each kind, the path/method filters, `times`, and seeded probabilities."""

from __future__ import annotations

import time

import httpx
import pytest

US = [{"field": "country", "relation": "=", "value": "US"}]


def segment_names(api, emulator) -> list[str]:
    return [s["name"] for s in api.get(f"/apps/{emulator.app_id}/segments").json()["segments"]]


def test_latency(emulator, api):
    emulator.set_faults([{"kind": "latency", "latency_ms": 300, "path": "/segments$"}])
    started = time.perf_counter()
    assert api.get(f"/apps/{emulator.app_id}/segments").status_code == 200
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    assert api.get("/notifications", params={"app_id": emulator.app_id}).status_code == 200
    assert time.perf_counter() - started < 0.3


def test_503_with_empty_body_does_not_process_the_request(emulator, api):
    emulator.set_faults([{"kind": "503_empty", "method": "POST", "retry_after": 3}])
    response = api.post(f"/apps/{emulator.app_id}/segments", json={"name": "x", "filters": US})
    assert response.status_code == 503 and response.content == b""
    assert response.headers["Retry-After"] == "3"
    assert "x" not in segment_names(api, emulator)  # GETs are not affected by a POST-only rule


def test_503_with_html_body(emulator, api):
    emulator.set_faults([{"kind": "503_html"}])
    response = api.get(f"/apps/{emulator.app_id}/segments")
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "text/html" and "Retry-After" not in response.headers
    assert response.text.lstrip().startswith("<html>")
    with pytest.raises(ValueError):
        response.json()


def test_429_with_retry_after_does_not_process_the_request(emulator, api):
    emulator.set_faults([{"kind": "429", "path": "/segments$", "method": "POST", "times": 1}])
    response = api.post(f"/apps/{emulator.app_id}/segments", json={"name": "limited", "filters": US})
    assert response.status_code == 429
    assert response.json() == {"errors": ["API rate limit exceeded"]}
    assert response.headers["Retry-After"] == "1"  # the default
    assert response.headers["Content-Type"].startswith("application/json")
    assert "limited" not in segment_names(api, emulator)  # GETs are not affected by a POST-only rule
    log = [e for e in emulator.requests() if e["method"] == "POST"]
    assert log[-1]["fault"] == "429" and log[-1]["status"] == 429
    # `times: 1`: the next request goes through
    assert api.post(f"/apps/{emulator.app_id}/segments", json={"name": "limited", "filters": US}).status_code == 201


def test_429_retry_after_is_configurable_and_an_integer(emulator, api):
    emulator.set_faults([{"kind": "429", "retry_after": 7}])
    response = api.get(f"/apps/{emulator.app_id}/segments")
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    for bad in (1.5, "7", -1, True):
        with pytest.raises(ValueError, match="retry_after"):
            emulator.set_faults([{"kind": "429", "retry_after": bad}])


def test_429_at_a_probability_is_reproducible_from_the_seed(emulator):
    def run(seed: int) -> list[int]:
        emulator.set_faults([{"kind": "429", "probability": 0.3, "path": "/segments$"}], seed=seed)
        with httpx.Client(base_url=emulator.url, headers={"Authorization": f"Key {emulator.api_key}"}) as client:
            return [client.get(f"/apps/{emulator.app_id}/segments").status_code for _ in range(40)]

    first = run(seed=11)
    assert run(seed=11) == first
    assert 3 < first.count(429) < 25 and set(first) == {200, 429}


def test_dropped_connection_processes_nothing(emulator, api):
    emulator.set_faults([{"kind": "drop", "method": "POST", "times": 1}])
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(f"/apps/{emulator.app_id}/segments", json={"name": "dropped", "filters": US})
    assert "dropped" not in segment_names(api, emulator)
    # `times: 1`: the next request goes through
    assert api.post(f"/apps/{emulator.app_id}/segments", json={"name": "dropped", "filters": US}).status_code == 201


def test_lost_answer_creates_but_never_answers(emulator, api):
    emulator.set_faults([{"kind": "lost_answer", "path": "/segments$", "method": "POST"}])
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(f"/apps/{emulator.app_id}/segments", json={"name": "lost", "filters": US})
    assert "lost" in segment_names(api, emulator)
    log = [e for e in emulator.requests() if e["method"] == "POST"]
    assert log[-1]["fault"] == "lost_answer" and log[-1]["status"] == 201


def test_faults_apply_to_file_downloads_too(emulator, api, anon):
    url = api.post("/players/csv_export", params={"app_id": emulator.app_id}, json={}).json()["csv_file_url"]
    emulator.advance(1)
    emulator.set_faults([{"kind": "drop", "path": "^/_files/", "times": 1}])
    with pytest.raises(httpx.RemoteProtocolError):
        anon.get(url)
    assert anon.get(url).status_code == 200


def outcomes_with(emulator, seed: int) -> list[int]:
    emulator.set_faults([{"kind": "503_empty", "probability": 0.5}], seed=seed)
    with httpx.Client(base_url=emulator.url, headers={"Authorization": f"Key {emulator.api_key}"}) as client:
        return [client.get(f"/apps/{emulator.app_id}/segments").status_code for _ in range(40)]


def test_probabilities_are_reproducible_from_the_seed(emulator):
    first = outcomes_with(emulator, seed=7)
    assert outcomes_with(emulator, seed=7) == first
    assert 5 < first.count(503) < 35 and set(first) == {200, 503}
    assert outcomes_with(emulator, seed=8) != first


def test_faults_over_the_control_api(emulator, api):
    control = f"{emulator.url}/_emulator/faults"
    reply = httpx.put(control, json={"seed": 3, "faults": [{"kind": "503_html", "path": "outcomes"}]})
    assert reply.status_code == 200 and reply.json()["faults"][0]["kind"] == "503_html"
    assert api.get(f"/apps/{emulator.app_id}/outcomes", params={"outcome_names": "os__click.count"}).status_code == 503
    assert httpx.delete(control).json() == {"seed": 0, "faults": []}
    assert api.get(f"/apps/{emulator.app_id}/outcomes", params={"outcome_names": "os__click.count"}).status_code == 200
    bad = httpx.put(control, json={"faults": [{"kind": "explode"}]})
    assert bad.status_code == 400 and "kind" in bad.json()["error"]
    assert httpx.put(control, json={"faults": [{"kind": "drop", "probability": 2}]}).status_code == 400


def test_control_requests_are_never_faulted(emulator):
    emulator.set_faults([{"kind": "drop"}])
    assert httpx.get(f"{emulator.url}/_emulator/").status_code == 200
