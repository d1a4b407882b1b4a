"""Which roster learner an xAPI actor identified by `mbox` is, asked of the profile service and cached.

Actors identified by an account need no lookup (the account `name` is the learner's sourcedId);
an `mbox` is matched against the roster's email addresses, a batch at a time, and the answers
(found or not) are kept for a few minutes so a stream of statements costs one question.
"""

import time
from collections import OrderedDict
from collections.abc import Iterable

from kit.auth import Principal
from kit.http import ServiceClient


class LearnerDirectory:
    """Email address -> learner sourcedId per tenant, from `POST /authz/learners/lookup`."""

    def __init__(self, profile: ServiceClient, ttl_seconds: float = 300.0, max_entries: int = 100_000) -> None:
        self.profile = profile
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._cache: OrderedDict[tuple[str, str], tuple[float, str | None]] = OrderedDict()

    async def by_email(self, principal: Principal, emails: Iterable[str]) -> dict[str, str]:
        """The learners of the caller's tenant with these (lowercase) addresses; unknown ones are left out."""
        now = time.monotonic()
        found: dict[str, str] = {}
        missing: list[str] = []
        for email in sorted(set(emails)):
            cached = self._cache.get((principal.tenant_id, email))
            if cached is not None and cached[0] > now:
                if cached[1] is not None:
                    found[email] = cached[1]
            else:
                missing.append(email)
        if missing:
            body = await self.profile.post("/authz/learners/lookup", principal.token, {"emails": missing})
            answers = {str(k).lower(): str(v) for k, v in body["learners"].items()}
            for email in missing:
                self._cache[(principal.tenant_id, email)] = (now + self.ttl_seconds, answers.get(email))
                if email in answers:
                    found[email] = answers[email]
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return found
