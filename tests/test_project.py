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
