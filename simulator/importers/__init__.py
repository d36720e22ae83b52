"""Importers: vendor journey exports -> the intermediate representation (``ir``) -> scenario YAML
(``writer``). ``journeysim import FORMAT FILE -o scenario.yaml`` is in ``cli``; docs/import.md
describes the mapping of each format."""
