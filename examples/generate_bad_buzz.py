"""Writes examples/bad_buzz.jsonl: a made-up stream of tweets about Air Paradis with a bad buzz.

Three phases at 20 tweets/s (the replay's default rate), 90 s in all:

- 0:00-0:10  calm: 200 tweets, about 20% mildly negative;
- 0:10-0:45  a baggage meltdown at CDG: 700 tweets, about 75% angry;
- 0:45-1:30  back to normal: 900 tweets, about 15% negative, some thanking the staff.

With the local stack's detector (a 60 s window, an alert above 60% negative) the alert fires about
0:33 into the replay and resolves (below 50%) about 1:13, before the stream ends. Every text is
invented here from the pieces below; none comes from a real data set. The meltdown's tweets are put
together from an opening, a complaint and a closing, so the alert's evidence shows different tweets.

    python examples/generate_bad_buzz.py     # rewrites examples/bad_buzz.jsonl (seeded: same file)
"""

import json
import random
from pathlib import Path

RATE = 20  # tweets per second the phases are sized for
CITIES = ["Montreal", "Lisbon", "Rome", "New York", "Dakar", "Tokyo", "Nice", "Athens", "Oslo", "Miami",
          "Marrakech", "Reunion", "Papeete", "Fort-de-France", "Bangkok"]
POSITIVE = [
    "Smooth flight to {city} with @AirParadis, thanks to the lovely crew!",
    "Great service on AP{num} today, the food was actually good :)",
    "Landed early in {city}, friendly staff, comfy seats. Will fly again",
    "Thank you @AirParadis for the upgrade, best birthday present ever 😀",
    "Shout out to the gate agent in {city} who helped my grandma, amazing",
    "On time, clean cabin, great movies. Happy customer #AirParadis",
    "The new lounge in {city} is beautiful, loving it",
    "Quick boarding and a very kind crew on AP{num}, thanks!",
    "Window seat, sunset over {city}, and the crew brought extra cookies. Perfect",
    "First time flying @AirParadis and I'm impressed, so comfortable",
]
MILD = [
    "Flight AP{num} delayed by {minutes} min, not great",
    "Why is the @AirParadis app so slow at check-in? Annoying",
    "Seat {seat} was broken the whole flight to {city}, disappointing",
    "Cold food and no blanket on AP{num}. Meh",
    "Wifi on AP{num} did not work at all, boring flight",
]
RECOVERY = [
    "Got my suitcase back this morning, thank you @AirParadis for sorting it out",
    "Bags are flowing again at CDG, thank you to the amazing ground crew",
    "Fair play @AirParadis, the hotel voucher and the apology were appreciated",
    "Finally home in {city}, the crew on AP{num} was wonderful after a long day",
]
OPENINGS = ["@AirParadis", "Day two at CDG and", "Unbelievable:", "Seriously @AirParadis,", "Update:",
            "Hour {hours} at terminal 2E:", "", "", ""]
COMPLAINTS = [
    "my bag is lost AGAIN and nobody at the desk knows anything",
    "flight AP{num} to {city} cancelled, no hotel, no food, no answers",
    "the baggage system is down and the staff is rude",
    "hundreds of us at the carousel, no bags, no information",
    "I missed my connection to {city} because of your baggage mess",
    "three hours in line for a refund that never comes",
    "nobody answers the phone and my luggage is somewhere between here and {city}",
    "rebooked for tomorrow, lost my suitcase, and the app keeps crashing",
    "my kids have slept on the floor at CDG, no blankets, no water",
    "still no wheelchair assistance for my dad after {minutes} minutes",
    "you charged me for a bag you then lost",
    "the gate changed four times and then the flight was cancelled",
]
CLOSINGS = ["Never again.", "#AirParadisFail", "Worst airline ever.", "Shameful.", "😡", "Terrible, just terrible.",
            "What a disaster.", "I'm furious.", "", ""]


def fill(rng: random.Random, template: str) -> str:
    return template.format(city=rng.choice(CITIES), num=rng.randint(100, 999), minutes=rng.choice([45, 90, 120, 180]),
                           hours=rng.randint(3, 9), seat=f"{rng.randint(1, 40)}{rng.choice('ABCDEF')}")


def angry(rng: random.Random) -> str:
    opening, complaint, closing = rng.choice(OPENINGS), rng.choice(COMPLAINTS), rng.choice(CLOSINGS)
    text = f"{opening} {complaint}" if opening else complaint[0].upper() + complaint[1:]
    return fill(rng, f"{text}. {closing}".strip())


def phase(rng: random.Random, seconds: int, negative_share: float, negative, positive: list[str]) -> list[str]:
    return [negative(rng) if rng.random() < negative_share else fill(rng, rng.choice(positive))
            for _ in range(seconds * RATE)]


def main() -> None:
    rng = random.Random(2026)
    texts = phase(rng, 10, 0.20, lambda r: fill(r, r.choice(MILD)), POSITIVE)
    texts += phase(rng, 35, 0.75, angry, POSITIVE)
    texts += phase(rng, 45, 0.15, lambda r: fill(r, r.choice(MILD)), POSITIVE + RECOVERY)
    tweets = [{"id": f"demo-{i:05d}", "text": text, "lang": "en", "user": f"traveller{rng.randint(1, 5000)}"}
              for i, text in enumerate(texts)]
    path = Path(__file__).with_name("bad_buzz.jsonl")
    path.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tweets), encoding="utf-8")
    print(f"{len(tweets)} tweets written to {path}")


if __name__ == "__main__":
    main()
