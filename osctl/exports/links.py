"""Export file URLs are bearer links: whoever holds one can fetch the file for 3 days.
They may be kept in state (to resume), but are shown only masked. Pure."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MASK = "…"  # replaces the secret part of a bearer link
# a URL in free text (an error message, a warning): up to a space, quote or closing bracket
_URL_IN_TEXT = re.compile(r"\bhttps?://[^\s\"'<>)\]]*", re.IGNORECASE)


def mask_url(url: str) -> str:
    """scheme://host/… : enough to say where, not enough to fetch the file."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return MASK
    if not parts.scheme or not parts.hostname:
        return MASK
    host = f"{parts.hostname}:{port}" if port else parts.hostname
    return f"{parts.scheme}://{host}/{MASK}"


def is_masked_url(url: str) -> bool:
    return url.endswith(MASK)


def mask_urls_in(text: str) -> str:
    """Free text with every URL that has more than a host masked (see mask_url)."""
    def mask(match: re.Match) -> str:
        url = match.group(0)
        parts = urlsplit(url)
        return url if not (parts.path.strip("/") or parts.query or parts.fragment or "@" in parts.netloc) \
            else mask_url(url)

    return _URL_IN_TEXT.sub(mask, text)
