"""The /__mock blueprint: the HTTP face of the mock's state."""
from .views import control
from . import ratelimits  # noqa: F401,E402  (registers /__mock/rate-limits on `control`)
from . import faults, journal, openapi, scenarios  # noqa: F401,E402  (register their calls on `control`)
from .errors import ControlError
from .token import require_control_token

__all__ = ["ControlError", "control", "require_control_token"]
