"""Typed clients of the services the pathway service calls."""
