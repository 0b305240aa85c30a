"""A local mock server of Collect's and inSigner's APIs for contract testing."""

__version__ = "0.2.0"
