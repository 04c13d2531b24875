"""Property: whatever a user writes, validation answers with diagnostics, never a crash.

Random text, random YAML data, and valid example configs mutated the way
people edit them (keys dropped, renamed or misspelt, values of the wrong
type, junk inserted, characters typed in the wrong place) all go through
analyse(); a few also through `osctl validate`. Every diagnostic must name a
file and a line, and say what is wrong and what would be valid.
"""

from __future__ import annotations

import copy
import math
import tempfile
from datetime import date
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osctl.config.loader import analyse
from osctl.diagnostics import Diagnostic
from tests.helpers import run_osctl

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DIRECTORY = "conf"
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Words from the config vocabulary make random mappings hit real code paths.
VOCABULARY = ["osctl", "apps", "app", "app_id", "api_key_env", "account", "state", "backend", "path",
              "dsn_env", "workspace", "segments", "name", "description", "prevent_destroy", "filters",
              "field", "relation", "key", "value", "hours_ago", "radius", "lat", "long", "operator",
              "exports", "kind", "schedule", "timezone", "destination", "timeout", "subscriptions",
              "extra_fields", "segment", "existing", "last_active_within", "include_unsubscribed",
              "audience_activity", "message_history", "outcomes", "messages", "ids", "sent_within",
              "settle", "events", "email", "names", "time_range", "platforms", "attribution",
              "tag", "country", "location", "OR", "AND", "exists", "=", "@daily", "0 3 * * *", "30m",
              "prod", "subscriptions", "{message_id}", "5eb5a37e-b458-11e3-ac11-000c2940e62c"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(VOCABULARY), st.text(max_size=20), st.dates(),
)
keys = st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=12))
nested = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=25,
)


def example_files(name: str) -> dict[str, object]:
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted((EXAMPLES / name).glob("*.yaml"))}


EXAMPLE_DATA = {name: example_files(name) for name in ("quickstart", "multi-app")}
EXAMPLE_TEXT = {p.name: p.read_text() for p in sorted((EXAMPLES / "quickstart").glob("*.yaml"))}


def check(files: list[tuple[str, str | bytes]]):
    """analyse() must return well-formed diagnostics, and a model only when there is no error."""
    analysis = analyse(DIRECTORY, files)
    names = {name for name, _ in files}
    for d in analysis.diagnostics:
        assert isinstance(d, Diagnostic)
        assert d.severity in ("error", "warning")
        assert d.message and d.valid, d
        if d.file == DIRECTORY:
            assert d.line == 0
        else:
            assert d.file in names and d.line >= 1 and d.col >= 1, d
        assert d.format().startswith(d.file)
    if analysis.config is None:
        assert analysis.errors
    else:
        assert not analysis.errors
        assert analysis.config.digest.startswith("sha256:")
    return analysis


def dump(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@FAST
@given(st.text(max_size=300))
def test_random_text(text):
    check([("conf/osctl.yaml", text)])


@FAST
@given(st.binary(max_size=200))
def test_random_bytes(raw):
    try:
        content: str | bytes = raw.decode("utf-8")
    except UnicodeDecodeError:
        content = raw
    check([("conf/osctl.yaml", content)])


@FAST
@given(nested)
def test_random_yaml_data(data):
    check([("conf/osctl.yaml", dump(data))])


@FAST
@given(st.dictionaries(st.sampled_from(["osctl", "apps", "state", "segments", "exports"]), nested, max_size=5))
def test_random_data_under_the_real_top_level_keys(data):
    check([("conf/osctl.yaml", dump(data))])


# --- mutations of valid configs -------------------------------------------------------------

def paths_of(data, prefix=()):
    """Every path into data, containers included."""
    yield prefix
    if isinstance(data, dict):
        for k, v in data.items():
            yield from paths_of(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from paths_of(v, prefix + (i,))


def get(data, path):
    for part in path:
        data = data[part]
    return data


def typo(word: str, draw) -> str:
    if not word:
        return "x"
    i = draw(st.integers(0, len(word) - 1))
    how = draw(st.sampled_from(["drop", "double", "swap", "upper"]))
    if how == "drop":
        return word[:i] + word[i + 1:]
    if how == "double":
        return word[:i] + word[i] + word[i:]
    if how == "swap" and i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word.upper()


def mutate(data, draw):
    """One edit somewhere in a (deep-copied) file's data."""
    paths = list(paths_of(data))
    path = draw(st.sampled_from(paths))
    if not path:
        return draw(st.sampled_from([None, [], "text", 1, {"junk": 1}])) if draw(st.booleans()) else data
    parent, last = get(data, path[:-1]), path[-1]
    action = draw(st.sampled_from(["drop", "replace", "rename", "junk", "duplicate", "retype"]))
    if action == "drop":
        del parent[last]
    elif action == "replace":
        parent[last] = draw(nested)
    elif action == "rename" and isinstance(parent, dict):
        value = parent.pop(last)
        parent[typo(str(last), draw)] = value
    elif action == "junk":
        target = parent if isinstance(parent, dict) else get(data, path) if isinstance(get(data, path), dict) else None
        if target is not None:
            target[draw(keys)] = draw(scalars)
        elif isinstance(parent, list):
            parent.insert(last, draw(nested))
    elif action == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    else:
        value = parent[last]
        retyped = {str: lambda v: [v], int: str, float: lambda v: [v], bool: str, list: lambda v: v[:1] and v[0],
                   dict: lambda v: list(v), type(None): lambda v: 0}
        converter = retyped.get(type(value), lambda v: None)
        parent[last] = converter(value)
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(EXAMPLE_DATA)), st.integers(1, 4), st.data())
def test_mutated_example_configs(example, edits, data):
    files = copy.deepcopy(EXAMPLE_DATA[example])
    for _ in range(edits):
        name = data.draw(st.sampled_from(sorted(files)))
        files[name] = mutate(files[name], data.draw)
    check([(f"conf/{name}", dump(content)) for name, content in files.items()])


@FAST
@given(st.lists(st.tuples(st.integers(0, 2000), st.sampled_from(
    ["\t", " ", "  ", "\n", ":", "- ", "{", "}", "[", "]", "'", '"', "#", "&a ", "*a", "!!", "<<: ", "---\n",
     "%", "@", "\\", "\x00", "é", "0", "yes", ".nan", "~"])), min_size=1, max_size=5))
def test_example_text_with_characters_typed_in_the_wrong_place(insertions):
    text = EXAMPLE_TEXT["osctl.yaml"]
    for position, fragment in insertions:
        position = min(position, len(text))
        text = text[:position] + fragment + text[position:]
    check([("conf/osctl.yaml", text)])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(EXAMPLE_DATA)), st.data())
def test_osctl_validate_answers_mutated_configs_with_exit_0_or_1(example, data):
    files = copy.deepcopy(EXAMPLE_DATA[example])
    name = data.draw(st.sampled_from(sorted(files)))
    files[name] = mutate(files[name], data.draw)
    with tempfile.TemporaryDirectory() as directory:
        for file_name, content in files.items():
            (Path(directory) / file_name).write_text(dump(content))
        result = run_osctl("validate", "-c", directory)
    assert result.exit_code in (0, 1)
    assert "internal error" not in result.output and "Traceback" not in result.output
    if result.exit_code == 1:
        assert "(valid: " in result.stderr


def test_unmutated_examples_are_valid_and_digests_are_stable():
    for example, files in EXAMPLE_DATA.items():
        first = check([(f"conf/{n}", dump(c)) for n, c in files.items()])
        again = check([(f"conf/{n}", dump(c)) for n, c in reversed(files.items())])
        assert first.config is not None, example
        assert first.config.digest == again.config.digest


def test_special_floats_and_dates_in_every_filter_operand():
    """YAML numbers people do not mean: never a crash, always an error at the operand."""
    operands = [math.nan, math.inf, -math.inf, date(2026, 1, 1), True, None, [], {}]
    for key in ("value", "hours_ago", "radius", "lat", "long", "key", "relation", "field"):
        for operand in operands:
            segment = {"name": "S", "filters": [{"field": "location", "radius": 1, "lat": 1, "long": 1, key: operand}]}
            config = {"osctl": 1, "apps": {"p": {"app_id": "5eb5a37e-b458-11e3-ac11-000c2940e62c"}},
                      "segments": [segment]}
            analysis = check([("conf/osctl.yaml", dump(config))])
            assert analysis.config is None, (key, operand)
