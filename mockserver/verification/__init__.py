"""Verification: POST /__mock/verify asks the journal whether a pattern's requests arrived."""
