"""A stand-in for the few GitLab REST calls the merge-request note needs, on 127.0.0.1.

GitLab is a service outside osctl, so the test imitates it: GET /user, and a
merge request's notes (list with per_page/page and X-Next-Page, create,
update), all behind PRIVATE-TOKEN. Form or JSON bodies, as GitLab accepts.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.httpserver import LocalHTTPServer, answer


@dataclass
class FakeGitlab:
    token: str
    bot_id: int = 99
    notes: list[dict] = field(default_factory=list)  # {"id", "body", "author": {"id"}, "mr": iid}
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of authorised calls
    refused: int = 0
    _server: LocalHTTPServer | None = None

    @property
    def api_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"{self._server.url}/api/v4"

    def add_note(self, mr: int, body: str, author_id: int) -> dict:
        note = {"id": 1000 + len(self.notes), "body": body, "author": {"id": author_id}, "mr": mr}
        self.notes.append(note)
        return note

    def start(self) -> FakeGitlab:
        self._server = LocalHTTPServer(self._serve)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    def _serve(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        status, payload, headers = self._route(request.command, request.path, request.headers, body)
        answer(request, status, json.dumps(payload).encode(), {"Content-Type": "application/json", **headers})

    def _route(self, method: str, path: str, headers, body: bytes) -> tuple[int, object, dict[str, str]]:
        url = urllib.parse.urlsplit(path)
        if headers.get("PRIVATE-TOKEN") != self.token:
            self.refused += 1
            return 401, {"message": "401 Unauthorized"}, {}
        self.calls.append((method, url.path))
        parts = url.path.removeprefix("/api/v4/").split("/")
        if parts == ["user"] and method == "GET":
            return 200, {"id": self.bot_id, "username": "project_1_bot"}, {}
        if len(parts) >= 5 and parts[0] == "projects" and parts[2] == "merge_requests" and parts[4] == "notes":
            mr = int(parts[3])
            mine = [n for n in self.notes if n["mr"] == mr]
            if len(parts) == 5 and method == "GET":
                query = urllib.parse.parse_qs(url.query)
                per_page = int(query.get("per_page", ["20"])[0])
                page = int(query.get("page", ["1"])[0])
                batch = mine[(page - 1) * per_page: page * per_page]
                more = page * per_page < len(mine)
                return 200, batch, {"X-Next-Page": str(page + 1) if more else ""}
            if len(parts) == 5 and method == "POST":
                return 201, self.add_note(mr, _form(headers, body)["body"], self.bot_id), {}
            if len(parts) == 6 and method == "PUT":
                note = next((n for n in mine if n["id"] == int(parts[5])), None)
                if note is None:
                    return 404, {"message": "404 Not found"}, {}
                if note["author"]["id"] != self.bot_id:
                    return 403, {"message": "403 Forbidden"}, {}
                note["body"] = _form(headers, body)["body"]
                return 200, note, {}
        return 404, {"message": "404 Not found"}, {}


def _form(headers, body: bytes) -> dict:
    """A request body as GitLab reads it: JSON, or a form."""
    raw = body.decode()
    if headers.get("Content-Type", "").startswith("application/json"):
        return json.loads(raw)
    return {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
