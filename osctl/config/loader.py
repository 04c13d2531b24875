"""Load a config directory: read files, check schema and semantics, build the model.

`load()` is the one entry point with I/O (reading the files); everything after
reading is pure and lives in `analyse()`, which the tests and benchmarks call too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from osctl import filters as grammar
from osctl.config import semantic, test_users
from osctl.config.model import (
    DEFAULT_ACCOUNT,
    DEFAULT_API_KEY_ENV,
    DEFAULT_TIMEOUT_SECONDS,
    PER_MESSAGE_KINDS,
    App,
    AudienceActivityOptions,
    Config,
    Export,
    ExportKind,
    ExportOptions,
    Import,
    MessageHistoryOptions,
    MessageSelector,
    OutcomesOptions,
    Segment,
    StateSettings,
    SubscriptionsOptions,
)
from osctl.config.schema import check_schema
from osctl.config.source import SourceDoc, parse_yaml
from osctl.diagnostics import Diagnostic, errors_only
from osctl.durations import parse_duration
from osctl.errors import ConfigError
from osctl.schedule import normalise

DEFAULT_DESTINATION = "exports/{app}/{export}/{date}.csv.gz"
DEFAULT_MESSAGE_DESTINATION = "exports/{app}/{export}/{date}-{message_id}.csv.gz"


@dataclass
class Analysis:
    config: Config | None  # None when there are errors
    diagnostics: list[Diagnostic]

    @property
    def errors(self) -> list[Diagnostic]:
        return errors_only(self.diagnostics)


def config_files(directory: Path) -> list[Path]:
    """*.yaml and *.yml as a shell glob sees them: hidden files (editor or macOS ._ debris) are not config."""
    return sorted(p for p in directory.iterdir()
                  if p.suffix in (".yaml", ".yml") and not p.name.startswith(".") and p.is_file())


def read_files(directory: Path) -> list[tuple[str, str | bytes]]:
    """(display name, text) of every config file; the display name is what diagnostics show.

    Text that is not UTF-8 is passed on as bytes so that analyse() can say where it breaks.
    """
    if not directory.is_dir():
        problem = "is a file, not a directory" if directory.is_file() else "does not exist"
        raise ConfigError([Diagnostic(str(directory), 0, 0, "", f"config directory {problem}",
                                      "a directory with *.yaml files (-c DIR or OSCTL_CONFIG)")])
    try:
        paths = config_files(directory)
    except OSError as exc:
        raise ConfigError([Diagnostic(str(directory), 0, 0, "", f"cannot list the config directory: "
                                      f"{exc.strerror or exc}", "a readable directory")]) from None
    out: list[tuple[str, str | bytes]] = []
    unreadable: list[Diagnostic] = []
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            unreadable.append(Diagnostic(str(path), 0, 0, "", f"cannot read the file: {exc.strerror or exc}",
                                         "a readable file"))
            continue
        try:
            out.append((str(path), raw.decode("utf-8")))
        except UnicodeDecodeError:
            out.append((str(path), raw))
    if unreadable:
        raise ConfigError(unreadable)
    return out


def _not_utf8(name: str, raw: bytes) -> Diagnostic:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Diagnostic(name, 1, 1, "", "file is UTF-16 text", "a UTF-8 encoded YAML file; save it as UTF-8")
    try:
        raw.decode("utf-8")
        position = 0
    except UnicodeDecodeError as exc:
        position = exc.start
    line = raw.count(b"\n", 0, position) + 1
    col = position - (raw.rfind(b"\n", 0, position) + 1) + 1
    return Diagnostic(name, line, col, "", f"file is not UTF-8 text (byte 0x{raw[position]:02x} at line {line})",
                      "a UTF-8 encoded YAML file; save it as UTF-8")


def analyse(directory: str, files: list[tuple[str, str | bytes]]) -> Analysis:
    """Pure: every diagnostic for these files, and the model when there is no error."""
    diagnostics: list[Diagnostic] = []
    if not files:
        diagnostics.append(Diagnostic(directory, 0, 0, "", "no *.yaml or *.yml files in the config directory",
                                      "run 'osctl init' to write a starter config"))
        return Analysis(None, diagnostics)
    docs: list[SourceDoc] = []
    incomplete = False  # a file we could not read may hold what looks missing
    for file in files:
        read = _read_file(file)
        diagnostics.extend(read.diagnostics)
        incomplete |= read.incomplete
        if read.doc is not None:
            docs.append(read.doc)
    report = semantic.Report()
    merged = semantic.merge(directory, docs, report, incomplete=incomplete)
    semantic.check(merged, report)
    diagnostics.extend(report.items)
    diagnostics = sorted(set(diagnostics), key=lambda d: (d.file, d.line, d.col, d.path, d.message))
    if errors_only(diagnostics):
        return Analysis(None, diagnostics)
    return Analysis(build(merged), diagnostics)


@dataclass
class _FileRead:
    """One file read and checked on its own (see _read_file)."""

    doc: SourceDoc | None  # None: nothing for the checks across files
    diagnostics: list[Diagnostic]
    incomplete: bool  # the file holds something we could not read


def _read_file(file: tuple[str, str | bytes]) -> _FileRead:
    """Parse one file and run every check that needs no other file: the schema and each segment's filters."""
    name, text = file
    if isinstance(text, bytes):
        return _FileRead(None, [_not_utf8(name, text)], incomplete=True)
    doc, diagnostics = parse_yaml(name, text)
    if doc.data is not None and not isinstance(doc.data, dict):
        diagnostics.append(Diagnostic(name, 1, 1, "", f"the file holds a {_shape(doc.data)}, not a mapping "
                                      "at the top level", "keys such as osctl, apps, segments, exports"))
        return _FileRead(None, diagnostics, incomplete=True)
    incomplete = doc.data is None and bool(diagnostics)
    diagnostics.extend(check_schema(doc))
    report = semantic.Report()
    semantic.check_file(doc, report)
    diagnostics.extend(report.items)
    return _FileRead(doc, diagnostics, incomplete)


_SHAPES: dict[type, str] = {list: "list", str: "plain text value"}


def _shape(data: object) -> str:
    return _SHAPES.get(type(data), type(data).__name__)


def load(directory: Path | str) -> Analysis:
    directory = Path(directory)
    return analyse(str(directory), read_files(directory))


def load_or_fail(directory: Path | str) -> Config:
    analysis = load(directory)
    if analysis.config is None:
        raise ConfigError(analysis.diagnostics)
    return analysis.config


def build(merged: semantic.Merged) -> Config:
    """The model from a merged config that has no errors."""
    apps: dict[str, App] = {}
    for alias, item in merged.apps.items():
        data = _mapping(item)
        apps[alias] = App(alias=alias, app_id=data["app_id"].lower(),
                          api_key_env=data.get("api_key_env", DEFAULT_API_KEY_ENV),
                          account=data.get("account", DEFAULT_ACCOUNT),
                          segment_updates=data.get("segment_updates", "replace"),
                          test_users=test_users.rails_of(data))
    default_app = next(iter(apps)) if len(apps) == 1 else None
    state = StateSettings(**_mapping(merged.states[0])) if merged.states else StateSettings()
    segments = []
    for item in merged.segments:
        data = _mapping(item)
        canonical, digest = _canonical(data["filters"])
        segments.append(Segment(
            app=_app_of(data, default_app), name=data["name"], filters=canonical,
            digest=digest, description=data.get("description"),
            prevent_destroy=bool(data.get("prevent_destroy", False)), location=item.where(),
            update=data.get("update"), renamed_from=_names(data.get("renamed_from")),
        ))
    exports = [_build_export(_mapping(item), default_app, item) for item in merged.exports]
    storage = dict(_mapping(merged.storages[0])) if merged.storages else {}
    users = tuple(test_users.declared_user(data, _app_of(data, default_app))
                  for data in map(_mapping, merged.test_users))
    imports = tuple(_build_import(item, default_app) for item in merged.imports)
    config = Config(directory=merged.directory, apps=apps, state=state, segments=tuple(segments),
                    exports=tuple(exports), storage=storage, test_users=users, imports=imports)
    return Config(**{**config.__dict__, "digest": config_digest(config)})


def _names(value: str | list[str] | None) -> tuple[str, ...]:
    """renamed_from: one name or a list of names."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(dict.fromkeys(value))


def _canonical(entries: list[dict]) -> tuple[tuple, str]:
    filters = grammar.canonical_filters(entries)
    return tuple(filters), grammar.filters_digest(filters)


def _mapping(item: semantic.Item) -> dict[str, Any]:
    """An entry build() reads: validation has made sure it is a mapping."""
    assert isinstance(item.data, dict), item.path
    return item.data


def _app_of(data: dict[str, Any], default_app: str | None) -> str:
    """An entry's app (segment, export, test user, import): validation has made sure there is one."""
    app = data.get("app", default_app)
    assert isinstance(app, str), "validation reports an entry without an app"
    return app


def _build_import(item: semantic.Item, default_app: str | None) -> Import:
    data = _mapping(item)
    return Import(app=_app_of(data, default_app), segment=data["segment"], id=data["id"].lower(),
                  location=item.where())


def _build_export(data: dict, default_app: str | None, item: semantic.Item) -> Export:
    kind = ExportKind(data["kind"])
    block = dict(data.get(kind) or {})
    default_destination = DEFAULT_MESSAGE_DESTINATION if kind in PER_MESSAGE_KINDS else DEFAULT_DESTINATION
    return Export(
        name=data["name"], app=_app_of(data, default_app), kind=kind,
        destination=data.get("destination", default_destination), options=_export_options(kind, block),
        schedule=normalise(data["schedule"]) if "schedule" in data else None,
        timezone=data.get("timezone", "UTC"),
        timeout_seconds=parse_duration(data["timeout"]) if "timeout" in data else DEFAULT_TIMEOUT_SECONDS,
        location=item.where(),
        keep_files=data["keep"] if isinstance(data.get("keep"), int) else None,
        keep_seconds=parse_duration(data["keep"]) if isinstance(data.get("keep"), str) else None,
        declared_options=json.dumps(block, sort_keys=True, default=str),
    )


def _export_options(kind: ExportKind, block: dict) -> ExportOptions:
    """The kind's block as its options class; validation has checked the block against the schema."""
    if kind == ExportKind.SUBSCRIPTIONS:
        segment = block.get("segment")
        within = block.get("last_active_within")
        return SubscriptionsOptions(
            extra_fields=tuple(block.get("extra_fields") or ()),
            segment=segment["name"] if isinstance(segment, dict) else segment,
            last_active_within_seconds=parse_duration(within) if within else None,
            include_unsubscribed=block.get("include_unsubscribed"))
    if kind == ExportKind.AUDIENCE_ACTIVITY:
        return AudienceActivityOptions(messages=_selector(block["messages"]))
    if kind == ExportKind.MESSAGE_HISTORY:
        return MessageHistoryOptions(messages=_selector(block["messages"]), events=block["events"],
                                     email=block.get("email"))
    platforms = block.get("platforms")  # ExportKind.OUTCOMES
    return OutcomesOptions(names=tuple(block["names"]), time_range=block.get("time_range", "1h"),
                           platforms=tuple(platforms) if platforms is not None else None,
                           attribution=block.get("attribution"))


def _selector(m: dict) -> MessageSelector:
    return MessageSelector(
        ids=tuple(i.lower() for i in m.get("ids", ())),
        sent_within_seconds=parse_duration(m["sent_within"]) if "sent_within" in m else None,
        kind=m.get("kind"), settle_seconds=parse_duration(m["settle"]) if "settle" in m else 0,
    )


def config_digest(config: Config) -> str:
    """Digest of what the config means (not how it is formatted): saved plans record it."""
    # settings added later join only when set, so a saved plan made before them stays valid
    content: dict[str, Any] = {  # what the digest covers, as JSON
        "apps": {a: [x.app_id, x.api_key_env, x.account]
                 + ([x.segment_updates] if x.segment_updates != "replace" else [])
                 for a, x in sorted(config.apps.items())},
        "state": config.state.__dict__,
        "segments": sorted([s.app, s.name, s.digest, s.description, s.prevent_destroy]
                           + ([s.update] if s.update else [])
                           + ([list(s.renamed_from)] if s.renamed_from else []) for s in config.segments),
        "exports": sorted(
            [e.name, e.app, e.kind, e.destination, e.schedule, e.timezone, e.timeout_seconds,
             e.declared_options] + ([e.keep] if e.keep else [])
            for e in config.exports),
    }
    if config.storage:  # only when declared: digests of older configs stay as they were
        content["storage"] = config.storage
    # only when declared, so the digest of a config without test users stays what older osctl saved
    rails = {a: x.test_users.__dict__ for a, x in sorted(config.apps.items()) if x.test_users}
    if rails:
        content["test_user_rails"] = rails
    if config.test_users:
        content["test_users"] = sorted([u.address, u.__dict__] for u in config.test_users)
    if config.imports:  # only when present, so configs without imports keep their digest
        content["imports"] = sorted([i.app, i.segment, i.id] for i in config.imports)
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
