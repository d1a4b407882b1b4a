"""Response bodies of the pathway service."""

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    """camelCase on the wire."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class CompetencyPublic(CamelModel):
    """A competency of a framework."""

    id: str
    title: str
    prerequisites: list[str] = Field(description="Competencies to master first.")


class NextStepPublic(CamelModel):
    """A competency the learner is ready to work on, with the reason code."""

    competency: CompetencyPublic
    reason: str = Field(description="Why this step: `ready_to_learn` means every prerequisite is mastered.")
