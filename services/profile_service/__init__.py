"""Profile service: rosters (OneRoster), learner profiles, and who may see which learner."""
