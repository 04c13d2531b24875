"""A config directory wired to the session emulator, and helpers to look at both sides."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.helpers import Result, run_osctl


@dataclass
class Workspace:
    dir: Path
    emulator: object
    seeded: frozenset = frozenset()  # the app's own segments before the test (built-ins, samples)

    @property
    def app_id(self) -> str:
        return self.emulator.app_id

    @property
    def key(self) -> str:
        return self.emulator.api_key

    def write(self, segments: dict[str, list[dict] | dict], extra: str = "", name: str = "osctl.yaml",
              updates: str | None = None) -> None:
        """Declare segments {name: filters} or {name: {"filters": [...], "prevent_destroy": True}};
        `updates` sets the app's segment_updates."""
        app = f"app_id: {self.app_id}" + (f", segment_updates: {updates}" if updates else "")
        lines = ["osctl: 1", "apps:", f"  prod: {{{app}}}"]
        if segments:
            lines.append("segments:")
        for seg_name, spec in segments.items():
            spec = spec if isinstance(spec, dict) else {"filters": spec}
            lines.append(f"  - name: {json.dumps(seg_name)}")
            for key, value in spec.items():
                lines.append(f"    {key}: {json.dumps(value)}")
        (self.dir / name).write_text("\n".join(lines) + "\n" + extra)

    def osctl(self, *args: str, input: str | None = None) -> Result:
        result = run_osctl(*args, "-c", str(self.dir), env=self.emulator.env(), input=input)
        assert self.key not in result.output, "the API key leaked into osctl's output"
        return result

    def state(self) -> dict:
        path = self.dir / ".osctl" / "state.json"
        text = path.read_text()
        assert self.key not in text, "the API key leaked into state"
        return json.loads(text)

    # -- the live side, through the API directly --------------------------------
    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Key {self.key}"}
        return httpx.request(method, f"{self.emulator.url}{path}", headers=headers, timeout=10, **kwargs)

    def all_live(self) -> dict[str, str]:
        body = self.api("GET", f"/apps/{self.app_id}/segments", params={"limit": 300}).json()
        return {s["name"]: s["id"] for s in body["segments"]}

    def live(self) -> dict[str, str]:
        """name -> id of the segments that were not there before the test."""
        return {name: sid for name, sid in self.all_live().items() if sid not in self.seeded}

    def live_filters(self, segment_id: str) -> list[dict]:
        body = self.api("GET", f"/apps/{self.app_id}/segments/{segment_id}",
                        params={"include-segment-detail": "true"}).json()
        return body["payload"]["filters"]


@pytest.fixture
def ws(tmp_path, emulator) -> Workspace:
    workspace = Workspace(tmp_path, emulator)
    workspace.seeded = frozenset(workspace.all_live().values())
    return workspace


US = [{"field": "country", "relation": "=", "value": "US"}]
CA = [{"field": "country", "relation": "=", "value": "CA"}]
VIP = [{"field": "tag", "key": "vip", "relation": "exists"}]
