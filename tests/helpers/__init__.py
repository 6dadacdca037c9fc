"""Helpers shared by the store tests (importable as ``helpers`` because tests/ is on sys.path)."""
