"""Rate limits of both APIs: settings and windows (model), the counting stage, /__mock/rate-limits."""
