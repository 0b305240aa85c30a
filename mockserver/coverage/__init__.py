"""Contract coverage: which of the answers the vendors document the client under test met."""
