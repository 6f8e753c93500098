"""The running core: deadlines, shutdown, reload, one writer per database."""

import signal
import subprocess
import threading
from pathlib import Path

from tests.conftest import PYTHON, fixture_bytes, python_env, run, write_config
from tests.feed_server import FeedServer, Route
from tests.waiting import wait_for_more, wait_for_text, wait_until
from watcher.store.db import Database
from watcher.store.schema import MIGRATIONS

FAST = "settings:\n  timeout: 2s\n  poll_timeout: 4s\n"


def trickling(server: FeedServer) -> str:
    """A source that answers one byte every two seconds: it would take minutes."""
    body = fixture_bytes("senat_textes_rss2.xml")
    return server.handle("/slow", lambda seen: Route(body=body, trickle=2.0))


def test_a_trickling_source_costs_one_failed_poll_and_nothing_else(
    workdir: Path, feed_server: FeedServer
) -> None:
    healthy = feed_server.serve("/feed", fixture_bytes("senat_textes_rss2_later.xml"))
    write_config(
        workdir,
        [
            {"id": "slow", "name": "Slow", "url": trickling(feed_server)},
            {"id": "healthy", "name": "Healthy", "url": healthy, "backfill": "true"},
        ],
        extra=FAST,
    )
    result = run("poll")
    assert result.code == 0, result.err
    assert "interdire la reconnaissance faciale" in result.out
    assert "source slow: timed out after 2s" in result.err
    status = run("status").out
    slow_line = next(line for line in status.splitlines() if line.startswith("slow "))
    assert "timed out" in slow_line


def test_run_keeps_polling_beside_a_trickling_source_and_stops_on_time(
    workdir: Path, feed_server: FeedServer
) -> None:
    healthy = feed_server.serve("/feed", fixture_bytes("senat_textes_rss2.xml"))
    write_config(
        workdir,
        [
            {"id": "slow", "name": "Slow", "url": trickling(feed_server), "interval": "1s"},
            {"id": "healthy", "name": "Healthy", "url": healthy, "interval": "1s"},
        ],
        extra="settings:\n  timeout: 60s\n  poll_timeout: 60s\n",
    )
    out, log = (workdir / "out.txt").open("w"), (workdir / "log.txt").open("w")
    process = subprocess.Popen(
        [PYTHON, "-m", "watcher", "run"], cwd=workdir, env=python_env(), stdout=out, stderr=log
    )
    try:
        wait_until(lambda: feed_server.hits("/slow") and feed_server.hits("/feed"), "both polled")
        feed_server.serve("/feed", fixture_bytes("senat_textes_rss2_later.xml"))
        wait_until(
            lambda: "interdire la reconnaissance faciale" in (workdir / "out.txt").read_text(),
            "the healthy source's alert while the other one trickles",
        )
        polls = len(feed_server.hits("/feed"))
        wait_until(lambda: len(feed_server.hits("/feed")) > polls + 1, "more polls")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0  # the trickling request does not hold it
    finally:
        if process.poll() is None:
            process.kill()
        out.close()
        log.close()
    assert "Traceback" not in (workdir / "log.txt").read_text()


def test_a_second_writer_on_the_same_database_is_refused_with_who_holds_it(
    workdir: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/feed", fixture_bytes("senat_textes_rss2.xml"))
    write_config(workdir, [{"id": "s", "name": "S", "url": url, "interval": "1s"}])
    process = subprocess.Popen(
        [PYTHON, "-m", "watcher", "run"],
        cwd=workdir,
        env=python_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: feed_server.hits("/feed"), "the first poll")
        second = run("poll")
        assert second.code == 1
        assert second.err.strip() == (
            f"watcher: watcher.db is in use by watcher run (pid {process.pid}): "
            "stop it first, or use another --db"
        )
        assert run("status").code == 0  # reading is always allowed
        process.kill()  # SIGKILL: the lock dies with the process
        process.wait(timeout=10)
        assert run("poll").code == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_processes_opening_a_new_database_together_migrate_it_once(tmp_path: Path) -> None:
    for attempt in range(5):
        path = tmp_path / f"new-{attempt}.db"
        errors: list[BaseException] = []

        def open_it(path: Path = path, errors: list[BaseException] = errors) -> None:
            try:
                Database(path).close()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        versions = Database(path).db.execute("SELECT version FROM schema_version").fetchall()
        assert [v for (v,) in versions] == list(range(1, len(MIGRATIONS) + 1))


def test_sighup_reloads_feeds_yml_like_recharger(workdir: Path, feed_server: FeedServer) -> None:
    first = feed_server.serve("/first", fixture_bytes("senat_textes_rss2.xml"))
    second = feed_server.serve("/second", fixture_bytes("senat_textes_rss2.xml"))
    write_config(workdir, [{"id": "first", "name": "First", "url": first, "interval": "1s"}])
    log = (workdir / "log.txt").open("w")
    process = subprocess.Popen(
        [PYTHON, "-m", "watcher", "run"],
        cwd=workdir,
        env=python_env(),
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        wait_until(lambda: feed_server.hits("/first"), "the first source")
        (workdir / "feeds.yml").write_text("this: [is not valid", encoding="utf-8")
        process.send_signal(signal.SIGHUP)
        wait_for_text(workdir / "log.txt", "reload refused")
        # A broken file keeps the running configuration: the source is polled again.
        wait_for_more(lambda: len(feed_server.hits("/first")), 1, "polls")
        assert process.poll() is None
        write_config(
            workdir,
            [
                {"id": "first", "name": "First", "url": first, "interval": "1s"},
                {"id": "second", "name": "Second", "url": second, "interval": "1s"},
            ],
        )
        process.send_signal(signal.SIGHUP)
        wait_until(lambda: feed_server.hits("/second"), "the source added by the reload")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    text = (workdir / "log.txt").read_text()
    assert "reload refused, the running configuration stays: feeds.yml" in text
    assert "Traceback" not in text


def test_recharger_during_a_poll_loses_nothing_and_logs_no_traceback(
    workdir: Path, feed_server: FeedServer
) -> None:
    from tests.fake_telegram import TOKEN, parse_entities, running_fake_telegram
    from tests.test_telegram_delivery import feed_items

    maintainer = 777
    url = feed_server.handle("/feed", lambda seen: Route(body=feed_items(1), delay=3.0))
    write_config(
        workdir,
        [{"id": "src", "name": "Source", "url": url, "interval": "5s", "backfill": "true"}],
        extra=f"maintainers: [{maintainer}]\nchannels:\n  - chat_id: '@veille'\n",
    )
    log = (workdir / "log.txt").open("w")
    with running_fake_telegram() as (fake, api_url):
        process = subprocess.Popen(
            [PYTHON, "-m", "watcher", "run"],
            cwd=workdir,
            env=python_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api_url),
            stdout=log,
            stderr=log,
        )
        try:
            wait_until(lambda: feed_server.hits("/feed"), "the poll under way")
            fake.wait_for(lambda: fake.calls_of("getUpdates"))
            fake.push_message(maintainer, "/recharger")
            fake.wait_for(lambda: fake.messages_to(maintainer))
            reply = parse_entities(fake.messages_to(maintainer)[0].text)[0]
            assert reply.startswith("✅")
            fake.wait_for(lambda: fake.messages_to("@veille"))  # the poll's alert arrives
            assert "Expérimentation n° 0" in fake.messages_to("@veille")[0].text
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()
            log.close()
    text = (workdir / "log.txt").read_text()
    assert "Traceback" not in text
    assert "configuration reloaded" in text
