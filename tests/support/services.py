"""Shared test helpers (plain functions and values, not fixtures)."""

import os

import pytest

REQUIRE_SERVICES = os.environ.get("ACCESSGATE_REQUIRE_SERVICES", "").lower() in ("1", "true", "yes")


def need_service(available: bool, what: str) -> None:
    """Skip when a service is missing, or fail when the run requires every service (CI)."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (ACCESSGATE_REQUIRE_SERVICES=1) but is not available.", pytrace=False)
    pytest.skip(f"{what} is not available")
