"""Project-wide checks: every command documented, lint, format and types clean.

One command (pytest) runs them all, so CI and a newcomer see the same thing.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run
from watcher.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.code == 0
    assert "example" in result.out
    assert len(result.out.splitlines()) >= 4


def test_unknown_command_is_a_usage_error() -> None:
    result = run("frobnicate")
    assert result.code == 2
    assert "invalid choice: 'frobnicate'" in result.err


@pytest.mark.parametrize(
    "tool",
    [
        pytest.param(
            [sys.executable, "-m", "ruff", "check", "watcher", "tests", "benchmarks"],
            id="ruff-check",
        ),
        pytest.param(
            [sys.executable, "-m", "ruff", "format", "--check", "watcher", "tests", "benchmarks"],
            id="ruff-format",
        ),
        pytest.param([sys.executable, "-m", "mypy"], id="mypy-strict"),
    ],
)
def test_code_quality(tool: list[str]) -> None:
    result = subprocess.run(tool, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_dependency_has_a_compatible_range_and_a_locked_version() -> None:
    import re
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    locked = dict(
        re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "requirements.lock").read_text(), re.M)
    )
    locked = {name.lower().replace("_", "-"): version for name, version in locked.items()}
    for line in project["dependencies"]:
        requirement = Requirement(line)
        assert any(spec.operator == "<" for spec in requirement.specifier), line
        version = locked.get(requirement.name.lower())
        assert version is not None, f"{requirement.name} is missing from requirements.lock"
        assert requirement.specifier.contains(version), f"{requirement.name}=={version}: {line}"


# Names vulture (60% confidence) cannot see used in the package, and why they are.
USED_ELSEWHERE = {
    "do_process_update": "python-telegram-bot's update processor calls its override",
    "formatTime": "logging.Formatter calls its override",
    "handle_starttag": "html.parser.HTMLParser calls its override",
    "handle_endtag": "html.parser.HTMLParser calls its override",
    "handle_data": "html.parser.HTMLParser calls its override",
    "connect_unix_socket": "httpcore's network backend interface requires it",
    "isolation_level": "an attribute of sqlite3.Connection",
    "__call__": "a callable protocol",
    "func": "a parameter a protocol's signature names",
    "datefmt": "a parameter of logging.Formatter.formatTime",
    "attrs": "a parameter of HTMLParser.handle_starttag",
    "exc_type": "a parameter of __exit__",
    "tb": "a parameter of __exit__",
    "first_seen": "an export column, written through the row's __dict__",
    "schema_version": "read by the tests of migrations",
    "message_id_of": "read by the delivery tests",
    "set_flag": "used by the subscriber tests",
    "find_event": "used by the French dates tests",
    "_all_terms": "the matching benchmark's bare scan uses the matcher's terms",
}


def test_the_package_has_no_dead_code() -> None:
    names = ",".join(USED_ELSEWHERE)
    tool = [sys.executable, "-m", "vulture", "watcher", "--min-confidence", "60"]
    result = subprocess.run(
        [*tool, "--ignore-names", names], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_of_the_package_is_over_400_lines() -> None:
    sizes = {
        path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in (ROOT / "watcher").rglob("*.py")
    }
    over = {path: lines for path, lines in sizes.items() if lines > 400}
    assert over == {}
