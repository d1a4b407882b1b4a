"""Settings of the gateway (env prefix `PLP_GATEWAY_`)."""

from pydantic_settings import SettingsConfigDict

from kit.settings import AppSettings


class GatewaySettings(AppSettings):
    """Gateway settings; `dev` turns on GraphiQL and introspection."""

    model_config = SettingsConfigDict(env_prefix="PLP_GATEWAY_", extra="ignore")
    dev: bool = False
