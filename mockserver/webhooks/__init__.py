"""Webhooks as the control plane sees them: every registered webhook of both APIs."""
