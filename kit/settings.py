"""Settings base shared by every app: per-app env prefix with a shared `PLP_` fallback."""

from pathlib import Path
from typing import Any, ClassVar

from pydantic import model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)


class _SharedEnvSource(EnvSettingsSource):
    """Reads `PLP_<FIELD>` for the fields every app shares (not per-service ones like the database)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        owner = self.settings_cls
        if field_name not in getattr(owner, "shared_fields", frozenset()):
            return None, field_name, False
        return super().get_field_value(field, field_name)


DEV_ISSUER = "plp-dev"


class AppSettings(BaseSettings):
    """Settings every app reads; subclasses set `env_prefix` (e.g. `PLP_PROFILE_`).

    A field listed in `shared_fields` may also be set once for all apps as `PLP_<FIELD>`;
    the app's own prefixed variable wins.
    """

    model_config = SettingsConfigDict(extra="ignore", env_prefix="PLP_")
    shared_fields: ClassVar[frozenset[str]] = frozenset(
        {
            "var_dir",
            "log_level",
            "jwt_issuer",
            "jwt_audience",
            "jwt_algorithms",
            "jwt_jwks_url",
            "dev_tokens",
            "client_token_issuer",
            "profile_url",
            "pathway_url",
            "progress_url",
            "http_timeout_seconds",
        }
    )

    var_dir: Path = Path("var")
    log_level: str = "INFO"
    jwt_issuer: str = DEV_ISSUER
    jwt_audience: str = "plp"
    jwt_algorithms: list[str] = ["EdDSA"]
    jwt_jwks_url: str | None = None
    dev_tokens: bool = True
    client_token_issuer: str = "plp-clients"  # noqa: S105 - an issuer's name, not a password
    profile_url: str = "http://127.0.0.1:8001"
    pathway_url: str = "http://127.0.0.1:8002"
    progress_url: str = "http://127.0.0.1:8003"
    http_timeout_seconds: float = 5.0

    @model_validator(mode="after")
    def _jwks_issuer_is_named(self) -> "AppSettings":
        if self.jwt_jwks_url and self.jwt_issuer == DEV_ISSUER:
            raise ValueError(f"PLP_JWT_ISSUER must name the identity provider's issuer, not {DEV_ISSUER!r}")
        return self

    @model_validator(mode="after")
    def _client_issuer_is_distinct(self) -> "AppSettings":
        # Sharing a name would let client tokens pass as user or development tokens (or the reverse).
        if self.client_token_issuer in {self.jwt_issuer, self.dev_issuer}:
            raise ValueError("PLP_CLIENT_TOKEN_ISSUER must differ from the user token and development issuers")
        return self

    @property
    def dev_issuer(self) -> str:
        """The issuer of development tokens: `jwt_issuer`, or `plp-dev` beside a JWKS issuer."""
        return DEV_ISSUER if self.jwt_jwks_url else self.jwt_issuer

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Own prefix first, then the shared `PLP_` variables, then defaults."""
        shared = _SharedEnvSource(settings_cls, env_prefix="PLP_")
        return init_settings, env_settings, shared, dotenv_settings, file_secret_settings

    @property
    def signing_key_file(self) -> Path:
        """Private key of the development issuer (`plp token`) and of API clients' tokens."""
        return self.var_dir / "keys" / "dev-signing-key.pem"


class ServiceSettings(AppSettings):
    """Settings of an app that owns a database."""

    service_name: ClassVar[str] = ""
    database_url: str | None = None
    database_pool_size: int = 10

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded default: a SQLite file under `var/`."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.var_dir / (self.service_name + '.db')}"
