"""``flask im stats``: per-agent figures computed on a hand-built history with known results."""

import csv
import io
import json

import pytest

from imflask.export import TimeWindow
from imflask.export.window import format_time
from imflask.stats.figures import nearest_rank, peak_load
from tests.history_seed import seed_conversation

T0 = 1733300000.0
WINDOW = ["--since", format_time(T0), "--until", format_time(T0 + 3600)]

EXPECTED = [
    {
        "agent": "a-1",
        "conversations": 3,
        "messages_sent": 6,
        "first_response_median": 22.5,
        "first_response_p90": 40.0,
        "reply_time_mean": 20.0,
        "duration_mean": 450.0,
        "peak_concurrent": 3,
        "ratings": 2,
        "rating_mean": 4.0,
    },
    {
        "agent": "a-2",
        "conversations": 3,
        "messages_sent": 3,
        "first_response_median": 10.0,
        "first_response_p90": 61.0,
        "reply_time_mean": 60.0,
        "duration_mean": 47.667,
        "peak_concurrent": 2,
        "ratings": 0,
        "rating_mean": None,
    },
]


@pytest.fixture
def app(make_app):
    """An app on the test Redis and key prefix."""
    return make_app()


@pytest.fixture
def history(app):
    """The hand-built history of EXPECTED, in the window [T0, T0 + 3600)."""
    return seed_known_history(app.extensions["imflask"].history)


def seed_known_history(store):
    """Store the conversations whose figures in [T0, T0 + 3600) are EXPECTED; return the store."""

    # a-1: A and B start in the window, C started before it, D is still open at its end.
    seed_conversation(
        store, "A", "c-A", "a-1", T0,
        messages=[(10, "customer", "在吗"), (40, "agent", "在的"), (50, "customer", "订单"), (55, "customer", "没到"),
                  (70, "agent", "我查查"), (80, "agent", "明天到")],
        close=(300, "customer"), rating=(310, 5, "好"),
    )
    seed_conversation(
        store, "B", "c-B", "a-1", T0 + 100,
        messages=[(5, "agent", "您好"), (10, "customer", "退货"), (30, "agent", "可以")],
        close=(600, "agent"), rating=(650, 3, None),
    )
    seed_conversation(
        store, "C", "c-C", "a-1", T0 - 200,
        messages=[(50, "agent", "before the window"), (210, "customer", "again"), (220, "agent", "yes")],
        close=(400, "customer"),
    )
    seed_conversation(store, "D", "c-A", "a-1", T0 + 3500, messages=[(1, "customer", "还在吗")])

    # a-2: E and F overlap; H starts after the window.
    seed_conversation(store, "E", "c-E", "a-2", T0 + 1000, messages=[(1, "customer", "hi"), (61, "agent", "hello")], close=(120, "agent"))
    seed_conversation(store, "F", "c-F", "a-2", T0 + 1100, messages=[(2, "agent", "hello")], close=(3, "agent"))
    seed_conversation(store, "G", "c-G", "a-2", T0 + 1200, messages=[(10, "agent", "hello")], close=(20, "agent"))
    seed_conversation(store, "H", "c-H", "a-2", T0 + 4000, messages=[(1, "agent", "late")], close=(20, "agent"))

    # a-3 only worked before the window.
    seed_conversation(store, "I", "c-I", "a-3", T0 - 1000, messages=[(1, "agent", "early")], close=(20, "agent"))
    return store


@pytest.fixture
def stats(app):
    """Run ``flask im stats`` with the given arguments and return the Click result."""
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["im", "stats", *args])


def test_stats_json_known_answers(stats, history):
    result = stats(*WINDOW, "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["since"] == "2024-12-04T08:13:20.000Z"
    assert document["until"] == "2024-12-04T09:13:20.000Z"
    assert document["agents"] == EXPECTED


def test_stats_agent_filter(stats, history):
    document = json.loads(stats(*WINDOW, "--json", "--agent", "a-2").stdout)

    assert document["agents"] == EXPECTED[1:]


def test_stats_csv(stats, history):
    rows = list(csv.DictReader(io.StringIO(stats(*WINDOW, "--csv").stdout)))

    assert [row["agent"] for row in rows] == ["a-1", "a-2"]
    assert rows[0]["first_response_p90"] == "40.0"
    assert rows[1]["rating_mean"] == ""
    assert rows[1]["duration_mean"] == "47.667"


def test_stats_table(stats, history):
    lines = stats(*WINDOW).stdout.splitlines()

    assert lines[0] == "Agents from 2024-12-04T08:13:20.000Z to 2024-12-04T09:13:20.000Z:"
    assert lines[1].split()[:3] == ["agent", "conv", "msgs"]
    assert lines[2].split() == ["a-1", "3", "6", "22.5s", "40.0s", "20.0s", "7m", "30s", "3", "2", "4.00"]
    assert lines[3].split() == ["a-2", "3", "3", "10.0s", "1m", "01s", "1m", "00s", "47.7s", "2", "0", "-"]


def test_stats_empty_window_says_so(stats, history):
    result = stats("--since", "2020-01-01", "--until", "2020-01-02")

    assert result.exit_code == 0
    assert result.stdout.strip() == "No conversations in 2020-01-01T00:00:00.000Z to 2020-01-02T00:00:00.000Z."


def test_stats_empty_window_json(stats, history):
    result = stats("--since", "2020-01-01", "--until", "2020-01-02", "--json")

    assert result.exit_code == 0
    assert json.loads(result.stdout)["agents"] == []
    assert "No conversations" in result.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--since", "last week"], "'--since'"),
        (["--until", "12x"], "'--until'"),
        (["--since", "2024-12-05", "--until", "2024-12-04"], "not later than --since"),
    ],
)
def test_stats_bad_option(stats, args, fragment):
    result = stats(*args)

    assert result.exit_code == 2
    assert fragment in result.stderr


def test_peak_load_closes_before_starts_at_same_instant():
    assert peak_load([(0, 1), (5, -1), (5, 1), (9, -1)]) == 1


def test_nearest_rank_percentiles():
    values = [15, 20, 35, 40, 50]

    assert nearest_rank(values, 0.9) == 50
    assert nearest_rank(values, 0.4) == 20
    assert nearest_rank([], 0.9) is None


def test_window_contains_is_half_open():
    window = TimeWindow(10.0, 20.0)

    assert window.contains(10.0)
    assert not window.contains(20.0)


def test_stats_json_and_csv_together_rejected(stats):
    result = stats("--json", "--csv")

    assert result.exit_code == 2
    assert "--json and --csv cannot be used together" in result.output
