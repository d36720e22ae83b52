"""Gherkin UAT for journeys: the pytest-bdd step library and the pytest plugin that runs .feature files."""
