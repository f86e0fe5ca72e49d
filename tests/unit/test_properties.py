"""Properties of the pure logic on generated inputs (Hypothesis).

- the wire contracts: events round-trip through JSON, options parse or raise the one
  documented error, the raw-bytes helpers never raise;
- the cue builder (`services.transcriber.subtitles`): cues in order, never overlapping,
  inside the media's time, within the line limits, and no word lost or split;
- the srt-fixer's answer validation (`services.srt_fixer.fixer`): an answer naming every
  asked cue is accepted, a missing or extra cue is refused, nothing but `InvalidAnswer`
  is ever raised, and cue count and timing of the output are those of the input.

Each property states what the module's docstrings promise. The `@example`s marked
"Bug:" are counterexamples these properties found in the code as it stands: they fail
until it is fixed (an explicit example fails fast, before any generated one runs).
Examples are few (the file runs in seconds) and no example database is written
(`database=None`: nothing is left in the working tree).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any
from uuid import UUID

import pytest
import srt
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from contracts import (
    OPTIONS_BY_TYPE,
    BatchResult,
    ConvertResult,
    ErrorCode,
    ErrorInfo,
    FixSrtResult,
    InvalidOptionsError,
    JobCancelled,
    JobCompleted,
    JobExpired,
    JobFailed,
    JobProgressed,
    JobQueued,
    JobRequeued,
    JobStarted,
    JobType,
    LlmUsage,
    OutputFile,
    Segment,
    SrtOptions,
    SrtResult,
    SummaryResult,
    TranscribeResult,
    Word,
    parse_event,
    parse_options,
    raw,
)
from services.srt_fixer import fixer
from services.transcriber.subtitles import Cue, build_cues, words_of

pytestmark = pytest.mark.unit

# No "explain" phase: it re-runs a failing case many times over, for a hint only.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)
FAST = settings(max_examples=150, deadline=None, database=None, phases=PHASES)
SLOW = settings(
    max_examples=60,
    deadline=None,
    database=None,
    phases=PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# A JSON document nested deeper than Python's recursion limit: `json.loads` raises
# RecursionError (not ValueError) on it. Small (5 kB), far under NATS's max_payload.
DEEP_JSON = "[" * 5000


# --- generic values ---------------------------------------------------------------------

TEXT = st.text(max_size=30)
OPT_TEXT = st.none() | TEXT
FINITE = st.floats(allow_nan=False, allow_infinity=False)
COUNTS = st.integers(min_value=-(2**63), max_value=2**63 - 1)
OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
EARLIEST, LATEST = dt.datetime(1970, 1, 1), dt.datetime(2200, 1, 1)
TIMES = st.datetimes(EARLIEST, LATEST) | st.datetimes(
    EARLIEST, LATEST, timezones=st.just(dt.UTC) | OFFSETS
)
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
FINITE_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | FINITE | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


# --- contracts: events --------------------------------------------------------------------

USAGE = st.builds(
    LlmUsage,
    prompt_tokens=COUNTS,
    completion_tokens=COUNTS,
    total_tokens=COUNTS,
    cost_usd=st.none() | FINITE,
)
RESULT_BASE: dict[str, Any] = {"cached": st.booleans(), "cached_from": st.none() | st.uuids()}
WORDS = st.builds(Word, start=FINITE, end=FINITE, word=TEXT, probability=st.none() | FINITE)
SEGMENTS = st.builds(
    Segment,
    start=FINITE,
    end=FINITE,
    text=TEXT,
    words=st.none() | st.lists(WORDS, max_size=3),
)
RESULTS = st.one_of(
    st.builds(
        TranscribeResult,
        text=TEXT,
        language=TEXT,
        language_probability=FINITE,
        duration_s=FINITE,
        segments=st.lists(SEGMENTS, max_size=3),
        file_id=st.none() | st.uuids(),
        model=OPT_TEXT,
        **RESULT_BASE,
    ),
    st.builds(
        SrtResult,
        file_id=st.uuids(),
        url=OPT_TEXT,
        format=st.sampled_from(["srt", "vtt"]),
        content=TEXT,
        cue_count=COUNTS,
        language=TEXT,
        **RESULT_BASE,
    ),
    st.builds(
        ConvertResult,
        file_id=st.uuids(),
        url=OPT_TEXT,
        content_type=TEXT,
        duration_s=st.none() | FINITE,
        size=COUNTS,
        **RESULT_BASE,
    ),
    st.builds(
        FixSrtResult,
        type=st.sampled_from(["fix_srt", "translate_srt"]),
        file_id=st.uuids(),
        url=OPT_TEXT,
        content=TEXT,
        changed_cues=COUNTS,
        kept_cues=COUNTS,
        warnings=st.lists(TEXT, max_size=3),
        model=TEXT,
        usage=USAGE,
        language=OPT_TEXT,
        **RESULT_BASE,
    ),
    st.builds(SummaryResult, summary=TEXT, model=TEXT, usage=USAGE, **RESULT_BASE),
    st.builds(
        BatchResult,
        total=COUNTS,
        completed=COUNTS,
        failed=COUNTS,
        cancelled=COUNTS,
        child_ids=st.lists(st.uuids(), max_size=3),
        **RESULT_BASE,
    ),
)
ERRORS = st.builds(
    ErrorInfo, code=st.sampled_from([c.value for c in ErrorCode]) | TEXT, message=TEXT
)
OUTPUTS = st.builds(
    OutputFile,
    id=st.uuids(),
    object_key=TEXT,
    filename=TEXT,
    content_type=TEXT,
    size=COUNTS,
    sha256=OPT_TEXT,
    duration_s=st.none() | FINITE,
)
ENVELOPE: dict[str, Any] = {
    "event_id": st.uuids(),
    "occurred_at": TIMES,
    "correlation_id": OPT_TEXT,
    "job_id": st.uuids(),
    "attempt": st.integers(min_value=1, max_value=2**63 - 1),
    "producer": OPT_TEXT,
}
EVENTS = st.one_of(
    st.builds(JobQueued, type=st.sampled_from(JobType), **ENVELOPE),
    st.builds(JobStarted, worker=OPT_TEXT, **ENVELOPE),
    st.builds(
        JobProgressed,
        progress=st.floats(min_value=0.0, max_value=1.0),
        message=OPT_TEXT,
        **ENVELOPE,
    ),
    st.builds(JobRequeued, error=ERRORS, **ENVELOPE),
    st.builds(
        JobCompleted,
        result=RESULTS,
        outputs=st.lists(OUTPUTS, max_size=2),
        language=OPT_TEXT,
        model=OPT_TEXT,
        **ENVELOPE,
    ),
    st.builds(JobFailed, error=ERRORS, result=st.none() | RESULTS, **ENVELOPE),
    st.builds(JobCancelled, reason=OPT_TEXT, **ENVELOPE),
    st.builds(JobExpired, **ENVELOPE),
)


@FAST
@given(EVENTS)
def test_every_event_round_trips_through_json(event: Any) -> None:
    data = event.model_dump_json()
    for wire in (data, data.encode()):
        parsed = parse_event(wire)
        assert type(parsed) is type(event)
        assert parsed == event
    # What the raw helpers read agrees with the full parse.
    assert raw.event_kind(data) == event.kind
    assert raw.job_id(data) == event.job_id
    assert raw.json_object(data)["kind"] == event.kind


# --- contracts: options -------------------------------------------------------------------

# Values that often make a field valid (literals, small numbers, language codes), so a
# good share of the generated options is accepted and the accepted branch is exercised.
PLAUSIBLE = st.one_of(
    st.sampled_from(
        [
            "srt", "vtt", "mp4", "webm", "mp3", "m4a", "audio_wav_16k_mono",
            "transcribe", "translate", "paragraph", "bullets", "en", "de-DE", "x",
            "128k", "2M", "", *[t.value for t in JobType],
        ]
    ),
    st.integers(min_value=-5, max_value=5000),
    st.floats(min_value=-1.0, max_value=40.0),
    st.booleans(),
    st.none(),
)  # fmt: skip


@st.composite
def raw_options(draw: st.DrawFn) -> tuple[JobType, dict[str, Any]]:
    job_type = draw(st.sampled_from(JobType))
    names = sorted(OPTIONS_BY_TYPE[job_type].model_fields)
    keys = st.sampled_from(names) | st.text(max_size=12)
    return job_type, draw(st.dictionaries(keys, PLAUSIBLE | JSON_VALUES, max_size=6))


@FAST
@given(raw_options())
def test_parse_options_returns_the_types_model_or_raises_invalid_options(
    case: tuple[JobType, dict[str, Any]],
) -> None:
    job_type, options = case
    refused: InvalidOptionsError | None = None
    try:
        parsed = parse_options(job_type, options)
    except InvalidOptionsError as exc:
        refused = exc
    if refused is not None:  # the documented error, naming where and what
        assert str(refused).startswith("options")
        assert refused.field is None or isinstance(refused.field, str)
        assert isinstance(refused.__cause__, ValidationError)
        return
    assert type(parsed) is OPTIONS_BY_TYPE[job_type]
    try:
        json.dumps(options, allow_nan=False)
    except ValueError:
        return  # NaN/Infinity: not JSON, so no JSON form to compare with
    # Accepted options are a fixed point: their JSON form parses to the same options.
    assert parse_options(job_type, json.loads(parsed.model_dump_json())) == parsed


@FAST
@given(st.sampled_from(JobType), st.none() | FINITE_JSON_VALUES)
def test_parse_options_on_any_json_value_raises_only_invalid_options(
    job_type: JobType, value: Any
) -> None:
    """Options arrive from other systems as JSON: any JSON value, not only an object."""
    try:
        parsed = parse_options(job_type, value)
    except InvalidOptionsError:
        return
    assert type(parsed) is OPTIONS_BY_TYPE[job_type]


def from_schema(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values a (Pydantic-exported) JSON Schema allows: the subset the options use."""
    if "$ref" in schema:
        return from_schema(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in schema:
        return st.one_of([from_schema(s, defs) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(
            min_value=schema.get("minimum", schema.get("exclusiveMinimum")),
            max_value=schema.get("maximum"),
            exclude_min="exclusiveMinimum" in schema,
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "string":
        least, most = schema.get("minLength", 0), schema.get("maxLength", 10**9)
        if "pattern" in schema:
            fits = st.from_regex(schema["pattern"], fullmatch=True)
            return fits.filter(lambda text: least <= len(text) <= most)
        return st.text(min_size=least, max_size=max(least, min(most, 40)))
    if kind == "object" and "properties" in schema:  # a nested model: its own fields
        return st.fixed_dictionaries(
            {}, optional={k: from_schema(v, defs) for k, v in schema["properties"].items()}
        )
    if kind == "object":
        return st.dictionaries(st.text(max_size=8), FINITE_JSON_VALUES, max_size=3)
    if kind == "array":
        return st.lists(
            from_schema(schema["items"], defs), max_size=min(3, schema.get("maxItems", 3))
        )
    raise AssertionError(f"no strategy for {schema}")


@st.composite
def schema_valid_options(draw: st.DrawFn) -> tuple[JobType, dict[str, Any]]:
    job_type = draw(st.sampled_from(JobType))
    schema = OPTIONS_BY_TYPE[job_type].model_json_schema()
    defs, required = schema.get("$defs", {}), set(schema.get("required", ()))
    fields = {name: from_schema(sub, defs) for name, sub in schema["properties"].items()}
    return job_type, draw(
        st.fixed_dictionaries(
            {k: v for k, v in fields.items() if k in required},
            optional={k: v for k, v in fields.items() if k not in required},
        )
    )


@FAST
@given(schema_valid_options())
def test_options_the_json_schema_allows_are_accepted_and_round_trip(
    case: tuple[JobType, dict[str, Any]],
) -> None:
    """The published JSON Schema and the models agree. The schema cannot say the
    cross-field rules (convert's combinations, no batch in a batch): those refusals name
    no field. Nor does it list ISO 639 or say "file_id or from_step": a subtitle track's
    refusal names the track."""
    job_type, options = case
    refused: InvalidOptionsError | None = None
    try:
        parsed = parse_options(job_type, options)
    except InvalidOptionsError as exc:
        refused = exc
    if refused is not None:
        # Cross-field: convert's combinations, batches, speaker counts without diarize.
        cross = (JobType.CONVERT, JobType.BATCH, JobType.TRANSCRIBE, JobType.GENERATE_SRT)
        assert job_type in cross, refused
        assert refused.field is None or refused.field.startswith("subtitles."), refused
        return
    assert type(parsed) is OPTIONS_BY_TYPE[job_type]
    for name, value in options.items():
        if name not in ("subtitles", "subtitle_style"):  # models, languages normalised
            assert getattr(parsed, name) == value, name
    assert parse_options(job_type, json.loads(parsed.model_dump_json())) == parsed


# --- contracts: raw helpers ---------------------------------------------------------------

JOB_IDS = st.uuids().map(str) | st.uuids().map(lambda u: u.hex) | JSON_VALUES
KINDS = st.sampled_from(["queued", "completed", "failed"]) | JSON_VALUES
MESSAGE_OBJECTS = st.fixed_dictionaries(
    {}, optional={"kind": KINDS, "job_id": JOB_IDS, "type": JSON_VALUES}
)
RAW_MESSAGES = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-16")),
    JSON_VALUES.map(json.dumps),
    MESSAGE_OBJECTS.map(json.dumps),
    MESSAGE_OBJECTS.map(lambda o: json.dumps(o).encode()),
)


@FAST
@given(RAW_MESSAGES)
@example(b"\xff\xfe\x00")  # not UTF-8
@example(b"1" * 5000)  # an integer over Python's int-string limit: ValueError
@example(DEEP_JSON.encode())  # RecursionError escapes (bug: a poison message)
@example(b'{"job_id": "00000000-0000-0000-0000-000000000001", "x": ' + DEEP_JSON.encode())
def test_raw_helpers_never_raise(data: bytes | str) -> None:
    """`json_object`, `event_kind` and `job_id` read poison messages: they never raise."""
    obj = raw.json_object(data)
    kind = raw.event_kind(data)
    job_id = raw.job_id(data)
    assert isinstance(obj, dict)
    assert kind == (obj["kind"] if isinstance(obj.get("kind"), str) else None)
    assert job_id is None or isinstance(job_id, UUID)
    named = obj.get("job_id")
    if isinstance(named, str) and len(named) in (32, 36):
        try:
            expected: UUID | None = UUID(named)
        except ValueError:
            expected = None
        assert job_id == expected


# --- cue builder ----------------------------------------------------------------------------

# A token is what the builder calls a word: text with no whitespace (any script).
WORD_CHARS = st.characters(exclude_categories=["Cs"]).filter(lambda c: not c.isspace())
TOKENS = st.text(WORD_CHARS, min_size=1, max_size=8) | st.text(WORD_CHARS, min_size=9, max_size=40)
SEPARATORS = st.sampled_from([" ", "  ", "\n", "\t", "\u3000", " \u00a0"])
CS = 0.01  # times on a 10 ms grid (Whisper's word timings are coarser still)


@st.composite
def segment_lists(draw: st.DrawFn) -> list[Segment]:
    """Segments in time order as Whisper gives them, with or without word timings.

    Speech is at most one character per 5 ms (ten times faster than anyone talks), and
    words start at distinct times; several words at one instant are a case of their own
    (see `test_words_sharing_one_instant_never_give_overlapping_cues`).
    """
    t = draw(st.integers(min_value=0, max_value=360_000))  # up to an hour in
    segments = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        t += draw(st.integers(min_value=0, max_value=300))  # silence before it
        tokens = draw(st.lists(TOKENS, min_size=1, max_size=16))
        chars = sum(len(tok) for tok in tokens)
        least = max(len(tokens), -(-chars // 2))  # 5 ms a character, 10 ms a word
        start, end = t, t + draw(st.integers(min_value=least, max_value=least + 1500))
        if draw(st.booleans()):  # word timings: distinct starts, inside the segment
            starts = sorted(
                draw(
                    st.lists(
                        st.integers(min_value=start, max_value=end - 1),
                        min_size=len(tokens),
                        max_size=len(tokens),
                        unique=True,
                    )
                )
            )
            bounds = [*starts[1:], end]
            words = [
                Word(
                    start=s * CS,
                    end=draw(st.integers(min_value=s, max_value=nxt)) * CS,
                    word=" " + tok,
                )
                for s, nxt, tok in zip(starts, bounds, tokens, strict=True)
            ]
            text = "".join(w.word for w in words)
            segments.append(Segment(start=start * CS, end=end * CS, text=text, words=words))
        else:
            sep = draw(SEPARATORS)
            text = sep + sep.join(tokens)
            segments.append(Segment(start=start * CS, end=end * CS, text=text))
        t = end
    return segments


SRT_OPTIONS = st.builds(
    SrtOptions,
    max_chars_per_line=st.integers(min_value=10, max_value=60),
    max_lines_per_cue=st.integers(min_value=1, max_value=4),
    max_cue_duration_s=st.floats(min_value=0.5, max_value=30.0, exclude_min=True),
    min_cue_gap_ms=st.integers(min_value=0, max_value=2000),
)
EPS = 1e-3  # cue times are rounded to the millisecond


def cues_of(segments: list[Segment], opts: SrtOptions) -> list[Cue]:
    return build_cues(words_of(segments), opts)


@SLOW
@given(segment_lists(), SRT_OPTIONS)
def test_cues_keep_every_word_whole_and_in_order(segments: list[Segment], opts: SrtOptions) -> None:
    cues = cues_of(segments, opts)
    said = " ".join(s.text for s in segments).split()
    assert " ".join(c.text for c in cues).split() == said
    assert "".join("".join(c.text.split()) for c in cues) == "".join(said)


@SLOW
@given(segment_lists(), SRT_OPTIONS)
# Bug: after a word longer than a line, `balanced` wraps every line at that word's
# length, so the short words after it fill a line past max_chars_per_line.
@example(
    [Segment(start=0.0, end=3.0, text=" " + "x" * 15 + " aaaa bbbb cccc")],
    SrtOptions(max_chars_per_line=10, max_lines_per_cue=3),
)
def test_cues_respect_the_line_limits(segments: list[Segment], opts: SrtOptions) -> None:
    """At most `max_lines_per_cue` lines of at most `max_chars_per_line` characters; only
    a single word longer than that ("a longer word gets a line of its own") may exceed it."""
    for cue in cues_of(segments, opts):
        assert 1 <= len(cue.lines) <= opts.max_lines_per_cue, cue
        for line in cue.lines:
            assert line and line == line.strip(), cue
            assert len(line) <= opts.max_chars_per_line or len(line.split()) == 1, cue


@SLOW
@given(segment_lists(), SRT_OPTIONS)
# Bug: the next cue starts exactly min_cue_gap_ms (80) after this one. In floats
# 0.1 - 0.08 > 0.02, so keeping the gap leaves this cue 3.5e-18 s long, which rounds
# to a cue of no duration (0.02 --> 0.02). A next cue gap + 1 ms later leaves it 1 ms.
@example(
    [
        Segment(
            start=0.02,
            end=0.6,
            text=" Tomorrow afternoon",
            words=[
                Word(start=0.02, end=0.1, word=" Tomorrow"),
                Word(start=0.1, end=0.6, word=" afternoon"),
            ],
        )
    ],
    SrtOptions(max_chars_per_line=10, max_lines_per_cue=1),
)
def test_cues_are_ordered_never_overlap_and_stay_inside_the_speech(
    segments: list[Segment], opts: SrtOptions
) -> None:
    cues = cues_of(segments, opts)
    assert cues
    first, last = segments[0].start, segments[-1].end
    gap = opts.min_cue_gap_ms / 1000
    for cue in cues:
        assert cue.end > cue.start, cue
        assert cue.end - cue.start <= opts.max_cue_duration_s + EPS, cue
        assert first - EPS <= cue.start <= last + EPS, cue
        # A cue ends with its last word; one with no duration at all is given 0.5 s.
        assert cue.end <= max(last, cue.start + 0.5) + EPS, cue
    for prev, nxt in itertools.pairwise(cues):
        assert prev.start < nxt.start, (prev, nxt)
        assert prev.end <= nxt.start + 1e-9, (prev, nxt)
        if nxt.start - prev.start > gap + 0.5 + EPS:  # the timing allows the gap
            assert nxt.start - prev.end >= gap - EPS, (prev, nxt)


@SLOW
@given(
    st.floats(min_value=0.0, max_value=3600.0).map(lambda t: round(t, 2)),
    st.lists(TOKENS, min_size=1, max_size=40),
    SRT_OPTIONS,
)
# Bug: 30 words in a zero-length segment give two cues at 5.0, the first one 1 ms long.
@example(5.0, ["word"] * 30, SrtOptions())
def test_words_sharing_one_instant_never_give_overlapping_cues(
    at: float, tokens: list[str], opts: SrtOptions
) -> None:
    """A zero-length segment (Whisper emits them) with more text than one cue holds."""
    cues = cues_of([Segment(start=at, end=at, text=" ".join(tokens))], opts)
    assert " ".join(c.text for c in cues).split() == tokens
    for prev, nxt in itertools.pairwise(cues):
        assert prev.end <= nxt.start, (prev, nxt)


# --- srt-fixer: answer validation ------------------------------------------------------------

# A cue's text: non-empty, no timing in it (what `validate` accepts from a model).
# Lines may be blank or end in \r\n: an SRT file must survive them.
CUE_TEXTS = (
    st.text(min_size=1, max_size=40)
    | st.lists(st.text(max_size=15), min_size=2, max_size=4).map("\n".join)
    | st.lists(st.text(max_size=15), min_size=2, max_size=3).map("\r\n".join)
).filter(lambda t: bool(t.strip()) and not fixer.TIMING.search(t))


# A cue's text in a well-formed file: one to three lines, none of them blank.
FILE_TEXTS = (
    st.lists(
        st.text(min_size=1, max_size=20).filter(
            lambda line: bool(line.strip()) and line.splitlines() == [line]
        ),
        min_size=1,
        max_size=3,
    )
    .map("\n".join)
    .filter(lambda t: not fixer.TIMING.search(t))
)


def srt_lines(content: str) -> list[str]:
    """A cue's lines as SRT readers split them (LF or CRLF)."""
    return content.replace("\r\n", "\n").split("\n")


@st.composite
def srt_files(draw: st.DrawFn) -> list[srt.Subtitle]:
    """The cues of an SRT file, as the fixer reads them (`fixer.parse`)."""
    t, cues = 0, []
    for i in range(draw(st.integers(min_value=1, max_value=12))):
        t += draw(st.integers(min_value=0, max_value=5000))
        end = t + draw(st.integers(min_value=1, max_value=7000))
        start_td, end_td = dt.timedelta(milliseconds=t), dt.timedelta(milliseconds=end)
        cues.append(srt.Subtitle(i + 1, start_td, end_td, draw(FILE_TEXTS)))
        t = end
    return fixer.parse(srt.compose(cues))


@st.composite
def chunks(draw: st.DrawFn) -> fixer.Chunk:
    cues = draw(srt_files())
    return draw(st.sampled_from(fixer.chunk(cues, draw(st.integers(min_value=1, max_value=5)))))


def render(answer: Any, form: str) -> str:
    """An answer as a model writes it: plain, wrapped in "cues", fenced, indented."""
    if form == "wrapped":
        return json.dumps({"cues": answer}, ensure_ascii=False)
    if form == "fenced":
        return "```json\n" + json.dumps(answer, ensure_ascii=False, indent=2) + "\n```"
    if form == "indented":
        return "\n  " + json.dumps(answer, indent=4) + "\n"
    return json.dumps(answer, ensure_ascii=False)


FORMS = st.sampled_from(["plain", "wrapped", "fenced", "indented"])


@FAST
@given(st.data())
def test_an_answer_with_exactly_the_asked_cues_is_accepted(data: st.DataObject) -> None:
    """Cues are named by number, so the order of the answer's keys does not matter."""
    chunk_ = data.draw(chunks())
    texts = data.draw(st.lists(CUE_TEXTS, min_size=len(chunk_.cues), max_size=len(chunk_.cues)))
    order = data.draw(st.permutations(chunk_.keys))
    by_key = dict(zip(chunk_.keys, texts, strict=True))
    answer = render({k: by_key[k] for k in order}, data.draw(FORMS))
    accepted = fixer.validate(answer, chunk_)
    assert sorted(accepted) == sorted(by_key)
    for key, text in by_key.items():  # the model's text, trimmed (line ends normalised)
        assert accepted[key] == accepted[key].strip()
        assert accepted[key].split() == text.split()


@FAST
@given(st.data())
def test_an_answer_with_a_missing_extra_or_renumbered_cue_is_refused(
    data: st.DataObject,
) -> None:
    chunk_ = data.draw(chunks())
    keys = list(chunk_.keys)
    texts = data.draw(st.lists(CUE_TEXTS, min_size=len(keys), max_size=len(keys)))
    answer = dict(zip(keys, texts, strict=True))
    change = data.draw(st.sampled_from(["drop", "add", "renumber", "rename"]))
    if change == "drop":
        del answer[data.draw(st.sampled_from(keys))]
    elif change == "add":
        extra = data.draw(st.text(max_size=4).filter(lambda k: k not in answer))
        answer[extra] = data.draw(CUE_TEXTS)
    elif change == "renumber":  # numbered from 1, as people count
        answer = {str(int(k) + 1): v for k, v in answer.items()}
    else:  # one key written differently ("01", " 1", "1.0")
        key = data.draw(st.sampled_from(keys))
        other = data.draw(st.sampled_from([f"0{key}", f" {key}", f"{key}.0", f"#{key}"]))
        answer[other] = answer.pop(key)
    with pytest.raises(fixer.InvalidAnswer, match="wrong cue numbers"):
        fixer.validate(render(answer, data.draw(FORMS)), chunk_)


@FAST
@given(st.data())
def test_an_answer_with_an_empty_non_text_or_timed_cue_is_refused(data: st.DataObject) -> None:
    chunk_ = data.draw(chunks())
    keys = list(chunk_.keys)
    texts = data.draw(st.lists(CUE_TEXTS, min_size=len(keys), max_size=len(keys)))
    answer: dict[str, Any] = dict(zip(keys, texts, strict=True))
    key = data.draw(st.sampled_from(keys))
    h, m, s, ms = (data.draw(st.integers(min_value=0, max_value=n)) for n in (99, 59, 59, 999))
    timing = f"{h:02d}:{m:02d}:{s:02d}{data.draw(st.sampled_from(',.'))}{ms:03d}"
    bad: Any = data.draw(
        st.sampled_from(["", " ", "\n\t", None, 1, [], {}, "-->"])
        | st.just(timing)
        | CUE_TEXTS.map(lambda t: f"{t} {timing} --> {timing}")
        | CUE_TEXTS.map(lambda t: f"{t}\n{timing}")
    )
    answer[key] = bad
    with pytest.raises(fixer.InvalidAnswer, match=rf"cue {key}: "):
        fixer.validate(render(answer, data.draw(FORMS)), chunk_)


ANSWERS = st.one_of(
    st.text(max_size=200),
    JSON_VALUES.map(json.dumps),
    JSON_VALUES.map(lambda v: "```json\n" + json.dumps(v) + "\n```"),
    st.dictionaries(
        st.sampled_from(["0", "1", "2", "cues"]) | st.text(max_size=3), JSON_VALUES
    ).map(json.dumps),
)


@FAST
@given(ANSWERS, chunks())
@example("", fixer.chunk(fixer.parse("1\n00:00:01,000 --> 00:00:02,000\nhi\n"), 1)[0])
@example("1" * 5000, fixer.chunk(fixer.parse("1\n00:00:01,000 --> 00:00:02,000\nhi\n"), 1)[0])
# Bug: RecursionError escapes `load_json` (it catches ValueError only).
@example(DEEP_JSON, fixer.chunk(fixer.parse("1\n00:00:01,000 --> 00:00:02,000\nhi\n"), 1)[0])
def test_validate_raises_only_invalid_answer(answer: str, chunk_: fixer.Chunk) -> None:
    """Whatever the model writes: accepted texts for exactly the asked cues, or InvalidAnswer."""
    try:
        accepted = fixer.validate(answer, chunk_)
    except fixer.InvalidAnswer:
        return
    assert sorted(accepted) == sorted(chunk_.keys)
    for text in accepted.values():
        assert text and text == text.strip() and not fixer.TIMING.search(text)


@FAST
@given(srt_files(), st.integers(min_value=1, max_value=5), st.data())
def test_fixing_never_changes_cue_count_or_timing(
    cues: list[srt.Subtitle], size: int, data: st.DataObject
) -> None:
    """Accepted or refused, every chunk's answer leaves indices and times as they were,
    and the written file parses back to the same cues at the same times."""
    outcome = fixer.Outcome(cues=[])
    for chunk_ in fixer.chunk(cues, size):
        if data.draw(st.booleans()):
            texts = data.draw(
                st.lists(CUE_TEXTS, min_size=len(chunk_.cues), max_size=len(chunk_.cues))
            )
            answer = render(dict(zip(chunk_.keys, texts, strict=True)), data.draw(FORMS))
        else:
            answer = data.draw(ANSWERS)
        try:
            accepted: dict[str, str] | None = fixer.validate(answer, chunk_)
            reason = None
        except fixer.InvalidAnswer as exc:
            accepted, reason = None, str(exc)
        fixer.apply(chunk_, accepted, reason, outcome)
    timing = [(c.index, c.start, c.end) for c in cues]
    assert [(c.index, c.start, c.end) for c in outcome.cues] == timing
    assert outcome.changed + outcome.kept <= len(cues)
    written = fixer.parse(fixer.compose(outcome.cues))
    assert [(c.index, c.start, c.end) for c in written] == timing
    for cue in written:  # a blank line ends a cue for players (ffmpeg drops what follows)
        assert all(line.strip() for line in srt_lines(cue.content)), cue


def test_an_accepted_answer_never_writes_a_blank_line_into_a_cue() -> None:
    """Found by the property above: a line of spaces passes `validate` and `compose`, and
    ffmpeg then reads that cue as "first line" only."""
    chunk_ = fixer.chunk(fixer.parse("1\n00:00:01,000 --> 00:00:02,000\nhi\n"), 1)[0]
    outcome = fixer.Outcome(cues=[])
    try:
        accepted: dict[str, str] | None = fixer.validate('{"0": "first line\\n \\nsecond"}', chunk_)
    except fixer.InvalidAnswer:
        accepted = None  # refusing the answer is as good: the original text is kept
    fixer.apply(chunk_, accepted, "refused", outcome)
    written = fixer.parse(fixer.compose(outcome.cues))
    assert all(line.strip() for line in srt_lines(written[0].content)), written[0]
