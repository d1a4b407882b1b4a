"""The OAuth 2.0 scopes API clients may hold: OneRoster 1.2's, our roster write scope, and xAPI's.

The xAPI scopes are checked by the progress service (its LRS); they are listed here because the
profile service creates the clients.
"""

from kit.auth import XAPI_SCOPES

ONEROSTER_SCOPE_BASE = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
ROSTER_CORE_READ = f"{ONEROSTER_SCOPE_BASE}roster-core.readonly"
ROSTER_READ = f"{ONEROSTER_SCOPE_BASE}roster.readonly"
DEMOGRAPHICS_READ = f"{ONEROSTER_SCOPE_BASE}roster-demographics.readonly"
ROSTER_WRITE = "https://plp.dev/scope/roster.write"

ROSTER_READ_SCOPES = (ROSTER_READ, ROSTER_CORE_READ)
"""Either lets a partner read the core roster (orgs, sessions, courses, classes, users)."""

KNOWN_SCOPES = frozenset({ROSTER_CORE_READ, ROSTER_READ, DEMOGRAPHICS_READ, ROSTER_WRITE}) | XAPI_SCOPES
"""Scopes an API client may be given."""
