"""`plp`: the operator's command line (migrate, seed, dev, token)."""
