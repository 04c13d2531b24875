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
