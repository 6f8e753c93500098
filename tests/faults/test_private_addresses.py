"""A feed cannot make watcher read an internal address and quote it to subscribers.

The source is served from a public address (inside a network namespace of the
test's own, see private_network.py) with ``fulltext: true``; its items link to
an internal page directly, through a name that resolves to loopback, and
through a redirect. None is fetched; a public document beside them is.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PYTHON, python_env

NAMESPACES = (
    shutil.which("unshare") is not None
    and shutil.which("ip") is not None
    and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0
)
needs_namespaces = pytest.mark.skipif(
    not NAMESPACES, reason="needs unprivileged network namespaces (unshare -rn) and iproute2"
)


def poll_in_namespace(workdir: Path, extra: str = "", *, dual: bool = False) -> dict[str, object]:
    unshare = ["unshare", "-rnm", "--"] if dual else ["unshare", "-rn"]
    options = ["--dual"] if dual else []
    result = subprocess.run(
        [*unshare, PYTHON, "-m", "tests.faults.private_network", *options, str(workdir), extra],
        env=python_env(),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


@needs_namespaces
def test_documents_on_internal_addresses_are_never_fetched_for_a_public_source(
    tmp_path: Path,
) -> None:
    poll = poll_in_namespace(tmp_path)

    assert poll["code"] == 0, poll["err"]
    assert poll["internal_hits"] == []  # refused before connecting
    out, err, admin = str(poll["out"]), str(poll["err"]), str(poll["admin"])
    assert "inventaire des caméras" not in out
    assert "Avis n° 4" in out  # the public document was read, and matched
    assert "Avis n° 1" not in out and "Avis n° 2" not in out and "Avis n° 3" not in out
    assert (
        f"refused to fetch {admin}: it resolves to a private address (127.0.0.1); "
        "set settings.allow_private_addresses to allow it"
    ) in err
    assert "localhost" in err and "it redirects to 127.0.0.1, which resolves" in err
    assert "Traceback" not in err


@needs_namespaces
def test_the_setting_lets_an_operator_allow_internal_documents(tmp_path: Path) -> None:
    poll = poll_in_namespace(tmp_path, "settings:\n  allow_private_addresses: true\n")

    assert poll["code"] == 0, poll["err"]
    assert "inventaire des caméras" in str(poll["out"])
    assert "/admin" in poll["internal_hits"]  # type: ignore[operator]


@needs_namespaces
def test_a_host_with_a_private_address_beside_its_public_one_is_not_trusted(
    tmp_path: Path,
) -> None:
    # The source is known by a name that resolves to its public address and to
    # 127.0.0.1: one private address must not open the guard for the whole poll.
    poll = poll_in_namespace(tmp_path, dual=True)

    assert poll["code"] == 0, poll["err"]
    assert poll["internal_hits"] == []
    assert "inventaire des caméras" not in str(poll["out"])
    err = str(poll["err"])
    assert "refused to fetch http://dual.example:" in err
    assert "it resolves to a private address (127.0.0.1)" in err
    assert "set settings.allow_private_addresses to allow it" in err
    assert "Traceback" not in err
