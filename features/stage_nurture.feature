Feature: Stage changes reach touchpoint two
  Leads are qualified (stage A -> B) in the CRM. The CRM reaches the CDP every 4 hours and the CDP
  reaches the ESP twice a day, but touchpoint two goes out 3 hours after touchpoint one: a lead
  qualified in between is easily still "A" where touchpoint two is chosen and rendered.

  Background:
    Given the scenario "../scenarios/stage_nurture.yaml"
    And 0 customers

  Scenario: A lead still in stage A gets the stage A follow-up
    Given a customer "liam" in stage "A" in time zone "America/New_York" opted in to "email"
    When "liam" triggers "content_downloaded" at "2026-03-02 09:00" local time
    And the simulation runs for 2 days
    Then "liam" receives "nurture_asset" within 1 hour
    And "liam" receives "nurture_asset" before "nurture_followup"
    And "liam" receives "nurture_followup" at most 1 time
    And "liam" receives "nurture_followup" containing "usually start with these three chapters"
    And "liam" has no "stage-propagation-miss" finding

  @known-defect
  Scenario: A lead qualified an hour after touchpoint one gets the stage B touchpoint two
    Given a customer "lea" in stage "A" in time zone "America/New_York" opted in to "email" with "first_name" = "Lea" and "company" = "Acme"
    When "lea" triggers "content_downloaded" at "2026-03-02 09:00" local time
    And "lea" triggers "stage_a_to_b" 1 hour later
    And the simulation runs for 2 days
    Then "lea" receives "nurture_followup" containing "Pick a time for a 20-minute walkthrough for Acme"
    And "lea" has no "stage-propagation-miss" finding

  Scenario: With CRM -> CDP -> ESP syncing within minutes, touchpoint two reflects stage B
    Given the "crm" to "cdp" sync latency is 10 minutes
    And the "cdp" to "esp" sync latency is 10 minutes
    And a customer "lea" in stage "A" in time zone "America/New_York" opted in to "email" with "first_name" = "Lea" and "company" = "Acme"
    When "lea" triggers "content_downloaded" at "2026-03-02 09:00" local time
    And "lea" triggers "stage_a_to_b" 1 hour later
    And the simulation runs for 2 days
    Then "lea" has no "stage-propagation-miss" finding
    And "lea" receives "nurture_followup" containing "Pick a time for a 20-minute walkthrough for Acme"

  Scenario: A lead who opens an opportunity leaves the nurture
    Given the "crm" to "cdp" sync latency is 10 minutes
    And a customer "omar" in stage "A" in time zone "Europe/London" opted in to "email"
    When "omar" triggers "content_downloaded" at "2026-03-02 09:00" local time
    And "omar" triggers "opportunity_opened" 30 minutes later
    And the simulation runs for 2 days
    Then "omar" exits "stage-nurture"
    And "omar" receives no "nurture_followup"
