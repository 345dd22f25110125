"""The one tokenizer: training, conversion, serving and the CLIs all turn text into ids here.

Any change to the rules below changes what the model sees, so it must bump ``TEXT_VERSION``;
bundles record the version they were trained with and serving refuses a mismatch.

``tokenize`` is a pure function of the text. What it adds to plain words (``tweet-tokens/2``):

- negation scope: after a negation ("not", "no", "never", "n't", ...) up to ``NEGATION_SCOPE`` words
  get the ``neg_`` prefix, until punctuation, an emoticon or emoji, a contrast ("but") or another
  negation: "not bad at all" -> ``not neg_bad neg_at neg_all``;
- contrast: "but" and "however" become the marker ``<but>``;
- elongation: "soooo" -> ``soo <elong>`` (a run of 3+ letters kept at two, then the marker);
- emoticons (runs collapsed: ":)))" -> ``:)``) and emoji are tokens;
- hashtags stay one token, ``#neverflyingagain``; the vocabulary maps it to its word when it knows
  the word, else splits it into words it knows (never flying again), preferring frequent words
  (``Vocabulary.encode_tokens``): the vocabulary is ordered by training frequency, so the word
  list used to split hashtags travels in the bundle's manifest and serving splits as training did.

Every pattern is linear in its input by construction: each alternative of the token pattern either
fails within a constant number of characters or, once it starts, consumes the whole run it scans
(possessive quantifiers), so no run is read twice.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

TEXT_VERSION = "tweet-tokens/2"

MAX_TOKENS = 64  # a 280-character tweet rarely has more than 60 tokens
# The longest text worth reading: the default limit of every entry point (HTTP, Pub/Sub, the CLI).
# The tokenizer itself cuts longer input here, bounding its cost whoever calls it.
MAX_CHARS = 4_000

PAD_ID = 0
OOV_ID = 1
PAD_TOKEN = "<pad>"
OOV_TOKEN = "<oov>"
USER_TOKEN = "<user>"
URL_TOKEN = "<url>"
NUMBER_TOKEN = "<num>"
CONTRAST_TOKEN = "<but>"
ELONGATION_TOKEN = "<elong>"
NEGATED_PREFIX = "neg_"
HASHTAG_PREFIX = "#"
NEGATION_SCOPE = 5  # words marked after a negation at most (tweets often have no punctuation)
MAX_HASHTAG_SPLIT = 40  # longer hashtag bodies are not split into words
_MAX_WORD = 20  # the longest word a hashtag is split into

_C1_CONTROLS = re.compile("[\x80-\x9f]")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_MENTION = re.compile(r"@\w+")
_ELONGATION = re.compile(r"([^\W\d_])\1{2,}")
_REPEATS = re.compile(r"(.)\1+")
_APOSTROPHES = re.compile("[\u2018\u2019\u02bc`\u00b4]")
_SKIN_TONES_AND_JOINERS = re.compile("[\U0001f3fb-\U0001f3ff\u200d\ufe0e\ufe0f]")

# Contractions become "<verb> not" so that "don't", "dont" and "do not" share the negation token.
_IRREGULAR_NEGATIONS = {
    "can't": ("can", "not"), "cant": ("can", "not"), "cannot": ("can", "not"),
    "won't": ("will", "not"), "wont": ("will", "not"), "shan't": ("shall", "not"),
    "ain't": ("is", "not"), "aint": ("is", "not"),
}
_NT_WITHOUT_APOSTROPHE = re.compile(
    r"(do|does|did|is|are|was|were|has|have|had|could|should|would|must|need)nt"
)
_NT = re.compile(r"(\w+)n't")
NEGATIONS = frozenset({"not", "no", "never", "nothing", "nobody", "none", "nowhere", "neither", "nor", "without"})
_CONTRASTS = frozenset({"but", "however"})
_NUMBER = re.compile(r"\d++(?:[.,:]\d++)*+(?:st|nd|rd|th|am|pm|k|s)?")
_WORD_SEPARATORS = re.compile(r"[.,:]")

# Emoticons are matched on lowercased text, so ":D" appears as ":d" and "XD" as "xd". Possessive
# runs (``++``): an attempt that fails has read only characters the next alternative consumes.
_EMOTICON = (
    r"(?:[<>]?[:;=][\-o*']?(?:[)\](\[/\\|@3*$]++|[dpo]++(?![a-z]))"  # :) ;-) :( :'( :d :p :/ =)
    r"|</?3++|\^_*+\^|-_++-|\bxd++\b|\bo_o\b|\bt_t\b)"
)
_EMOJI = (
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff"
    "\u2190-\u21ff\u3030\u303d\u3297\u3299]"
)
# A run of brackets is consumed whole: a reversed emoticon "(:" / "):" when a colon follows it, else
# punctuation. (Matched bracket by bracket, "((((…" cost a scan of the run at every position.)
_TOKEN = re.compile(
    r"(?P<special><user>|<url>)|(?P<hashtag>#\w++)"
    rf"|(?P<emoticon>{_EMOTICON})|(?P<brackets>[)(\]\[]++(?P<reversed>[\-o']?[:;=](?![a-z]))?)"
    rf"|(?P<emoji>{_EMOJI})|(?P<word>\w++(?:['.,:]\w++)*+)|(?P<marks>[!?]++)|(?P<stop>[.,;:]++)"
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
    return text.lower()


def _marks(value: str) -> str:
    """"!" "!!" "?" "??" or "?!" (both kinds)."""
    if "?" in value and "!" in value:
        return "?!"
    return value[0] * min(2, len(value))


def _split_contraction(word: str) -> tuple[str, str] | None:
    """("do", "not") for "don't" / "dont", the irregular forms from the table; None otherwise."""
    parts = _IRREGULAR_NEGATIONS.get(word)
    if parts is None and word.endswith(("nt", "n't")):
        match = _NT.fullmatch(word) or _NT_WITHOUT_APOSTROPHE.fullmatch(word)
        if match:
            parts = (match.group(1), "not")
    return parts


def tokenize(text: str) -> list[str]:
    """Split a tweet into at most ``MAX_TOKENS`` tokens (empty list when nothing is left)."""
    normalized = normalize(text)
    elongations = _ELONGATION.search(normalized) is not None  # most tweets have none: skip the per-word check
    tokens: list[str] = []
    append = tokens.append
    negated = 0  # words still to mark with the negation prefix

    def plain(word: str) -> None:
        nonlocal negated
        elongated = elongations and _ELONGATION.search(word) is not None
        if elongated:
            word = _ELONGATION.sub(r"\1\1", word)
        if negated:
            negated -= 1
            word = NEGATED_PREFIX + word
        append(word)
        if elongated:
            append(ELONGATION_TOKEN)

    def word(value: str) -> None:
        nonlocal negated
        if value in NEGATIONS:
            append(value)
            negated = NEGATION_SCOPE
        elif value in _CONTRASTS:
            append(CONTRAST_TOKEN)
            negated = 0
        else:
            parts = _split_contraction(value)
            if parts is None:
                plain(value)
            else:
                plain(parts[0])
                append("not")
                negated = NEGATION_SCOPE

    for match in _TOKEN.finditer(normalized):
        kind, value = match.lastgroup, match.group()
        if kind == "word":
            if value.isalpha():
                word(value)
            elif _NUMBER.fullmatch(value):  # "10:30pm", "2nd"
                append(NUMBER_TOKEN)
            else:  # "don't", "u.s.", "good,bad", "snake_case", "4u": a contraction, or words
                for part in _WORD_SEPARATORS.split(value):
                    part = part.strip("_'")
                    if not part:
                        continue
                    if part[0].isdigit() and _NUMBER.fullmatch(part):
                        append(NUMBER_TOKEN)
                    else:
                        word(part)
        elif kind == "stop":
            negated = 0
        elif kind == "marks":
            append(_marks(value))
            negated = 0
        elif kind == "hashtag":
            body = value[1:].strip("_")
            if body.isdigit():
                append(NUMBER_TOKEN)
            elif body:
                append(HASHTAG_PREFIX + (_ELONGATION.sub(r"\1\1", body) if elongations else body))
        elif kind == "emoticon" or kind == "emoji" or (kind == "brackets" and match.group("reversed")):
            append(_REPEATS.sub(r"\1", value) if len(value) > 2 else value)
            negated = 0
        elif kind == "special":
            append(value)
        if len(tokens) >= MAX_TOKENS:
            break
    return tokens[:MAX_TOKENS]


def is_hashtag(token: str) -> bool:
    return len(token) > 1 and token[0] == HASHTAG_PREFIX


class Vocabulary:
    """Token ↔ id mapping. Id 0 is padding, id 1 stands for every unknown token.

    Ids follow training frequency (``from_counts``), which is what splitting a hashtag into words
    relies on. A token the vocabulary lacks falls back before it becomes ``OOV_ID``: ``neg_good`` to
    ``good``; ``#neverflyingagain`` to its body, else to the split of its body into known words.
    """

    def __init__(self, tokens: Sequence[str]):
        if list(tokens[:2]) != [PAD_TOKEN, OOV_TOKEN]:
            raise ValueError(f"a vocabulary starts with {PAD_TOKEN!r}, {OOV_TOKEN!r}")
        if len(set(tokens)) != len(tokens):
            raise ValueError("a vocabulary must not repeat a token")
        self.tokens: list[str] = list(tokens)
        self._ids = {token: i for i, token in enumerate(self.tokens)}
        # words a hashtag may be split into: letters only, two or more of them (or "a", "i")
        self._words = {t: i for t, i in self._ids.items() if t.isalpha() and (len(t) > 1 or t in ("a", "i"))}
        self._hashtag_ids = lru_cache(maxsize=8_192)(self._split_hashtag)

    @classmethod
    def from_counts(cls, counts: dict[str, int], max_size: int, min_count: int = 2) -> Vocabulary:
        """Keep the most frequent tokens (ties broken alphabetically, so builds are repeatable).
        A hashtag counts as its body: "#fail" and "fail" are one token."""
        merged: dict[str, int] = {}
        for token, count in counts.items():
            key = token[1:] if is_hashtag(token) else token
            merged[key] = merged.get(key, 0) + count
        ranked = sorted(
            (t for t, c in merged.items() if c >= min_count and t not in (PAD_TOKEN, OOV_TOKEN)),
            key=lambda t: (-merged[t], t),
        )
        return cls([PAD_TOKEN, OOV_TOKEN, *ranked[: max_size - 2]])

    def __len__(self) -> int:
        return len(self.tokens)

    def encode_tokens(self, tokens: Iterable[str]) -> list[int]:
        ids: list[int] = []
        for token in tokens:
            known = self._ids.get(token)
            if known is not None:
                ids.append(known)
            elif is_hashtag(token):
                ids.extend(self._hashtag_ids(token[1:]))
            elif token.startswith(NEGATED_PREFIX):
                ids.append(self._ids.get(token[len(NEGATED_PREFIX):], OOV_ID))
            else:
                ids.append(OOV_ID)
        return ids[:MAX_TOKENS]

    def encode(self, text: str) -> list[int]:
        return self.encode_tokens(tokenize(text))

    def _split_hashtag(self, body: str) -> tuple[int, ...]:
        """The body's id, else the most probable split into known words, else ``(OOV_ID,)``.

        A word of frequency rank r costs log(r + 1) plus a constant per word (Zipf: p ~ 1/r), so
        frequent words and fewer pieces win. Dynamic programming over the body: O(len x _MAX_WORD).
        """
        known = self._ids.get(body)
        if known is not None:
            return (known,)
        length = len(body)
        if length > MAX_HASHTAG_SPLIT:
            return (OOV_ID,)
        per_word = math.log(len(self._words) + 2)
        best: list[tuple[float, int]] = [(0.0, 0)] + [(math.inf, 0)] * length  # (cost, start of last word)
        for end in range(1, length + 1):
            for start in range(max(0, end - _MAX_WORD), end):
                rank = self._words.get(body[start:end])
                if rank is not None and best[start][0] < math.inf:
                    cost = best[start][0] + math.log(rank) + per_word
                    if cost < best[end][0]:
                        best[end] = (cost, start)
        if best[length][0] == math.inf:
            return (OOV_ID,)
        ids, end = [], length
        while end:
            start = best[end][1]
            ids.append(self._words[body[start:end]])
            end = start
        return tuple(reversed(ids))
