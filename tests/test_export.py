"""``flask im export`` and the transcripts it reads, against a real Redis."""

import csv
import io
import json
import math
import re
import time

import pluggy
import pytest

from imflask import PROJECT_NAME, hookimpl, hookspecs
from imflask.errors import ConfigError
from imflask.export import TimeWindow, iter_transcripts, transform_transcript
from imflask.export.spreadsheet import restore
from imflask.export.transcripts import pair_transcripts, read_pair
from imflask.export.window import format_time as iso
from tests.history_seed import seed_conversation

T0 = 1733300000.0  # 2024-12-04T08:13:20Z
DAY = 86400.0


@pytest.fixture
def app(make_app):
    """An app on the test Redis and key prefix."""
    return make_app()


@pytest.fixture
def store(app):
    """The app's history store."""
    return app.extensions["imflask"].history


@pytest.fixture
def export(app):
    """Run ``flask im export`` with the given arguments and return the Click result."""
    runner = app.test_cli_runner()

    def run(*args):
        return runner.invoke(args=["im", "export", *args])

    return run


@pytest.fixture
def seeded(store):
    """Two conversations of one pair (the first rated after the second began) and one of another pair."""
    first = seed_conversation(
        store, "1", "c-1", "a-1", T0,
        messages=[(5, "customer", "我的订单还没到"), (12, "agent", "您好，我查一下")],
        close=(60, "customer"),
    )
    second = seed_conversation(store, "2", "c-1", "a-1", T0 + 100, messages=[(3, "customer", "又是我")])
    store.append_system("c-1", "a-1", event="rated", conversation=first, now=T0 + 110, rating={"score": 4, "comment": "快"})
    third = seed_conversation(
        store, "3", "c-2", "a-2", T0 + 200,
        messages=[(1, "agent", "hello"), (2, "customer", "hi")],
        close=(30, "agent"),
        rating=(40, 5, None),
    )
    return first, second, third


def window_args(since=T0 - 10, until=T0 + DAY):
    return ["--since", iso(since), "--until", iso(until)]


def jsonl(result):
    return [json.loads(line) for line in result.stdout.splitlines()]


# -- JSON Lines -------------------------------------------------------------------


def test_export_jsonl_fields(export, seeded):
    result = export(*window_args())

    assert result.exit_code == 0, result.output
    by_id = {transcript["id"]: transcript for transcript in jsonl(result)}
    assert sorted(by_id) == ["1", "2", "3"]

    first = by_id["1"]
    assert first["customer"] == "c-1"
    assert first["agent"] == "a-1"
    assert first["started_at"] == T0
    assert first["closed_at"] == T0 + 60
    assert first["close_reason"] == "customer"
    assert first["rating"] == {"score": 4, "comment": "快", "rated_at": T0 + 110}
    assert first["utterances"] == [
        {"seq": 1, "type": "system", "role": "system", "event": "started", "text": "", "ts": T0},
        {"seq": 2, "type": "text", "role": "customer", "text": "我的订单还没到", "ts": T0 + 5},
        {"seq": 3, "type": "text", "role": "agent", "text": "您好，我查一下", "ts": T0 + 12},
        {"seq": 4, "type": "system", "role": "system", "event": "closed", "text": "", "ts": T0 + 60, "reason": "customer"},
        {"seq": 7, "type": "system", "role": "system", "event": "rated", "text": "", "ts": T0 + 110,
         "rating": {"score": 4, "comment": "快"}},
    ]


def test_export_jsonl_open_conversation_has_no_close(export, seeded):
    second = {transcript["id"]: transcript for transcript in jsonl(export(*window_args()))}["2"]

    assert second["closed_at"] is None
    assert second["close_reason"] is None
    assert second["rating"] is None
    assert [u["seq"] for u in second["utterances"]] == [5, 6]
    assert second["utterances"][1]["text"] == "又是我"


def test_export_jsonl_rating_without_comment(export, seeded):
    third = {transcript["id"]: transcript for transcript in jsonl(export(*window_args()))}["3"]

    assert third["rating"] == {"score": 5, "comment": None, "rated_at": T0 + 240}
    assert [u["role"] for u in third["utterances"]] == ["system", "agent", "customer", "system", "system"]


def test_export_jsonl_escapes_line_separators(export, store):
    seed_conversation(store, "9", "c", "a", T0, messages=[(1, "customer", "one\u2028two\u2029three")])

    result = export(*window_args())

    assert len(result.stdout.splitlines()) == 1
    assert jsonl(result)[0]["utterances"][1]["text"] == "one\u2028two\u2029three"


# -- CSV --------------------------------------------------------------------------


def test_export_csv_fields(export, seeded):
    result = export(*window_args(), "--format", "csv", "--agent", "a-1")

    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert result.stdout.startswith("conversation_id,customer,agent,started_at,closed_at,close_reason,")
    assert [row["seq"] for row in rows] == ["1", "2", "3", "4", "7", "5", "6"]
    assert rows[1] == {
        "conversation_id": "1",
        "customer": "c-1",
        "agent": "a-1",
        "started_at": "2024-12-04T08:13:20.000Z",
        "closed_at": "2024-12-04T08:14:20.000Z",
        "close_reason": "customer",
        "rating_score": "4",
        "rating_comment": "快",
        "seq": "2",
        "time": "2024-12-04T08:13:25.000Z",
        "type": "text",
        "role": "customer",
        "event": "",
        "text": "我的订单还没到",
    }
    assert rows[5]["closed_at"] == ""
    assert rows[5]["rating_score"] == ""
    assert rows[4]["event"] == "rated"


@pytest.mark.parametrize(
    "body",
    ["=1+1", "+SUM(A1)", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1", " =1", "'quoted", "=HYPERLINK(\"http://x\",\"y\")"],
)
def test_export_csv_neutralizes_formula(export, store, body):
    seed_conversation(store, "1", "=cmd|' /C calc'!A0", "a", T0, messages=[(1, "customer", body)])

    rows = list(csv.reader(io.StringIO(export(*window_args(), "--format", "csv").stdout, newline="")))

    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r", " ")), cell
    assert rows[2][13] == "'" + body
    assert rows[2][1] == "'=cmd|' /C calc'!A0"


# -- text -------------------------------------------------------------------------


def test_export_txt_layout(export, seeded):
    result = export(*window_args(), "--format", "txt", "--customer", "c-2")

    assert result.stdout == (
        "=== conversation 3\n"
        "customer: c-2\n"
        "agent: a-2\n"
        "started: 2024-12-04 08:16:40 UTC\n"
        "closed: 2024-12-04 08:17:10 UTC (agent)\n"
        "rating: 5/5\n"
        "[2024-12-04 08:16:40] --- conversation started\n"
        "[2024-12-04 08:16:41] agent: hello\n"
        "[2024-12-04 08:16:42] customer: hi\n"
        "[2024-12-04 08:17:10] --- conversation closed (agent)\n"
        "[2024-12-04 08:17:20] --- rated 5/5\n"
    )


def test_export_txt_open_conversation(export, seeded):
    text = export(*window_args(), "--format", "txt", "--customer", "c-1").stdout

    assert "rating: 4/5 \"快\"\n" in text
    assert "closed: - (still open)\n" in text
    assert "\n\n=== conversation 2\n" in text


# -- round trip -------------------------------------------------------------------

AWKWARD_BODIES = [
    "a, b, and c",
    'she said "hi" and \'bye\'',
    "line one\nline two\n\nline four",
    "windows\r\nline end",
    "emoji 😀👍🏽👨‍👩‍👧 end",
    "中文，标点。还有「引号」和全角，逗号",
    "   leading and trailing spaces   ",
    "=1+1",
    "[2024-12-04 08:00:00] customer: not a real line",
    "tab\tinside",
    "'",
]


TXT_TEXT_LINE = re.compile(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] (?:customer|agent): (.*)", re.DOTALL)


def parse_txt_texts(text):
    """Return the texts of the text utterances in a txt export."""
    texts = []
    for line in text.split("\n"):
        match = TXT_TEXT_LINE.fullmatch(line)
        if match:
            texts.append(match.group(1))
        elif line.startswith("    ") and texts:
            texts[-1] += "\n" + line[4:]
    return texts


@pytest.mark.parametrize("format_name", ["jsonl", "csv", "txt"])
def test_export_round_trip_awkward_bodies(export, store, format_name):
    messages = [(index + 1, "customer" if index % 2 == 0 else "agent", body) for index, body in enumerate(AWKWARD_BODIES)]
    seed_conversation(store, "1", "客户:1", "agent,1", T0, messages=messages, close=(100, "customer"))

    output = export(*window_args(), "--format", format_name).stdout_bytes.decode("utf-8")

    if format_name == "jsonl":
        texts = [u["text"] for u in json.loads(output)["utterances"] if u["type"] == "text"]
    elif format_name == "csv":
        rows = list(csv.DictReader(io.StringIO(output, newline="")))
        texts = [restore(row["text"]) for row in rows if row["type"] == "text"]
        assert {row["customer"] for row in rows} == {"客户:1"}
        assert {row["agent"] for row in rows} == {"agent,1"}
    else:
        texts = parse_txt_texts(output)
    assert texts == AWKWARD_BODIES


# -- window and filters -----------------------------------------------------------


@pytest.fixture
def edges(store):
    """Conversations placed around the window [T0, T0 + 1000)."""
    seed_conversation(store, "ends-at-since", "c-1", "a", T0 - 100, close=(100, "customer"))
    seed_conversation(store, "ends-before", "c-2", "a", T0 - 100, close=(99, "customer"))
    seed_conversation(store, "starts-at-until", "c-3", "a", T0 + 1000, close=(10, "customer"))
    seed_conversation(store, "starts-before-until", "c-4", "a", T0 + 999.5, close=(10, "customer"))
    seed_conversation(store, "spans-window", "c-5", "a", T0 - 50, messages=[(2000, "agent", "late")], close=(3000, "agent"))
    seed_conversation(store, "open-stale", "c-6", "a", T0 - 500, messages=[(10, "customer", "anyone?")])
    seed_conversation(store, "open-active", "c-7", "a", T0 - 500, messages=[(600, "customer", "still here")])


def test_export_window_edges(export, edges):
    result = export(*window_args(T0, T0 + 1000))

    ids = sorted(transcript["id"] for transcript in jsonl(result))
    assert ids == ["ends-at-since", "open-active", "spans-window", "starts-before-until"]


def test_export_window_duration(export, store):
    now = time.time()
    seed_conversation(store, "recent", "c-1", "a", now - 3600, close=(60, "customer"))
    seed_conversation(store, "old", "c-2", "a", now - 3 * DAY, close=(60, "customer"))

    result = export("--since", "2d", "--until", "now")

    assert [transcript["id"] for transcript in jsonl(result)] == ["recent"]


def test_export_default_window_reads_everything(export, seeded):
    assert len(jsonl(export())) == 3


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (["--agent", "a-1"], ["1", "2"]),
        (["--agent", "a-2"], ["3"]),
        (["--customer", "c-1"], ["1", "2"]),
        (["--agent", "a-1", "--customer", "c-2"], []),
        (["--agent", "c-1"], []),
        (["--customer", "nobody"], []),
    ],
)
def test_export_filters(export, seeded, filters, expected):
    result = export(*window_args(), *filters)

    assert result.exit_code == 0
    assert sorted(transcript["id"] for transcript in jsonl(result)) == expected


def test_export_reads_pairs_in_pages(store):
    seed_conversation(store, "1", "c-1", "a", T0, messages=[(i, "customer", f"m{i}") for i in range(1, 8)], close=(10, "agent"))
    seed_conversation(store, "2", "c-1", "a", T0 + 20, close=(30, "agent"))
    for index in range(5):
        seed_conversation(store, f"x{index}", f"other-{index}", "a", T0 + index)
    window = TimeWindow(None, T0 + DAY)

    transcripts = list(iter_transcripts(store, window, snapshot_time=T0 + DAY, page_size=3, index_batch=2))

    assert sorted(t["id"] for t in transcripts) == ["1", "2", "x0", "x1", "x2", "x3", "x4"]
    first = next(t for t in transcripts if t["id"] == "1")
    assert [u["seq"] for u in first["utterances"]] == list(range(1, 10))
    assert [u["seq"] for u in read_pair(store, "a", "c-1", page_size=4)] == list(range(1, 12))


def test_pair_transcripts_skips_orphan_messages():
    entries = [
        {"seq": 1, "type": "text", "from": "c", "to": "a", "body": "before any start", "ts": 1.0},
        {"seq": 2, "type": "system", "event": "started", "ts": 2.0,
         "conversation": {"id": "1", "customer": "c", "agent": "a", "started_at": 2.0}},
        {"seq": 3, "type": "system", "event": "started", "ts": 3.0, "conversation": {"id": "broken"}},
    ]

    transcripts = pair_transcripts(entries)

    assert [t["id"] for t in transcripts] == ["1"]
    assert [u["seq"] for u in transcripts[0]["utterances"]] == [2]


# -- output, messages and errors --------------------------------------------------


def test_export_to_file_reports_count(export, seeded, tmp_path):
    target = tmp_path / "out.jsonl"

    result = export(*window_args(), "--output", str(target))

    assert result.exit_code == 0
    assert result.stdout == ""
    assert "Exporting" in result.stderr
    assert "Exported 3 conversations" in result.stderr
    assert len(target.read_text(encoding="utf-8").splitlines()) == 3
    assert not (tmp_path / "out.jsonl.part").exists()


def test_export_empty_says_so(export, tmp_path):
    target = tmp_path / "empty.csv"

    result = export(*window_args(), "--format", "csv", "--output", str(target))

    assert result.exit_code == 0
    assert "No conversations matched" in result.stderr
    assert target.read_text(encoding="utf-8").startswith("conversation_id,")


def test_export_empty_stdout_says_so(export):
    result = export(*window_args())

    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No conversations matched in 2024-12-04T08:13:10.000Z to 2024-12-05T08:13:20.000Z" in result.stderr


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--since", "yesterday"], ["'--since'", "2024-12-04", "7d"]),
        (["--until", "2024-13-01"], ["'--until'", "ISO date"]),
        (["--since", "1d", "--until", "2d"], ["'--until'", "not later than --since"]),
        (["--format", "xml"], ["'--format'", "csv, jsonl, txt"]),
    ],
)
def test_export_bad_option(export, args, fragments):
    result = export(*args)

    assert result.exit_code == 2
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1
    for fragment in fragments:
        assert fragment in error_lines[0]


def test_export_redact_masks_pii(export, store):
    seed_conversation(
        store, "1", "c", "a", T0,
        messages=[(1, "customer", "手机13812345678，订单号202412041380013800，买了2件，共138.00元")],
        close=(5, "customer"),
        rating=(6, 3, "联系我 zhang.san@example.com"),
    )

    plain = jsonl(export(*window_args()))[0]
    redacted = jsonl(export(*window_args(), "--redact"))[0]

    assert plain["utterances"][1]["text"].startswith("手机13812345678")
    assert redacted["utterances"][1]["text"] == "手机[PHONE]，订单号202412041380013800，买了2件，共138.00元"
    assert redacted["rating"]["comment"] == "联系我 [EMAIL]"
    assert redacted["utterances"][3]["rating"]["comment"] == "联系我 [EMAIL]"


def test_export_progress_absent_on_stdout(export, seeded):
    result = export(*window_args())

    assert "Exporting" not in result.output


def test_window_overlaps_without_lower_bound():
    window = TimeWindow(None, 10.0)

    assert window.overlaps(-math.inf, -1e12)
    assert not window.overlaps(10.0, 11.0)


# -- plugins: formats and the transform chain -------------------------------------


@pytest.fixture
def plugin_export(make_app):
    """Run ``flask im export`` on an app that also loads tests.transform_plugin."""
    app = make_app(PLUGINS="tests.transform_plugin")
    seed_conversation(app.extensions["imflask"].history, "1", "c", "a", T0, messages=[(1, "customer", "hi")])
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["im", "export", *window_args(), *args])


def test_export_plugin_format(plugin_export):
    result = plugin_export("--format", "ids")

    assert result.exit_code == 0
    assert result.stdout == "1\ntotal 1\n"


def test_export_redact_runs_chain_with_redaction_last(plugin_export):
    plain = jsonl(plugin_export())[0]
    chained = jsonl(plugin_export("--redact"))[0]

    assert plain["utterances"][1]["text"] == "hi"
    assert chained["utterances"][1]["text"] == "hi call [PHONE]"


def test_transform_chain_passes_results_on():
    class Append:
        def __init__(self, suffix):
            self.suffix = suffix

        @hookimpl
        def imflask_transform_transcript(self, transcript):
            return {**transcript, "id": transcript["id"] + self.suffix}

    class Unchanged:
        @hookimpl
        def imflask_transform_transcript(self, transcript):
            return None

    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    for plugin in (Append("-first-registered"), Unchanged(), Append("-last-registered")):
        manager.register(plugin)

    assert transform_transcript(manager.hook, {"id": "1"}) == {"id": "1-last-registered-first-registered"}


def test_transform_chain_rejects_wrapper():
    class Wrapper:
        @hookimpl(wrapper=True)
        def imflask_transform_transcript(self, transcript):
            return (yield)

    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    manager.register(Wrapper(), name="wrapping")

    with pytest.raises(TypeError, match="wrapping"):
        transform_transcript(manager.hook, {"id": "1"})


def test_iter_transcripts_unsupported_store():
    class AppendOnlyStore:
        def read(self, a, b, *, before=None, limit=50):
            return []

    with pytest.raises(ConfigError, match="iter_active_pairs, parse_pair_key, last_seq"):
        next(iter_transcripts(AppendOnlyStore(), TimeWindow(None, 1.0), snapshot_time=1.0))


def test_export_output_missing_folder_rejected(export, tmp_path):
    target = tmp_path / "no-such-folder" / "out.jsonl"

    result = export("--output", str(target))

    assert result.exit_code == 2
    assert "Invalid value for '--output'" in result.output
    assert "Traceback" not in result.output
    assert not target.parent.exists()
