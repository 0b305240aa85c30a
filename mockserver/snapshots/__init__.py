"""Snapshots: GET and PUT /__mock/snapshot, and `mockserver serve --snapshot FILE`."""
