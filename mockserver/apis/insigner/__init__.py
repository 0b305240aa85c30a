"""inSigner's Bulk Send API (/api/v1/bulk-sends), emulated."""
