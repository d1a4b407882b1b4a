"""Per-framework mastery policies: BKT (the default) or one of the gradebook rules teachers know."""

from datetime import UTC, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.db import insert_for
from kit.errors import BadRequestError
from services.progress_service import mastery_rules
from services.progress_service.models import MasteryPolicy
from services.progress_service.schemas import MasteryPolicyBody

DEFAULT_FRAMEWORK = "*"


async def set_policy(
    session: AsyncSession, tenant_id: str, framework_id: str, body: MasteryPolicyBody
) -> MasteryPolicy:
    """Store the framework's policy (new evidence is judged by it; stored estimates keep their values)."""
    if body.method != "bkt":
        try:
            mastery_rules.MasteryRule(body.method, **body.options)
        except (TypeError, ValueError) as exc:
            raise BadRequestError(f"Options of {body.method}: {exc}", field="options") from exc
    values = {
        "tenant_id": tenant_id,
        "framework_id": framework_id,
        "method": body.method,
        "options": body.options,
        "updated_at": datetime.now(UTC),
    }
    connection = await session.connection()
    insert = insert_for(connection, MasteryPolicy).values(values)
    await connection.execute(
        insert.on_conflict_do_update(
            index_elements=["tenant_id", "framework_id"],
            set_={
                "method": insert.excluded.method,
                "options": insert.excluded.options,
                "updated_at": insert.excluded.updated_at,
            },
        )
    )
    return MasteryPolicy.model_validate(values)


async def get_policy(session: AsyncSession, tenant_id: str, framework_id: str) -> MasteryPolicy:
    """The framework's policy, else the tenant default, else BKT."""
    rows = {
        row.framework_id: row
        for row in await session.exec(
            select(MasteryPolicy).where(
                col(MasteryPolicy.tenant_id) == tenant_id,
                col(MasteryPolicy.framework_id).in_([framework_id, DEFAULT_FRAMEWORK]),
            )
        )
    }
    found = rows.get(framework_id) or rows.get(DEFAULT_FRAMEWORK)
    if found is not None:
        return found
    return MasteryPolicy(
        tenant_id=tenant_id,
        framework_id=framework_id,
        method="bkt",
        options={},
        updated_at=datetime(1970, 1, 1, tzinfo=UTC),
    )
