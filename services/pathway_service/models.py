"""Tables of the pathway service; so far only the outbox (in `db`), frameworks and paths come next."""
