"""Asks the profile service whether a caller may read a learner, caching answers briefly.

The profile service owns the roster, so it is the one judge of "does this teacher teach this
learner?". The pathway and progress services ask it (forwarding the caller's token) and keep
the answer for a few seconds, so a page of requests costs one question.
"""

import time
from collections import OrderedDict
from typing import Annotated

from fastapi import Depends, Request

from kit.auth import CurrentPrincipal, Principal
from kit.http import ServiceClient, segment
from kit.identifiers import LearnerIdPath

CacheKey = tuple[str, str, frozenset[str], frozenset[str], str]
PAGE = 10_000


class LearnerAccess:
    """Relation checks against the profile service's `/authz/learners/{id}`."""

    def __init__(self, profile: ServiceClient, ttl_seconds: float = 30.0, max_entries: int = 10_000) -> None:
        self.profile = profile
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._cache: OrderedDict[CacheKey, tuple[float, str]] = OrderedDict()
        self._all_cache: dict[CacheKey, tuple[float, frozenset[str]]] = {}

    async def relation(self, principal: Principal, learner_id: str) -> str:
        """The caller's relation to the learner (self, guardian, teacher, admin, partner).

        Raises `NotFoundError` when the caller may not read the learner.
        """
        key = (principal.tenant_id, principal.sub, principal.roles, principal.scopes, learner_id)
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            self._cache.move_to_end(key)
            return cached[1]
        body = await self.profile.get(f"/authz/learners/{segment(learner_id)}", principal.token)
        relation = str(body["relation"])
        self._cache[key] = (now + self.ttl_seconds, relation)
        self._cache.move_to_end(key)
        if len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return relation

    async def readable_learners(self, principal: Principal) -> frozenset[str]:
        """Every learner the caller may read (from `/authz/learners`, all pages), cached like `relation`."""
        key = (principal.tenant_id, principal.sub, principal.roles, principal.scopes, "*")
        now = time.monotonic()
        cached = self._all_cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        learners: set[str] = set()
        offset = 0
        while True:
            params = {"limit": str(PAGE), "offset": str(offset)}
            page = await self.profile.get("/authz/learners", principal.token, params)
            learners.update(str(row["learnerSourcedId"]) for row in page)
            if len(page) < PAGE:
                break
            offset += PAGE
        found = frozenset(learners)
        self._all_cache[key] = (now + self.ttl_seconds, found)
        if len(self._all_cache) > self.max_entries // 100:
            self._all_cache.pop(next(iter(self._all_cache)))
        return found

    def forget(self) -> None:
        """Drop every cached answer (the roster changed wholesale)."""
        self._cache.clear()
        self._all_cache.clear()


async def readable_learner(
    learner_id: LearnerIdPath,
    request: Request,
    principal: CurrentPrincipal,
) -> str:
    """FastAPI dependency: the path's learner id, once the profile service confirms access."""
    access: LearnerAccess = request.app.state.learner_access
    await access.relation(principal, learner_id)
    return learner_id


ReadableLearnerId = Annotated[str, Depends(readable_learner)]
