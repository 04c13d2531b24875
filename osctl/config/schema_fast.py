"""A yes/no JSON Schema check compiled from osctl.schema.json, for the common case: a valid config.

jsonschema explains errors well but needs seconds to walk the ~85,000 values of
a 5,000-segment config. This module turns the keywords the schema uses into
nested closures that only answer "certainly valid?". It must never say yes
where jsonschema says no: a keyword it does not know, or a value it is unsure
about, answers no, and then jsonschema runs and explains (tests compare both).
"""

from __future__ import annotations

from collections.abc import Callable

Check = Callable[[object], bool]
Search = Callable[[str, str], bool]  # (pattern, text) -> matches, with the schema's pattern semantics

_ANNOTATIONS = {"$schema", "$id", "title", "description"}
_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}


def _never(value) -> bool:
    return False


def _same(value, member) -> bool:
    """JSON equality as jsonschema sees it for the scalars a schema lists (true is not 1)."""
    if isinstance(value, bool) or isinstance(member, bool):
        return value is member
    if isinstance(value, (int, float)) and isinstance(member, (int, float)):
        return value == member
    return isinstance(value, str) and isinstance(member, str) and value == member


def _unique(items: list) -> bool:
    if all(isinstance(i, str) for i in items) or all(isinstance(i, int) and not isinstance(i, bool) for i in items):
        return len(set(items)) == len(items)
    return False  # mixed or nested entries: let jsonschema decide


def compile_schema(schema: dict, search: Search) -> Check:
    keywords = {k: v for k, v in schema.items() if k not in _ANNOTATIONS}
    kind = keywords.get("type")
    fused = {"object": _object, "array": _array, "string": _string}.get(kind) if isinstance(kind, str) else None
    if fused is not None:
        check = fused(keywords, search)
        if check is not None:
            return check
    return _generic(keywords, search)


_OBJECT_KEYWORDS = {"type", "properties", "additionalProperties", "required", "minProperties", "propertyNames"}
_ARRAY_KEYWORDS = {"type", "items", "minItems", "maxItems", "uniqueItems"}
_STRING_KEYWORDS = {"type", "enum", "pattern", "minLength", "maxLength"}


def _object(keywords: dict, search: Search) -> Check | None:
    """One loop per mapping: the hot path of a config (every segment and filter is one)."""
    if not set(keywords) <= _OBJECT_KEYWORDS:
        return None
    props = {k: compile_schema(sub, search) for k, sub in keywords.get("properties", {}).items()}
    additional = keywords.get("additionalProperties", True)
    extra = compile_schema(additional, search) if isinstance(additional, dict) else None
    closed = additional is False
    required = tuple(keywords.get("required", ()))
    min_props = keywords.get("minProperties", 0)
    names = compile_schema(keywords["propertyNames"], search) if "propertyNames" in keywords else None

    def check(value) -> bool:
        if not isinstance(value, dict) or len(value) < min_props:
            return False
        for name in required:
            if name not in value:
                return False
        for name, item in value.items():
            if names is not None and not names(name):
                return False
            test = props.get(name)
            if test is None:
                if closed or (extra is not None and not extra(item)):
                    return False
            elif not test(item):
                return False
        return True

    return check


def _array(keywords: dict, search: Search) -> Check | None:
    if not set(keywords) <= _ARRAY_KEYWORDS or keywords.get("uniqueItems", True) is not True:
        return None
    each = compile_schema(keywords["items"], search) if "items" in keywords else None
    low, high = keywords.get("minItems", 0), keywords.get("maxItems")
    unique = "uniqueItems" in keywords

    def check(value) -> bool:
        if not isinstance(value, list) or len(value) < low or (high is not None and len(value) > high):
            return False
        if unique and not _unique(value):
            return False
        if each is not None:
            for item in value:
                if not each(item):
                    return False
        return True

    return check


def _string(keywords: dict, search: Search) -> Check | None:
    if not set(keywords) <= _STRING_KEYWORDS:
        return None
    members = frozenset(m for m in keywords["enum"] if isinstance(m, str)) if "enum" in keywords else None
    pattern = keywords.get("pattern")
    low, high = keywords.get("minLength", 0), keywords.get("maxLength")

    def check(value) -> bool:
        if not isinstance(value, str) or len(value) < low or (high is not None and len(value) > high):
            return False
        if members is not None and value not in members:
            return False
        return pattern is None or search(pattern, value)

    return check


def _generic(keywords: dict, search: Search) -> Check:
    schema = keywords
    checks: list[Check] = []
    for keyword, arg in keywords.items():
        if keyword == "type":
            tests = [_TYPES[t] for t in (arg if isinstance(arg, list) else [arg])]
            checks.append(lambda v, tests=tests: any(t(v) for t in tests))
        elif keyword == "properties":
            props = {k: compile_schema(sub, search) for k, sub in arg.items()}
            checks.append(lambda v, props=props: not isinstance(v, dict) or all(
                props[k](x) for k, x in v.items() if k in props))
        elif keyword == "additionalProperties":
            known = set(schema.get("properties", {}))
            if arg is False:
                checks.append(lambda v, known=known: not isinstance(v, dict) or all(k in known for k in v))
            else:
                extra = compile_schema(arg, search)
                checks.append(lambda v, known=known, extra=extra: not isinstance(v, dict) or all(
                    extra(x) for k, x in v.items() if k not in known))
        elif keyword == "required":
            checks.append(lambda v, req=tuple(arg): not isinstance(v, dict) or all(r in v for r in req))
        elif keyword in ("enum", "const"):
            members = arg if keyword == "enum" else [arg]
            texts = frozenset(m for m in members if isinstance(m, str))
            checks.append(lambda v, members=members, texts=texts: v in texts if isinstance(v, str)
                          else any(_same(v, m) for m in members))
        elif keyword == "pattern":
            checks.append(lambda v, p=arg: not isinstance(v, str) or search(p, v))
        elif keyword == "minLength":
            checks.append(lambda v, n=arg: not isinstance(v, str) or len(v) >= n)
        elif keyword == "maxLength":
            checks.append(lambda v, n=arg: not isinstance(v, str) or len(v) <= n)
        elif keyword == "minItems":
            checks.append(lambda v, n=arg: not isinstance(v, list) or len(v) >= n)
        elif keyword == "maxItems":
            checks.append(lambda v, n=arg: not isinstance(v, list) or len(v) <= n)
        elif keyword == "minProperties":
            checks.append(lambda v, n=arg: not isinstance(v, dict) or len(v) >= n)
        elif keyword == "items":
            each = compile_schema(arg, search)
            checks.append(lambda v, each=each: not isinstance(v, list) or all(each(x) for x in v))
        elif keyword == "uniqueItems" and arg is True:
            checks.append(lambda v: not isinstance(v, list) or _unique(v))
        elif keyword == "propertyNames":
            names = compile_schema(arg, search)
            checks.append(lambda v, names=names: not isinstance(v, dict) or all(names(k) for k in v))
        elif keyword == "oneOf":
            # exactly one branch; exact here because osctl's branches differ in type
            branches = [compile_schema(sub, search) for sub in arg]
            checks.append(lambda v, branches=branches: sum(1 for b in branches if b(v)) == 1)
        else:
            return _never
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(check(v) for check in checks)
