"""`plp dev` as a user runs it: four real processes on loopback, from an empty `var/`."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow
PLP = [sys.executable, "-m", "plp"]


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on right now."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def wait_for_line(process: "subprocess.Popen[str]", marker: str, timeout: float) -> list[str]:
    """Read the output until a line contains `marker`."""
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            return seen
    raise AssertionError(f"no {marker!r} within {timeout} s; output:\n{''.join(seen)}")


def test_plp_dev_serves_the_graphql_query_for_a_seeded_learner(tmp_path: Path) -> None:
    gateway, profile, pathway, progress = free_ports(4)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLP_")}
    command = [
        *PLP, "dev", "--gateway-port", str(gateway), "--profile-port", str(profile),
        "--pathway-port", str(pathway), "--progress-port", str(progress),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output = wait_for_line(process, "Press Ctrl-C to stop", timeout=90)
        assert any(f"http://127.0.0.1:{gateway}/graphql" in line for line in output)
        token = subprocess.run(
            [*PLP, "token", "--tenant", "demo", "--sub", "demo-teacher-01", "--role", "teacher"],
            cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        query = '{ learner(id: "demo-student-002") { givenName nextSteps { competency { id } } } }'
        response = httpx.post(
            f"http://127.0.0.1:{gateway}/graphql",
            json={"query": query},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert response.status_code == 200
        learner = response.json()["data"]["learner"]
        assert learner["givenName"]
        assert learner["nextSteps"] == [{"competency": {"id": "3.NF.A.3"}}]
        assert (tmp_path / "var" / "profile.db").exists()
        graphiql = httpx.get(f"http://127.0.0.1:{gateway}/graphql", headers={"Accept": "text/html"}, timeout=10)
        assert graphiql.status_code == 200
        assert "graphiql" in graphiql.text.lower()
    finally:
        process.send_signal(signal.SIGINT)
        exit_code = process.wait(timeout=30)
        assert process.stdout is not None
        process.stdout.close()
    assert exit_code == 0
