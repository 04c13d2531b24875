"""Test users as code: the declared QA users of an app, their guard rails, and how they compare
with the live users (pure modules; the HTTP calls live in osctl.onesignal)."""
