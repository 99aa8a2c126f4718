"""Background services started by ``make demo`` (Airflow, Superset), and stopping exactly them.

Each service runs in its own process group; its PID is kept in ``IOC_HOME/run/<name>.pid`` and
its output in ``IOC_HOME/run/<name>.log``. ``make stop`` signals only the groups recorded there,
so it never touches an Airflow or Superset the user started some other way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from iochub.settings import Settings


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port(avoid: tuple[int, ...] = (8080, 8088)) -> int:
    """A TCP port nobody listens on now, never one of ``avoid`` (the demo's own UIs)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port


def _pid_file(settings: Settings, name: str) -> Path:
    return settings.run_dir / f"{name}.pid"


def running_pid(settings: Settings, name: str) -> int | None:
    """PID of the recorded service if its process is still alive."""
    pid_file = _pid_file(settings, name)
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().strip())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pid_file.unlink(missing_ok=True)
        return None
    return pid


def start(
    settings: Settings, name: str, argv: Sequence[str], env: dict[str, str] | None = None
) -> int:
    """Start ``argv`` detached in a new session; return its PID (or the one already running)."""
    existing = running_pid(settings, name)
    if existing is not None:
        return existing
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    log = (settings.run_dir / f"{name}.log").open("ab")
    proc = subprocess.Popen(
        list(argv),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    _pid_file(settings, name).write_text(str(proc.pid))
    return proc.pid


def stop(settings: Settings, name: str, timeout: float = 20.0) -> bool:
    """Stop the recorded service's whole process group. Returns whether one was running."""
    pid = running_pid(settings, name)
    if pid is None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    _pid_file(settings, name).unlink(missing_ok=True)
    return True


def log_tail(log: Path | None, lines: int = 30) -> str:
    """The last lines of a service's log, to show with an error ("" when there is none)."""
    if log is None or not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _reap(pid: int) -> None:
    """Collect the exit status when the service is our own child (else it lingers as a zombie)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def wait_for_http(url: str, timeout: float, log: Path | None = None) -> None:
    """Wait until ``url`` answers with a non-5xx status, or raise with the log's tail."""
    import httpx

    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=5, follow_redirects=True)
            if response.status_code < 500:
                return
            last_error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last_error = str(exc)
        time.sleep(1)
    raise TimeoutError(
        f"{url} did not come up within {timeout:.0f}s ({last_error}).\n{log_tail(log)}"
    )


def wait_for_port(port: int, timeout: float, log: Path | None = None) -> None:
    """Wait until something listens on ``port`` on loopback, or raise with the log's tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_in_use(port):
            return
        time.sleep(0.3)
    raise TimeoutError(f"nothing listens on port {port} after {timeout:.0f}s.\n{log_tail(log)}")
