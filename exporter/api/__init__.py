"""HTTP clients for the 8x8 APIs: shared plumbing in `http`, one client per API."""
