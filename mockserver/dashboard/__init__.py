"""The dashboard: GET /__mock/ui, a page for people that drives the same /__mock calls scripts use."""
