"""The GraphQL gateway: one API over the three services; owns no data."""
