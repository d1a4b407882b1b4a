"""Events the profile service publishes (written to its outbox in the changing transaction).

Roster changes are `roster.<kind>.upserted` and `roster.<kind>.deleted` (a tombstone), except
enrollments, which are always `roster.enrollment.changed` with their status, because a
consumer's question is the same either way: who is in which class now.
"""

from typing import Any

from kit.outbox import Event

USER_UPSERTED = "roster.user.upserted"
USER_DELETED = "roster.user.deleted"
ENROLLMENT_CHANGED = "roster.enrollment.changed"
PROFILE_UPDATED = "profile.updated"
_ENROLLMENT_FIELDS = {"class_sourced_id": "classSourcedId", "user_sourced_id": "userSourcedId", "role": "role"}


def roster_changed(kind: str, tenant_id: str, sourced_id: str, status: str, values: dict[str, Any]) -> Event:
    """The event for an object of `kind` created or updated with `values` (its columns)."""
    if kind == "enrollment":
        links = {wire: values.get(column) for column, wire in _ENROLLMENT_FIELDS.items()}
        return Event(
            type=ENROLLMENT_CHANGED,
            tenant_id=tenant_id,
            subject_id=str(values.get("user_sourced_id")),
            data={"sourcedId": sourced_id, "status": status, **links},
        )
    data: dict[str, Any] = {"sourcedId": sourced_id, "status": status}
    if kind == "user":
        data["role"] = values.get("role")
    return Event(type=f"roster.{kind}.upserted", tenant_id=tenant_id, subject_id=sourced_id, data=data)


def roster_deleted(kind: str, tenant_id: str, sourced_id: str, values: dict[str, Any]) -> Event:
    """The event for an object of `kind` (with columns `values`) marked `tobedeleted`."""
    if kind == "enrollment":
        return roster_changed(kind, tenant_id, sourced_id, "tobedeleted", values)
    data = {"sourcedId": sourced_id, "status": "tobedeleted"}
    return Event(type=f"roster.{kind}.deleted", tenant_id=tenant_id, subject_id=sourced_id, data=data)


def profile_updated(tenant_id: str, learner_id: str, fields: list[str], version: int, *, erased: bool = False) -> Event:
    """`profile.updated` for a learner: the names of the changed fields, never their values."""
    return Event(
        type=PROFILE_UPDATED,
        tenant_id=tenant_id,
        subject_id=learner_id,
        data={"learnerSourcedId": learner_id, "fields": fields, "version": version, "erased": erased},
    )
