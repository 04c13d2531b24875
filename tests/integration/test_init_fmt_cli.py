"""osctl init and osctl fmt end to end, through the real entry point."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_osctl


def test_init_writes_a_config_that_validates_and_is_canonical(tmp_path):
    target = tmp_path / "new" / "conf"  # created, parents included
    result = run_osctl("init", str(target))
    assert result.exit_code == 0, result.output
    text = (target / "osctl.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    assert "api_key_env: ONESIGNAL_API_KEY" in text
    validated = run_osctl("validate", "-c", str(target))  # osctl.schema.json beside it is not config
    assert validated.exit_code == 0, validated.output
    assert "1 app(s), 1 segment(s), 0 export(s)" in validated.stdout
    # the starter's app_id is a placeholder: a warning, not an error
    assert "warning: apps.main.app_id: is the placeholder 'osctl init' writes" in validated.stderr
    assert run_osctl("fmt", "--check", "-c", str(target)).exit_code == 0


def test_init_writes_the_schema_that_the_editor_line_points_to(tmp_path):
    result = run_osctl("init", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (f"Wrote {tmp_path / 'osctl.yaml'} and {tmp_path / 'osctl.schema.json'}"
                                             " (the schema editors check it against)")
    first = (tmp_path / "osctl.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=./osctl.schema.json"
    # the path is relative to the YAML file, as the YAML language server resolves it
    schema_file = tmp_path / first.split("$schema=", 1)[1]
    printed = run_osctl("schema", "config").stdout
    assert schema_file.read_text() == printed
    assert json.loads(printed)["title"] and "segments" in json.loads(printed)["properties"]
    assert "osctl.schema.json" not in (tmp_path / ".gitignore").read_text()  # committed, for every editor


def test_init_refreshes_a_schema_file_left_from_an_older_osctl(tmp_path):
    (tmp_path / "osctl.schema.json").write_text("{}\n")
    assert run_osctl("init", str(tmp_path)).exit_code == 0
    assert (tmp_path / "osctl.schema.json").read_text() == run_osctl("schema", "config").stdout


def test_init_defaults_to_the_config_dir_then_the_current_dir(tmp_path):
    assert run_osctl("init", "-c", str(tmp_path / "c")).exit_code == 0
    assert (tmp_path / "c" / "osctl.yaml").exists()
    assert run_osctl("init", cwd=str(tmp_path)).exit_code == 0
    assert (tmp_path / "osctl.yaml").exists()


def test_the_commented_examples_in_the_starter_validate_once_uncommented(tmp_path):
    run_osctl("init", str(tmp_path))
    config = tmp_path / "osctl.yaml"
    lines = config.read_text().splitlines()
    start = lines.index("# exports:")
    uncommented = [line.replace("# ", "", 1) if (i >= start or "# - " in line) else line
                   for i, line in enumerate(lines)]
    config.write_text("\n".join(uncommented) + "\n")
    result = run_osctl("validate", "-c", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "1 export(s)" in result.stdout


def test_init_refuses_to_overwrite_an_existing_config(tmp_path):
    (tmp_path / "osctl.yaml").write_text("osctl: 1  # mine\n")
    result = run_osctl("init", str(tmp_path))
    assert result.exit_code == 1
    assert f"{tmp_path / 'osctl.yaml'} already exists" in result.stderr
    assert (tmp_path / "osctl.yaml").read_text() == "osctl: 1  # mine\n"
    assert not (tmp_path / ".gitignore").exists()


def test_init_refuses_a_directory_whose_yaml_files_would_be_merged_into_the_config(tmp_path):
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    result = run_osctl("init", str(tmp_path))
    assert result.exit_code == 1
    assert "docker-compose.yml" in result.stderr
    assert not (tmp_path / "osctl.yaml").exists()


def test_hidden_yaml_files_are_not_config_so_they_do_not_block_init(tmp_path):
    (tmp_path / ".pre-commit-config.yaml").write_text("repos: []\n")
    assert run_osctl("init", str(tmp_path)).exit_code == 0
    assert run_osctl("fmt", "--check", "-c", str(tmp_path)).exit_code == 0


def test_gitignore_lines_are_appended_once(tmp_path):
    (tmp_path / ".gitignore").write_text("node_modules")  # no final newline
    assert run_osctl("init", str(tmp_path)).exit_code == 0
    (tmp_path / "osctl.yaml").unlink()
    assert run_osctl("init", str(tmp_path)).exit_code == 0
    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert lines[0] == "node_modules"
    assert lines.count(".osctl/") == 1 and lines.count("exports/") == 1


def test_gitignore_entries_written_differently_are_recognised(tmp_path):
    (tmp_path / ".gitignore").write_text("/.osctl\nexports/\n")
    result = run_osctl("init", str(tmp_path))
    assert result.exit_code == 0
    assert (tmp_path / ".gitignore").read_text() == "/.osctl\nexports/\n"


@pytest.mark.parametrize("example", ["examples/quickstart", "examples/multi-app"])
def test_examples_are_in_canonical_form(example):
    result = run_osctl("fmt", "--check", "-c", example)
    assert result.exit_code == 0, result.output


def test_fmt_keeps_a_config_valid_and_its_comments(tmp_path):
    (tmp_path / "osctl.yaml").write_text(
        "segments:\n"
        "- filters:\n"
        "  - {relation: exists, key: vip, field: tag}   # VIPs only\n"
        "  name: VIPs\n"
        "\n"
        "# the app\n"
        "apps:\n"
        "    prod:\n"
        "        app_id: 5eb5a37e-b458-11e3-ac11-000c2940e62c\n"
        "osctl: 1\n")
    assert run_osctl("fmt", "-c", str(tmp_path)).exit_code == 0
    assert (tmp_path / "osctl.yaml").read_text() == (
        "osctl: 1\n"
        "\n"  # blank lines stay where they were; the comment moves with its key
        "# the app\n"
        "apps:\n"
        "  prod:\n"
        "    app_id: 5eb5a37e-b458-11e3-ac11-000c2940e62c\n"
        "segments:\n"
        "  - name: VIPs\n"
        "    filters:\n"
        "      - {field: tag, key: vip, relation: exists}   # VIPs only\n")
    assert run_osctl("validate", "-c", str(tmp_path)).exit_code == 0


def test_init_suggests_a_validate_command_that_works_when_pasted(tmp_path):
    import shlex

    target = tmp_path / "my config"
    result = run_osctl("init", str(target))
    assert result.exit_code == 0, result.output
    assert f"then run: osctl validate -c '{target}'" in result.stdout
    words = shlex.split(result.stdout.split("then run: ", 1)[1])
    assert run_osctl(*words[1:]).exit_code == 0
