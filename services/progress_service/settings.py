"""Settings of the progress service (env prefix `PLP_PROGRESS_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class ProgressSettings(ServiceSettings):
    """Progress service settings."""

    model_config = SettingsConfigDict(env_prefix="PLP_PROGRESS_", extra="ignore")
    service_name: ClassVar[str] = "progress"
