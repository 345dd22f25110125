"""The one tokenizer: training, conversion, serving and the CLIs all turn text into ids here.

Any change to the rules below changes what the model sees, so it must bump ``TEXT_VERSION``;
bundles record the version they were trained with and serving refuses a mismatch.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence

TEXT_VERSION = "tweet-tokens/1"

MAX_TOKENS = 64  # a 280-character tweet rarely has more than 60 tokens
# The longest text worth reading: the default limit of every entry point (HTTP, Pub/Sub, the CLI).
# The tokenizer itself cuts longer input here, bounding the regexes' cost whoever calls it.
MAX_CHARS = 4_000

PAD_ID = 0
OOV_ID = 1
PAD_TOKEN = "<pad>"
OOV_TOKEN = "<oov>"
USER_TOKEN = "<user>"
URL_TOKEN = "<url>"
NUMBER_TOKEN = "<num>"

_C1_CONTROLS = re.compile("[\x80-\x9f]")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_MENTION = re.compile(r"@\w+")
_HASHTAG = re.compile(r"#(\w+)")
_ELONGATION = re.compile(r"(\w)\1{2,}")
_APOSTROPHES = re.compile("[\u2018\u2019\u02bc`\u00b4]")
_SKIN_TONES_AND_JOINERS = re.compile("[\U0001f3fb-\U0001f3ff\u200d\ufe0e\ufe0f]")

# Contractions become "<verb> not" so that "don't", "dont" and "do not" share the negation token.
_IRREGULAR_NEGATIONS = {
    "can't": "can not", "cant": "can not", "cannot": "can not",
    "won't": "will not", "wont": "will not", "shan't": "shall not",
    "ain't": "is not", "aint": "is not",
}
_NT_WITHOUT_APOSTROPHE = re.compile(
    r"\b(do|does|did|is|are|was|were|has|have|had|could|should|would|must|need)nt\b"
)
_NT = re.compile(r"\b(\w+)n't\b")

# Emoticons are matched on lowercased text, so ":D" appears as ":d" and "XD" as "xd".
_EMOTICON = (
    r"(?:[<>]?[:;=][\-o*']?(?:[)\](\[/\\|@3*$]+|[dpo]+(?![a-z]))"  # :) ;-) :( :'( :d :p :/ =)
    r"|[)(\]\[]+[\-o']?[:;=](?![a-z])"  # reversed: (: ):
    r"|</?3+|\^_*\^|-_+-|\bxd+\b|\bo_o\b|\bt_t\b)"
)
_EMOJI = (
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff"
    "\u2190-\u21ff\u3030\u303d\u3297\u3299]"
)
# Order matters: numbers before emoticons keeps "10:30" from yielding ":3".
_TOKEN = re.compile(
    r"(?P<special><user>|<url>)|(?P<number>\d+(?:[.,:]\d+)*(?:st|nd|rd|th|am|pm|k|s)?\b)"
    rf"|(?P<emoticon>{_EMOTICON})|(?P<emoji>{_EMOJI})"
    r"|(?P<word>[^\W_](?:[\w']*[^\W_])?)|(?P<bang>!+)|(?P<question>\?+)"
)


def repair_mojibake(text: str) -> str:
    """Undo the two encoding accidents of Sentiment140: UTF-8 or cp1252 bytes read as latin-1.

    Strict decoding almost never succeeds by chance, so genuine text ("café") is left alone.
    """
    if text.isascii():
        return text
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        return text  # holds characters beyond latin-1, so it was decoded properly
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _C1_CONTROLS.search(text):
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            pass
    return text


def normalize(text: str) -> str:
    """Bring a raw tweet to the canonical lowercase form that ``tokenize`` splits."""
    text = repair_mojibake(text[:MAX_CHARS])
    for _ in range(2):  # the data holds doubly escaped entities such as "&amp;quot;"
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    text = unicodedata.normalize("NFKC", text)
    text = _SKIN_TONES_AND_JOINERS.sub("", text)
    text = _APOSTROPHES.sub("'", text)
    text = _URL.sub(f" {URL_TOKEN} ", text)
    text = _MENTION.sub(f" {USER_TOKEN} ", text)
    text = _HASHTAG.sub(r" \1 ", text)
    text = text.lower()
    text = _ELONGATION.sub(r"\1\1", text)
    return text


def _negations(word: str) -> list[str]:
    if word in _IRREGULAR_NEGATIONS:
        return _IRREGULAR_NEGATIONS[word].split()
    match = _NT_WITHOUT_APOSTROPHE.fullmatch(word) or _NT.fullmatch(word)
    if match:
        return [match.group(1), "not"]
    return [word]


def tokenize(text: str) -> list[str]:
    """Split a tweet into at most ``MAX_TOKENS`` tokens (empty list when nothing is left)."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(normalize(text)):
        kind, value = match.lastgroup, match.group()
        if kind == "number":
            tokens.append(NUMBER_TOKEN)
        elif kind == "word":
            tokens.extend(_negations(value))
        elif kind == "bang":
            tokens.append("!" if len(value) == 1 else "!!")
        elif kind == "question":
            tokens.append("?" if len(value) == 1 else "??")
        else:
            tokens.append(value)
        if len(tokens) >= MAX_TOKENS:
            break
    return tokens[:MAX_TOKENS]


class Vocabulary:
    """Token ↔ id mapping. Id 0 is padding, id 1 stands for every unknown token."""

    def __init__(self, tokens: Sequence[str]):
        if list(tokens[:2]) != [PAD_TOKEN, OOV_TOKEN]:
            raise ValueError(f"a vocabulary starts with {PAD_TOKEN!r}, {OOV_TOKEN!r}")
        if len(set(tokens)) != len(tokens):
            raise ValueError("a vocabulary must not repeat a token")
        self.tokens: list[str] = list(tokens)
        self._ids = {token: i for i, token in enumerate(self.tokens)}

    @classmethod
    def from_counts(cls, counts: dict[str, int], max_size: int, min_count: int = 2) -> Vocabulary:
        """Keep the most frequent tokens (ties broken alphabetically, so builds are repeatable)."""
        ranked = sorted(
            (t for t, c in counts.items() if c >= min_count and t not in (PAD_TOKEN, OOV_TOKEN)),
            key=lambda t: (-counts[t], t),
        )
        return cls([PAD_TOKEN, OOV_TOKEN, *ranked[: max_size - 2]])

    def __len__(self) -> int:
        return len(self.tokens)

    def encode_tokens(self, tokens: Iterable[str]) -> list[int]:
        return [self._ids.get(token, OOV_ID) for token in tokens]

    def encode(self, text: str) -> list[int]:
        return self.encode_tokens(tokenize(text))
