Feature: Cart reminder respects purchases
  The reminder must not reach someone who already bought, even though web events
  reach the CDP with a delay.

  Background:
    Given the scenario "../scenario.yaml"

  Scenario: A buyer gets no reminder
    Given a customer "ana" in stage "A" in time zone "Europe/London" opted in to "email"
    When "ana" triggers "cart_abandoned" at "2026-12-01 10:00" local time
    And "ana" triggers "purchase" 20 minutes later
    And the simulation runs for 2 days
    Then "ana" receives no "cart_email"

  Scenario: Population guardrails
    Given 500 customers
    When the simulation runs for 7 days
    Then no customer receives more than 3 messages per day
    And there are no "consent-violation" findings
