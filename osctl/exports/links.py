"""Export file URLs are bearer links: whoever holds one can fetch the file for 3 days.
They may be kept in state (to resume), but are shown only masked. Pure."""

from __future__ import annotations

from urllib.parse import urlsplit


def mask_url(url: str) -> str:
    """scheme://host/… : enough to say where, not enough to fetch the file."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "…"
    if not parts.scheme or not parts.netloc:
        return "…"
    host = parts.hostname or ""
    if port:
        host = f"{host}:{port}"
    return f"{parts.scheme}://{host}/…"
