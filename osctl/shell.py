"""osctl commands suggested in messages, quoted so they can be pasted into a shell as printed.

Segment names hold spaces and quotes ("Active Users", "Bob's VIPs") and file paths may too;
`osctl import segment.main.Active Users ID` would pass three arguments, not two. Every hint
that tells the user to run osctl builds its command line here.
"""

from __future__ import annotations

import shlex


def osctl_command(*args: str) -> str:
    """`osctl ARGS...` with each argument quoted for a POSIX shell where it needs it."""
    return " ".join(["osctl", *(shlex.quote(str(arg)) for arg in args)])


def quote(arg: str) -> str:
    """One argument as it would be typed in a shell (an address with spaces gets quotes)."""
    return shlex.quote(str(arg))
