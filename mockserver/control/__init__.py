"""The /__mock control plane's foundations: the record each call carries (calls.py), body parsing,
the schemas calls share, the control token, the browser checks and the error envelope. Each
concern (lifecycle, faults, journal, rate limits, scenarios, ...) serves its own /__mock calls
from its own folder, on these foundations; nothing here imports a concern or the state.
"""
