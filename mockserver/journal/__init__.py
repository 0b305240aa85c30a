"""The journal of requests to the emulated APIs: model, pipeline stages and /__mock/requests."""
