"""Closed vocabularies of the scenario format: channels, system kinds, finding kinds, severities.

They live in one place so that the validator, the JSON Schema and the documentation agree.
"""

from __future__ import annotations

__all__ = [
    "CHANNELS",
    "SYSTEM_KINDS",
    "FINDING_KINDS",
    "SEVERITIES",
    "DEFAULT_SEVERITY",
    "ENGAGEMENT_ACTIONS",
    "SYNC_TOKENS",
    "RESERVED_TARGETS",
    "engagement_events",
    "PROMO_TAGS",
    "RENAMED_KINDS",
]

#: Channels a message can go out on; a channel system serves exactly one of them.
CHANNELS: tuple[str, ...] = ("email", "sms", "push", "in_app", "whatsapp")

#: What a system is. ``source`` systems (web, app, POS) originate events; ``channel`` systems send.
SYSTEM_KINDS: tuple[str, ...] = ("source", "crm", "cdp", "orchestrator", "warehouse", "channel", "other")

#: Every finding kind a detector can emit (docs/findings.md); gates and severities name these.
FINDING_KINDS: tuple[str, ...] = (
    "exit-race",
    "stale-branch",
    "stage-propagation-miss",
    "stale-content",
    "out-of-order",
    "overlap",
    "duplicate-send",
    "frequency-cap",
    "consent-violation",
    "quiet-hours",
    "missed-send",
    "late-delivery",
    "stuck",
    "creative-render-error",
    "creative-missing-field",
    "creative-unsubscribe",
    "creative-sms-segments",
    "creative-length",
    "compliance-quiet-hours",
    "identity-duplicate-send",
    "identity-over-contact",
    "identity-consent-split",
    "compliance-zone-mismatch",
    "compliance-frequency",
    "compliance-consent",
    "compliance-unsubscribe",
)

#: Finding kinds that were renamed: old name -> new name (the validator says so).
RENAMED_KINDS: dict[str, str] = {"creative-template": "creative-render-error"}

#: A message is promotional (budgets, opt-out rules) when its ``tags`` contain one of these (any case).
PROMO_TAGS: frozenset[str] = frozenset({"promo", "promotional", "marketing"})

SEVERITIES: tuple[str, ...] = ("info", "warning", "error")

#: Severity of each kind unless the scenario's ``severity:`` overrides it.
DEFAULT_SEVERITY: dict[str, str] = {
    **{k: "warning" for k in FINDING_KINDS},
    "consent-violation": "error",
    "quiet-hours": "error",
    "creative-unsubscribe": "error",
    "compliance-quiet-hours": "error",
    "identity-consent-split": "error",
    "compliance-frequency": "error",
    "compliance-consent": "error",
    "compliance-unsubscribe": "error",
    "out-of-order": "info",
    "stuck": "info",
}

#: Engagement events a channel system emits for each delivered message: ``<channel>_<action>``.
ENGAGEMENT_ACTIONS: tuple[str, ...] = ("delivered", "opened", "clicked", "unsubscribed")

#: Words in a sync link's ``fields:`` that are not field names: every event, every consent flag.
SYNC_TOKENS: tuple[str, ...] = ("events", "consent")

#: Step targets that are not step ids.
RESERVED_TARGETS: tuple[str, ...] = ("end",)


def engagement_events(channels: tuple[str, ...] = CHANNELS) -> dict[str, str]:
    """Map of engagement event name -> channel, e.g. ``{'email_opened': 'email', ...}``."""
    return {f"{ch}_{action}": ch for ch in channels for action in ENGAGEMENT_ACTIONS}
