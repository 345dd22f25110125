"""The replay's event-time shift: a second replay on the same pipeline moves past the first by whole weeks,
and the record of where the last one ended is ignored when it is unreadable or from another pipeline."""

from __future__ import annotations

import json

import pytest

from devstack.replay import WEEK, event_span, read_replay_record, shift_for, shifted, write_replay_record

DAY = 86_400.0
STATE = {"processes": {"buzz-pipeline": {"pgid": 4242, "start": 17.5}}}


def test_the_first_replay_and_one_past_the_history_are_not_shifted():
    assert shift_for((1000.0, 2000.0), None, 3 * DAY) == 0.0
    assert shift_for(None, 2000.0, 3 * DAY) == 0.0  # no event times: nothing to shift
    assert shift_for((2000.0 + 3 * DAY + 1, 2000.0 + 4 * DAY), 2000.0, 3 * DAY) == 0.0


@pytest.mark.parametrize("previous_end_days", [2.0, 6.0, 9.5])
def test_a_replay_over_the_previous_ones_moves_by_whole_weeks_past_its_end_and_the_history(previous_end_days):
    span, history = (0.0, 2 * DAY), 3 * DAY
    offset = shift_for(span, previous_end_days * DAY, history)
    assert offset > 0 and offset % WEEK == 0  # same weekdays and hours
    assert span[0] + offset > previous_end_days * DAY + history - 1e-6
    assert span[0] + offset - WEEK < previous_end_days * DAY + history  # the least number of weeks


def test_the_record_round_trips_and_is_ignored_when_broken_or_from_another_pipeline(tmp_path):
    path = tmp_path / "replay.json"
    assert read_replay_record(path, STATE) is None  # none yet
    write_replay_record(path, STATE, 1234.5)
    assert read_replay_record(path, STATE) == 1234.5
    other = {"processes": {"buzz-pipeline": {"pgid": 4242, "start": 99.0}}}  # a restarted pipeline
    assert read_replay_record(path, other) is None
    for broken in ("", "{", "\xff\xfe", "[1, 2", "[1, 2]", "null", json.dumps({"event_end": 5.0})):
        path.write_text(broken, encoding="latin-1")
        assert read_replay_record(path, STATE) is None


def test_shifting_moves_created_at_only_and_leaves_unreadable_times_alone():
    tweets = [{"id": "a", "created_at": "2026-11-02T00:00:00Z", "text": "x"},
              {"id": "b", "created_at": "Mon Nov 02 06:00:00 +0000 2026", "text": "y"},
              {"id": "c", "created_at": "yesterday", "text": "z"}, {"id": "d", "text": "no time"}]
    start, end = event_span(tweets)
    assert end - start == 6 * 3600
    moved = [shifted(t, WEEK) for t in tweets]
    assert moved[0]["created_at"].startswith("2026-11-09T00:00:00") and moved[0]["text"] == "x"
    assert event_span(moved[:2]) == (start + WEEK, end + WEEK)
    assert moved[2] == tweets[2] and moved[3] == tweets[3]
    assert shifted(tweets[0], 0.0) is tweets[0]
