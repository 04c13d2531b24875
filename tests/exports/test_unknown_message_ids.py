"""A `messages: {ids: [...]}` selector naming a message the app does not have is an error
that names it, in plan and in `exports run`; the ids that exist export as before."""

from __future__ import annotations

from tests.exports.conftest import KEY_ENV
from tests.helpers import run_osctl

UNKNOWN = "0b4e3f8a-2c1d-4e5f-9a8b-7c6d5e4f3a2b"


def _config(harness, ids: list[str]) -> None:
    harness.write_config(f"""\
        - name: activity
          app: prod
          kind: audience_activity
          schedule: "@daily"
          destination: out/{{message_id}}.csv.gz
          audience_activity:
            messages: {{ids: [{", ".join(ids)}]}}
        """)


def _osctl(harness, *args):
    env = {KEY_ENV: harness.emu.api_key, "ONESIGNAL_API_URL": harness.emu.url,
           "OSCTL_NOW": harness.now().isoformat()}
    return run_osctl("-c", str(harness.dir), *args, env=env)


def test_an_unknown_id_fails_plan_and_run_naming_it(harness):
    now = harness.emu.now()
    (known,) = harness.emu.add_messages(harness.emu.app_id, messages=[
        {"queued_at": now - 7200, "completed_at": now - 7000, "kind": "api"}])
    _config(harness, [known, UNKNOWN])
    expected = (f"Error: cannot plan: export.activity ({harness.dir / 'osctl.yaml'}:7): message {UNKNOWN} "
                f"does not exist in app 'prod' ({harness.emu.app_id}); remove it from messages.ids "
                "(OneSignal may have deleted it, or no longer keeps it)\n")
    ran = _osctl(harness, "exports", "run", "activity")
    assert (ran.exit_code, ran.stderr) == (1, expected)
    assert harness.files() == [] and harness.export_requests() == []
    plan = _osctl(harness, "plan")
    assert (plan.exit_code, plan.stderr) == (1, expected)

    _config(harness, [known])
    ran = _osctl(harness, "exports", "run", "activity")
    assert ran.exit_code == 0, ran.output
    assert harness.files() == [f"out/{known}.csv.gz"]
