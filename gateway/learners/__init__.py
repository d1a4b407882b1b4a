"""The learner domain of the GraphQL schema."""
