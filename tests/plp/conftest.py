"""Fixtures of the command-line tests: throwaway service databases, configured as an operator would."""

import os
from collections.abc import Iterator

import pytest

from kit.migrate import upgrade
from tests.conftest import Databases


def service_database(
    service: str, request: pytest.FixtureRequest, databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An empty database of `service` for this test module, named in `PLP_<SERVICE>_DATABASE_URL`."""
    name = f"plp_test_{os.getpid()}_{request.module.__name__.rsplit('.', 1)[-1]}_{service}"
    url = databases.create(name)
    monkeypatch.setenv(f"PLP_{service.upper()}_DATABASE_URL", url)
    yield url
    databases.drop(name)


@pytest.fixture
def empty_profile(
    request: pytest.FixtureRequest, databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An empty profile database, named in `PLP_PROFILE_DATABASE_URL`."""
    yield from service_database("profile", request, databases, monkeypatch)


@pytest.fixture
def fresh_profile(empty_profile: str) -> str:
    """The empty profile database, migrated to head."""
    upgrade("profile", empty_profile)
    return empty_profile


@pytest.fixture
def empty_progress(
    request: pytest.FixtureRequest, databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An empty progress database, named in `PLP_PROGRESS_DATABASE_URL`."""
    yield from service_database("progress", request, databases, monkeypatch)


@pytest.fixture
def fresh_progress(empty_progress: str) -> str:
    """The empty progress database, migrated to head."""
    upgrade("progress", empty_progress)
    return empty_progress
