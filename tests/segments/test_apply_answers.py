"""What apply says and returns when it does not apply: a "no" at the prompt, a saved plan
that prevent_destroy blocks, a refusal under -q; and NO_COLOR as no-color.org defines it."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from tests.segments.conftest import CA, US


def _apply_on_a_terminal(ws, answer: bytes, *args: str) -> tuple[int, str, str]:
    """Run `osctl apply` as a subprocess whose stdin is a terminal, and answer its prompt."""
    primary, secondary = pty.openpty()
    env = {**os.environ, **ws.emulator.env()}
    proc = subprocess.Popen([sys.executable, "-m", "osctl", "apply", "--no-exports", "-c", str(ws.dir), *args],
                            stdin=secondary, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    os.close(secondary)
    try:
        os.write(primary, answer)  # the terminal buffers it until the prompt reads
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(primary)
    return proc.returncode, out.decode(), err.decode()


def test_answering_no_at_the_prompt_cancels_and_exits_1(ws):
    ws.write({"A": US})
    code, out, err = _apply_on_a_terminal(ws, b"no\n")
    assert code == 1, err
    assert out.endswith("Do you want to perform these actions? Only 'yes' will be accepted: Apply cancelled.\n")
    assert err == ""
    assert ws.live() == {}


def test_answering_yes_applies(ws):
    ws.write({"A": US})
    code, out, err = _apply_on_a_terminal(ws, b"yes\n")
    assert code == 0, err
    assert set(ws.live()) == {"A"}


def test_a_refused_plan_is_refused_before_the_prompt(ws):
    ws.write({"A": {"filters": US, "prevent_destroy": True}})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    ws.write({"A": {"filters": CA, "prevent_destroy": True}})
    code, out, err = _apply_on_a_terminal(ws, b"yes\n")
    assert code == 1
    assert "Do you want to perform these actions?" not in out
    assert err == ("Error: apply refused: prevent_destroy forbids replace of segment.prod.A; remove "
                   "prevent_destroy from the configuration first if this is intended\n")


def test_saved_plan_that_prevent_destroy_blocks_says_it_was_saved_and_where(ws):
    ws.write({"A": {"filters": US, "prevent_destroy": True}})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    ws.write({"A": {"filters": CA, "prevent_destroy": True}})
    out = ws.dir / "plan.json"
    plan = ws.osctl("plan", "--no-exports", "--out", str(out))
    assert plan.exit_code == 1
    assert out.is_file()
    assert plan.stderr == (
        f"\nSaved the plan to {out} for review; apply refuses it while prevent_destroy blocks it.\n"
        "Error: plan fails: prevent_destroy forbids replace of segment.prod.A; remove prevent_destroy from "
        "the configuration first if this is intended\n")


def test_quiet_apply_that_refuses_prints_only_the_reason(ws):
    ws.write({f"S{i}": US for i in range(10)})
    assert ws.osctl("apply", "--auto-approve", "--no-exports").exit_code == 0
    ws.write({f"S{i}": US for i in range(6)})
    refused = ws.osctl("apply", "-q", "--auto-approve", "--no-exports")
    assert refused.exit_code == 1
    assert refused.stdout == ""
    assert refused.stderr.startswith("Error: apply refused: the plan deletes or replaces 4 of the 10 segments")
    assert len(refused.stderr.splitlines()) == 1
    assert len(ws.live()) == 10


def test_quiet_auto_approved_apply_prints_the_result_not_the_plan(ws):
    ws.write({"A": US})
    applied = ws.osctl("apply", "-q", "--auto-approve", "--no-exports")
    assert applied.exit_code == 0, applied.output
    assert "will be created" not in applied.stdout and "Plan:" not in applied.stdout
    assert set(ws.live()) == {"A"}


def test_an_empty_no_color_does_not_disable_colour(monkeypatch):
    from osctl.cli.options import Settings

    monkeypatch.setenv("NO_COLOR", "")
    assert Settings().color(stream_isatty=True) is True
    monkeypatch.setenv("NO_COLOR", "0")  # any non-empty value, even "0", disables it
    assert Settings().color(stream_isatty=True) is False
