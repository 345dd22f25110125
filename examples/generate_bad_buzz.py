"""Writes examples/bad_buzz.jsonl: two days of made-up tweets about three airlines, with a bad buzz on one.

    .venv/bin/python examples/generate_bad_buzz.py     # rewrites the file (seeded: the same file every time)

What the stream holds, in event time (``created_at``, from Monday 2 November 2026 00:00 UTC, 50 hours):

- three brands, each with its own normal traffic: a daily cycle (quiet at night, busiest in the
  evening), 12 to 20 tweets an hour on average, and its own share of complaints: Transalpin's
  customers complain a lot (about 0.70 negative as the committed model reads them), Air Paradis'
  about 0.45, Soleia's about 0.35. Complaints are everyday airline traffic: delays, lost bags, fees;
  most of the rest are questions and travel updates (neutral) and thanks (positive);
- the first day and a half is each brand's own history: the detector decides nothing before a
  brand's baseline spans 24 h and holds 200 tweets (pipelines/settings.py), i.e. before about
  06:00 on Tuesday for its 6 h window;
- Tuesday 13:00-17:00 UTC: a check-in system outage at Air Paradis. Its tweets triple and about
  85% of them are angry (cancellations, queues, stranded passengers, #AirParadisDown): the model's
  negative share climbs from about 0.45 to about 0.85;
- then recovery: Air Paradis' traffic and share go back to normal (some thank the staff), and the
  stream runs on until Wednesday 02:00 so that, with the local stack's data clock, the brand's
  later tweets close the buckets in which the alert resolves (docs/local_stack.md, "Event time").

Every text is put together here from the pieces below (an opening, a complaint or a remark, a
closing), so that the alert's evidence shows different tweets; none comes from a real data set.
After writing the file, the script scores it with the committed model (``sentiment.model``, as
``python -m sentiment score`` does) and prints the model's negative share per brand and phase: what
the detector will see.
"""

from __future__ import annotations

import json
import math
import random
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
HOURS = 50
BUZZ_BRAND = "AirParadis"
BUZZ_START, BUZZ_END = 37.0, 41.0  # hours after START: Tuesday 13:00-17:00 UTC
BUZZ_RATE = 3.0  # the brand's tweets per hour, times its usual
BUZZ_NEGATIVE = (0.80, 0.92, 0.92, 0.85)  # the buzz's angry share, hour by hour
# Share of each hour's average traffic (UTC), for every brand: quiet at night, busiest in the evening.
DAILY_CYCLE = (0.30, 0.20, 0.20, 0.20, 0.30, 0.50, 0.80, 1.10, 1.30, 1.30, 1.20, 1.20,
               1.20, 1.20, 1.20, 1.20, 1.30, 1.40, 1.40, 1.30, 1.10, 0.90, 0.70, 0.50)


class Brand:
    def __init__(self, name: str, handle: str, code: str, per_hour: float, negative: float, neutral: float):
        self.name, self.handle, self.code = name, handle, code
        self.per_hour, self.negative, self.neutral = per_hour, negative, neutral


BRANDS = (
    Brand("AirParadis", "@AirParadis", "AP", 20, negative=0.50, neutral=0.30),
    Brand("Transalpin", "@TransalpinAir", "TA", 16, negative=0.80, neutral=0.12),
    Brand("Soleia", "@SoleiaAir", "SO", 12, negative=0.41, neutral=0.35),
)

CITIES = ["Montreal", "Lisbon", "Rome", "New York", "Dakar", "Tokyo", "Nice", "Athens", "Oslo", "Miami",
          "Marrakech", "Reunion", "Papeete", "Geneva", "Bangkok", "Madrid", "Vienna", "Dublin"]
AIRPORTS = ["CDG", "ORY", "Lyon", "Nice", "Geneva", "Zurich", "Marseille", "Toulouse"]

COMPLAINTS = [
    "flight {code}{num} delayed {minutes} minutes and not a single announcement",
    "my bag did not make it to {city}, third time this year",
    "stuck on the tarmac at {airport} for {minutes} minutes with no air conditioning, awful",
    "charged me 70 euros for a carry-on that fit in the sizer. Ridiculous",
    "the app logged me out at check-in and now my seat is gone",
    "worst legroom I have ever had, my knees are destroyed",
    "still waiting for my refund after six weeks, nobody answers",
    "rude gate agent at {airport}, shouted at an old man",
    "cold food, broken screen, dirty tray table on {code}{num}. Disappointing",
    "lost my connection to {city} because of your delay and got no help",
    "the customer service line has had me on hold for {minutes} minutes",
    "my suitcase arrived in {city} broken and soaked",
    "overbooked again, bumped from {code}{num} with a useless voucher",
    "no wifi, no water, no apology on a six hour flight",
]
REMARKS = [  # neutral: questions, updates, facts
    "what is the baggage allowance on {code}{num} to {city}?",
    "boarding {code}{num} to {city} from gate {gate}",
    "is the {airport} lounge open before 6am?",
    "do you allow pets in the cabin on flights to {city}?",
    "changing planes in {airport} tomorrow, how long is the transfer?",
    "checked in online for {code}{num}, seat {seat}",
    "heading to {city} this weekend on {code}{num}",
    "does the fare include a checked bag or only hand luggage?",
    "can I pick a seat after check-in on the app?",
    "flying {code}{num} tonight, see you in {city}",
]
PRAISE = [
    "smooth flight to {city} and a lovely crew, thank you",
    "landed early in {city}, friendly staff and comfy seats",
    "the crew on {code}{num} was wonderful with my kids, thanks!",
    "great service today, the food was actually good",
    "quick boarding at {airport} and a very kind crew",
    "thank you for the upgrade, best birthday present ever",
]
OUTAGE = [  # the buzz: a check-in system outage
    "your check-in system is down and {code}{num} to {city} is cancelled, nobody tells us anything",
    "three hours in a queue at {airport} because the check-in system crashed, this is a disgrace",
    "flight cancelled, no hotel, no food, no answers. Stranded at {airport} with two kids",
    "the outage at {airport} made me miss my connection to {city} and the staff just shrug",
    "hundreds of passengers stuck at {airport}, check-in down, the app down, the phone line dead",
    "cancelled again, rebooked for Thursday, lost a day of holiday. Unacceptable",
    "no refund, no rebooking, no apology after the outage. Awful",
    "the check-in outage cost me my flight to {city} and now you want me to pay for a new ticket?",
]
RECOVERY = [
    "finally on my way to {city} after the outage, thanks to the ground staff for their patience",
    "rebooked on {code}{num} and got a hotel voucher, thank you for sorting it out",
    "check-in works again at {airport}, the staff were great today",
]
OPENINGS = {"negative": ["{handle}", "{handle}", "Seriously {handle},", "Unbelievable {handle}:", "Hey {handle},"],
            "neutral": ["{handle}", "{handle}", "Hi {handle},", "Quick question {handle}:"],
            "positive": ["{handle}", "{handle}", "Thank you {handle}:", "Big thanks {handle},"]}
CLOSINGS = {"negative": ["", "", "", "Never again.", "So frustrating.", "Terrible.", "😡"],
            "outage": ["#{brand}Down", "#{brand}Down", "Worst airline ever.", "Disgusting.", "I'm furious.",
                       "Horrible.", "Shameful 😡"],
            "neutral": ["", "", "", "Thanks.", "Cheers"],
            "positive": ["", "", "", "😀", "Will fly again!", "#happy"]}


def fill(rng: random.Random, template: str, brand: Brand) -> str:
    return template.format(
        handle=brand.handle, brand=brand.name, code=brand.code, num=rng.randint(100, 999), city=rng.choice(CITIES),
        airport=rng.choice(AIRPORTS), minutes=rng.choice([45, 90, 120, 180]),
        gate=f"{rng.choice('ABCK')}{rng.randint(1, 60)}", seat=f"{rng.randint(1, 40)}{rng.choice('ABCDEF')}")


def tweet_text(rng: random.Random, brand: Brand, kind: str) -> str:
    body = {"negative": COMPLAINTS, "outage": OUTAGE, "neutral": REMARKS, "positive": PRAISE,
            "recovery": RECOVERY}[kind]
    tone = {"outage": "negative", "recovery": "positive"}.get(kind, kind)
    opening = rng.choice(OPENINGS[tone])
    closing = rng.choice(CLOSINGS["outage" if kind == "outage" else tone])
    return fill(rng, " ".join(part for part in (opening, rng.choice(body), closing) if part), brand)


def phase_of(brand: Brand, hours: float) -> str:
    if brand.name != BUZZ_BRAND:
        return "normal"
    if hours < BUZZ_START:
        return "before"
    return "buzz" if hours < BUZZ_END else "after"


def kind_of(rng: random.Random, brand: Brand, hours: float) -> str:
    phase = phase_of(brand, hours)
    if phase == "buzz":
        return "outage" if rng.random() < BUZZ_NEGATIVE[int(hours - BUZZ_START)] else rng.choice(
            ["neutral", "neutral", "positive"])
    if phase == "after" and hours < BUZZ_END + 3 and rng.random() < 0.15:
        return "recovery"
    draw = rng.random()
    return "negative" if draw < brand.negative else ("neutral" if draw < brand.negative + brand.neutral else "positive")


def arrivals(rng: random.Random, brand: Brand):
    """Event times (hours after START) of a Poisson stream at the brand's hourly rate."""
    hours = 0.0
    while True:
        rate = brand.per_hour * DAILY_CYCLE[int(hours) % 24]
        if brand.name == BUZZ_BRAND and BUZZ_START <= hours < BUZZ_END:
            rate *= BUZZ_RATE
        hours += rng.expovariate(rate)
        if hours >= HOURS:
            return
        yield hours


def generate(seed: int = 2026) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for brand in BRANDS:
        for hours in arrivals(rng, brand):
            rows.append((hours, brand, tweet_text(rng, brand, kind_of(rng, brand, hours))))
    rows.sort(key=lambda row: row[0])
    tweets = []
    for number, (hours, brand, text) in enumerate(rows):
        created = START + timedelta(hours=hours)
        tweets.append({"id": f"demo-{number:05d}", "text": text,
                       "created_at": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
                       "brand": brand.name, "lang": "en", "user": f"traveller{rng.randint(1, 5000)}"})
    return tweets


def model_shares(tweets: list[dict]) -> dict[tuple[str, str], tuple[int, float]]:
    """The committed model's negative share per (brand, phase): what the detector will count."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))
    from sentiment import model

    scorer = model.load(Path(__file__).resolve().parents[1] / "models")
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    brands = {brand.name: brand for brand in BRANDS}
    for tweet, prediction in zip(tweets, scorer.predict([t["text"] for t in tweets]), strict=True):
        hours = (datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00")) - START).total_seconds() / 3600
        key = (tweet["brand"], phase_of(brands[tweet["brand"]], hours))
        counts[key][0] += 1
        counts[key][1] += prediction.sentiment == "negative"
    return {key: (total, negative / total) for key, (total, negative) in sorted(counts.items())}


def main() -> None:
    tweets = generate()
    path = Path(__file__).with_name("bad_buzz.jsonl")
    path.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tweets), encoding="utf-8")
    first, last = tweets[0]["created_at"], tweets[-1]["created_at"]
    print(f"{len(tweets)} tweets written to {path} ({first} .. {last})")
    print("the committed model's negative share (brand, phase: tweets, share):")
    for (brand, phase), (total, share) in model_shares(tweets).items():
        print(f"  {brand:<11} {phase:<7} {total:>5}  {share:.2f}")
    if not math.isclose(len({t["id"] for t in tweets}), len(tweets)):
        raise SystemExit("duplicate ids")


if __name__ == "__main__":
    main()
