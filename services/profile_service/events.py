"""Events the profile service publishes (written to its outbox in the changing transaction)."""

from kit.outbox import Event
from services.profile_service.models import Enrollment, RosterUser

USER_UPSERTED = "roster.user.upserted"
ENROLLMENT_CHANGED = "roster.enrollment.changed"


def user_upserted(user: RosterUser) -> Event:
    """`roster.user.upserted` for `user`."""
    return Event(
        type=USER_UPSERTED,
        tenant_id=user.tenant_id,
        subject_id=user.sourced_id,
        data={"sourcedId": user.sourced_id, "role": user.role, "status": user.status},
    )


def enrollment_changed(enrollment: Enrollment) -> Event:
    """`roster.enrollment.changed` for `enrollment`."""
    return Event(
        type=ENROLLMENT_CHANGED,
        tenant_id=enrollment.tenant_id,
        subject_id=enrollment.user_sourced_id,
        data={
            "sourcedId": enrollment.sourced_id,
            "classSourcedId": enrollment.class_sourced_id,
            "userSourcedId": enrollment.user_sourced_id,
            "role": enrollment.role,
            "status": enrollment.status,
        },
    )
