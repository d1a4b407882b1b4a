"""The three services; each owns its own database and never imports another."""
