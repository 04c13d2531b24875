"""Suggested osctl commands survive being pasted into a shell."""

import shlex

from osctl.shell import osctl_command


def test_arguments_with_spaces_and_quotes_are_quoted_for_a_shell():
    command = osctl_command("import", "segment.main.Active Users", "3c6b0a5e-0000-4000-8000-000000000000")
    assert command == "osctl import 'segment.main.Active Users' 3c6b0a5e-0000-4000-8000-000000000000"
    tricky = osctl_command("state", "rm", "segment.main.Bob's $VIPs")
    assert shlex.split(tricky) == ["osctl", "state", "rm", "segment.main.Bob's $VIPs"]


def test_plain_arguments_stay_as_they_are():
    assert osctl_command("apply", "plan.json") == "osctl apply plan.json"
