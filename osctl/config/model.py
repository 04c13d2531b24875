"""The validated configuration as frozen values. Built only from a config without errors."""

from __future__ import annotations

from dataclasses import dataclass, field

from osctl.config.source import Location

DEFAULT_API_KEY_ENV = "ONESIGNAL_API_KEY"
DEFAULT_ACCOUNT = "default"
DEFAULT_STATE_PATH = ".osctl/state.json"
DEFAULT_DSN_ENV = "OSCTL_STATE_DSN"
DEFAULT_TIMEOUT_SECONDS = 60 * 60
EXPORT_KINDS = ("subscriptions", "audience_activity", "message_history", "outcomes")
PER_MESSAGE_KINDS = ("audience_activity", "message_history")


@dataclass(frozen=True)
class App:
    alias: str
    app_id: str
    api_key_env: str = DEFAULT_API_KEY_ENV
    account: str = DEFAULT_ACCOUNT


@dataclass(frozen=True)
class StateSettings:
    backend: str = "local"
    path: str = DEFAULT_STATE_PATH  # local: relative to the config dir
    dsn_env: str = DEFAULT_DSN_ENV  # postgres
    workspace: str = "default"  # postgres


@dataclass(frozen=True)
class Segment:
    app: str
    name: str
    filters: tuple  # canonical filter dicts, exactly what is sent
    digest: str
    description: str | None = None
    prevent_destroy: bool = False
    location: Location | None = field(default=None, compare=False)

    @property
    def address(self) -> str:
        return segment_address(self.app, self.name)


@dataclass(frozen=True)
class Import:
    """An `imports:` block: adopt the live segment `id` as the declared segment (app, segment)."""

    app: str
    segment: str
    id: str
    location: Location | None = field(default=None, compare=False)

    @property
    def address(self) -> str:
        return segment_address(self.app, self.segment)


@dataclass(frozen=True)
class MessageSelector:
    ids: tuple[str, ...] = ()
    sent_within_seconds: int | None = None
    kind: str | None = None  # dashboard | api | automated
    settle_seconds: int = 0


@dataclass(frozen=True)
class Export:
    name: str
    app: str
    kind: str
    destination: str
    schedule: str | None = None  # normalised 5-field cron, None = on demand only
    timezone: str = "UTC"
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    # kind-specific settings, as declared (validated); see docs/design.md#exports
    options: dict = field(default_factory=dict, compare=False, hash=False)
    messages: MessageSelector | None = None
    segment: str | None = None  # subscriptions: the segment exported, if any
    location: Location | None = field(default=None, compare=False)

    @property
    def address(self) -> str:
        return f"export.{self.name}"


@dataclass(frozen=True)
class Config:
    directory: str
    apps: dict[str, App]
    state: StateSettings
    segments: tuple[Segment, ...]
    exports: tuple[Export, ...]
    imports: tuple[Import, ...] = ()
    digest: str = ""  # sha256 over the canonical content, for saved plans

    def segment(self, app: str, name: str) -> Segment | None:
        for s in self.segments:
            if s.app == app and s.name == name:
                return s
        return None

    def export(self, name: str) -> Export | None:
        for e in self.exports:
            if e.name == name:
                return e
        return None


def segment_address(app: str, name: str) -> str:
    return f"segment.{app}.{name}"
