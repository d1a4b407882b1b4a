"""`plp dev`: the four apps as child processes on loopback, one log stream, clean shutdown."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import FrameType

import httpx

APPS = {
    "profile": "services.profile_service.app:create_app",
    "pathway": "services.pathway_service.app:create_app",
    "progress": "services.progress_service.app:create_app",
    "gateway": "gateway.app:create_app",
}


@dataclass(frozen=True)
class Ports:
    """Where each app listens."""

    gateway: int = 8000
    profile: int = 8001
    pathway: int = 8002
    progress: int = 8003

    def of(self, app: str) -> int:
        """The port of `app`."""
        port: int = getattr(self, app)
        return port


def child_environment(ports: Ports, host: str) -> dict[str, str]:
    """The environment every child gets: service URLs for these ports, GraphiQL on."""
    env = dict(os.environ)
    for app in ("profile", "pathway", "progress"):
        env[f"PLP_{app.upper()}_URL"] = f"http://{host}:{ports.of(app)}"
    env.setdefault("PLP_GATEWAY_DEV", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _pump(name: str, stream: "subprocess.Popen[bytes]", lock: threading.Lock) -> None:
    assert stream.stdout is not None
    for raw in iter(stream.stdout.readline, b""):
        with lock:
            sys.stdout.write(f"{name:<8} | {raw.decode(errors='replace')}")
            sys.stdout.flush()


def _wait_healthy(urls: Mapping[str, str], children: Mapping[str, "subprocess.Popen[bytes]"], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = dict(urls)
    while pending:
        for name, child in children.items():
            if child.poll() is not None:
                raise RuntimeError(f"{name} exited with code {child.returncode} while starting")
        for name, url in list(pending.items()):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    del pending[name]
            except httpx.TransportError:
                pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"not healthy after {timeout:.0f} s: {', '.join(pending)}")
        time.sleep(0.2)


def stop(children: Mapping[str, "subprocess.Popen[bytes]"], grace: float = 10.0) -> None:
    """Ask every child to stop, then kill what is still running after `grace` seconds."""
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def run(ports: Ports, host: str = "127.0.0.1") -> int:
    """Start the four apps, print their URLs, and supervise them until Ctrl-C or a crash."""
    env = child_environment(ports, host)
    lock = threading.Lock()
    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for name, target in APPS.items():
            command = [
                sys.executable, "-m", "uvicorn", target, "--factory",
                "--host", host, "--port", str(ports.of(name)), "--no-access-log", "--no-date-header",
            ]  # fmt: skip
            child = subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
            )
            children[name] = child
            threading.Thread(target=_pump, args=(name, child, lock), daemon=True).start()
        urls = {name: f"http://{host}:{ports.of(name)}" for name in APPS}
        _wait_healthy(urls, children, timeout=60)
        with lock:
            print("\nplp is running:", flush=True)
            print(f"  GraphQL (GraphiQL)  {urls['gateway']}/graphql", flush=True)
            for name in ("profile", "pathway", "progress"):
                print(f"  {name:<18}  {urls[name]}/docs", flush=True)
            print(
                "  a token:            .venv/bin/plp token --tenant demo --sub demo-teacher-01 --role teacher",
                flush=True,
            )
            print("Press Ctrl-C to stop.\n", flush=True)
        while not stopping.is_set():
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"{name} exited with code {child.returncode}; stopping the others", file=sys.stderr)
                    return 1
            stopping.wait(0.5)
        return 0
    except RuntimeError as exc:
        print(f"plp dev: {exc}", file=sys.stderr)
        return 1
    finally:
        stop(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
