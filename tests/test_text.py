"""The one tokenizer: table-driven cases, limits, the vocabulary."""

import pytest

from sentiment import text
from sentiment.text import MAX_TOKENS, OOV_ID, PAD_ID, Vocabulary, tokenize

CASES = [
    # (input, expected tokens)
    ("", []),
    ("   \t\n ", []),
    ("...", []),
    ("Hello World", ["hello", "world"]),
    ("@AirParadis thanks!", ["<user>", "thanks", "!"]),
    ("see http://t.co/abc and https://x.com/a?b=1 or www.foo.com", ["see", "<url>", "and", "<url>", "or", "<url>"]),
    ("#FlyHappy #1", ["flyhappy", "<num>"]),
    ("soooooo goooood", ["soo", "good"]),
    ("NOOOO!!!", ["noo", "!!"]),
    ("really??", ["really", "??"]),
    ("I don't like it", ["i", "do", "not", "like", "it"]),
    ("i dont like it", ["i", "do", "not", "like", "it"]),
    ("can't won't ain't cannot", ["can", "not", "will", "not", "is", "not", "can", "not"]),
    ("isn\u2019t it", ["is", "not", "it"]),  # typographic apostrophe
    ("no way, not today", ["no", "way", "not", "today"]),
    ("fish &amp; chips &lt;3 &quot;ok&quot;", ["fish", "chips", "<3", "ok"]),
    ("&amp;quot;twice&amp;quot;", ["twice"]),  # doubly escaped, as in Sentiment140
    ("happy :) sad :-( wink ;) big :D", ["happy", ":)", "sad", ":-(", "wink", ";)", "big", ":d"]),
    ("tongue :P =) :/", ["tongue", ":p", "=)", ":/"]),
    ("XD ^_^ -_- <3 </3 :'(", ["xd", "^_^", "-_-", "<3", "</3", ":'("]),
    ("(: reversed ):", ["(:", "reversed", "):"]),
    ("food: good, do: it", ["food", "good", "do", "it"]),  # a colon after a word is no emoticon
    ("landing at 10:30pm, gate 8", ["landing", "at", "<num>", "gate", "<num>"]),
    ("love it 😀👍🏽", ["love", "it", "😀", "👍"]),  # skin tone dropped, emoji kept
    ("😡😡", ["😡", "😡"]),
    ("👨\u200d👩\u200d👧 family", ["👨", "👩", "👧", "family"]),  # joiners dropped
    ("très bien, São Paulo", ["très", "bien", "são", "paulo"]),
    ("ｆｕｌｌｗｉｄｔｈ", ["fullwidth"]),  # NFKC
    ("cabelodealgodÃ£o", ["cabelodealgodão"]),  # UTF-8 read as latin-1, repaired
    ("don\x92t go", ["do", "not", "go"]),  # cp1252 apostrophe read as latin-1, repaired
    ("café", ["café"]),  # genuine latin-1 text is left alone
    ("snake_case __dunder__", ["snake_case", "dunder"]),
    ("日本語のツイート", ["日本語のツイート"]),
    ("\x00null\x00bytes", ["null", "bytes"]),
    ("\ud800 lone surrogate", ["lone", "surrogate"]),
]


@pytest.mark.parametrize(("raw", "expected"), CASES, ids=[repr(c[0])[:40] for c in CASES])
def test_tokenize(raw, expected):
    assert tokenize(raw) == expected


def test_negations_are_never_dropped():
    for phrase in ("not good", "no good", "never good", "don't go", "nothing good"):
        tokens = tokenize(phrase)
        assert any(t in ("not", "no", "never", "nothing") for t in tokens), (phrase, tokens)


def test_length_is_bounded_on_a_10kb_text():
    long_text = " ".join(f"word{i}" for i in range(2_000))  # ~ 15 kB
    assert len(long_text) > 10_000
    tokens = tokenize(long_text)
    assert len(tokens) == MAX_TOKENS
    assert tokens[:2] == ["word0", "word1"]


def test_only_the_first_max_chars_are_read():
    assert tokenize("x " * text.MAX_CHARS + "tail") == ["x"] * MAX_TOKENS
    assert "tail" not in tokenize("a " * 10 + "b" * text.MAX_CHARS + " tail")


def test_non_utf8_bytes_decoded_leniently_still_tokenize():
    raw = b"caf\xe9 \xff\xfe broken \x80 bytes"
    assert tokenize(raw.decode("utf-8", errors="replace")) == ["caf", "broken", "bytes"]
    assert tokenize(raw.decode("latin-1")) == ["café", "ÿþ", "broken", "bytes"]


def test_tokenize_is_idempotent_on_its_output():
    for raw, _ in CASES:
        tokens = tokenize(raw)
        if all(t.isalnum() for t in tokens):
            assert tokenize(" ".join(tokens)) == tokens


def test_vocabulary_ids():
    vocabulary = Vocabulary.from_counts({"good": 5, "bad": 5, "rare": 1, "ok": 3}, max_size=10, min_count=2)
    assert vocabulary.tokens == ["<pad>", "<oov>", "bad", "good", "ok"]  # by count, ties alphabetical
    assert vocabulary.encode("good BAD unknown") == [3, 2, OOV_ID]
    assert vocabulary.encode("") == []
    assert PAD_ID not in vocabulary.encode("ok ok unknown")


def test_vocabulary_size_cap_and_validation():
    counts = {f"w{i}": 100 - i for i in range(50)}
    assert len(Vocabulary.from_counts(counts, max_size=10)) == 10
    with pytest.raises(ValueError, match="starts with"):
        Vocabulary(["a", "b"])
    with pytest.raises(ValueError, match="repeat"):
        Vocabulary(["<pad>", "<oov>", "a", "a"])
