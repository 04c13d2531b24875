"""A Diagnostic is one problem found in the configuration, with where it is."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, order=True)
class Diagnostic:
    file: str
    line: int  # 1-based; 0 when unknown
    col: int  # 1-based; 0 when unknown
    path: str  # e.g. segments[3].filters[1].relation; "" for the whole file
    message: str
    valid: str = ""  # what would be valid, shown as "(valid: ...)"
    severity: str = "error"  # error | warning

    def format(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.col}"
        text = f"{where}: "
        if self.severity == "warning":
            text += "warning: "
        if self.path:
            text += f"{self.path}: "
        text += self.message
        if self.valid:
            text += f" (valid: {self.valid})"
        return text

    def to_dict(self) -> dict:
        return asdict(self)


def errors_only(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity == "error"]


def format_path(parts: tuple | list) -> str:
    """('segments', 3, 'filters', 1, 'relation') -> segments[3].filters[1].relation"""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
