"""The /__mock blueprint: the HTTP face of the mock's state."""
from .views import control

__all__ = ["control"]
