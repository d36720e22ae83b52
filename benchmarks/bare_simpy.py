"""Bare-SimPy model of benchmarks/reference.yaml, to compare the engine's cost per customer against.

The same three journeys (cart abandonment, loyalty nurture, scheduled promo blast), the same event
rates, delays and step counts, written directly against SimPy with no journeysim imports and no
event log, findings, rendering or policy engine:

- one SimPy generator process per customer journey instance (wait, wait_until with a timeout,
  branch, split, send, update), with the journeys' exits (continuous via interrupt, before every
  step, after waits);
- truth and one stale replica (a dict per customer at the CDP), fed by a stream (lognormal latency
  per record, web and ESP webhooks) and a 4-hourly CRM batch copying the changed values;
- exogenous events drawn up front with numpy and replayed by one process; 'after' events,
  deliveries and engagement (opens, clicks, unsubscribes) as timeout callbacks;
- per-channel FIFO throughput as a virtual clock, a consent check on truth, SMS quiet hours and a
  simple 3-per-24 h cap.

    python benchmarks/bare_simpy.py --customers 10000 --seed 20260302
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import time

import numpy as np
import simpy

MIN = 60.0
HOUR = 3600.0
DAY = 86400.0
Z95 = 1.6448536269514722  # standard normal 95th percentile

# ---------------------------------------------------------------- rates from reference.yaml

POISSON_PER_DAY = {  # population.events with poisson rates, in this order
    "product_viewed": 0.05,
    "cart_abandoned": 0.02,
    "loyalty_join": 0.01,
    "vip_upgrade": 0.03,
    "preference_optout": 0.002,
}
TIMEZONES = {"America/New_York": 0.5, "Europe/London": 0.3, "Asia/Tokyo": 0.2}
BLAST_AT = 3 * DAY + 14 * HOUR          # 2026-03-05T14:00Z with start 2026-03-02T00:00Z
NY_DST_STARTS = 6 * DAY + 7 * HOUR      # 2026-03-08 02:00 EST: New York goes from UTC-5 to UTC-4
WEB_OUTAGE = (8 * DAY + 15 * HOUR, 8 * DAY + 15 * HOUR + 45 * MIN)   # web -> cdp, changes dropped


def lognormal(median: float, p95: float) -> tuple[float, float]:
    """(mu, sigma) of a lognormal with this median and 95th percentile."""
    return math.log(median), math.log(p95 / median) / Z95


WEB_LATENCY = lognormal(2 * MIN, 15 * MIN)
ESP_LATENCY = lognormal(3 * MIN, 45 * MIN)
OPEN_DELAY = lognormal(2 * HOUR, 20 * HOUR)
SMS_DELIVERY = lognormal(5.0, 60.0)


class Draws:
    """Buffered draws from one numpy Generator (scalar numpy calls are slow; blocks are not)."""

    BLOCK = 1 << 16

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self._u: list[float] = []
        self._z: list[float] = []
        self._e: list[float] = []

    def uniform(self) -> float:
        if not self._u:
            self._u = self.rng.random(self.BLOCK).tolist()
        return self._u.pop()

    def chance(self, p: float) -> bool:
        return self.uniform() < p

    def exp(self, mean: float) -> float:
        if not self._e:
            self._e = self.rng.standard_exponential(self.BLOCK).tolist()
        return mean * self._e.pop()

    def lognormal(self, params: tuple[float, float]) -> float:
        if not self._z:
            self._z = self.rng.standard_normal(self.BLOCK).tolist()
        return math.exp(params[0] + params[1] * self._z.pop())


class Channel:
    """A channel's FIFO throughput as a virtual clock: each message takes the next free slot."""

    def __init__(self, per_second: float):
        self.gap = 1.0 / per_second
        self.next_free = 0.0

    def slot(self, now: float) -> float:
        start = max(now, self.next_free)
        self.next_free = start + self.gap
        return start


# ---------------------------------------------------------------- journeys


class Journey:
    """Entry rules, the active instances and their wait_until waiters; subclasses write body()."""

    def __init__(self, model: Model, name: str, cooldown: float | None):
        self.m = model
        self.env = model.env
        self.name = name
        self.cooldown = cooldown          # None: no re-entry
        self.active: dict[int, simpy.Process] = {}
        self.last_entry: dict[int, float] = {}
        self.trigger: dict[int, float] = {}   # truth time of what brought the active instance in
        self.waiting: dict[int, tuple[str, simpy.Event]] = {}
        self.counts = collections.Counter()

    def enter(self, c: int, trigger: float) -> None:
        now = self.env.now
        if c in self.active or (c in self.last_entry and (
                self.cooldown is None or now - self.last_entry[c] < self.cooldown)):
            self.counts["entry_skips"] += 1
            return
        self.last_entry[c] = now
        self.trigger[c] = trigger
        self.counts["entries"] += 1
        self.active[c] = self.env.process(self._instance(c, trigger))

    def _instance(self, c: int, trigger: float):
        """One customer's pass: the body, plus exit bookkeeping."""
        try:
            finished = yield from self.body(c, trigger)
            self.counts["completed" if finished is not False else "exits"] += 1
        except simpy.Interrupt:
            self.counts["exits"] += 1
        finally:
            self.active.pop(c, None)
            self.waiting.pop(c, None)

    def body(self, c: int, trigger: float):
        raise NotImplementedError

    def step(self) -> None:
        self.counts["steps"] += 1

    def wait_until(self, c: int, key: str, timeout: float):
        """Wait until the CDP sees event ``key`` for ``c`` or the timeout passes; True if it arrived."""
        self.step()
        arrived = self.env.event()
        self.waiting[c] = (key, arrived)
        yield arrived | self.env.timeout(timeout)
        self.waiting.pop(c, None)
        return arrived.triggered

    def wake(self, c: int, key: str) -> None:
        waiter = self.waiting.get(c)
        if waiter is not None and waiter[0] == key and not waiter[1].triggered:
            waiter[1].succeed()

    def send(self, c: int, message: str, channel: str) -> None:
        self.step()
        self.counts["sends"] += 1
        self.m.send(c, self.name, message, channel)


class CartAbandonment(Journey):
    """Event entry on cart_abandoned; exits as soon as the CDP sees a later purchase (continuous)."""

    def __init__(self, model: Model):
        super().__init__(model, "cart-abandonment", cooldown=DAY)

    def on_purchase(self, c: int, happened: float) -> None:
        """The CDP saw a purchase: leave now if it came after the cart that brought them in."""
        proc = self.active.get(c)
        # An instance entered at this very instant has not started yet; its entry check exits it.
        if proc is not None and happened > self.trigger[c] and self.last_entry[c] < self.env.now:
            self.active.pop(c)
            proc.interrupt()

    def body(self, c: int, trigger: float):
        m = self.m
        if m.cdp[c].get("purchase", -1.0) > trigger:   # exit check at entry
            return False
        self.step()
        yield self.env.timeout(HOUR)                                  # wait_1h
        self.send(c, "cart_email_1", "email")                         # email_1
        opened = yield from self.wait_until(c, "email_opened", DAY)   # opened
        if not opened:
            self.step()                                               # by_stage
            r = m.cdp[c]
            if r["stage"] in ("B", "C") and r["sms"]:
                self.send(c, "cart_sms", "sms")                       # sms
        self.step()
        m.crm_update(c, "cart_reminded", True)                        # mark
        self.step()
        if m.draws.uniform() < 0.5:                                   # ab
            self.step()
            yield self.env.timeout(DAY)                               # wait_1d
            self.send(c, "cart_email_2", "email")                     # email_2
        return True


class LoyaltyNurture(Journey):
    """Daily segment entry (stage B, email consent, on the CDP); exit on stage C before every step."""

    def __init__(self, model: Model):
        super().__init__(model, "loyalty-nurture", cooldown=None)

    def gone(self, c: int) -> bool:
        return self.m.cdp[c]["stage"] == "C"

    def audience(self):
        """The segment is re-evaluated every day from the start, on the CDP's copy."""
        while True:
            for c, r in enumerate(self.m.cdp):
                if r["stage"] == "B" and r["email"] and c not in self.last_entry:
                    self.enter(c, self.env.now)
            yield self.env.timeout(DAY)

    def body(self, c: int, trigger: float):
        m = self.m
        if self.gone(c):
            return False
        self.send(c, "nurture_email_1", "email")                       # touch_1
        if self.gone(c):
            return False
        clicked = yield from self.wait_until(c, "email_clicked", 2 * DAY)   # clicked
        if not clicked:
            if self.gone(c):
                return False
            self.step()                                                # by_value
            r = m.cdp[c]
            if r["ltv"] >= 150 and r["sms"]:
                if self.gone(c):
                    return False
                self.send(c, "nurture_sms", "sms")                     # sms_offer
            else:
                if self.gone(c):
                    return False
                self.send(c, "nurture_email_2", "email")               # touch_2
        if self.gone(c):
            return False
        self.step()
        m.crm_update(c, "nurtured", True)                              # flag
        if self.gone(c):
            return False
        self.step()
        yield self.env.timeout(3 * DAY)                                # wait_3d
        if self.gone(c):
            return False
        self.step()                                                    # still_b
        if m.cdp[c]["stage"] == "B":
            if self.gone(c):
                return False
            self.send(c, "nurture_email_3", "email")                   # touch_3
        return True


class PromoBlast(Journey):
    """Scheduled entry of stage B/C email subscribers; exit on has_purchased after waits only."""

    def __init__(self, model: Model):
        super().__init__(model, "spring-promo-blast", cooldown=None)

    def launch(self) -> None:
        for c, r in enumerate(self.m.cdp):
            if r["stage"] in ("B", "C") and r["email"]:
                self.enter(c, self.env.now)

    def body(self, c: int, trigger: float):
        m = self.m
        self.step()
        if m.draws.uniform() < 0.05:                                   # holdout
            return True
        self.send(c, "promo_email", "email")                           # promo
        opened = yield from self.wait_until(c, "email_opened", DAY)    # opened
        if m.cdp[c]["has_purchased"]:
            return False
        if opened:
            self.step()
            m.crm_update(c, "promo_engaged", True)                     # mark
            return True
        self.step()                                                    # by_channel
        if m.cdp[c]["sms"]:
            self.send(c, "promo_sms", "sms")                           # promo_sms
        self.step()
        yield self.env.timeout(2 * DAY)                                # wait_2d
        if m.cdp[c]["has_purchased"]:
            return False
        self.send(c, "promo_last_call", "email")                       # last_call
        return True


# ---------------------------------------------------------------- the model


class Model:
    """Population, truth, the CDP replica, sync, channels and the three journeys."""

    CRM_SYNCED = ("stage", "email", "sms", "cart_reminded", "promo_engaged")   # crm-to-cdp fields

    def __init__(self, customers: int, seed: int, days: float):
        self.env = simpy.Environment()
        self.rng = np.random.default_rng(seed)
        self.draws = Draws(self.rng)
        self.n = customers
        self.horizon = days * DAY
        self.counts = collections.Counter()
        self._population(customers)
        self.crm_dirty: dict[tuple[int, str], None] = {}     # ordered set of changed (customer, field)
        self.recent_sends = [collections.deque() for _ in range(customers)]
        self.channels = {"email": Channel(50.0), "sms": Channel(10.0)}
        self.cart = CartAbandonment(self)
        self.nurture = LoyaltyNurture(self)
        self.blast = PromoBlast(self)
        self.journeys = (self.cart, self.nurture, self.blast)

    def _population(self, n: int) -> None:
        """Attributes and consent from reference.yaml; every system starts with the same copy."""
        rng = self.rng
        zones = rng.choice(len(TIMEZONES), size=n, p=list(TIMEZONES.values()))
        self.tz = zones.tolist()                       # 0 New York, 1 London, 2 Tokyo
        stage = rng.choice(["A", "B", "C"], size=n, p=[0.7, 0.2, 0.1]).tolist()
        ltv = rng.normal(120, 50, size=n).tolist()
        email = (rng.random(n) < 0.90).tolist()
        sms = (rng.random(n) < 0.35).tolist()
        self.truth = [{"stage": s, "ltv": v, "email": e, "sms": m, "has_purchased": False,
                       "cart_reminded": False, "promo_engaged": False, "nurtured": False}
                      for s, v, e, m in zip(stage, ltv, email, sms)]
        self.cdp = [dict(r) for r in self.truth]

    # ------------------------------------------------------------ helpers

    def later(self, delay: float, fn, *args) -> None:
        """Call fn(*args) after ``delay`` (a timeout callback: no process needed)."""
        self.env.timeout(delay).callbacks.append(lambda _ev: fn(*args))

    def local_hour(self, c: int, t: float) -> float:
        offset = (-5.0 if t < NY_DST_STARTS else -4.0, 0.0, 9.0)[self.tz[c]]
        return ((t / HOUR) + offset) % 24.0

    # ------------------------------------------------------------ sync

    def stream(self, c: int, key: str, value, latency: tuple[float, float], web: bool = False) -> None:
        """A change travelling to the CDP with lognormal latency (dropped during the web outage)."""
        if web and WEB_OUTAGE[0] <= self.env.now < WEB_OUTAGE[1]:
            self.counts["sync_dropped"] += 1
            return
        self.later(self.draws.lognormal(latency), self._arrive, c, key, value)

    def _arrive(self, c: int, key: str, value) -> None:
        """A stream record lands at the CDP: apply it and tell whoever listens."""
        self.cdp[c][key] = value
        self.counts["sync_applied"] += 1
        if key == "cart_abandoned":
            self.cart.enter(c, value)
        elif key == "purchase":
            self.cart.on_purchase(c, value)
        elif key in ("email_opened", "email_clicked"):
            for j in self.journeys:
                j.wake(c, key)

    def crm_update(self, c: int, field: str, value) -> None:
        self.truth[c][field] = value
        if field in self.CRM_SYNCED:
            self.crm_dirty[(c, field)] = None

    def crm_batch(self):
        """crm-to-cdp: every 4 h from 1 h, 5-30 min per run, 0.5% of records retried next run."""
        yield self.env.timeout(HOUR)
        while True:
            changed, self.crm_dirty = self.crm_dirty, {}
            run = 5 * MIN + 25 * MIN * self.draws.uniform()
            yield self.env.timeout(run)
            self.counts["batch_runs"] += 1
            for c, field in changed:
                if self.draws.chance(0.005):
                    self.crm_dirty[(c, field)] = None
                    continue
                self.cdp[c][field] = self.truth[c][field]
                self.counts["batch_copied"] += 1
            yield self.env.timeout(4 * HOUR - run)

    # ------------------------------------------------------------ exogenous events

    def exogenous(self):
        """Replay every Poisson occurrence, drawn up front per customer and sorted by time."""
        kinds, who = [], []
        for k, rate in enumerate(POISSON_PER_DAY.values()):
            per_customer = self.rng.poisson(rate * self.horizon / DAY, size=self.n)
            who.append(np.repeat(np.arange(self.n), per_customer))
            kinds.append(np.full(int(per_customer.sum()), k))
        kind = np.concatenate(kinds)
        customer = np.concatenate(who)
        when = self.rng.uniform(0.0, self.horizon, size=len(kind))
        order = np.argsort(when, kind="stable")
        for t, k, c in zip(when[order].tolist(), kind[order].tolist(), customer[order].tolist()):
            yield self.env.timeout(t - self.env.now)
            self.counts["exogenous"] += 1
            truth = self.truth[c]
            if k == 0:                                   # product_viewed
                self.stream(c, "product_viewed", t, WEB_LATENCY, web=True)
            elif k == 1:                                 # cart_abandoned, maybe a purchase after it
                self.stream(c, "cart_abandoned", t, WEB_LATENCY, web=True)
                if self.draws.chance(0.35):
                    self.later(self.draws.exp(3 * HOUR), self.purchase, c, "purchase")
            elif k == 2 and truth["stage"] == "A":       # loyalty_join
                self.crm_update(c, "stage", "B")
            elif k == 3 and truth["stage"] == "B":       # vip_upgrade
                self.crm_update(c, "stage", "C")
            elif k == 4 and truth["email"]:              # preference_optout
                self.crm_update(c, "email", False)

    def purchase(self, c: int, event: str) -> None:
        self.counts["purchases"] += 1
        now = self.env.now
        self.truth[c]["has_purchased"] = True
        self.stream(c, event, now, WEB_LATENCY, web=True)
        self.stream(c, "has_purchased", True, WEB_LATENCY, web=True)

    # ------------------------------------------------------------ sending

    def send(self, c: int, journey: str, message: str, channel: str) -> None:
        """Consent (on truth), a 3-per-24 h cap, SMS quiet hours, then the channel's FIFO."""
        now = self.env.now
        if not self.truth[c][channel]:
            self.counts["suppressed"] += 1
            return
        recent = self.recent_sends[c]
        while recent and recent[0] <= now - DAY:
            recent.popleft()
        if len(recent) >= 3:
            self.counts["capped"] += 1
            return
        recent.append(now)
        if channel == "sms":
            hour = self.local_hour(c, now)
            if hour >= 21.0 or hour < 8.0:
                self.counts["held"] += 1
                self.later(((8.0 - hour) % 24.0) * HOUR, self._queue, c, channel)
                return
        self._queue(c, channel)

    def _queue(self, c: int, channel: str) -> None:
        start = self.channels[channel].slot(self.env.now)
        delay = self.draws.exp(30.0) if channel == "email" else self.draws.lognormal(SMS_DELIVERY)
        self.later(start - self.env.now + delay, self._delivered, c, channel)

    def _delivered(self, c: int, channel: str) -> None:
        """Delivery and engagement: opens, clicks, unsubscribes and the click-to-purchase."""
        self.counts[f"delivered_{channel}"] += 1
        if channel == "email":
            self.stream(c, "email_delivered", self.env.now, ESP_LATENCY)
            if self.draws.chance(0.002):
                self.truth[c]["email"] = False
                self.stream(c, "email", False, ESP_LATENCY)
            if self.draws.chance(0.25):
                self.later(self.draws.lognormal(OPEN_DELAY), self._opened, c)
        else:
            if self.draws.chance(0.004):
                self.truth[c]["sms"] = False             # the gateway's STOP list; no link to the CDP
            if self.draws.chance(0.06):
                self.counts["sms_clicked"] += 1

    def _opened(self, c: int) -> None:
        self.counts["email_opened"] += 1
        self.stream(c, "email_opened", self.env.now, ESP_LATENCY)
        if self.draws.chance(0.12):
            self.later(self.draws.exp(10 * MIN), self._clicked, c)

    def _clicked(self, c: int) -> None:
        self.counts["email_clicked"] += 1
        self.stream(c, "email_clicked", self.env.now, ESP_LATENCY)
        if self.draws.chance(0.30):
            self.later(self.draws.exp(HOUR), self.purchase, c, "email_purchase")

    # ------------------------------------------------------------ run

    def run(self) -> int:
        """Start the processes and step the clock to the horizon; returns SimPy events processed."""
        env = self.env
        env.process(self.exogenous())
        env.process(self.crm_batch())
        env.process(self.nurture.audience())
        self.later(BLAST_AT, self.blast.launch)
        processed = 0
        while env.peek() < self.horizon:
            env.step()
            processed += 1
        return processed


def run_bare(customers: int, seed: int, days: float = 14) -> dict:
    """Simulate the reference scenario's journeys for ``days`` and return the counts."""
    model = Model(customers, seed, days)
    processed = model.run()
    per_journey = {j.name: dict(sorted(j.counts.items())) for j in model.journeys}
    return {
        "customers": customers,
        "seed": seed,
        "days": days,
        "entries": sum(j.counts["entries"] for j in model.journeys),
        "steps": sum(j.counts["steps"] for j in model.journeys),
        "sends": sum(j.counts["sends"] for j in model.journeys),
        "delivered": model.counts["delivered_email"] + model.counts["delivered_sms"],
        "events_processed": processed,
        "journeys": per_journey,
        "other": dict(sorted(model.counts.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument("--days", type=float, default=14)
    args = parser.parse_args()
    started = time.perf_counter()
    result = run_bare(args.customers, args.seed, args.days)
    wall = time.perf_counter() - started
    print(json.dumps(result, indent=2))
    print(f"wall {wall:.2f} s ({args.customers / wall:,.0f} customers/s, "
          f"{result['events_processed'] / wall:,.0f} SimPy events/s)")


if __name__ == "__main__":
    main()
