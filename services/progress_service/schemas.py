"""Response bodies of the progress service's own (non-xAPI) API, camelCase on the wire."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

Status = Literal["not_started", "in_progress", "mastered"]
Method = Literal["bkt", "latest", "highest", "average", "decaying_average", "weighted_average", "n_times"]


class CamelModel(BaseModel):
    """Base for wire models: camelCase aliases, unknown fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class MasteryPublic(CamelModel):
    """One competency's mastery estimate for a learner."""

    competency_id: str
    framework_id: str = Field(description="The competency's framework, `*` when not known.")
    estimate: float = Field(description="P(known) under Bayesian Knowledge Tracing, or the gradebook rule's score.")
    status: Status = Field(description="not_started, in_progress or mastered.")
    evidence_count: int = Field(description="Responses counted.")
    last_evidence_at: datetime | None = Field(description="When the latest response was made.")


class MasteryChangePublic(CamelModel):
    """One update of an estimate and the statement that caused it."""

    statement_id: str
    correct: bool
    old_estimate: float
    estimate: float
    status: Status
    at: datetime = Field(description="The statement's timestamp.")


class ClassMastery(CamelModel):
    """A class's learners x competencies matrix (the teacher's heatmap); cells without evidence are null."""

    learners: list[str] = Field(description="Row order: the learners the caller may read.")
    competencies: list[str] = Field(description="Column order: the asked-for competencies, or all with evidence.")
    estimates: list[list[float | None]] = Field(description="estimates[row][column].")
    statuses: list[list[Status]] = Field(description="statuses[row][column]; `not_started` where no evidence.")
    mastered_counts: list[int] = Field(description="Per competency: how many of the learners have mastered it.")


class ProgressSummary(CamelModel):
    """What a learner sees of their own progress this week (weeks start Monday, UTC)."""

    mastered_this_week: int = Field(description="Competencies mastered since Monday and still mastered.")
    active_day_streak: int = Field(description="Consecutive days with activity, up to today.")
    minutes_this_week: float = Field(description="Time on task since Monday, from `result.duration`.")


class MasteryPolicyBody(CamelModel):
    """How a framework's competencies are judged."""

    method: Method = Field(description="`bkt` (default) or a gradebook rule.")
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Rule options: `threshold` (score in [0, 1] that counts as mastered, default 0.8), "
        "`weight` (share of the newest score in decaying_average and weighted_average, default 0.65), "
        "`n` (scores at or above the threshold n_times needs, default 3).",
    )


class MasteryPolicyPublic(MasteryPolicyBody):
    """A stored policy."""

    framework_id: str
    updated_at: datetime


class PredictionPublic(CamelModel):
    """How likely the learner is to answer the competency's next item correctly, and why."""

    competency_id: str
    p_correct: float = Field(description="P(next response correct), all terms combined.")
    terms: dict[str, float] = Field(
        description="Each term's share of the log-odds: `competency` (BKT on this competency's evidence), "
        "`recent` (the learner's latest answers anywhere), `ability` (their surprise so far), `intercept`."
    )
