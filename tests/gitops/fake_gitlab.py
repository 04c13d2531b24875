"""A stand-in for the few GitLab REST calls the merge-request note needs, on 127.0.0.1.

GitLab is a service outside osctl, so the test imitates it: GET /user, and a
merge request's notes (list with per_page/page and X-Next-Page, create,
update), all behind PRIVATE-TOKEN. Form or JSON bodies, as GitLab accepts.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class FakeGitlab:
    token: str
    bot_id: int = 99
    notes: list[dict] = field(default_factory=list)  # {"id", "body", "author": {"id"}, "mr": iid}
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of authorised calls
    refused: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def api_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/v4"

    def add_note(self, mr: int, body: str, author_id: int) -> dict:
        note = {"id": 1000 + len(self.notes), "body": body, "author": {"id": author_id}, "mr": mr}
        self.notes.append(note)
        return note

    def start(self) -> FakeGitlab:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _answer(self, status: int, payload, headers: dict | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    return json.loads(raw)
                return {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}

            def _route(self, method: str) -> None:
                url = urllib.parse.urlsplit(self.path)
                if self.headers.get("PRIVATE-TOKEN") != fake.token:
                    fake.refused += 1
                    return self._answer(401, {"message": "401 Unauthorized"})
                fake.calls.append((method, url.path))
                parts = url.path.removeprefix("/api/v4/").split("/")
                if parts == ["user"] and method == "GET":
                    return self._answer(200, {"id": fake.bot_id, "username": "project_1_bot"})
                if len(parts) >= 5 and parts[0] == "projects" and parts[2] == "merge_requests" \
                        and parts[4] == "notes":
                    mr = int(parts[3])
                    mine = [n for n in fake.notes if n["mr"] == mr]
                    if len(parts) == 5 and method == "GET":
                        query = urllib.parse.parse_qs(url.query)
                        per_page = int(query.get("per_page", ["20"])[0])
                        page = int(query.get("page", ["1"])[0])
                        batch = mine[(page - 1) * per_page: page * per_page]
                        more = page * per_page < len(mine)
                        return self._answer(200, batch, {"X-Next-Page": str(page + 1) if more else ""})
                    if len(parts) == 5 and method == "POST":
                        note = fake.add_note(mr, self._body()["body"], fake.bot_id)
                        return self._answer(201, note)
                    if len(parts) == 6 and method == "PUT":
                        note = next((n for n in mine if n["id"] == int(parts[5])), None)
                        if note is None:
                            return self._answer(404, {"message": "404 Not found"})
                        if note["author"]["id"] != fake.bot_id:
                            return self._answer(403, {"message": "403 Forbidden"})
                        note["body"] = self._body()["body"]
                        return self._answer(200, note)
                return self._answer(404, {"message": "404 Not found"})

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

            def do_PUT(self):
                self._route("PUT")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
