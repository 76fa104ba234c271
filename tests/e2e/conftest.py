"""End-to-end tests use the ``stack`` fixture of tests/conftest.py: real processes per test."""
