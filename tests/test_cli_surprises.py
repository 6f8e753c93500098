"""CLI surprises a new maintainer met: a mistyped ``--db`` is an error (never a new empty
database), and the README's backtest example runs from a fresh clone."""

from pathlib import Path

from tests.conftest import run, write_config

REPO = Path(__file__).resolve().parents[1]


def test_a_mistyped_db_is_an_error_not_a_new_database(workdir: Path) -> None:
    write_config(workdir, [{"id": "src", "url": "https://example.org/feed"}])
    for command in ("status", "dossiers", "search"):
        args = [command, "--db", "watcher.bd"] + (["camera"] if command == "search" else [])
        result = run(*args)
        assert result.code == 1
        assert result.err == (
            "watcher: watcher.bd: no database here; pass --db PATH or run `watcher poll` first\n"
        )
    assert not (workdir / "watcher.bd").exists()

    missing = run("status", "--db", "/nonexistent/folder/watcher.db")
    assert missing.err == (
        "watcher: /nonexistent/folder/watcher.db: no database here (the folder "
        "/nonexistent/folder does not exist); pass --db PATH or run `watcher poll` first\n"
    )
    for command in ("poll", "run"):  # these create the database, but not its folder
        result = run(command, "--db", "/nonexistent/folder/watcher.db")
        assert result.err == (
            "watcher: /nonexistent/folder/watcher.db: the folder /nonexistent/folder does "
            "not exist; create it or pass another --db\n"
        )
    folder = run("status", "--db", str(workdir))
    assert (
        folder.err == f"watcher: {workdir}: is a folder; pass --db with the database file's path\n"
    )


def test_the_readme_backtest_example_runs_from_a_fresh_clone(workdir: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "$ watcher backtest --input examples/backtest.jsonl --output results.jsonl" in readme
    result = run(
        "--config",
        str(REPO / "feeds.yml"),
        "backtest",
        "--input",
        str(REPO / "examples" / "backtest.jsonl"),
        "--output",
        "results.jsonl",
    )
    assert result.code == 0, result.err
    shown = readme.split("$ watcher backtest --input examples/backtest.jsonl", 1)[1]
    for line in result.err.strip().splitlines():
        assert line in shown
    first = (workdir / "results.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert first in shown
