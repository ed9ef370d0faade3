"""The `sla` command as CI and people use it: exit codes, output formats, and no tracebacks."""

from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from sla_dsl.cli import main
from sla_dsl.language.source import read_policy
from sla_dsl.policy_file import format_source
from sla_dsl.version import __version__

ROOT = Path(__file__).resolve().parent.parent
POLICIES = sorted((ROOT / "policies").glob("*.sla"))
ERRORS = ROOT / "tests" / "fixtures" / "errors"
WARNING_ONLY = ERRORS / "unreachable-segment.sla"
DIAGNOSTIC_KEYS = {
    "file", "line", "column", "end_line", "end_column", "severity", "code", "name", "message",
    "help", "notes",
}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one in-process `sla` run; a usage exit counts too."""
    try:
        code = main([str(arg) for arg in argv])
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out and "Traceback" not in err
    assert "internal error" not in err
    return code, out, err


def error_file() -> Path:
    """A file with errors and no doubt about it."""
    return ERRORS / "undeclared-party.sla"


def formatted_copy(tmp_path: Path, policy: Path) -> Path:
    source = read_policy(policy)
    formatted, diagnostics = format_source(source)
    assert formatted is not None, diagnostics
    target = tmp_path / policy.name
    target.write_text(formatted, encoding="utf-8")
    return target


def badly_laid_out(tmp_path: Path) -> tuple[Path, str]:
    text = (ROOT / "policies" / "inbound-desk.sla").read_text(encoding="utf-8")
    text = text.replace("first touch within 4 business hours",
                        "first   touch  within 1 business hours")
    text = text.replace("party sales contact", "party    sales contact")
    text = text.replace("open mon-fri 08:00-18:00", "open   mon-fri  08:00-18:00   ")
    assert "1 business hours" in text
    target = tmp_path / "messy.sla"
    target.write_bytes(text.encode("utf-8"))
    return target, text


# ---------------------------------------------------------------- entry point and help


def test_console_script_is_installed():
    exe = shutil.which("sla")
    assert exe, "the `sla` console script is not on PATH"
    result = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"sla {__version__}"
    assert "Traceback" not in result.stderr


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.strip() == f"sla {__version__}"
    assert re.fullmatch(r"sla \d+\.\d+\.\d+\S*\n", out)


@pytest.mark.parametrize("argv", [["--help"], ["check", "--help"], ["fmt", "--help"],
                                  ["schema", "--help"], ["-h"]])
def test_help(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: sla")
    assert "--help" in out


def test_no_command_prints_help_and_exits_2(capsys):
    code, _, err = run(capsys)
    assert code == 2
    assert "usage: sla" in err


# ---------------------------------------------------------------- check: exit codes


@pytest.mark.parametrize("policy", POLICIES, ids=[p.name for p in POLICIES])
def test_check_every_policy_is_clean(capsys, policy):
    code, out, _ = run(capsys, "check", policy)
    assert code == 0, out
    assert "no problems" in out


def test_check_policy_directory(capsys):
    code, out, _ = run(capsys, "check", ROOT / "policies")
    assert code == 0, out
    assert f"{len(POLICIES)} policies checked: no problems" in out


def test_check_file_with_errors_exits_1(capsys):
    code, out, _ = run(capsys, "check", error_file())
    assert code == 1
    assert ": error: " in out


def test_check_every_error_fixture_reports(capsys):
    for fixture in sorted(ERRORS.glob("*.sla")):
        code, out, _ = run(capsys, "check", fixture)
        golden = fixture.with_suffix(".expected").read_text(encoding="utf-8")
        expected = 1 if ": error: " in golden else 0  # the lint-rule fixtures only warn
        assert code == expected, (fixture.name, out)
        assert ": error: " in out or ": warning: " in out, fixture.name


def test_warnings_only_passes_unless_strict(capsys):
    code, out, _ = run(capsys, "check", WARNING_ONLY)
    assert code == 0
    assert "warning" in out and ": error: " not in out
    code, out, _ = run(capsys, "check", "--strict", WARNING_ONLY)
    assert code == 1


def test_quiet_drops_summary(capsys):
    code, out, _ = run(capsys, "check", "-q", POLICIES[0])
    assert code == 0
    assert out == ""


@pytest.mark.parametrize("argv", [
    ["check"],
    ["fmt"],
    ["check", "--no-such-option", "policies/company-x.sla"],
    ["--no-such-option"],
    ["check", "--format", "xml", "policies/company-x.sla"],
    ["check", "--dump-json", "policies/company-x.sla", "policies/fusion.sla"],
    ["schema"],
    ["schema", "nothing"],
    ["frobnicate"],
], ids=["check-no-files", "fmt-no-files", "unknown-option", "unknown-global-option",
        "format-xml", "dump-json-two-files", "schema-no-which", "schema-unknown", "unknown-verb"])
def test_usage_errors_exit_2(capsys, monkeypatch, argv):
    monkeypatch.chdir(ROOT)
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "usage:" in err


# ---------------------------------------------------------------- check: output formats


def test_json_format(capsys):
    code, out, _ = run(capsys, "check", "--format", "json", error_file(), WARNING_ONLY)
    assert code == 1
    diagnostics = json.loads(out)
    assert isinstance(diagnostics, list) and diagnostics
    for diagnostic in diagnostics:
        assert isinstance(diagnostic, dict)
        assert set(diagnostic) == DIAGNOSTIC_KEYS
        assert diagnostic["severity"] in {"error", "warning"}
        assert diagnostic["code"] and diagnostic["message"]
        assert isinstance(diagnostic["notes"], list)
    assert {d["severity"] for d in diagnostics} == {"error", "warning"}
    assert {d["file"] for d in diagnostics} == {str(error_file()), str(WARNING_ONLY)}


def test_json_format_clean_is_empty_list(capsys):
    code, out, _ = run(capsys, "check", "--format", "json", POLICIES[0])
    assert code == 0
    assert json.loads(out) == []


def test_github_format(capsys, tmp_path):
    # A message with a newline in it (help text) and a file name with a comma and colon.
    odd = tmp_path / "odd,name:x.sla"
    odd.write_bytes(b"")
    code, out, _ = run(capsys, "check", "--format", "github", error_file(), WARNING_ONLY,
                       ERRORS / "many-syntax-errors.sla", odd)
    assert code == 1
    lines = out.splitlines()
    assert lines
    for line in lines:
        assert line.startswith(("::error file=", "::warning file=")), line
        _props, _, message = line.partition("::")[2].partition("::")
        assert message, line
        assert "\r" not in line
    assert any(line.startswith("::warning file=") for line in lines)
    # one annotation per diagnostic: no raw newline broke one in two
    diagnostics = []
    for path in (error_file(), WARNING_ONLY, ERRORS / "many-syntax-errors.sla", odd):
        _, json_out, _ = run(capsys, "check", "--format", "json", path)
        diagnostics += json.loads(json_out)
    assert len(lines) == len(diagnostics)
    assert any("%0A" in line for line in lines)  # help text joined with an escaped newline
    odd_line = next(line for line in lines if "odd" in line)
    assert "odd%2Cname%3Ax.sla" in odd_line


# ---------------------------------------------------------------- check: never a traceback


def _assert_one_error(capsys, *argv) -> str:
    code, out, err = run(capsys, "check", *argv)
    assert code == 1, (out, err)
    assert ": error: " in out, out
    return out


def test_directory_without_policies(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("not a policy")
    out = _assert_one_error(capsys, tmp_path)
    assert "directory" in out


def test_missing_file(capsys, tmp_path):
    out = _assert_one_error(capsys, tmp_path / "nope.sla")
    assert "no such file" in out


def test_unreadable_file(capsys, tmp_path):
    target = tmp_path / "secret.sla"
    target.write_text('sla "x"\n')
    target.chmod(0)
    try:
        if os.access(target, os.R_OK):
            pytest.skip("running as a user who can read a mode-000 file (root)")
        out = _assert_one_error(capsys, target)
        assert "cannot read" in out
    finally:
        target.chmod(0o644)


def test_binary_file(capsys, tmp_path):
    rng = random.Random(7)
    target = tmp_path / "blob.sla"
    target.write_bytes(bytes(rng.randrange(256) for _ in range(4096)) + b"\x00")
    out = _assert_one_error(capsys, target)
    assert "binary" in out


def test_invalid_utf8(capsys, tmp_path):
    target = tmp_path / "latin1.sla"
    target.write_bytes('sla "Caf\u00e9 sales"\n'.encode("latin-1"))
    assert b"\x00" not in target.read_bytes()
    out = _assert_one_error(capsys, target)
    assert "UTF-8" in out


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"# only a comment\n  # and another\n"],
                         ids=["empty", "blank", "comments-only"])
def test_empty_policies(capsys, tmp_path, content):
    target = tmp_path / "empty.sla"
    target.write_bytes(content)
    out = _assert_one_error(capsys, target)
    assert "empty" in out


def test_huge_file(capsys, tmp_path):
    target = tmp_path / "huge.sla"
    line = b'persona p when title matches "(?i)manager"  # padding padding padding\n'
    target.write_bytes(b'sla "big"\n' + line * (5 * 1024 * 1024 // len(line) + 1))
    assert target.stat().st_size >= 5 * 1024 * 1024
    out = _assert_one_error(capsys, target)
    assert "file is 5,120 KiB; a policy may be at most 256 KiB" in out


def test_github_annotations_show_control_characters_as_escapes(capsys, tmp_path):
    # a name that clears the screen reached the CI log's terminal as it is
    clearing = tmp_path / "clear\x1b[2J.sla"
    clearing.write_bytes(b"")
    code, out, _ = run(capsys, "check", "--format", "github", clearing)
    assert code == 1
    assert "\x1b" not in out and "clear\\x1b[2J.sla" in out


def test_bad_files_in_json_and_github_formats(capsys, tmp_path):
    empty = tmp_path / "empty.sla"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.sla"
    code, out, _ = run(capsys, "check", "--format", "json", empty, missing)
    assert code == 1
    assert [d["file"] for d in json.loads(out)] == [str(empty), str(missing)]
    code, out, _ = run(capsys, "check", "--format", "github", empty, missing)
    assert code == 1
    assert len(out.splitlines()) == 2


def test_internal_errors_do_not_print_a_traceback(capsys, monkeypatch):
    def explode(_source):
        raise RuntimeError("boom")

    monkeypatch.setattr("sla_dsl.cli.common.check_source", explode)
    code = main(["check", str(POLICIES[0])])
    out, err = capsys.readouterr()
    assert code == 70
    assert "Traceback" not in out + err
    assert "internal error" in err and "boom" in err


# ---------------------------------------------------------------- stdin


def _stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BytesIO(data)))


def test_check_reads_stdin(capsys, monkeypatch):
    _stdin(monkeypatch, POLICIES[0].read_bytes())
    code, out, _ = run(capsys, "check", "-")
    assert code == 0, out
    assert "no problems" in out


def test_check_stdin_with_errors_names_stdin(capsys, monkeypatch):
    _stdin(monkeypatch, error_file().read_bytes())
    code, out, _ = run(capsys, "check", "--format", "json", "-")
    assert code == 1
    assert {d["file"] for d in json.loads(out)} == {"<stdin>"}


def test_check_stdin_binary(capsys, monkeypatch):
    _stdin(monkeypatch, b"\x00\x01\x02")
    code, out, _ = run(capsys, "check", "-")
    assert code == 1
    assert "binary" in out


def test_fmt_stdin_writes_stdout(capsys, monkeypatch, tmp_path):
    messy, text = badly_laid_out(tmp_path)
    _stdin(monkeypatch, text.encode("utf-8"))
    code, out, _ = run(capsys, "fmt", "-")
    assert code == 0
    assert "1 business hour\n" in out
    assert out == format_source(read_policy(messy))[0]


# ---------------------------------------------------------------- fmt


def test_fmt_check_reports_and_changes_nothing(capsys, tmp_path):
    messy, text = badly_laid_out(tmp_path)
    code, _, err = run(capsys, "fmt", "--check", messy)
    assert code == 1
    assert "would reformat" in err
    assert messy.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("policy", POLICIES, ids=[p.name for p in POLICIES])
def test_fmt_check_formatted_file_exits_0(capsys, tmp_path, policy):
    target = formatted_copy(tmp_path, policy)
    before = target.read_bytes()
    code, _, err = run(capsys, "fmt", "--check", target)
    assert code == 0, err
    assert target.read_bytes() == before


def test_fmt_rewrites_then_check_passes(capsys, tmp_path):
    messy, text = badly_laid_out(tmp_path)
    code, _, err = run(capsys, "fmt", messy)
    assert code == 0, err
    assert "reformatted" in err
    rewritten = messy.read_text(encoding="utf-8")
    assert rewritten != text
    assert "first touch within 1 business hour\n" in rewritten
    code, _, err = run(capsys, "fmt", "--check", messy)
    assert code == 0, err
    code, out, _ = run(capsys, "check", messy)
    assert code == 0, out


def test_fmt_diff_prints_unified_diff_and_changes_nothing(capsys, tmp_path):
    messy, text = badly_laid_out(tmp_path)
    code, out, _ = run(capsys, "fmt", "--diff", messy)
    assert code == 1
    assert out.startswith(f"--- {messy}\n+++ {messy} (formatted)\n@@ ")
    assert "-  first   touch  within 1 business hours\n" in out
    assert "+  first touch within 1 business hour\n" in out
    assert messy.read_text(encoding="utf-8") == text


def test_fmt_diff_on_formatted_file_prints_nothing(capsys, tmp_path):
    target = formatted_copy(tmp_path, POLICIES[0])
    code, out, _ = run(capsys, "fmt", "--diff", target)
    assert code == 0
    assert out == ""


def test_fmt_directory(capsys, tmp_path):
    for policy in POLICIES:
        formatted_copy(tmp_path, policy)
    code, _, err = run(capsys, "fmt", "--check", tmp_path)
    assert code == 0, err


@pytest.mark.parametrize("fixture", ["unclosed-block.sla", "many-syntax-errors.sla",
                                     "unterminated-string.sla"])
def test_fmt_leaves_a_file_with_syntax_errors_alone(capsys, tmp_path, fixture):
    target = tmp_path / fixture
    shutil.copy(ERRORS / fixture, target)
    before = target.read_bytes()
    for argv in (["fmt"], ["fmt", "--check"], ["fmt", "--diff"]):
        code, out, err = run(capsys, *argv, target)
        assert code == 1, (argv, err)
        assert "not formatted" in err
        assert out == ""
        assert target.read_bytes() == before


def test_fmt_unreadable_inputs(capsys, tmp_path):
    binary = tmp_path / "blob.sla"
    binary.write_bytes(b"\x00\xff")
    code, _, err = run(capsys, "fmt", binary, tmp_path / "missing.sla")
    assert code == 1
    assert "binary" in err and "no such file" in err
    assert binary.read_bytes() == b"\x00\xff"


# ---------------------------------------------------------------- schema and --dump-json


def _schema(capsys) -> dict:
    code, out, _ = run(capsys, "schema", "policy")
    assert code == 0
    schema = json.loads(out)
    Draft202012Validator.check_schema(schema)
    return schema


def test_schema_is_a_json_schema(capsys):
    schema = _schema(capsys)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema.get("type") == "object"


@pytest.mark.parametrize("policy", POLICIES, ids=[p.name for p in POLICIES])
def test_dump_json_validates_against_schema(capsys, policy):
    validator = Draft202012Validator(_schema(capsys))
    code, out, err = run(capsys, "check", "--dump-json", policy)
    assert code == 0, err
    dumped = json.loads(out)
    errors = sorted(validator.iter_errors(dumped), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    assert dumped["statements"]
    assert "no problems" in err  # the report goes to stderr so stdout stays pure JSON


def test_dump_json_prints_nothing_on_errors(capsys):
    code, out, err = run(capsys, "check", "--dump-json", error_file())
    assert code == 1
    assert out == ""
    assert ": error: " in err


@pytest.mark.skipif(not Path("/dev/full").is_char_device(),  # (a file of that name is no disk)
                    reason="needs the device /dev/full (Linux)")
@pytest.mark.parametrize("args", [["check", "policies/inbound-desk.sla"],
                                  ["evaluate", "policies/inbound-desk.sla", "--history",
                                   "examples/company-x/history.csv", "-q"]])
def test_stdout_on_a_full_disk_is_said_not_a_bug(args):
    """Output to a full disk was exit 70, 'this is a bug in sla_dsl'."""
    program = "import sys; from sla_dsl.cli import main; sys.exit(main(sys.argv[1:]))"
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-c", program, *args], stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=600,
                                cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == 2
    assert result.stderr == ("sla: cannot write the output: No space left on device\n  help: "
                             "make room on the disk, or write the output elsewhere (-o FILE "
                             "where the command has it)\n")


# ------------------------------------------- -q on every command that shows progress

QUIET_RUNS = {
    "test": ["test", "policies/tests/sales-floor/cadence-and-escalation.toml"],
    "calibrate": ["calibrate", "--policy", "policies/company-x.sla", "--history",
                  "examples/company-x/history.csv"],
    "diff": ["diff", "policies/company-x.sla", "policies/company-x-trial.sla", "--history",
             "examples/company-x/history.csv"],
    "simulate": ["simulate", "policies/inbound-desk.sla", "--scenario",
                 "examples/scenarios/inbound-desk.toml", "--replications", "2"],
}


@pytest.mark.parametrize("command", sorted(QUIET_RUNS))
def test_quiet_silences_the_progress_a_terminal_would_see(command, monkeypatch, capsys):
    import functools

    import sla_dsl.cli.simulate as simulate_cli
    from sla_dsl.cli.progress import ProgressBar

    from .test_html_report import drained

    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(simulate_cli, "ProgressBar", functools.partial(ProgressBar, delay=0.0))
    seen = []
    for quiet in ([], ["-q"]):
        primary, secondary = os.openpty()
        terminal = os.fdopen(secondary, "w")
        monkeypatch.setattr(sys, "stderr", terminal)
        code = main([*QUIET_RUNS[command], *quiet])
        terminal.close()
        seen.append(drained(primary))
        capsys.readouterr()
        assert code in (0, 1)
    loud, quiet = seen
    assert "sla: " in loud or "replications [" in loud
    assert "sla: " not in quiet and "[" not in quiet
