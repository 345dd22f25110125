"""Readers of labelled tweets: every Sentiment140 shape, encodings, malformed files."""

import pytest

from converter.data import DataError, parse_label, read_labelled_table, read_sentiment140, read_tweeteval

SIX = '"0","1467810369","Mon Apr 06 22:19:45 PDT 2009","NO_QUERY","user","is upset &amp; sad"\n'


@pytest.mark.parametrize(
    ("content", "expected_rows"),
    [
        (SIX.encode(), 1),  # raw, no header
        (b"target,ids,date,flag,user,text\n" + SIX.encode(), 1),  # header
        (b"random,somefield,date,noquery,id,tweet_text\n" + SIX.encode(), 1),  # renamed header
        (b",target,ids,date,flag,user,text\n0," + SIX.encode(), 1),  # pandas index column
        (b'"polarity","text"\n"4","so happy"\n"0","so sad"\n', 2),  # text-only pool
        (SIX.replace("\n", "\r\n").encode() * 2, 2),  # CRLF
    ],
    ids=["six", "header", "renamed-header", "seven", "two", "crlf"],
)
def test_sentiment140_shapes(tmp_path, content, expected_rows):
    path = tmp_path / "piece.csv"
    path.write_bytes(content)
    examples, report = read_sentiment140(path)
    assert len(examples) == expected_rows == report.rows
    assert examples[0].label in (0, 1)


def test_latin1_file_is_decoded_as_latin1(tmp_path):
    path = tmp_path / "raw.csv"
    path.write_bytes('"4","1","d","q","u","caf\u00e9 \u00e0 Paris"\n'.encode("latin-1"))
    examples, report = read_sentiment140(path)
    assert report.encoding == "latin-1"
    assert examples[0].text == "café à Paris" and examples[0].label == 1


def test_bad_rows_are_counted_not_silent(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(SIX.encode() + b'"9","2","d","q","u","odd label"\n"2","3","d","q","u","neutral"\n'
                     b'"0","4","d","q","u",""\nonly,three,columns\n\n')
    examples, report = read_sentiment140(path)
    assert len(examples) == 1
    assert report.skipped == {"unknown labels": 1, "neutral rows": 1, "empty texts": 1,
                              "rows with 3 columns": 1, "blank lines": 1}
    assert "skipped" in str(report)


@pytest.mark.parametrize(
    "content", [b"", b"\n\n", b"a,b,c\n", b"\x00\x01\x02"], ids=["empty", "blank", "3col", "binary"]
)
def test_files_without_tweets_are_an_error(tmp_path, content):
    path = tmp_path / "nothing.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match="no labelled tweets"):
        read_sentiment140(path)


def test_labels():
    assert [parse_label(v) for v in ("0", "4", "1", "negative", "Positive ")] == [0, 1, 1, 0, 1]
    assert parse_label("2") is None and parse_label("neutral") is None
    with pytest.raises(DataError):
        parse_label("5")


def test_labelled_table_csv_and_jsonl(tmp_path):
    csv_path = tmp_path / "airline.csv"
    csv_path.write_text("tweet_id,text,label\n1,great crew,positive\n2,lost bag,negative\n3,meh,neutral\n")
    examples, report = read_labelled_table(csv_path)
    assert [(e.text, e.label) for e in examples] == [("great crew", 1), ("lost bag", 0)]
    assert report.skipped == {"neutral rows": 1}
    jsonl = tmp_path / "x.jsonl"
    jsonl.write_text('{"text": "good", "sentiment": 4}\n{"text": "bad", "sentiment": 0}\n')
    assert [e.label for e in read_labelled_table(jsonl)[0]] == [1, 0]
    jsonl.write_text('{"text": "good", "sentiment": 4}\nnot json\n')
    with pytest.raises(DataError, match="x.jsonl:2"):
        read_labelled_table(jsonl)


def test_tweeteval_binary(tmp_path):
    (tmp_path / "val_text.txt").write_text("good\nmeh\nbad\n")
    (tmp_path / "val_labels.txt").write_text("2\n1\n0\n")
    examples, report = read_tweeteval(tmp_path)
    assert [(e.text, e.label) for e in examples] == [("good", 1), ("bad", 0)]
    assert report.skipped == {"neutral rows": 1}
    (tmp_path / "val_labels.txt").write_text("2\n1\n")
    with pytest.raises(DataError, match="3 texts but 2 labels"):
        read_tweeteval(tmp_path)
