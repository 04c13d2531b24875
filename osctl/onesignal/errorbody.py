"""Flatten every error-body shape OneSignal (and what sits in front of it) returns into messages.

Shapes listed in docs/onesignal-api.md#authentication-and-errors: {"errors": ["..."]}, {"errors": "..."},
{"errors": [{"code", "title", "meta"}]}, {"success": false} alone, an empty body,
HTML from a proxy, S3's XML <Error>. Pure: bytes in, list of strings out.
"""

from __future__ import annotations

import html
import json
import re

_MAX_TEXT = 300
_TAG = re.compile(r"<[^>]+>")
_SCRIPT = re.compile(r"<(script|style)[^>]*>.*?</\1>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_XML_FIELD = r"<{0}>(.*?)</{0}>"


def flatten_error_body(body: bytes | str | None) -> list[str]:
    """Human-readable messages from an error answer; [] when it carries none."""
    if body is None:
        return []
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    text = text.strip()
    if not text:
        return []
    try:
        data = json.loads(text)
    except ValueError:
        return _flatten_markup_or_text(text)
    return _flatten_json(data)


def _flatten_json(data: object) -> list[str]:
    if isinstance(data, dict):
        for key in ("errors", "error", "message", "messages"):
            if key in data and data[key] not in (None, "", [], {}):
                return _messages(data[key])
        return []  # e.g. {"success": false}: nothing to say beyond the status
    return _messages(data)


def _messages(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [_one_line(value)] if value.strip() else []
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            out.extend(_messages(item))
        return out
    if isinstance(value, dict):
        return _dict_message(value)
    return [_one_line(str(value))]


def _dict_message(item: dict) -> list[str]:
    """{code, title, meta} (JSON:API style) or {field: [messages]}."""
    title = item.get("title") or item.get("message") or item.get("detail")
    code = item.get("code")
    if title or code:
        text = str(title or code)
        if title and code and str(code) != str(title):
            text = f"{title} ({code})"
        return [_one_line(text)]
    out: list[str] = []
    for key, value in item.items():
        for message in _messages(value):
            out.append(f"{key}: {message}")
    return out


def _flatten_markup_or_text(text: str) -> list[str]:
    if text.startswith("<?xml") or "<Error>" in text:
        code = _xml_field(text, "Code")
        message = _xml_field(text, "Message")
        if code or message:
            return [": ".join(part for part in (code, message) if part)]
    if "<html" in text.lower() or "<!doctype" in text.lower():
        title = _HTML_TITLE.search(text)
        if title and title.group(1).strip():
            return [_one_line(html.unescape(title.group(1)))]
        visible = _TAG.sub(" ", _SCRIPT.sub(" ", text))
        return [_one_line(html.unescape(visible))] if visible.strip() else []
    return [_one_line(text)]


def _xml_field(text: str, name: str) -> str:
    match = re.search(_XML_FIELD.format(name), text, re.DOTALL)
    return _one_line(html.unescape(match.group(1))) if match else ""


def _one_line(text: str) -> str:
    text = _SPACE.sub(" ", text).strip()
    if len(text) > _MAX_TEXT:
        text = text[: _MAX_TEXT - 1] + "…"
    return text
