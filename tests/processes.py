"""What processes are alive, read from /proc (Linux): for the tests that check none leak."""

import os
from pathlib import Path

PROC = Path("/proc")
# Set in every process the test session starts (and inherited by theirs): a process
# still carrying it when the session ends was leaked by a test.
SESSION_MARK = "WATCHER_TEST_SESSION_MARK"


def alive(pid: int) -> bool:
    """Running or sleeping; a zombie (dead, not yet reaped) is not alive."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def children(pid: int) -> dict[int, str]:
    """The live child processes of ``pid`` and their command lines."""
    found = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found[int(entry.name)] = command
    return found


def marked(mark: str) -> dict[int, str]:
    """Live processes other than this one whose environment carries ``SESSION_MARK=mark``."""
    needle = f"{SESSION_MARK}={mark}".encode()
    found = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if needle in environ.split(b"\0") and alive(int(entry.name)):
            found[int(entry.name)] = command
    return found
