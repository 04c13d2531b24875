"""Fault injection: make chosen requests slow, fail, or lose their connection.

A fault rule: {"kind", "probability" (default 1), "path" (regex searched in the
path, optional), "method" (optional), "times" (stop after this many, optional)}
plus "latency_ms" for `latency` and "retry_after" (seconds) for the 503 kinds
and `429`.

Kinds:
  latency      answer normally, `latency_ms` later
  503_empty    503 with an empty body; the request is not processed
  503_html     503 with an HTML body (what a proxy in front of the API sends)
  429          429 {"errors":["API rate limit exceeded"]} with an integer
               Retry-After (`retry_after`, default 1); the request is not processed
  drop         close the connection without processing or answering
  lost_answer  process the request (a create really happens), then close the
               connection before the answer is written
The first rule that matches and fires wins. Draws come from random.Random(seed),
so a run with the same requests in the same order injects the same faults.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass

KINDS = ("latency", "503_empty", "503_html", "429", "drop", "lost_answer")
MAX_LATENCY_MS = 600_000  # ten minutes: longer is a typo, and would hold a server thread


@dataclass
class Fault:
    kind: str
    probability: float = 1.0
    path: str | None = None
    method: str | None = None
    times: int | None = None
    latency_ms: int = 0
    retry_after: int | None = None
    fired: int = 0

    @classmethod
    def from_dict(cls, data: dict) -> Fault:
        if not isinstance(data, dict):
            raise ValueError("a fault is an object")
        unknown = set(data) - {"kind", "probability", "path", "method", "times", "latency_ms", "retry_after"}
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        kind = data.get("kind")
        if kind not in KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(KINDS)}")
        for key, kinds, kind_name in (("probability", int | float, "number"), ("path", str, "str"),
                                      ("method", str, "str"), ("times", int, "int"), ("latency_ms", int, "int")):
            if key in data and (isinstance(data[key], bool) or not isinstance(data[key], kinds)):
                raise ValueError(f"a fault's {key} must be a {kind_name}")
        fault = cls(kind=kind, probability=float(data.get("probability", 1.0)), path=data.get("path"),
                    method=(data.get("method") or None) and str(data["method"]).upper(),
                    times=data.get("times"), latency_ms=data.get("latency_ms", 0),
                    retry_after=data.get("retry_after"))
        if not 0 <= fault.probability <= 1:
            raise ValueError("probability must be between 0 and 1")
        if not 0 <= fault.latency_ms <= MAX_LATENCY_MS:
            raise ValueError(f"latency_ms must be between 0 and {MAX_LATENCY_MS}")
        if fault.path is not None:
            re.compile(fault.path)
        if kind == "latency" and fault.latency_ms <= 0:
            raise ValueError("a latency fault needs latency_ms > 0")
        after = fault.retry_after
        if after is not None and (isinstance(after, bool) or not isinstance(after, int) or not 0 <= after <= 86_400):
            raise ValueError("a fault's retry_after is a whole number of seconds from 0 to 86400")
        if kind == "429" and after is None:
            fault.retry_after = 1
        return fault

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.faults: list[Fault] = []
        self.seed = 0
        self._rng = random.Random(0)

    def configure(self, faults: list[dict], seed: int = 0) -> None:
        parsed = [Fault.from_dict(f) for f in faults]
        with self._lock:
            self.faults, self.seed, self._rng = parsed, seed, random.Random(seed)

    def clear(self) -> None:
        self.configure([])

    def describe(self) -> dict:
        with self._lock:
            return {"seed": self.seed, "faults": [f.to_dict() for f in self.faults]}

    def pick(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times is not None and fault.fired >= fault.times:
                    continue
                if fault.method and fault.method != method:
                    continue
                if fault.path and not re.search(fault.path, path):
                    continue
                if fault.probability < 1 and self._rng.random() >= fault.probability:
                    continue
                fault.fired += 1
                return fault
        return None
