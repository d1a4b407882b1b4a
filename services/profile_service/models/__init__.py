"""The profile service's tables: roster (OneRoster 1.2), tenancy and clients, import jobs, learner profiles."""

from services.profile_service.models.imports import ImportJob
from services.profile_service.models.learner_profiles import LearnerProfile, LearnerProfileChange
from services.profile_service.models.roster import (
    AcademicSession,
    ClassTerm,
    Course,
    Demographics,
    Enrollment,
    Org,
    RosterBase,
    RosterClass,
    RosterUser,
    UserAgent,
    UserRole,
    utc_now,
)
from services.profile_service.models.tenancy import ApiClient, Tenant

__all__ = [
    "AcademicSession",
    "ApiClient",
    "ClassTerm",
    "Course",
    "Demographics",
    "Enrollment",
    "ImportJob",
    "LearnerProfile",
    "LearnerProfileChange",
    "Org",
    "RosterBase",
    "RosterClass",
    "RosterUser",
    "Tenant",
    "UserAgent",
    "UserRole",
    "utc_now",
]
