"""The OpenAPI document of both emulated APIs and of /__mock, and the call that serves it."""
