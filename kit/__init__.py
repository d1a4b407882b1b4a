"""Cross-cutting code shared by the three services and the gateway; imports none of them."""
