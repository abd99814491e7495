"""Shared test helpers (plain functions and values, not fixtures)."""

from accessgate.access.services import PolicySettings, policy_set


def make_policy(model, licence, **overrides):
    options = {
        "statements": ["I will not redistribute the weights.", "I will not remove safeguards."],
        "gating": "manual",
        "min_intended_use_chars": 20,
        "grant_days": 30,
    }
    options.update(overrides)
    return policy_set(actor=None, model=model, terms=PolicySettings(license=licence, **options))


def application(model, **overrides):
    """Arguments for a valid `access_request_submit` by the `researcher` fixture."""
    values = {
        "model": model,
        "intended_use": "Red-teaming refusal behaviour for a university safety study.",
        "accepted_statement_ids": set(model.policy.statements.filter(is_active=True).values_list("pk", flat=True)),
        "typed_name": "Rosalind Franklin",
    }
    values.update(overrides)
    return values
