"""Persistence only: TinyDB tables per API, tenant and collection, behind one lock."""

from .tinystore import Collection, Store, StoreError

__all__ = ["Collection", "Store", "StoreError"]
