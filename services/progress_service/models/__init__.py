"""The progress service's tables: statements and their indexes, mastery, xAPI documents."""

from services.progress_service.models.documents import (
    ActivityDefinition,
    ActivityProfileDocument,
    AgentProfileDocument,
    StateDocument,
)
from services.progress_service.models.mastery import (
    CompetencyModel,
    Mastery,
    MasteryChange,
    MasteryPolicy,
)
from services.progress_service.models.statements import (
    Statement,
    StatementActivity,
    StatementAgent,
    StatementAttachment,
)

__all__ = [
    "ActivityDefinition",
    "ActivityProfileDocument",
    "AgentProfileDocument",
    "CompetencyModel",
    "Mastery",
    "MasteryChange",
    "MasteryPolicy",
    "StateDocument",
    "Statement",
    "StatementActivity",
    "StatementAgent",
    "StatementAttachment",
]
