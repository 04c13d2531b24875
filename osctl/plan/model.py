"""The plan as values. Renderers and saved plans read it through to_dict().

Like Terraform's ActionReason, a change's `reason` exists to explain and never
to decide: the executor branches only on `action`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum

PLAN_FORMAT_VERSION = "1"


class Action(StrEnum):
    CREATE = "create"
    DELETE = "delete"
    REPLACE = "replace"  # delete, then create: the segment gets a new id
    UPDATE = "update"  # one PATCH: name and filters change, the id is kept
    FORGET = "forget"  # state only: the segment is already gone
    ADOPT = "adopt"  # state only: record a segment whose create answer was lost
    UPDATE_STATE = "update-state"  # state only: description changed (never sent)
    IMPORT = "import"  # state only: an `imports:` block adopts a live segment that matches its declaration

    @property
    def symbol(self) -> str:
        return {"create": "+", "delete": "-", "replace": "-/+", "import": "<="}.get(self.value, "~")

    @property
    def is_destructive(self) -> bool:
        return self in (Action.DELETE, Action.REPLACE)

    @property
    def creates_segment(self) -> bool:
        """Creates a segment in OneSignal (a replace creates one after its delete): a new id."""
        return self in (Action.CREATE, Action.REPLACE)

    @property
    def changes_live_segment(self) -> bool:
        """Sends a request about an existing segment id (which must still be live)."""
        return self in (Action.DELETE, Action.REPLACE, Action.UPDATE)


class Reason(StrEnum):
    NEW = "new"
    FILTERS_CHANGED = "filters_changed"
    EDITED_OUTSIDE = "edited_outside"
    DELETED_OUTSIDE = "deleted_outside"
    NOT_DECLARED = "not_declared"
    CREATE_INTERRUPTED = "create_interrupted"
    DESCRIPTION_CHANGED = "description_changed"
    RENAMED_OUTSIDE = "renamed_outside"
    RENAMED_FROM = "renamed_from"
    IMPORT_BLOCK = "import_block"
    DECLARATION_CHANGED = "declaration_changed"
    ALREADY_LIVE = "already_live"

    @property
    def text(self) -> str:
        return {
            "new": "declared and not yet created",
            "filters_changed": "filters changed in the configuration",
            "edited_outside": "filters were edited outside osctl (drift)",
            "deleted_outside": "the segment was deleted outside osctl (drift)",
            "not_declared": "no longer declared in the configuration",
            "create_interrupted": "an earlier create did not finish",
            "description_changed": "description changed (kept in state only, never sent)",
            "renamed_outside": "the segment was renamed outside osctl (drift)",
            "renamed_from": "renamed in the configuration (renamed_from)",
            "import_block": "an imports: block adopts this existing segment",
            "declaration_changed": "changed in the configuration",
            "already_live": "OneSignal already has it as declared: an earlier apply stopped before recording it",
        }[self.value]

    @property
    def user_text(self) -> str:
        """The reason worded for a test user (the segment wording speaks of filters)."""
        return {
            "edited_outside": "edited outside osctl (drift)",
            "deleted_outside": "deleted outside osctl (drift)",
        }.get(self.value, self.text)


@dataclass(frozen=True)
class SegmentChange:
    address: str
    action: Action
    reason: Reason
    app: str
    app_id: str
    name: str
    segment_id: str | None = None  # the live id deleted, replaced, forgotten or adopted
    before: list | None = None  # filters as they are (state, or live when drifted)
    after: list | None = None  # filters that will be sent (create/replace)
    after_digest: str | None = None
    description: str | None = None
    filter_diff: tuple[str, ...] = ()
    subscriber_count: int | None = None
    used_by_exports: tuple[str, ...] = ()
    prevent_destroy: bool = False
    live_name: str | None = None  # the name it has in OneSignal now, when that is not `name`
    moved_from: str | None = None  # the state address it was managed under (renamed_from), if another
    importing: str | None = None  # an imports: block adopts this live id first (then any update/replace)

    @property
    def needs_live_segment(self) -> bool:
        """Acts on `segment_id`, which must still be live when a saved plan is applied."""
        return (self.action.changes_live_segment or self.importing is not None) and self.segment_id is not None

    def to_dict(self) -> dict:
        # not asdict(): its generic deep copy was most of the cost of rendering a large plan
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["before"] = _copy_filters(self.before)
        data["after"] = _copy_filters(self.after)
        data["action"] = self.action.value
        data["reason"] = self.reason.value
        data["symbol"] = self.action.symbol
        data["reason_text"] = self.reason.text
        data["filter_diff"] = list(self.filter_diff)
        data["used_by_exports"] = list(self.used_by_exports)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> SegmentChange:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["action"] = Action(fields["action"])
        fields["reason"] = Reason(fields["reason"])
        fields["filter_diff"] = tuple(fields.get("filter_diff") or ())
        fields["used_by_exports"] = tuple(fields.get("used_by_exports") or ())
        return cls(**fields)


@dataclass(frozen=True)
class UserChange:
    """A change to a test user (`user.<app>.<external_id>`). Carries what apply sends, so
    a saved plan is applied as it was reviewed: the declaration for a create, the
    difference (osctl.users.model.UserDiff as a dict) for an update.

    Actions: CREATE, UPDATE, DELETE, FORGET (state only: deleted outside and no longer
    declared), ADOPT (state only: an interrupted create went through and nothing differs),
    UPDATE_STATE (state only: OneSignal shows the declaration already, state does not).
    """

    address: str
    action: Action
    reason: Reason
    app: str
    app_id: str
    external_id: str
    onesignal_id: str | None = None  # the live user's, when known
    declared: dict | None = None  # DeclaredUser.to_dict() for create/update/adopt
    diff: dict | None = None  # UserDiff.to_dict() for update
    lines: tuple[str, ...] = ()  # what changes, as plans show it
    # declared segments of the app this user would fall into: (segment name, "yes" | "can't tell")
    segments: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["action"] = self.action.value
        data["reason"] = self.reason.value
        data["symbol"] = self.action.symbol
        data["reason_text"] = self.reason.user_text
        data["declared"] = copy.deepcopy(self.declared)
        data["diff"] = copy.deepcopy(self.diff)
        data["lines"] = list(self.lines)
        data["segments"] = [{"name": name, "verdict": verdict} for name, verdict in self.segments]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> UserChange:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["action"] = Action(fields["action"])
        fields["reason"] = Reason(fields["reason"])
        fields["lines"] = tuple(fields.get("lines") or ())
        fields["segments"] = tuple((s["name"], s["verdict"]) for s in fields.get("segments") or ())
        return cls(**fields)


# What apply carries out one step at a time, and its observers and results name.
Change = SegmentChange | UserChange


@dataclass(frozen=True)
class ExportRun:
    address: str
    name: str
    app: str
    kind: str
    reason: str  # e.g. "due since 2026-11-22T03:00:00Z"; "forced"
    due_tick: str | None = None
    last_success: str | None = None
    messages: tuple[str, ...] = ()
    after_segment: str | None = None  # address of a segment created/replaced first
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        data = asdict(self)
        data["messages"] = list(self.messages)
        data["warnings"] = list(self.warnings)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ExportRun:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["messages"] = tuple(fields.get("messages") or ())
        fields["warnings"] = tuple(fields.get("warnings") or ())
        return cls(**fields)


@dataclass(frozen=True)
class Violation:
    kind: str  # prevent_destroy | mass_destroy
    message: str
    overridable: bool  # by --allow-mass-destroy
    addresses: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {**asdict(self), "addresses": list(self.addresses)}


@dataclass(frozen=True)
class Provenance:
    """What the plan was made from, so a saved plan can tell when it is stale."""

    config_digest: str
    state_lineage: str | None
    state_serial: int
    live_ids: dict = field(default_factory=dict)  # app alias -> sorted live segment ids seen
    refresh: str = "full"
    created_at: str = ""
    osctl_version: str = ""


@dataclass(frozen=True)
class Plan:
    changes: tuple[SegmentChange, ...]
    exports: tuple[ExportRun, ...]
    violations: tuple[Violation, ...]
    provenance: Provenance
    warnings: tuple[str, ...] = ()
    user_changes: tuple[UserChange, ...] = ()  # test users, after the segments they may fall into

    @property
    def has_changes(self) -> bool:
        return bool(self.changes or self.exports or self.user_changes)

    def summary(self) -> dict:
        count = {a: sum(1 for c in self.changes if c.action == a) for a in Action}
        return {
            "import": sum(1 for c in self.changes if c.importing),
            "create": count[Action.CREATE],
            "update": count[Action.UPDATE],
            "replace": count[Action.REPLACE],
            "delete": count[Action.DELETE],
            "state_only": count[Action.FORGET] + count[Action.ADOPT] + count[Action.UPDATE_STATE],
            "exports_due": len(self.exports),
            "subscribers_affected": sum(c.subscriber_count or 0 for c in self.changes if c.action.is_destructive),
            "users": {
                "create": sum(1 for c in self.user_changes if c.action == Action.CREATE),
                "update": sum(1 for c in self.user_changes if c.action == Action.UPDATE),
                "delete": sum(1 for c in self.user_changes if c.action == Action.DELETE),
                "state_only": sum(1 for c in self.user_changes
                                  if c.action in (Action.FORGET, Action.ADOPT, Action.UPDATE_STATE)),
            },
        }

    def to_dict(self) -> dict:
        return {
            "format_version": PLAN_FORMAT_VERSION,
            "osctl_version": self.provenance.osctl_version,
            "created_at": self.provenance.created_at,
            "summary": self.summary(),
            "changes": [c.to_dict() for c in self.changes],
            "user_changes": [c.to_dict() for c in self.user_changes],
            "exports": [e.to_dict() for e in self.exports],
            "violations": [v.to_dict() for v in self.violations],
            "warnings": list(self.warnings),
            "provenance": asdict(self.provenance),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Plan:
        prov = data["provenance"]
        return cls(
            changes=tuple(SegmentChange.from_dict(c) for c in data["changes"]),
            exports=tuple(ExportRun.from_dict(e) for e in data["exports"]),
            violations=tuple(Violation(**{**v, "addresses": tuple(v.get("addresses", ()))})
                             for v in data.get("violations", ())),
            provenance=Provenance(**{k: v for k, v in prov.items() if k in Provenance.__dataclass_fields__}),
            warnings=tuple(data.get("warnings", ())),
            user_changes=tuple(UserChange.from_dict(c) for c in data.get("user_changes", ())),  # older plans: none
        )


def _copy_filters(filters: list | None) -> list | None:
    """A deep copy, fast for what filters are: flat objects of scalars."""
    if filters is None:
        return None
    return [{k: (copy.deepcopy(v) if isinstance(v, (list, dict)) else v) for k, v in f.items()}
            if isinstance(f, dict) else copy.deepcopy(f) for f in filters]


ACTION_ORDER = {Action.DELETE: 0, Action.REPLACE: 1, Action.UPDATE: 2, Action.CREATE: 3, Action.ADOPT: 4,
                Action.UPDATE_STATE: 5, Action.FORGET: 6, Action.IMPORT: 7}


def sort_changes(changes: Iterable[SegmentChange]) -> tuple[SegmentChange, ...]:
    """Deterministic order: destructive first (deletes before creates), then by address."""
    return tuple(sorted(changes, key=lambda c: (ACTION_ORDER[c.action], c.address)))
