"""Nothing Companion runs touches the network, proven at the system-call level.

A Python socket guard cannot see native code (onnxruntime's telemetry client lives in its
shared library), so each command runs under ``strace -f`` and the test fails on any
internet socket, any DNS lookup (``/etc/resolv.conf`` opened, nscd asked) and any file
written outside the profile. The commands are the ones a user runs every day, with real
models loaded: ``init``, ``index`` (faces in the face child, CLIP), ``chat --import``
(MiniLM), ``ask`` about a photo, ``watch`` indexing a photo copied in, the window's
start (warm-up and catch-up scan), and ``mcp`` answering another app's calls on stdio (memory
search with MiniLM, a photo recognised with the face child). ``models download`` is the one command allowed to
connect, and only when the user runs it.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest_perception import astronaut_pixels
from PIL import Image

pytestmark = [pytest.mark.models, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
STRACE = shutil.which("strace")
TRACED = "socket,connect,sendto,sendmsg,openat,open,creat,mkdir,mkdirat,rename,renameat,renameat2"

INET_SOCKET = re.compile(r"\bsocket\((AF_INET|AF_INET6|PF_INET|PF_INET6)\b")
INET_CONNECT = re.compile(r"\bconnect\(\d+, \{sa_family=(AF_INET|AF_INET6)")
INET_SEND = re.compile(r"\bsend(to|msg)\(.*sa_family=(AF_INET|AF_INET6)")
DNS = re.compile(r'"/etc/resolv\.conf"|nscd/socket|"/var/run/nscd')
WRITTEN = re.compile(r'\b(?:openat|open|creat)\((?:AT_FDCWD, )?"([^"]+)", (?:[^)]*O_(?:WRONLY|RDWR|CREAT))'
                     r'|\bmkdir(?:at)?\((?:AT_FDCWD, )?"([^"]+)"')


def network_and_writes(log: Path) -> tuple[list[str], list[str]]:
    """The network calls and the paths written, from an ``strace -f -o`` log (failed calls included)."""
    network, written = [], []
    for line in log.read_text(errors="replace").splitlines():
        if INET_SOCKET.search(line) or INET_CONNECT.search(line) or INET_SEND.search(line) or DNS.search(line):
            network.append(line)
        match = WRITTEN.search(line)
        if match and "= -1 ENOENT" not in line and "= -1 EEXIST" not in line:
            written.append(match.group(1) or match.group(2))
    return network, written


def outside(paths: list[str], allowed: list[Path]) -> list[str]:
    """Written paths that lie under none of ``allowed`` (system temporary and device files aside)."""
    # Fontconfig refreshes the desktop's shared font cache for any program that draws text: font
    # metadata, nothing of the user's.
    roots = [str(a.resolve()) for a in allowed] + ["/dev/", "/proc/", "/var/cache/fontconfig/"]
    return sorted({p for p in paths if p.startswith("/") and not any(p.startswith(r) for r in roots)})


@pytest.fixture
def traced(tmp_path: Path, models_env: Path, minilm_dir: Path, companion_home: Path
           ) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs ``python -m companion ARGS`` under strace in a sealed environment; fails on what it sees."""
    if STRACE is None:
        pytest.fail("strace is needed to prove that no command touches the network (Debian package: strace)")
    (models_env / "all-minilm-l6-v2").symlink_to(minilm_dir, target_is_directory=True)
    user_home = tmp_path / "user"      # HOME and XDG folders: anything written there is outside the profile
    user_home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ORT_", "XDG_"))}
    env.update(HOME=str(user_home), XDG_CACHE_HOME=str(user_home / ".cache"),
               XDG_CONFIG_HOME=str(user_home / ".config"), XDG_DATA_HOME=str(user_home / ".local/share"),
               COMPANION_HOME=str(companion_home), COMPANION_MODELS_DIR=str(models_env),
               QT_QPA_PLATFORM="offscreen", TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    allowed = [companion_home, tmp_path / "tmp", models_env.resolve(), REPO / ".cache" / "test-models",
               user_home / ".cache" / "fontconfig"]

    def run(*args: str, until: Callable[[], bool] | None = None, timeout: float = 240,
            dialogue: list[dict[str, object]] | None = None) -> subprocess.CompletedProcess[str]:
        log = tmp_path / f"strace-{args[0]}-{time.monotonic_ns()}.log"
        command = [STRACE, "-f", "-qq", "-s", "256", "-e", f"trace={TRACED}", "-e", "signal=none", "-o", str(log),
                   sys.executable, "-m", "companion", *args]
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, start_new_session=True,
                                   stdin=subprocess.PIPE if dialogue is not None else None)
        try:
            replies = ""
            if dialogue is not None:   # a stdio server (mcp): each message in turn, each request's reply awaited
                replies = converse(process, dialogue, timeout)
            if until is not None:   # a long-running command (watch, the window): stop it once its work is done
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline and process.poll() is None and not until():
                    time.sleep(0.2)
                assert process.poll() is None, process.communicate()[1]
                assert until(), f"companion {' '.join(args)} did not finish its work in {timeout:.0f} s"
                # Signal Companion itself: strace would take the signal as "stop tracing" and leave it running.
                traced_pid = int(Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()[0])
                os.kill(traced_pid, signal.SIGINT if args[0] == "watch" else signal.SIGTERM)
            out, err = process.communicate(timeout=timeout)
            out = replies + out
        finally:   # a failed check must not leave strace and Companion running after the test
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if until is None:
            assert process.returncode == 0, f"companion {' '.join(args)} failed:\n{out}\n{err}"
        network, written = network_and_writes(log)
        assert network == [], f"companion {' '.join(args)} touched the network:\n" + "\n".join(network[:20])
        stray = outside(written, allowed)
        assert stray == [], f"companion {' '.join(args)} wrote outside the profile:\n" + "\n".join(stray[:20])
        return subprocess.CompletedProcess(command, process.returncode, out, err)

    return run


def converse(process: subprocess.Popen[str], messages: list[dict[str, object]], timeout: float) -> str:
    """Send JSON-RPC ``messages`` one per line; wait for the reply to each request; close stdin. The replies."""
    assert process.stdin is not None and process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout

    def read() -> None:
        for line in stdout:
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    replies = []
    for message in messages:
        process.stdin.write(json.dumps(message) + "\n")
        process.stdin.flush()
        while "id" in message:
            reply = lines.get(timeout=timeout)
            replies.append(reply)
            if json.loads(reply).get("id") == message["id"]:
                break
    process.stdin.close()          # end of input: the server finishes and exits
    process.stdin = None           # communicate() must not flush it again
    process.wait(timeout=timeout)
    reader.join(timeout)
    while not lines.empty():
        replies.append(lines.get())
    return "".join(replies)


def mcp_call(call_id: int, tool: str, **arguments: object) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": call_id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}


def photo_count(home: Path) -> int:
    import sqlean

    db = home / "data" / "companion.db"
    if not db.exists():
        return 0
    try:
        conn = sqlean.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return int(conn.execute("SELECT count(*) FROM photos WHERE status = 'ok'").fetchone()[0])
        finally:
            conn.close()
    except sqlean.Error:
        return 0


def test_everyday_commands_and_the_window_never_touch_the_network(
        traced: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path, companion_home: Path) -> None:
    library = tmp_path / "Pictures"
    library.mkdir()
    face = astronaut_pixels()
    Image.fromarray(face).save(library / "eileen.jpg", quality=90)
    Image.fromarray(np.full((240, 320, 3), 120, np.uint8)).save(library / "grey.jpg")
    history = tmp_path / "history.jsonl"
    history.write_text(json.dumps({"time": "2024-05-01T10:00:00+02:00", "role": "user",
                                   "text": "Went hiking with Anna in Lisbon"}) + "\n")

    traced("init")
    indexed = traced("index", str(library), "--json")
    assert json.loads(indexed.stdout)["faces"] == 1
    traced("chat", "--import", str(history))
    answer = traced("ask", "--image", str(library / "eileen.jpg"), "Who is this and when did I go hiking?")
    assert answer.stdout.strip()

    traced("folders", "add", str(library))
    Image.fromarray(face[:, ::-1].copy()).save(tmp_path / "copied.jpg")
    started = time.monotonic()

    def copied_and_indexed() -> bool:   # the copy is made while watch runs
        if time.monotonic() - started > 5 and not (library / "copied.jpg").exists():
            shutil.copy(tmp_path / "copied.jpg", library / "copied.jpg")
        return photo_count(companion_home) == 3

    traced("watch", until=copied_and_indexed)

    settings = companion_home / "settings.toml"
    settings.write_text(settings.read_text().replace("onboarding_done = false", "onboarding_done = true"))
    Image.fromarray(face[::2, ::2].copy()).save(library / "while-closed.jpg")
    traced("gui", until=lambda: photo_count(companion_home) == 4)

    # Another AI app asking over MCP: memory search (MiniLM), a photo not indexed yet (the face child).
    Image.fromarray(face[24:, 16:].copy()).save(library / "not-indexed-yet.jpg")
    served = traced("mcp", dialogue=[
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "strace-test", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        mcp_call(2, "search_memories", query="hiking"), mcp_call(3, "people"),
        mcp_call(4, "who_is_in_photo", path=str(library / "not-indexed-yet.jpg")),
        mcp_call(5, "ask", question="When did I go hiking?")])
    replies = {r["id"]: r for r in map(json.loads, served.stdout.splitlines())}
    assert not any(replies[i]["result"].get("isError") for i in (2, 3, 4, 5)), served.stdout
    assert "hiking" in replies[2]["result"]["content"][0]["text"]
    assert '"recognised now"' in replies[4]["result"]["content"][0]["text"]
