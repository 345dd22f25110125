"""Writes examples/bad_buzz.jsonl: a made-up stream of tweets about Air Paradis with a bad buzz.

Three phases at 20 tweets/s (the replay's default rate): 10 s calm (20% negative), 40 s of a
baggage meltdown at CDG (75% negative), 35 s back to calm (15% negative). Every text is invented
here from the templates below; none comes from a real data set.
"""

import json
import random
from pathlib import Path

CITIES = ["Montreal", "Lisbon", "Rome", "New York", "Dakar", "Tokyo", "Nice", "Athens", "Oslo", "Miami"]
POSITIVE = [
    "Smooth flight to {city} with @AirParadis, thanks to the lovely crew!",
    "Great service on AP{num} today, the food was actually good :)",
    "Landed early in {city}, friendly staff, comfy seats. Will fly again",
    "Thank you @AirParadis for the upgrade, best birthday present ever 😀",
    "Shout out to the gate agent in {city} who helped my grandma, amazing",
    "On time, clean cabin, great movies. Happy customer #AirParadis",
    "The new lounge in {city} is beautiful, loving it",
    "Quick boarding and a very kind crew on AP{num}, thanks!",
]
NEGATIVE_CALM = [
    "Flight AP{num} delayed by {minutes} min, not great",
    "Why is the @AirParadis app so slow at check-in? Annoying",
    "Seat {seat} was broken the whole flight to {city}, disappointing",
    "Cold food and no blanket on AP{num}. Meh",
]
MELTDOWN = [
    "@AirParadis my bag is lost AGAIN, {minutes} minutes waiting at CDG and nobody knows anything",
    "Worst airline ever. Cancelled flight to {city}, no hotel, no food, no answers #AirParadisFail",
    "Stuck at CDG for {hours} hours, baggage system down and the staff is rude. Never again @AirParadis",
    "Nobody answers the phone at @AirParadis, I'm furious. Where is my luggage??",
    "Missed my connection to {city} because of your baggage mess. Terrible, just terrible",
    "Hundreds of us waiting at the carousel, no bags, no info. What a disaster 😡",
    "AP{num} cancelled, rebooked for tomorrow, lost my bag. Hate this airline",
    "Three hours in line for a refund that never comes. Shameful @AirParadis",
]


def tweet(rng: random.Random, template: str, index: int) -> dict:
    text = template.format(city=rng.choice(CITIES), num=rng.randint(100, 999), minutes=rng.choice([45, 90, 120, 180]),
                           hours=rng.randint(3, 9), seat=f"{rng.randint(1, 40)}{rng.choice('ABCDEF')}")
    return {"id": f"demo-{index:05d}", "text": text, "lang": "en", "user": f"traveller{rng.randint(1, 5000)}"}


def phase(rng, count: int, negative_share: float, negatives: list[str], start: int) -> list[dict]:
    return [tweet(rng, rng.choice(negatives if rng.random() < negative_share else POSITIVE), start + i)
            for i in range(count)]


def main() -> None:
    rng = random.Random(2026)
    tweets = phase(rng, 200, 0.20, NEGATIVE_CALM, 0)
    tweets += phase(rng, 800, 0.75, MELTDOWN, len(tweets))
    tweets += phase(rng, 700, 0.15, NEGATIVE_CALM, len(tweets))
    path = Path(__file__).with_name("bad_buzz.jsonl")
    path.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tweets), encoding="utf-8")
    print(f"{len(tweets)} tweets written to {path}")


if __name__ == "__main__":
    main()
