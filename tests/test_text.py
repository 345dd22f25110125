"""The one tokenizer: table-driven cases, limits, linear time, the vocabulary and its fallbacks."""

import random
import time

import pytest

from sentiment import text
from sentiment.text import MAX_TOKENS, NEGATIONS, OOV_ID, PAD_ID, Vocabulary, tokenize

CASES = [
    # (input, expected tokens)
    ("", []),
    ("   \t\n ", []),
    ("...", []),
    ("Hello World", ["hello", "world"]),
    ("@AirParadis thanks!", ["<user>", "thanks", "!"]),
    ("see http://t.co/abc and https://x.com/a?b=1 or www.foo.com", ["see", "<url>", "and", "<url>", "or", "<url>"]),
    ("#FlyHappy #1 #__x__", ["#flyhappy", "<num>", "#x"]),  # the vocabulary splits hashtags
    ("soooooo goooood", ["soo", "<elong>", "good", "<elong>"]),
    ("NOOOO!!!", ["noo", "<elong>", "!!"]),
    ("what?!?! ok!", ["what", "?!", "ok", "!"]),
    ("really??", ["really", "??"]),
    ("I don't like it", ["i", "do", "not", "neg_like", "neg_it"]),
    ("i dont like it", ["i", "do", "not", "neg_like", "neg_it"]),
    ("can't. won't. ain't. cannot", ["can", "not", "will", "not", "is", "not", "can", "not"]),
    ("isn\u2019t it", ["is", "not", "neg_it"]),  # typographic apostrophe
    ("no way, not today", ["no", "neg_way", "not", "neg_today"]),
    ("fish &amp; chips &lt;3 &quot;ok&quot;", ["fish", "chips", "<3", "ok"]),
    ("&amp;quot;twice&amp;quot;", ["twice"]),  # doubly escaped, as in Sentiment140
    ("happy :) sad :-( wink ;) big :D", ["happy", ":)", "sad", ":-(", "wink", ";)", "big", ":d"]),
    ("yay :))) lol xDDD <333", ["yay", ":)", "lol", "xd", "<3"]),  # runs collapsed
    ("tongue :P =) :/", ["tongue", ":p", "=)", ":/"]),
    ("XD ^_^ -_- <3 </3 :'(", ["xd", "^_^", "-_-", "<3", "</3", ":'("]),
    ("(: reversed ): ((((:", ["(:", "reversed", "):", "(:"]),
    ("(a note) [1]", ["a", "note", "<num>"]),  # brackets without a colon are punctuation
    ("food: good, do: it", ["food", "good", "do", "it"]),  # a colon after a word is no emoticon
    ("landing at 10:30pm, gate 8", ["landing", "at", "<num>", "gate", "<num>"]),
    ("love it 😀👍🏽", ["love", "it", "😀", "👍"]),  # skin tone dropped, emoji kept
    ("😡😡", ["😡", "😡"]),
    ("👨\u200d👩\u200d👧 family", ["👨", "👩", "👧", "family"]),  # joiners dropped
    ("très bien, São Paulo", ["très", "bien", "são", "paulo"]),
    ("ｆｕｌｌｗｉｄｔｈ", ["fullwidth"]),  # NFKC
    ("cabelodealgodÃ£o", ["cabelodealgodão"]),  # UTF-8 read as latin-1, repaired
    ("don\x92t go", ["do", "not", "neg_go"]),  # cp1252 apostrophe read as latin-1, repaired
    ("café", ["café"]),  # genuine latin-1 text is left alone
    ("snake_case __dunder__", ["snake_case", "dunder"]),
    ("日本語のツイート", ["日本語のツイート"]),
    ("\x00null\x00bytes", ["null", "bytes"]),
    ("\ud800 lone surrogate", ["lone", "surrogate"]),
]


# What tweet-tokens/2 adds to words: negation scope, contrast, elongation (hand-written tweets).
MARKED = [
    ("not bad at all, the flight was on time",
     ["not", "neg_bad", "neg_at", "neg_all", "the", "flight", "was", "on", "time"]),  # the comma ends the scope
    ("never again!!! worst", ["never", "neg_again", "!!", "worst"]),
    ("I don't love it but the crew was great",
     ["i", "do", "not", "neg_love", "neg_it", "<but>", "the", "crew", "was", "great"]),  # "but" ends it
    ("nothing works :( however the seats are ok",
     ["nothing", "neg_works", ":(", "<but>", "the", "seats", "are", "ok"]),  # so do emoticons
    ("no problem 👍 thanks", ["no", "neg_problem", "👍", "thanks"]),
    ("not one two three four five six seven",
     ["not", "neg_one", "neg_two", "neg_three", "neg_four", "neg_five", "six", "seven"]),  # NEGATION_SCOPE words
    ("not not good", ["not", "not", "neg_good"]),  # a negation restarts the scope
    ("without my bag", ["without", "neg_my", "neg_bag"]),
    ("not 2 hours", ["not", "<num>", "neg_hours"]),  # numbers are not marked but stay in the scope
    ("the flight is not... great", ["the", "flight", "is", "not", "great"]),
    ("not gooood", ["not", "neg_good", "<elong>"]),
    ("but but", ["<but>", "<but>"]),
    ("yesss!!! #sooohappy", ["yess", "<elong>", "!!", "#soohappy"]),
    ("not @united", ["not", "<user>"]),
]


@pytest.mark.parametrize(("raw", "expected"), MARKED, ids=[c[0][:40] for c in MARKED])
def test_negation_contrast_and_elongation(raw, expected):
    assert tokenize(raw) == expected


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
        if all(t.isalnum() for t in tokens) and not NEGATIONS & set(tokens):  # a scope marks words again
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


def test_unknown_negated_words_fall_back_to_the_word():
    vocabulary = Vocabulary(["<pad>", "<oov>", "not", "good", "neg_bad", "bad"])
    assert vocabulary.encode("not good") == [2, 3]  # neg_good is unknown: good
    assert vocabulary.encode("not bad") == [2, 4]  # neg_bad is known
    assert vocabulary.encode("not qwerty") == [2, OOV_ID]


WORDS = ["<pad>", "<oov>", "never", "again", "flying", "fly", "in", "g", "a", "i", "the", "happy", "worst",
         "flight", "ever", "then", "ink", "think", "ho", "me", "home"]


@pytest.mark.parametrize(("hashtag", "words"), [
    ("#neverflyingagain", ["never", "flying", "again"]),
    ("#NeverFlyingAgain", ["never", "flying", "again"]),
    ("#worstflightever", ["worst", "flight", "ever"]),
    ("#happy", ["happy"]),  # a known word is itself
    ("#gohome", None),  # "go" is unknown: no split, one unknown token
    ("#home", ["home"]),  # one word beats "ho" + "me"
    ("#ithink", ["i", "think"]),  # frequent words win: "i"+"think", not "i"+"th"+"ink" (no "th" anyway)
    ("#" + "againfly" * 6, None),  # too long to split (48 characters)
])
def test_hashtags_split_into_known_words(hashtag, words):
    vocabulary = Vocabulary(WORDS)
    expected = [OOV_ID] if words is None else [vocabulary.tokens.index(w) for w in words]
    assert vocabulary.encode(hashtag) == expected


def test_hashtag_split_prefers_frequent_words():
    by_frequency = ["<pad>", "<oov>", "no", "there", "here", "not", "where", "nowhere", "t", "he", "re"]
    vocabulary = Vocabulary(by_frequency)
    assert [vocabulary.tokens[i] for i in vocabulary.encode("#nowhere")] == ["nowhere"]  # known as a whole
    assert [vocabulary.tokens[i] for i in vocabulary.encode("#nothere")] == ["no", "there"]  # not "not"+"here"


def test_a_hashtag_counts_as_its_word_in_the_vocabulary():
    vocabulary = Vocabulary.from_counts({"#fail": 2, "fail": 1, "#rare": 1, "ok": 3}, max_size=10, min_count=2)
    assert vocabulary.tokens == ["<pad>", "<oov>", "fail", "ok"]
    assert vocabulary.encode("#fail fail") == [2, 2]


def test_encoding_is_capped_after_hashtags_are_split():
    vocabulary = Vocabulary(WORDS)
    assert len(vocabulary.encode(" ".join(["#neverflyingagain"] * 40))) == MAX_TOKENS


# Linear time (the reversed-emoticon pattern once cost ~30 ms on 4,000 brackets): every class of the token
# pattern's alternatives, repeated and mixed, must cost about 10x when the input is 10x longer.
_UNITS = ["(", ")", "[", "):", ":", ":d", ":'", "=", ";", "<", "<3", "x", "xd", "^_", "-_", "_", "1", "1.", "1,",
          "0:", "#", "#a", "a'", "'", "!?", "!", "?", ".", "@", "@a", "http://", "www.", "&amp;", "&", "😡", "🏽",
          "a", "ab", "aaab", "a.", "a:", "a1", "n't ", "not ", "but ", "o"]


def _adversarial(length: int) -> list[str]:
    texts = [(unit * (length // len(unit) + 1))[:length] + "x" for unit in _UNITS]
    rng = random.Random(7)
    alphabet = "".join(sorted(set("".join(_UNITS))))
    texts += ["".join(rng.choice(alphabet) for _ in range(length)) for _ in range(5)]
    return texts


def _seconds(texts: list[str]) -> float:
    timings = []
    for _ in range(5):  # the fastest of five: the machine's noise only ever adds time
        started = time.perf_counter()
        for t in texts:
            tokenize(t)
        timings.append(time.perf_counter() - started)
    return min(timings)


def test_tokenizer_time_is_linear_in_the_input():
    short, long = _adversarial(text.MAX_CHARS // 10), _adversarial(text.MAX_CHARS)
    for index, (small, large) in enumerate(zip(short, long, strict=True)):
        ratio = _seconds([large]) / max(_seconds([small]), 2e-5)
        # 10x the characters: linear is ~10x (up to ~15x with cache and allocation effects, seen on a loaded
        # machine), quadratic ~100x (the old reversed-emoticon pattern); 30 is about their geometric middle
        assert ratio < 30, (index, large[:20], ratio)
    per_100_chars = _seconds(long) / len(long) / (text.MAX_CHARS / 100)
    assert per_100_chars < 1e-3, f"{per_100_chars * 1e3:.2f} ms per 100 characters"
