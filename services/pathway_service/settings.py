"""Settings of the pathway service (env prefix `PLP_PATHWAY_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class PathwaySettings(ServiceSettings):
    """Pathway service settings."""

    model_config = SettingsConfigDict(env_prefix="PLP_PATHWAY_", extra="ignore")
    service_name: ClassVar[str] = "pathway"
