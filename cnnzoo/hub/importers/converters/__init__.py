"""Per-family rename rules registered into :mod:`cnnzoo.hub.importers.equivalence`'s equivalence table."""
