"""Scenarios: named bundles of fault rules, clock, rate limits and entities (model), /__mock/scenarios."""
