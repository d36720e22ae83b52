"""Platform presets (Braze, SFMC, Customer.io, Klaviyo): documented timing rules as scenario defaults.

``platform: braze`` in a scenario merges ``presets/braze.yaml`` under it before validation; see
docs/platforms.md.
"""

from simulator.platforms.merge import Outcome, apply_platform, plan, platform_of
from simulator.platforms.presets import KEYS, Preset, platform_names, preset, presets

__all__ = ["KEYS", "Outcome", "Preset", "apply_platform", "plan", "platform_names", "platform_of", "preset", "presets"]
