"""Per-family rename rules registered into :mod:`cnnzoo.hub.convert`'s equivalence table."""
