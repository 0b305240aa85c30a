"""The calls on the whole state: health, reset (back to the start-up state), the clock, and the
entities of /__mock/state. The control plane's foundations (the record each call carries, body
parsing, the token, the envelope) are in `control/`; each other concern serves its own calls.
"""
