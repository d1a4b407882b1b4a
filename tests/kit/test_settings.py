"""`kit.settings`: each app's own `PLP_<APP>_` variables, the shared `PLP_` fallback, and defaults."""

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.settings import GatewaySettings
from services.pathway_service.settings import PathwaySettings
from services.profile_service.settings import ProfileSettings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No `PLP_` variable of the surrounding shell leaks into these tests."""
    for name in list(os.environ):
        if name.upper().startswith("PLP_"):
            monkeypatch.delenv(name)


class TestAppSettings:
    def test_defaults_without_any_variable(self) -> None:
        settings = GatewaySettings()
        assert settings.var_dir == Path("var")
        assert settings.jwt_issuer == "plp-dev"
        assert settings.jwt_audience == "plp"
        assert settings.jwt_algorithms == ["EdDSA"]
        assert settings.jwt_jwks_url is None
        assert settings.dev_tokens is True

    def test_a_jwks_url_needs_the_identity_providers_own_issuer(self) -> None:
        with pytest.raises(ValidationError, match="PLP_JWT_ISSUER"):
            GatewaySettings(jwt_jwks_url="https://idp.example/jwks.json")

    def test_development_tokens_keep_the_dev_issuer_beside_a_jwks_issuer(self) -> None:
        assert GatewaySettings(jwt_issuer="district").dev_issuer == "district"
        settings = GatewaySettings(jwt_issuer="https://idp.example", jwt_jwks_url="https://idp.example/jwks.json")
        assert settings.dev_issuer == "plp-dev"

    def test_the_apps_own_prefixed_variable_is_read(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PLP_PROFILE_JWT_AUDIENCE", "profile-only")
        assert ProfileSettings().jwt_audience == "profile-only"

    def test_the_apps_own_prefix_wins_over_the_shared_variable(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PLP_JWT_AUDIENCE", "shared")
        monkeypatch.setenv("PLP_PROFILE_JWT_AUDIENCE", "profile-only")
        assert ProfileSettings().jwt_audience == "profile-only"

    def test_a_shared_variable_applies_to_every_app(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PLP_JWT_AUDIENCE", "district")
        assert ProfileSettings().jwt_audience == "district"
        assert PathwaySettings().jwt_audience == "district"
        assert GatewaySettings().jwt_audience == "district"

    def test_another_apps_prefix_is_ignored(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PLP_GATEWAY_JWT_AUDIENCE", "gateway-only")
        assert ProfileSettings().jwt_audience == "plp"
        assert GatewaySettings().jwt_audience == "gateway-only"

    def test_an_init_argument_wins_over_every_variable(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PLP_JWT_AUDIENCE", "shared")
        monkeypatch.setenv("PLP_PROFILE_JWT_AUDIENCE", "profile-only")
        assert ProfileSettings(jwt_audience="explicit").jwt_audience == "explicit"

    def test_a_shared_list_variable_is_parsed_as_json(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PLP_JWT_ALGORITHMS", '["EdDSA", "ES256"]')
        assert GatewaySettings().jwt_algorithms == ["EdDSA", "ES256"]

    def test_a_shared_boolean_variable_is_parsed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PLP_DEV_TOKENS", "false")
        assert GatewaySettings().dev_tokens is False

    def test_a_shared_url_of_another_app_is_read(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PLP_PROFILE_URL", "http://profile.internal:9000")
        assert GatewaySettings().profile_url == "http://profile.internal:9000"
        assert PathwaySettings().profile_url == "http://profile.internal:9000"

    def test_an_app_specific_field_has_no_shared_fallback(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PLP_DEV", "true")
        assert GatewaySettings().dev is False
        monkeypatch.setenv("PLP_GATEWAY_DEV", "true")
        assert GatewaySettings().dev is True

    def test_the_signing_key_lives_under_the_var_dir(self, tmp_path: Path) -> None:
        settings = GatewaySettings(var_dir=tmp_path)
        assert settings.signing_key_file == tmp_path / "keys" / "dev-signing-key.pem"


class TestServiceSettings:
    def test_the_shared_database_url_is_ignored(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("PLP_DATABASE_URL", "postgresql+psycopg://shared@db/everyone")
        settings = ProfileSettings(var_dir=tmp_path)
        assert settings.database_url is None
        assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path / 'profile.db'}"

    def test_the_shared_pool_size_is_ignored(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PLP_DATABASE_POOL_SIZE", "99")
        assert ProfileSettings().database_pool_size == 10

    def test_the_services_own_database_url_is_used(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PLP_PROFILE_DATABASE_URL", "postgresql+psycopg://u@db/profile")
        settings = ProfileSettings()
        assert settings.database_url == "postgresql+psycopg://u@db/profile"
        assert settings.resolved_database_url == "postgresql+psycopg://u@db/profile"

    def test_another_services_database_url_is_ignored(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PLP_PATHWAY_DATABASE_URL", "postgresql+psycopg://u@db/pathway")
        assert ProfileSettings().database_url is None
        assert PathwaySettings().database_url == "postgresql+psycopg://u@db/pathway"

    def test_the_default_url_is_a_sqlite_file_named_after_the_service(self, tmp_path: Path) -> None:
        assert ProfileSettings(var_dir=tmp_path).resolved_database_url == (
            f"sqlite+aiosqlite:///{tmp_path / 'profile.db'}"
        )
        assert PathwaySettings(var_dir=tmp_path).resolved_database_url == (
            f"sqlite+aiosqlite:///{tmp_path / 'pathway.db'}"
        )

    def test_the_default_url_follows_the_shared_var_dir(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("PLP_VAR_DIR", str(tmp_path / "shared-var"))
        assert ProfileSettings().resolved_database_url == (
            f"sqlite+aiosqlite:///{tmp_path / 'shared-var' / 'profile.db'}"
        )

    def test_the_default_url_follows_the_services_own_var_dir(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("PLP_VAR_DIR", str(tmp_path / "shared-var"))
        monkeypatch.setenv("PLP_PROFILE_VAR_DIR", str(tmp_path / "profile-var"))
        assert ProfileSettings().resolved_database_url == (
            f"sqlite+aiosqlite:///{tmp_path / 'profile-var' / 'profile.db'}"
        )
