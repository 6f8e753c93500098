"""Runs `watcher poll` inside a network namespace of its own, where a public address is local.

A private-address guard cannot be tested with the local feed server alone: it
listens on 127.0.0.1, and a source on a private address may fetch its own links.
Here ``unshare -rn`` gives this process a network namespace with nothing in it
but its loopback interface, to which ``PUBLIC`` (a global address) is added: the
"public" source really is served from a public address, the "internal" server
from 127.0.0.1, and nothing can leave the namespace. The guard in watcher is the
production one, untouched.

Usage (by tests/faults/test_private_addresses.py):
    unshare -rn python -m tests.faults.private_network WORKDIR [feeds.yml extra]
    unshare -rnm python -m tests.faults.private_network --dual WORKDIR   (a dual-address host)
Prints one JSON object: the poll's exit code, stdout, stderr, and the paths the
internal server was asked for.
"""

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import PYTHON, TOPIC, python_env
from tests.feed_server import Route, running_feed_server

PUBLIC = "1.2.3.4"  # any global address: inside the namespace it is only this loopback
SECRET = "Note interne : inventaire des caméras de reconnaissance faciale du site."


def feed(links: list[tuple[str, str]]) -> bytes:
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid></item>"
        for title, link in links
    )
    return (
        '<rss version="2.0"><channel><title>T</title><link>https://example.org</link>'
        f"<description>d</description>{entries}</channel></rss>"
    ).encode()


DUAL = "dual.example"  # with --dual: a name with a public and a private address


def main(workdir: Path, extra: str, *, dual: bool = False) -> dict[str, object]:
    for command in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", PUBLIC, "dev", "lo"]):
        subprocess.run(command, check=True)
    if dual:
        # An extra A record (or a rebinding) in a mount namespace of the test's own:
        # this process's /etc/hosts gives DUAL both addresses (unshare -rnm).
        hosts = workdir / "hosts"
        hosts.write_text(f"{PUBLIC} {DUAL}\n127.0.0.1 {DUAL}\n", encoding="utf-8")
        subprocess.run(["mount", "--bind", str(hosts), "/etc/hosts"], check=True)
    with running_feed_server() as internal, running_feed_server(PUBLIC) as public:
        internal.serve("/admin", f"<html><main>{SECRET}</main></html>", content_type="text/html")
        admin = internal.url("/admin")
        public.serve(
            "/doc",
            "<html><main>Arrêté autorisant la reconnaissance faciale.</main></html>",
            content_type="text/html",
        )
        public.serve("/moved", b"", status=302, headers={"Location": admin})
        public.routes["/feed"] = Route(
            body=feed(
                [
                    ("Avis n° 1", admin),
                    ("Avis n° 2", admin.replace("127.0.0.1", "localhost")),
                    ("Avis n° 3", public.url("/moved")),
                    ("Avis n° 4", public.url("/doc")),
                ]
            )
        )
        source_url = public.url("/feed")
        if dual:
            source_url = source_url.replace(PUBLIC, DUAL)
        (workdir / "feeds.yml").write_text(
            TOPIC
            + "sources:\n"
            + f"  - id: public\n    name: Public\n    url: {source_url}\n"
            + "    backfill: true\n    fulltext: true\n"
            + extra,
            encoding="utf-8",
        )
        poll = subprocess.run(
            [PYTHON, "-m", "watcher", "poll"],
            cwd=workdir,
            env=python_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        return {
            "code": poll.returncode,
            "out": poll.stdout,
            "err": poll.stderr,
            "admin": admin,
            "internal_hits": [seen.path for seen in internal.requests],
        }


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--dual"]
    extra = arguments[1] if len(arguments) > 1 else ""
    print(json.dumps(main(Path(arguments[0]), extra, dual="--dual" in sys.argv)))
