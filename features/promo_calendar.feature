Feature: Black Friday week keeps within caps, quiet hours and collision rules
  Four journeys compete for the same customers: cart and browse abandonment, a win-back and a
  scheduled Black Friday blast, across five time zones.

  Background:
    Given the scenario "../scenarios/promo_calendar.yaml"

  Scenario: Guardrails across the whole audience
    Given 400 customers
    When the simulation runs for 10 days
    Then no customer receives more than 4 messages per day
    And no customer receives more than 2 messages per day on "sms"
    And no message is delivered in quiet hours
    And there are no "consent-violation" findings

  @known-defect
  Scenario: Two journeys never hit one person within the collision window
    Given 400 customers
    When the simulation runs for 10 days
    Then there are no "overlap" findings

  Scenario: A Tokyo customer's blast SMS waits for the morning
    The blast goes out on Friday 27 November at 13:00 UTC (22:00 in Tokyo); its SMS follows 7 hours
    later, at 05:00 Tokyo time, inside quiet hours, so it must be held until 08:00.

    Given 0 customers
    And customers do not engage with "email"
    And a customer "kenji" in time zone "Asia/Tokyo" opted in to "email, sms"
    When the simulation runs for 6 days
    Then "kenji" receives "bf_email"
    And "kenji" receives "bf_sms" at most 1 time
    And "kenji" receives "bf_sms"
    And no message is delivered in quiet hours
