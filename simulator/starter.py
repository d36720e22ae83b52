"""``journeysim init``: copy the starter scenario and feature into a folder."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from simulator.errors import UsageError
from simulator.fileio import atomic_write_text

__all__ = ["write_starter", "STARTER_FILES"]

#: template name in ``simulator/templates`` -> path written under the target folder
STARTER_FILES: dict[str, str] = {
    "starter_scenario.yaml": "scenario.yaml",
    "starter.feature": "features/cart_reminder.feature",
}


def write_starter(directory: Path, *, force: bool = False) -> list[Path]:
    """Write the starter files into ``directory``; refuses to overwrite unless ``force``."""
    targets = {name: directory / rel for name, rel in STARTER_FILES.items()}
    existing = [p for p in targets.values() if p.exists()]
    if existing and not force:
        raise UsageError(f"{', '.join(map(str, existing))} already exist{'s' if len(existing) == 1 else ''}; "
                         "use --force to overwrite, or choose another folder")
    written = []
    for name, path in targets.items():
        atomic_write_text(path, files("simulator.templates").joinpath(name).read_text(encoding="utf-8"))
        written.append(path)
    return written
