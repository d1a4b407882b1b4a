"""Demo evidence for the demo district: some learners have already mastered early fractions.

Learner number n has mastered the first `n % 4` of three early competencies, each through three
correct practice statements. Statement ids are derived from their content, so loading twice
changes nothing.
"""

import uuid
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from services.progress_service import statement_store
from services.progress_service.evidence import COMPETENCY_EXTENSION
from services.progress_service.models import Statement

TENANT = "demo"
LEARNERS = 240
EARLY_COMPETENCIES = ("3.NF.A.1", "3.NF.A.2", "3.NF.A.3")
NAMESPACE = uuid.UUID("5b0c7a52-3f7e-4f61-9f2a-6a1c0e1d2b77")
SEEDER = Principal(
    sub="demo-seed", tenant_id=TENANT, roles=frozenset({"partner"}), scopes=frozenset({"statements/write"})
)


def demo_statements() -> list[dict[str, Any]]:
    """The demo statements, in a stable order with stable ids."""
    statements = []
    for number in range(1, LEARNERS + 1):
        learner = f"demo-student-{number:03d}"
        for competency in EARLY_COMPETENCIES[: number % 4]:
            for attempt in range(3):
                statements.append(
                    {
                        "id": str(uuid.uuid5(NAMESPACE, f"{learner}/{competency}/{attempt}")),
                        "actor": {"account": {"homePage": "https://demo.plp.dev", "name": learner}},
                        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
                        "object": {
                            "id": f"https://demo.plp.dev/activities/{competency}/practice-{attempt + 1}",
                            "definition": {"extensions": {COMPETENCY_EXTENSION: competency}},
                        },
                        "result": {"success": True},
                    }
                )
    return statements


async def seed_demo(session: AsyncSession) -> int:
    """Record the demo statements not stored yet; returns how many were added."""
    statements = demo_statements()
    found = await session.exec(select(Statement.id).where(col(Statement.tenant_id) == TENANT))
    existing = set(found)
    missing = [s for s in statements if s["id"] not in existing]
    if missing:
        await statement_store.record_statements(session, SEEDER, "2.0.0", missing)
    return len(missing)
