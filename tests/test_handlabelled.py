"""Readers of the hand-labelled sets: every entry of the table on a small file in its real format,
then the ways a file goes wrong (malformed rows, wrong encoding, empty, huge fields, wrong-type labels)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from converter.data import NEGATIVE, NEUTRAL, POSITIVE, DataError
from converter.handlabelled import (
    CUSTOMER,
    FOLDER,
    MAX_TEXT_CHARS,
    OVERLAP_FLAGS,
    SETS,
    SOURCE_FAMILY,
    read_all,
    read_set,
    semeval_text,
)

SPECS = {spec.name: spec for spec in SETS}
NEG, NEU, POS = NEGATIVE, NEUTRAL, POSITIVE
CRLF = "\r\n"
FLAGS_HEADER = "dataset\tfile\tdata_row_index_0based\tcoincides_with_excluded_set(normalized_text_match)\tour_text\n"

# set -> ({file: content}, [(text, label)] kept, skipped by reason)
CASES: dict[str, tuple[dict[str, bytes | str], list[tuple[str, int]], dict[str, int]]] = {
    "semeval2017_task4A_train_dev": (
        {"twitter-2013dev-A.txt": '1\tpositive\t"I love it\\u2019s \\""banner\\"", really"\n'
                                  "2\tneutral\tjust a fact\n3\tPOSITIVE\toops\n",
         "twitter-2016test-A.txt": '4\tnegative\t" two\nlines"\t\n5\tneutral\tlast, no newline\t'},
        [("I love it\u2019s \"banner\", really", POS), ("just a fact", NEU), ("two\nlines", NEG),
         ("last, no newline", NEU)],
        {"unknown labels (1 = 'POSITIVE')": 1},
    ),
    "tweeteval_sentiment_val_and_train_labels": (
        {"val_text.txt": "good @user\nmeh\nbad\nodd\n", "val_labels.txt": "2\n1\n0\n7\n"},
        [("good @user", POS), ("meh", NEU), ("bad", NEG)], {"unknown labels (1 = '7')": 1},
    ),
    "sanders_twitter_corpus": (
        {"full-corpus.csv": CRLF.join([
            '"Topic","Sentiment","TweetId","TweetDate","TweetText"',
            '"apple","positive","1","Tue Oct 18 2011","@Apple love\nthe 4S"',
            '"google","irrelevant","2","Tue Oct 18 2011","hola amigos"',
            '"twitter","neutral","3","Tue Oct 18 2011","new profile page"', ""])},
        [("@Apple love\nthe 4S", POS), ("new profile page", NEU)], {"irrelevant": 1},
    ),
    "ss_twitter_sentistrength": (
        {"twitter4242.txt": "3\t1\tso good\n1\t4\tso bad\tawful\n1\t1\tthe bus\n3\t3\tlove and hate\n"
                            "x\t1\tnot a number\n9\t1\tout of range\n2\t1\tcaf\xe9".encode("latin-1")},
        [("so good", POS), ("so bad\tawful", NEG), ("the bus", NEU), ("caf\xe9", POS)],
        {"mixed (equal positive and negative strength)": 1, "unknown labels ((0, 1) = ('x', '1'))": 1,
         "unknown labels ((0, 1) = ('9', '1'))": 1},
    ),
    "sts_gold": (
        {"sts_gold_tweet.csv": '"id";"polarity";"tweet"\n"1467933112";"0";"miss the athlete ";"extra"\n'
                               '"1467933113";"4";"so; happy"\n"1467933114";"2";"neutral?"'},
        [("so; happy", POS)], {"rows with 4 fields instead of 3": 1, "unknown labels (polarity = '2')": 1},
    ),
    "omd_debate08": (
        {"train.xml": '<?xml version="1.0"?>\n<dataset><item label="negative" target="obama" tweetid="1">'
                      "<content>boring &amp; long</content></item></dataset>",
         "dev.xml": '<dataset><item label="neutral" tweetid="2"><content>here we go</content></item>'
                    '<item label="positive" tweetid="3"></item></dataset>',
         "test.xml": '<dataset><item label="positive" tweetid="4"><content>  </content></item>'
                     '<item label="positive" tweetid="5"><content>good answer</content></item></dataset>'},
        [("boring & long", NEG), ("here we go", NEU), ("good answer", POS)],
        {"items without content": 1, "empty texts": 1},
    ),
    "hcr_health_care_reform": (
        {"train.xml": '<dataset><item label="unsure" tweetid="1"><content>hmm #hcr</content></item>'
                      '<item label="negative" tweetid="2"><content>kill the bill #hcr</content></item></dataset>',
         "dev.xml": "<dataset><item tweetid=\"'4e69\" label=\"\"><content>no label</content></item></dataset>",
         "test.xml": '<dataset><item label="irrelevant"><content>x</content></item>'
                     '<item label="positive"><content>pass it #hcr</content></item></dataset>'},
        [("kill the bill #hcr", NEG), ("pass it #hcr", POS)], {"unsure": 1, "no label": 1, "irrelevant": 1},
    ),
    "crowdflower_self_driving_cars": (
        {"Twitter-sentiment-self-drive-DFE.csv": CRLF.join([
            "_unit_id,_golden,_unit_state,_trusted_judgments,_last_judgment_at,sentiment,sentiment:confidence,"
            "our_id,sentiment_gold,sentiment_gold_reason,text",
            '1,TRUE,golden,236,,5,0.75,10001,"5\r\n4",excited,invest in self-driving cars!!!',
            "2,FALSE,finalized,3,,2,0.6,10002,,,scary robots",
            "3,FALSE,finalized,3,,3,0.6,10003,,,a car drove",
            "4,FALSE,finalized,3,,not_relevant,0.6,10004,,,lunch",
            "5,FALSE,finalized,3,,3.0,0.6,10005,,,float label", ""])},
        [("invest in self-driving cars!!!", POS), ("scary robots", NEG), ("a car drove", NEU)],
        {"not relevant": 1, "unknown labels (sentiment = '3.0')": 1},
    ),
    "crowdflower_apple_twitter": (
        {"Apple-Twitter-Sentiment-DFE.csv": CRLF.join([
            "_unit_id,_golden,_unit_state,_trusted_judgments,_last_judgment_at,sentiment,sentiment:confidence,"
            "date,id,query,sentiment_gold,text",
            '1,TRUE,golden,10,,1,0.6,Mon Dec 01 2014,540000000000000000,#AAPL OR @Apple,"1\n3",'
            "@apple my battery \u2013 dead",
            "2,FALSE,finalized,3,,0,0.6,Mon Dec 01 2014,540000000000000000,#AAPL OR @Apple,,$AAPL dips",
            "3,FALSE,finalized,3,,5,0.6,Mon Dec 01 2014,540000000000000000,#AAPL OR @Apple,,love my mac", ""]
        ).encode("cp1252")},
        [("@apple my battery \u2013 dead", NEG), ("love my mac", POS)], {"not relevant": 1},
    ),
    "crowdflower_coachella_2015": (
        {"Coachella-2015-2-DFE.csv": "index,coachella_sentiment,coachella_yn,name,retweet_count,text,tweet_coord,"
                                     "tweet_created,tweet_id,tweet_location,user_timezone\n"
                                     '0,positive,yes,a,0,tickets!! _\u00d9_\u00a6,"[0.0, 0.0]",1/7/15 15:02,'
                                     "5.52963e+17,,Quito\n1,cant tell,yes,b,0,who,,1/7/15,5.5e+17,,\n"
                                     "2,negative,yes,c,0,sold out :(,,1/7/15,5.5e+17,,\n"},
        [("tickets!! _\u00d9_\u00a6", POS), ("sold out :(", NEG)], {"can't tell": 1},
    ),
    "crowdflower_gop_debate": (
        {"GOP_REL_ONLY.csv": b"sentiment,text\r\nNeutral,RT @a: the question \x89\xdb_\r\nNegative,awful\r\n"
                             b"Positive,great answer\r\n,no label\r\n"},
        [("RT @a: the question \x89\xdb_", NEU), ("awful", NEG), ("great answer", POS)],
        {"unknown labels (sentiment = '')": 1},
    ),
    "crowdflower_brands_product_emotions_sxsw": (
        {"judge-1377884607_tweet_product_company.csv": (
            "tweet_text,emotion_in_tweet_is_directed_at,is_there_an_emotion_directed_at_a_brand_or_product\r\n"
            '"iPhone dead, need a plug #SXSW",iPhone,Negative emotion\r\n'
            ",,No emotion toward brand or product\r\n"
            "Google party tonight,,No emotion toward brand or product\r\n"
            "hmm,,I can't tell\r\nlove the iPad 2,iPad,Positive emotion\r\n").encode("latin-1")},
        [("iPhone dead, need a plug #SXSW", NEG), ("Google party tonight", NEU), ("love the iPad 2", POS)],
        {"empty texts": 1, "can't tell": 1},
    ),
    "crowdflower_weather_sentiment": (
        {"weather-agg-DFE.csv": "_unit_id,_canary,_unit_state,_trusted_judgments,_last_judgment_at,"
                                "author_emotion,confidence,gold_answer,tweet_id,tweet_text\n"
                                "1,,finalized,20,8/24/13,Positive,0.8,,81990560,sunny at last\n"
                                "2,,finalized,20,8/24/13,Tweet not related to weather condition,0.8,,2,lunch\n"
                                "3,,finalized,20,8/24/13,Neutral / author is just sharing information,0.8,,3,"
                                "Fire Weather Watch {link}\n"},
        [("sunny at last", POS), ("Fire Weather Watch {link}", NEU)], {"not relevant": 1},
    ),
    "crowdflower_nuclear_power": (
        {"1377191648_sentiment_nuclear_power.csv": (
            'tweet_text,sentiment,sentiment_confidence_summary\n:Japan crisis. {link},Negative,"""Negative"": 0.8\n"\n'
            "Renewables top nuclear,Neutral / author is just sharing information,1.0\n"
            "lunch,Tweet NOT related to nuclear energy,1.0\nsafe \u201cclean\u201d power,Positive,1.0\n"
        ).encode("cp1252")},
        [(":Japan crisis. {link}", NEG), ("Renewables top nuclear", NEU), ("safe \u201cclean\u201d power", POS)],
        {"not relevant": 1},
    ),
    "kaggle_tweet_sentiment_extraction": (
        {"test.csv": "textID,text,sentiment\r\nf87dea47db,Last session of the day  http://twitpic.com/67ezh,neutral\r\n"
                     '01082688c6, happy bday!,positive\r\neee518ae67,"shame, she has to quit",negative\r\n'
                     "aaaa,broken row\r\n"},
        [("Last session of the day  http://twitpic.com/67ezh", NEU), ("happy bday!", POS),
         ("shame, she has to quit", NEG)],
        {"rows with 2 fields instead of 3": 1},
    ),
    "vader_hutto2014_tweets_groundtruth": (
        {"tweets_GroundTruth.txt": "1\t2.7263\tSo lucky.\n2\t-2.15\tDie die die\n3\t0.1\tthe bus came\n"
                                   "4\tnan\tnot a rating\n5\t4.5\tout of range\n6\t0.5\tedge\tof tab\n\n7\tonly two\n"},
        [("So lucky.", POS), ("Die die die", NEG), ("the bus came", NEU), ("edge\tof tab", POS)],
        {"unknown labels (1 = 'nan')": 1, "unknown labels (1 = '4.5')": 1, "blank lines": 1,
         "rows with 2 fields instead of 3": 1},
    ),
    "semeval2018_task1_valence_oc_en": (
        {"2018-Valence-oc-En-train.txt": (
            "2017-En-30153\t@liamch88 yeah! :) playing well \tvalence\t0: neutral or mixed emotional state can be "
            "inferred\n2017-En-1\tso sad\tvalence\t-3: very negative emotional state can be inferred\n"
            "2017-En-2\tyay\tvalence\t1: slightly positive emotional state can be inferred\n"
            "2017-En-3\tbad class\tvalence\tseven\n")},
        [("@liamch88 yeah! :) playing well", NEU), ("so sad", NEG), ("yay", POS)],
        {"unknown labels (3 = 'seven')": 1},
    ),
}


def write_set(root: Path, name: str, files: dict[str, bytes | str]) -> Path:
    directory = root / FOLDER / name
    directory.mkdir(parents=True, exist_ok=True)
    for file in SPECS[name].files:
        content = files.get(file, b"")
        (directory / file).write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return root / FOLDER


def test_every_set_has_a_case_and_a_family():
    assert set(CASES) == set(SPECS) and len(SPECS) == 17
    assert set(SOURCE_FAMILY) == set(SPECS) and set(SOURCE_FAMILY.values()) == {"customer", "general"}
    assert {name for name, family in SOURCE_FAMILY.items() if family == CUSTOMER} >= {
        "crowdflower_apple_twitter", "crowdflower_brands_product_emotions_sxsw", "sanders_twitter_corpus"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_set_reads_its_format(tmp_path, name):
    files, expected, skipped = CASES[name]
    examples, report = read_set(SPECS[name], write_set(tmp_path, name, files))
    assert [(e.text, e.label) for e in examples] == expected
    assert report.skipped == skipped
    assert report.read == report.kept + sum(report.skipped.values())
    assert {e.source for e in examples} == {name}


def test_ids_are_kept_where_the_set_has_them(tmp_path):
    files, _, _ = CASES["semeval2017_task4A_train_dev"]
    examples, _ = read_set(SPECS["semeval2017_task4A_train_dev"],
                           write_set(tmp_path, "semeval2017_task4A_train_dev", files))
    assert [e.tweet_id for e in examples] == ["1", "2", "4", "5"]


def test_semeval_text_unescapes():
    assert semeval_text('"a \\""quote\\"" \\ud83d\\ude00"\t') == 'a "quote" \U0001f600'
    assert semeval_text("plain \\m text") == "plain \\m text"


@pytest.mark.parametrize(
    ("name", "file", "content", "message"),
    [
        ("sanders_twitter_corpus", "full-corpus.csv", "\u00e9t\u00e9 ok".encode("utf-16"), "not utf-8"),
        ("kaggle_tweet_sentiment_extraction", "test.csv", b"textID,text,sentiment\nid,caf\xe9,positive\n",
         r"not utf-8 \(byte 0xe9"),
        ("crowdflower_apple_twitter", "Apple-Twitter-Sentiment-DFE.csv", b"sentiment,text\n1,\x81\n", "not cp1252"),
        ("kaggle_tweet_sentiment_extraction", "test.csv", b"", "no labelled tweets"),
        ("kaggle_tweet_sentiment_extraction", "test.csv", b"textID,text,sentiment\n", "no labelled tweets"),
        ("kaggle_tweet_sentiment_extraction", "test.csv", b"id,tweet,label\n1,a,positive\n", "no column text"),
        ("kaggle_tweet_sentiment_extraction", "test.csv",
         b'textID,text,sentiment\n1,"' + b"x" * 200_000 + b'",positive\n', "line 2: field larger than"),
        ("omd_debate08", "train.xml", b"<dataset><item label='positive'><content>x</item>", "not well-formed XML"),
        ("tweeteval_sentiment_val_and_train_labels", "val_labels.txt", b"1\n", "2 texts but 1 labels"),
        ("semeval2017_task4A_train_dev", "twitter-2013dev-A.txt", b"\n\n", "no labelled tweets"),
    ],
    ids=["utf16", "latin1-as-utf8", "undefined-cp1252", "empty", "header-only", "no-such-column", "huge-field",
         "broken-xml", "misaligned-lines", "blank"],
)
def test_unreadable_files_are_clear_errors(tmp_path, name, file, content, message):
    files = {"val_text.txt": "a\nb\n"} if name.startswith("tweeteval") else {}
    root = write_set(tmp_path, name, {**files, file: content})
    with pytest.raises(DataError, match=message):
        read_set(SPECS[name], root)


def test_long_fields_and_stray_lines_are_counted(tmp_path):
    long = "y" * (MAX_TEXT_CHARS + 1)
    root = write_set(tmp_path, "kaggle_tweet_sentiment_extraction",
                     {"test.csv": f"textID,text,sentiment\n1,{long},positive\n2,fine,negative\n\n"})
    examples, report = read_set(SPECS["kaggle_tweet_sentiment_extraction"], root)
    assert [e.text for e in examples] == ["fine"]
    assert report.skipped == {f"texts over {MAX_TEXT_CHARS} characters": 1, "blank lines": 1}
    root = write_set(tmp_path, "semeval2017_task4A_train_dev",
                     {"twitter-2013dev-A.txt": "stray text before any id\n1\tpositive\tgood\n"})
    _, report = read_set(SPECS["semeval2017_task4A_train_dev"], root)
    assert report.skipped == {"lines that are not id<TAB>label<TAB>text": 1} and report.kept == 1


def test_missing_set_folder_names_the_setting(tmp_path):
    with pytest.raises(DataError, match="SENTIMENT_DATA_DIR"):
        read_set(SPECS["sts_gold"], tmp_path)


def all_sets(tmp_path: Path, flags: str) -> Path:
    for name, (files, _, _) in CASES.items():
        write_set(tmp_path, name, files)
    (tmp_path / FOLDER / OVERLAP_FLAGS).write_text(FLAGS_HEADER + flags, encoding="utf-8")
    return tmp_path


def test_read_all_drops_the_flagged_rows(tmp_path):
    # rows count across a set's files in the table's order: the 2016test file's first tweet is row 3
    flags = ("semeval2017_A_train_dev\t(see SOURCES.md)\t3\tairline_handle_mention_only\t\" two lines\"\n"
             "cf_apple\tcrowdflower_apple_twitter/Apple-Twitter-Sentiment-DFE.csv\t2\tairline_cf\tlove my mac\n")
    examples, reports = read_all(all_sets(tmp_path, flags))
    by_set = {r.path: r for r in reports}
    assert len(reports) == 17
    assert by_set["semeval2017_task4A_train_dev"].skipped[f"listed in {OVERLAP_FLAGS}"] == 1
    assert by_set["crowdflower_apple_twitter"].skipped[f"listed in {OVERLAP_FLAGS}"] == 1
    texts = {e.text for e in examples}
    assert "two\nlines" not in texts and "love my mac" not in texts and "just a fact" in texts
    assert len(examples) == sum(len(expected) for _, expected, _ in CASES.values()) - 2
    assert Counter(e.label for e in examples).keys() == {NEG, NEU, POS}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ("cf_apple\tf\t0\tx\tsomething else entirely\n", "quotes 'something else entirely'"),
        ("cf_apple\tf\t99\tx\tlove my mac\n", r"lists rows \[99\]"),
        ("airline_set\tf\t0\tx\ty\n", "unknown dataset 'airline_set'"),
        ("cf_apple\tf\tfirst\tx\ty\n", "5 tab-separated fields"),
    ],
    ids=["text-mismatch", "beyond-the-set", "unknown-set", "no-index"],
)
def test_overlap_flags_that_do_not_fit_are_errors(tmp_path, flags, message):
    with pytest.raises(DataError, match=message):
        read_all(all_sets(tmp_path, flags))


def test_overlap_flags_file_needs_its_header(tmp_path):
    root = all_sets(tmp_path, "")
    (root / FOLDER / OVERLAP_FLAGS).write_text("")
    with pytest.raises(DataError, match="no header"):
        read_all(root)


@pytest.mark.data
def test_the_real_sets(shared_data):
    """Every set of the shared folder: counts near SOURCES.md's, each flagged row found and dropped."""
    if not (shared_data / FOLDER / OVERLAP_FLAGS).is_file():
        pytest.skip(f"no {FOLDER}/ under {shared_data} (set SENTIMENT_DATA_DIR)")
    examples, reports = read_all(shared_data)
    by_set = {r.path: r for r in reports}
    assert sum(r.skipped[f"listed in {OVERLAP_FLAGS}"] for r in reports) == 29
    assert by_set["semeval2017_task4A_train_dev"].read == 50_334
    assert by_set["kaggle_tweet_sentiment_extraction"].kept == 31_013
    assert all(r.read == r.kept + sum(r.skipped.values()) for r in reports)
    labels = Counter(e.label for e in examples)
    assert 80_000 <= labels[NEG] + labels[POS] <= 86_000  # 35,890 + 46,926 on 2026-12-01, before de-duplication
    assert 55_000 <= labels[NEU] <= 61_000  # 58,216
