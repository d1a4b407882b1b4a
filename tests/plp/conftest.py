"""Fixtures of the command-line tests: a throwaway profile database, configured as an operator would."""

import os
from collections.abc import Iterator

import pytest

from kit.migrate import upgrade
from tests.conftest import Databases


@pytest.fixture
def empty_profile(
    request: pytest.FixtureRequest, databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An empty profile database of this test module, named in `PLP_PROFILE_DATABASE_URL`."""
    name = f"plp_test_{os.getpid()}_{request.module.__name__.rsplit('.', 1)[-1]}_profile"
    url = databases.create(name)
    monkeypatch.setenv("PLP_PROFILE_DATABASE_URL", url)
    yield url
    databases.drop(name)


@pytest.fixture
def fresh_profile(empty_profile: str) -> str:
    """The empty profile database, migrated to head."""
    upgrade("profile", empty_profile)
    return empty_profile
