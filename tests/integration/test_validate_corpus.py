"""`osctl validate` on the corpus of real-world mistakes in tests/configs/.

Each case is a directory of YAML files plus `expected.txt`, one line per
diagnostic the user must see:

    [warning ]FILE:LINE PATH | message fragment | another fragment

PATH is `-` for problems of the file itself (YAML syntax, encoding); the
fragments may come from the message or from its "(valid: ...)" part. A case
passes when every expected diagnostic is reported at that file, line and
path, says what would be valid, and no other error is reported (one mistake,
one message). Cases with only warnings must exit 0.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import run_osctl

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CASES = sorted(p for p in CONFIGS.iterdir() if p.is_dir())
_LINE = re.compile(r"^(?P<warning>warning )?(?P<file>[^:\s]+):(?P<line>\d+) (?P<path>\S+) \| (?P<fragments>.+)$")


@dataclass(frozen=True)
class Expected:
    severity: str
    file: str
    line: int
    path: str  # "" for the file as a whole
    fragments: tuple[str, ...]

    def matches(self, case: Path, diag: dict) -> bool:
        return (diag["severity"] == self.severity and diag["file"] == str(case / self.file)
                and diag["line"] == self.line and diag["path"] == self.path
                and all(f in f"{diag['message']} (valid: {diag['valid']})" for f in self.fragments))

    def text_prefix(self, case: Path) -> str:
        """How the diagnostic starts in the human output."""
        return f"{case / self.file}:{self.line}:"


def expectations(case: Path) -> list[Expected]:
    out = []
    for raw in (case / "expected.txt").read_text().splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        m = _LINE.match(raw)
        assert m, f"{case.name}/expected.txt: cannot parse {raw!r}"
        path = "" if m["path"] == "-" else m["path"]
        out.append(Expected("warning" if m["warning"] else "error", m["file"], int(m["line"]), path,
                            tuple(f.strip() for f in m["fragments"].split("|"))))
    return out


def validate_json(config: Path) -> tuple[int, dict]:
    result = run_osctl("validate", "-c", str(config), "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def test_corpus_covers_many_mistakes():
    bad = [c for c in CASES if c.name.startswith("bad-")]
    assert len(bad) >= 30
    assert all((c / "expected.txt").is_file() for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_corpus_case(case: Path):
    expected = expectations(case)
    wants_error = any(e.severity == "error" for e in expected)

    text = run_osctl("validate", "-c", str(case))
    assert text.exit_code == (1 if wants_error else 0), text.output
    assert "Traceback" not in text.output and "internal error" not in text.output
    for e in expected:
        lines = [ln for ln in text.stderr.splitlines() if ln.startswith(e.text_prefix(case))]
        assert any(all(f in ln for f in e.fragments) and "(valid: " in ln for ln in lines), \
            f"{case.name}: expected {e} in:\n{text.stderr}"
    if wants_error:
        assert text.stderr.rstrip().splitlines()[-1].startswith("Error: configuration has")
    else:
        assert text.stdout.startswith("Configuration is valid")

    code, report = validate_json(case)
    assert code == text.exit_code
    diagnostics = report["diagnostics"]
    for e in expected:
        assert any(e.matches(case, d) for d in diagnostics), f"{case.name}: expected {e} in {diagnostics}"
    errors = [d for d in diagnostics if d["severity"] == "error"]
    unexpected = [d for d in errors if not any(e.matches(case, d) for e in expected)]
    assert not unexpected, f"{case.name}: reported errors nobody expected: {unexpected}"
    assert all(d["valid"] for d in diagnostics), f"{case.name}: a diagnostic does not say what is valid"
    assert all(d["col"] >= 1 for d in diagnostics)


def test_several_mistakes_are_all_reported_in_one_run():
    case = CONFIGS / "multi-several-mistakes"
    code, report = validate_json(case)
    assert code == 1
    errors = [d for d in report["diagnostics"] if d["severity"] == "error"]
    assert report["error_count"] == len(errors) >= 10
    assert {Path(d["file"]).name for d in errors} == {"osctl.yaml", "segments.yaml", "exports.yaml"}
    assert len({d["path"] for d in errors}) == len(errors)  # ten different problems, not one repeated


@pytest.mark.parametrize("case", ["bad-api-key-in-config", "bad-api-key-env-holds-key"])
def test_api_key_written_into_the_config_is_never_echoed(case: Path):
    config = CONFIGS / case
    key = re.search(r"os_v2_app_\w+", (config / "osctl.yaml").read_text()).group()
    text = run_osctl("validate", "-c", str(config))
    as_json = run_osctl("validate", "-c", str(config), "--format", "json")
    assert text.exit_code == as_json.exit_code == 1
    for output in (text.output, as_json.output):
        assert key not in output and key[:16] not in output


def test_legacy_api_key_pasted_into_api_key_env_is_not_echoed(tmp_path: Path):
    legacy_key = "NGEwMGZmMjItY2NkNy0xMWUzLTk5ZDUtMDAwYzI5NDBlNjJj"
    (tmp_path / "osctl.yaml").write_text(
        "osctl: 1\napps:\n  prod:\n    app_id: 5eb5a37e-b458-11e3-ac11-000c2940e62c\n"
        f"    api_key_env: {legacy_key}==\n")
    result = run_osctl("validate", "-c", str(tmp_path))
    assert result.exit_code == 1
    assert "apps.prod.api_key_env" in result.stderr
    assert legacy_key[:12] not in result.output


def test_missing_directory_is_named():
    missing = CONFIGS / "no-such-dir"
    result = run_osctl("validate", "-c", str(missing))
    assert result.exit_code == 1
    assert f"{missing}: config directory does not exist" in result.stderr
    code, report = validate_json(missing)
    assert code == 1 and report["valid"] is False
    assert report["diagnostics"][0]["message"] == "config directory does not exist"


def test_config_option_pointing_at_a_file():
    target = CONFIGS / "bad-tab-indent" / "osctl.yaml"
    result = run_osctl("validate", "-c", str(target))
    assert result.exit_code == 1
    assert "is a file, not a directory" in result.stderr


def test_directory_without_yaml_files(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("osctl: 1\n")
    result = run_osctl("validate", "-c", str(tmp_path))
    assert result.exit_code == 1
    assert "no *.yaml or *.yml files" in result.stderr and "osctl init" in result.stderr


def test_empty_and_comment_only_files_beside_a_valid_config_are_harmless(tmp_path: Path):
    shutil.copytree(EXAMPLES / "quickstart", tmp_path / "conf")
    (tmp_path / "conf" / "empty.yaml").write_text("")
    (tmp_path / "conf" / "notes.yml").write_text("# segments will go here\n")
    result = run_osctl("validate", "-c", str(tmp_path / "conf"))
    assert result.exit_code == 0, result.output
    assert "3 segment(s)" in result.stdout


def test_hidden_files_are_not_config(tmp_path: Path):
    shutil.copytree(EXAMPLES / "quickstart", tmp_path / "conf")
    (tmp_path / "conf" / "._osctl.yaml").write_bytes(b"\x00\x05\x16\x07 macOS resource fork")
    (tmp_path / "conf" / ".draft.yaml").write_text("osctl: 1\n")  # would be a second version
    result = run_osctl("validate", "-c", str(tmp_path / "conf"))
    assert result.exit_code == 0, result.output


def test_utf16_file_is_named_as_such(tmp_path: Path):
    (tmp_path / "osctl.yaml").write_bytes("osctl: 1\n".encode("utf-16"))
    result = run_osctl("validate", "-c", str(tmp_path))
    assert result.exit_code == 1
    assert f"{tmp_path / 'osctl.yaml'}:1:1: file is UTF-16 text" in result.stderr


def test_quiet_hides_warnings_and_the_summary_but_not_errors():
    quiet = run_osctl("validate", "-q", "-c", str(CONFIGS / "warn-legacy-field"))
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    failing = run_osctl("validate", "-q", "-c", str(CONFIGS / "bad-cron"))
    assert failing.exit_code == 1 and "the hour field '24' is not valid" in failing.stderr


@pytest.mark.parametrize("example", ["quickstart", "multi-app", "qa-users"])
def test_examples_are_valid(example: str):
    result = run_osctl("validate", "-c", str(EXAMPLES / example))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
