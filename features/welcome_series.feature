Feature: Welcome series reaches new subscribers
  Signing up on the website opts the customer in to email. The opt-in streams to the CDP, but the
  ESP imports consent from the CDP once an hour, and the welcome email is decided at once.

  Background:
    Given the scenario "../scenarios/welcome_series.yaml"
    And 0 customers

  @known-defect
  Scenario: The welcome email reaches a new subscriber
    Given a customer "wendy" in time zone "America/New_York"
    When "wendy" triggers "signup" at "2026-03-02 12:00" local time
    And the simulation runs for 2 days
    Then "wendy" receives "welcome_1" within 1 hour

  Scenario: With a real-time CDP -> ESP consent feed the welcome email arrives
    Given the "web" to "cdp" sync latency is 0 seconds
    And the "cdp" to "esp" sync latency is 0 seconds
    And a customer "wendy" in time zone "America/New_York"
    When "wendy" triggers "signup" at "2026-03-02 12:00" local time
    And the simulation runs for 2 days
    Then "wendy" receives "welcome_1" within 1 hour
    And "wendy" has no "missed-send" finding

  Scenario: A customer who already receives email is welcomed at once
    Given a customer "will" in time zone "Europe/London" opted in to "email"
    When "will" triggers "signup" at "2026-03-02 12:00" local time
    And the simulation runs for 2 days
    Then "will" receives "welcome_1" within 1 hour

  Scenario: A subscriber who unsubscribes gets no more welcome emails
    Given customers do not engage with "email"
    And a customer "uma" in time zone "America/New_York" opted in to "email"
    When "uma" triggers "signup" at "2026-03-02 12:00" local time
    And "uma" opts out of "email" 2 hours later
    And the simulation runs for 8 days
    Then "uma" receives "welcome_1" at most 1 time
    And "uma" receives no "welcome_2"
    And "uma" has no "consent-violation" finding
