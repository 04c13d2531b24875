"""osctl: OneSignal segments and export schedules as code."""

__version__ = "0.1.0"
