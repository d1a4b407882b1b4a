"""Pathway service: competency frameworks, the activity catalog, and each learner's path."""
