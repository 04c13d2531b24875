"""The validated configuration as frozen values. Built only from a config without errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from osctl.addresses import export_address, segment_address
from osctl.config.source import Location
from osctl.users.guards import GuardRails
from osctl.users.model import DeclaredUser

DEFAULT_API_KEY_ENV = "ONESIGNAL_API_KEY"
DEFAULT_ACCOUNT = "default"
DEFAULT_STATE_PATH = ".osctl/state.json"
DEFAULT_DSN_ENV = "OSCTL_STATE_DSN"
DEFAULT_TIMEOUT_SECONDS = 60 * 60
SEGMENT_UPDATES = ("replace", "in_place")  # replace: delete + create (new id); in_place: PATCH (id kept)
# what `osctl init` writes for app_id (osctl/templates/osctl.yaml); it names no real app
PLACEHOLDER_APP_ID = "00000000-0000-0000-0000-000000000000"


class ExportKind(StrEnum):
    """The kinds of export; each has a settings block of the same name in the config.
    A str: compares equal to the kind as written in YAML, state and saved plans."""

    SUBSCRIPTIONS = "subscriptions"
    AUDIENCE_ACTIVITY = "audience_activity"
    MESSAGE_HISTORY = "message_history"
    OUTCOMES = "outcomes"


EXPORT_KINDS = tuple(ExportKind)
# kinds that export one file per message
PER_MESSAGE_KINDS = (ExportKind.AUDIENCE_ACTIVITY, ExportKind.MESSAGE_HISTORY)


@dataclass(frozen=True)
class App:
    alias: str
    app_id: str
    api_key_env: str = DEFAULT_API_KEY_ENV
    account: str = DEFAULT_ACCOUNT
    segment_updates: str = "replace"
    test_users: GuardRails | None = None  # guard rails; required before any test user of the app


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
    update: str | None = None  # replace | in_place; None: the app's segment_updates
    renamed_from: tuple[str, ...] = ()  # earlier names: state under one of them is this segment

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
class SubscriptionsOptions:
    """A `subscriptions:` block (docs/exports.md)."""

    extra_fields: tuple[str, ...] = ()  # extra CSV columns
    segment: str | None = None  # the segment exported (its name), None: all subscriptions
    last_active_within_seconds: int | None = None  # only subscriptions active this recently
    include_unsubscribed: bool | None = None  # sent only with a segment


@dataclass(frozen=True)
class AudienceActivityOptions:
    """An `audience_activity:` block."""

    messages: MessageSelector


@dataclass(frozen=True)
class MessageHistoryOptions:
    """A `message_history:` block."""

    messages: MessageSelector
    events: str  # sent | clicked
    email: str | None = None


@dataclass(frozen=True)
class OutcomesOptions:
    """An `outcomes:` block."""

    names: tuple[str, ...]  # NAME.count | NAME.sum
    time_range: str = "1h"  # 1h | 1d | 1mo
    platforms: tuple[int, ...] | None = None  # device_type numbers; None: all
    attribution: str | None = None  # direct | influenced | unattributed | total


# an export's settings: one class per kind, built from the kind's block in the config
ExportOptions = SubscriptionsOptions | AudienceActivityOptions | MessageHistoryOptions | OutcomesOptions


@dataclass(frozen=True)
class Export:
    name: str
    app: str
    kind: ExportKind
    destination: str
    options: ExportOptions  # the kind's settings, of the class named after the kind (docs/design.md#exports)
    schedule: str | None = None  # normalised 5-field cron, None = on demand only
    timezone: str = "UTC"
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    location: Location | None = field(default=None, compare=False)
    keep_files: int | None = None  # retention: keep this many newest files
    keep_seconds: int | None = None  # retention: keep files written within this long
    # the kind's block as written, as canonical JSON: what config_digest covers of the
    # options, so digests (and saved plans) stay those of osctl versions before typed options
    declared_options: str = field(default="{}", compare=False, repr=False)

    @property
    def segment(self) -> str | None:
        """subscriptions: the segment exported, if any."""
        return self.options.segment if isinstance(self.options, SubscriptionsOptions) else None

    @property
    def messages(self) -> MessageSelector | None:
        """Per-message kinds: which messages get a file."""
        if isinstance(self.options, (AudienceActivityOptions, MessageHistoryOptions)):
            return self.options.messages
        return None

    @property
    def address(self) -> str:
        return export_address(self.name)

    @property
    def keep(self) -> str | None:
        """The retention as written in the config (30d, 12), None when files are kept forever."""
        if self.keep_files is not None:
            return str(self.keep_files)
        if self.keep_seconds is not None:
            from osctl.durations import format_duration

            return format_duration(self.keep_seconds)
        return None


@dataclass(frozen=True)
class Config:
    directory: str
    apps: dict[str, App]
    state: StateSettings
    segments: tuple[Segment, ...]
    exports: tuple[Export, ...]
    test_users: tuple[DeclaredUser, ...] = ()
    imports: tuple[Import, ...] = ()
    digest: str = ""  # sha256 over the canonical content, for saved plans
    # non-secret options of remote destinations by URL scheme ("s3", "az"), as declared
    storage: dict = field(default_factory=dict, compare=False, hash=False)

    def segment(self, app: str, name: str) -> Segment | None:
        for s in self.segments:
            if s.app == app and s.name == name:
                return s
        return None

    def update_strategy(self, segment: Segment) -> str:
        """replace or in_place: the segment's own `update`, else its app's `segment_updates`."""
        app = self.apps.get(segment.app)
        return segment.update or (app.segment_updates if app else "replace")

    def test_user(self, app: str, external_id: str) -> DeclaredUser | None:
        return next((u for u in self.test_users if u.app == app and u.external_id == external_id), None)

    def export(self, name: str) -> Export | None:
        for e in self.exports:
            if e.name == name:
                return e
        return None

