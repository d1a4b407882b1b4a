"""Typed clients of the three services, sharing the gateway's lifespan-owned HTTP client."""
