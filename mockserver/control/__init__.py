"""The /__mock control plane's own room: its blueprint (health, reset, clock, state), the control
token, the error envelope and body parsing. Each other concern (faults, journal, rate limits,
scenarios, openapi) serves its own /__mock calls from its own folder, on these foundations.
"""
