#!/usr/bin/env python3
"""An example policy check over osctl's JSON plan, in plain Python (no dependencies).

Copy it into the repository that holds your osctl config (the CI examples look
for it at ci/check_plan.py), adjust the rules, and run it on a saved plan:

    osctl plan --format markdown --out plan.json > plan.md
    python ci/check_plan.py plan.json --max-subscribers 50000 --max-destroys 5

The plan's format is described by `osctl schema plan` (schemas/plan.schema.json).
This script reads only what it needs: "format_version", "changes" (each with
"address", "action" and "subscriber_count") and "violations". Updates in place
("update") destroy nothing: rules 2 and 3 do not count them.

Rules:
  1. Violations. A plan with any violation is refused: apply would refuse it
     too, so failing the pull request saves a failed apply after the merge.
     --allow-mass-destroy lets "mass_destroy" through, as
     `osctl apply --allow-mass-destroy` would; "prevent_destroy" never passes.
  2. --max-destroys N: at most N segments deleted or replaced.
  3. --max-subscribers N: at most N subscribers, in total, in the segments
     deleted or replaced. Deleting or replacing a segment never deletes its
     users, but whatever targets the segment by id (a campaign, a journey, an
     export) loses it; this bounds how many people that can affect. A deleted
     or replaced segment whose count is unknown (the plan did not read the
     live segment, as with `osctl plan --refresh none`) is refused, unless
     --unknown-counts-ok.
  4. --max-replaced-subscribers N: no segment holding more than N subscribers
     is replaced (deleted and created again under a new id). An update in
     place (action "update", with `segment_updates: in_place`) keeps the id
     and passes whatever the segment's size, so the fix for a refused replace
     is to update that segment in place. An unknown count is refused, unless
     --unknown-counts-ok.

Exit codes: 0 the plan passes; 1 refused (every reason is printed); 2 the file
is not a plan this script understands (missing, not JSON, another
format_version) or the arguments are wrong. On GitHub Actions the reasons are
also printed as `::error::` annotations.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass

SUPPORTED_FORMAT = "1"
DESTRUCTIVE = ("delete", "replace")  # actions that remove a live segment id


@dataclass(frozen=True)
class Limits:
    max_destroys: int | None = None
    max_subscribers: int | None = None
    max_replaced_subscribers: int | None = None
    allow_mass_destroy: bool = False
    unknown_counts_ok: bool = False


class NotAPlan(Exception):
    """The file cannot be read as an osctl plan of a supported format."""


def load_plan(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            plan = json.load(handle)
    except OSError as exc:
        raise NotAPlan(f"cannot read {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise NotAPlan(f"{path} is not JSON: {exc}") from None
    if not isinstance(plan, dict) or "changes" not in plan or "violations" not in plan:
        raise NotAPlan(f"{path} is not an osctl plan (make one with: osctl plan --out {path})")
    version = plan.get("format_version")
    if version != SUPPORTED_FORMAT:
        raise NotAPlan(f"{path} has plan format_version {version!r}; this check understands "
                       f"{SUPPORTED_FORMAT!r} only (update it alongside osctl)")
    return plan


def check(plan: dict, limits: Limits) -> list[str]:
    """Every reason to refuse the plan; an empty list means it passes."""
    reasons = []
    for violation in plan["violations"]:
        if violation["kind"] == "mass_destroy" and limits.allow_mass_destroy:
            continue
        reasons.append(f"{violation['kind']}: {violation['message']}")

    destroyed = [c for c in plan["changes"] if c["action"] in DESTRUCTIVE]
    if limits.max_destroys is not None and len(destroyed) > limits.max_destroys:
        reasons.append(f"{len(destroyed)} segments deleted or replaced, more than the "
                       f"{limits.max_destroys} allowed: "
                       + ", ".join(c["address"] for c in destroyed))

    if limits.max_subscribers is not None:
        unknown = [c["address"] for c in destroyed if c.get("subscriber_count") is None]
        total = sum(c["subscriber_count"] or 0 for c in destroyed)
        if total > limits.max_subscribers:
            biggest = sorted(destroyed, key=lambda c: c["subscriber_count"] or 0, reverse=True)
            reasons.append(f"{total} subscribers in the segments deleted or replaced, more than the "
                           f"{limits.max_subscribers} allowed: "
                           + ", ".join(f"{c['address']} ({c['subscriber_count']})"
                                       for c in biggest if c["subscriber_count"]))
        if unknown and not limits.unknown_counts_ok:
            reasons.append("subscriber count unknown for " + ", ".join(unknown)
                           + " (the plan did not read the live segments, as with --refresh none; "
                           "plan without it, or pass --unknown-counts-ok)")
    if limits.max_replaced_subscribers is not None:
        reasons += _large_replaces(plan, limits)
    return reasons


def _large_replaces(plan: dict, limits: Limits) -> list[str]:
    """Rule 4: replaces of large segments; updates in place always pass."""
    reasons = []
    for change in plan["changes"]:
        if change["action"] != "replace":
            continue
        count = change.get("subscriber_count")
        if count is None:
            if not limits.unknown_counts_ok:
                reasons.append(f"{change['address']} would be replaced but its subscriber count is unknown "
                               "(plan without --refresh none, or pass --unknown-counts-ok)")
        elif count > limits.max_replaced_subscribers:
            reasons.append(f"{change['address']} would be replaced (new segment id) while it holds {count} "
                           f"subscribers, more than the {limits.max_replaced_subscribers} allowed; update it "
                           "in place instead (update: in_place) so that whatever uses its id keeps it")
    return reasons


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Refuse an osctl JSON plan that breaks the team's rules (exit 0 pass, 1 refused, 2 unreadable).")
    parser.add_argument("plan", help="the JSON plan: osctl plan --out FILE, or --format json")
    parser.add_argument("--max-destroys", type=_count, metavar="N",
                        help="at most N segments deleted or replaced")
    parser.add_argument("--max-subscribers", type=_count, metavar="N",
                        help="at most N subscribers in the segments deleted or replaced")
    parser.add_argument("--max-replaced-subscribers", type=_count, metavar="N",
                        help="no segment with more than N subscribers replaced (updates in place pass)")
    parser.add_argument("--allow-mass-destroy", action="store_true",
                        help="let a mass_destroy violation pass (prevent_destroy never does)")
    parser.add_argument("--unknown-counts-ok", action="store_true",
                        help="do not refuse a deleted or replaced segment whose count is unknown")
    return parser.parse_args(argv)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)  # exits 2 on bad arguments
    try:
        plan = load_plan(args.plan)
    except NotAPlan as exc:
        print(f"check_plan: {exc}", file=sys.stderr)
        return 2
    limits = Limits(max_destroys=args.max_destroys, max_subscribers=args.max_subscribers,
                    max_replaced_subscribers=args.max_replaced_subscribers, allow_mass_destroy=args.allow_mass_destroy, unknown_counts_ok=args.unknown_counts_ok)
    reasons = check(plan, limits)
    annotate = os.environ.get("GITHUB_ACTIONS") == "true"
    for reason in reasons:
        print(f"::error::policy: {reason}" if annotate else f"refused: {reason}")
    if reasons:
        print(f"policy check failed: {len(reasons)} reason(s)")
        return 1
    destroyed = sum(1 for c in plan["changes"] if c["action"] in DESTRUCTIVE)
    print(f"policy check passed: {len(plan['changes'])} change(s), {destroyed} deleted or replaced")
    return 0


if __name__ == "__main__":
    sys.exit(main())
