import json

from tests.helpers import run_osctl


def test_examples_validate():
    for example in ("examples/quickstart", "examples/multi-app"):
        result = run_osctl("validate", "-c", example)
        assert result.exit_code == 0, result.output
        assert "Configuration is valid" in result.stdout


def test_validate_json_lists_diagnostics(tmp_path):
    (tmp_path / "a.yaml").write_text("osctl: 1\napps:\n  prod: {app_id: nope}\n")
    result = run_osctl("validate", "-c", str(tmp_path), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    [diag] = report["diagnostics"]
    assert diag["line"] == 3 and diag["path"] == "apps.prod.app_id"


def test_version():
    result = run_osctl("--version")
    assert result.exit_code == 0 and "osctl" in result.stdout


def _explode(*args, **kwargs):
    raise RuntimeError("simulated bug")


def test_a_bug_is_one_line_with_a_hint_and_the_traceback_only_with_v(monkeypatch):
    # An unexpected exception stands in for a bug anywhere below the CLI boundary.
    monkeypatch.setattr("osctl.cli.validate_cmd.load", _explode)
    quiet = run_osctl("validate", "-c", "examples/quickstart")
    assert quiet.exit_code == 1
    assert quiet.stderr.strip().splitlines() == [
        "Error: internal error: RuntimeError: simulated bug (rerun with -v for the traceback)"]
    assert "Traceback" not in quiet.output
    verbose = run_osctl("validate", "-c", "examples/quickstart", "-v")
    assert verbose.exit_code == 1
    assert "Traceback (most recent call last)" in verbose.stderr and "simulated bug" in verbose.stderr


def test_usage_errors_exit_1_not_2():
    result = run_osctl("plan", "--refresh", "sometimes")
    assert result.exit_code == 1
    assert "sometimes" in result.output
