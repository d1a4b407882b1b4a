"""Settings of the profile service (env prefix `PLP_PROFILE_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class ProfileSettings(ServiceSettings):
    """Profile service settings."""

    model_config = SettingsConfigDict(env_prefix="PLP_PROFILE_", extra="ignore")
    service_name: ClassVar[str] = "profile"
