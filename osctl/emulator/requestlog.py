"""The request log the control API serves to tests.

Authorization values are stored only as a SHA-256 digest: a test can check
which key was used (by hashing it the same way) without the log holding keys.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from typing import Any

from osctl.emulator.server import BadRequestBody, parse_json

MAX_ENTRIES = 20_000
MAX_BODY = 64 * 1024


def hash_authorization(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


class RequestLog:
    def __init__(self) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=MAX_ENTRIES)
        self._lock = threading.Lock()
        self._sequence = 0

    def record(self, *, time: float, method: str, path: str, query: str, authorization: str | None,
               body: bytes, status: int | None, fault: str | None, duration_ms: float) -> None:
        parsed: Any = None
        if body and len(body) <= MAX_BODY:
            try:
                parsed = parse_json(body)
            except BadRequestBody:
                parsed = None
        with self._lock:
            self._sequence += 1
            self._entries.append({
                "seq": self._sequence, "time": time, "method": method, "path": path, "query": query,
                "authorization": hash_authorization(authorization) if authorization else None,
                "body": parsed, "status": status, "fault": fault, "duration_ms": round(duration_ms, 3),
            })

    def entries(self, since: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries if e["seq"] > since]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

