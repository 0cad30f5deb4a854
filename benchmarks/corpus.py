"""A deterministic corpus of realistic Trace data for benchmarks.

Same seed, same data: every id, date, word and tag comes from one
``random.Random(seed)`` per account, so runs are comparable across machines and
commits. Entries read like a person's notes: Markdown with headings, lists,
tasks, links and code, lengths spread from a line to a few pages (log-normal,
median ~600 characters), Zipf-distributed tags, dates over three years, most
entries in one of a handful of streams and the rest in the Inbox, some edited
(two versions), a few trashed.

The unit is an :class:`~trace_core.transfer.ExportDocument` per account, which
``trace import`` and :func:`~trace_core.transfer.import_account` load directly::

    from benchmarks.corpus import account_document
    doc = account_document(seed=1, account_index=0, entries=10_000)

Run as a script to write one account's export file::

    uv run python -m benchmarks.corpus --entries 10000 --seed 1 -o corpus.json
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from trace_core.model import EntrySettings
from trace_core.transfer import (
    AccountRecord,
    EntryRecord,
    ExportDocument,
    StreamRecord,
    VersionRecord,
    encode_document,
)

__all__ = [
    "TAGS",
    "WORDS",
    "account_document",
    "generate_entries",
    "markdown",
    "today",
    "uuid_from",
]

EPOCH = datetime(2023, 1, 1, 8, 0, tzinfo=UTC)
SPAN_DAYS = 3 * 365


def _words(text: str) -> tuple[str, ...]:
    """Split a space-separated word list (easier to read and edit than a long literal)."""
    return tuple(text.split())


# A vocabulary with the shape of notes: common words repeat, topic words vary.
WORDS = _words(
    "the a to and of in for on with that this it is was be at as by from we I "
    "meeting project notes idea plan review draft design release migration database "
    "search index query performance latency budget roadmap customer feedback bug fix "
    "deploy server client token key account stream entry tag journal morning evening "
    "walk run coffee book chapter reading writing garden recipe dinner travel train "
    "flight hotel museum weekend family friend call email follow-up decision question "
    "answer summary outline research paper experiment result metric dashboard alert "
    "incident postmortem retro sprint ticket backlog priority deadline schedule "
    "architecture interface adapter contract test coverage refactor cleanup dependency "
    "upgrade python postgres sqlite meilisearch oauth assistant model prompt context "
    "window memory cache queue worker retry backoff timeout error warning log trace "
    "health sleep workout yoga bike swim garden tomato basil bread soup salad invoice "
    "tax receipt insurance doctor dentist appointment birthday gift present holiday"
)

TAGS = _words(
    "work personal ideas journal health reading todo meeting project-x project-y "
    "research travel family finance cooking learning writing bugs release ops "
    "followup someday reference quotes music film garden fitness home car"
)

STREAM_NAMES = (
    "Journal", "Work Log", "Ideas", "Reading Notes", "Tasks", "Recipes", "Travel",
    "Health", "Meetings", "Research", "Garden", "Finance",
)  # fmt: skip

# Sentences the search benchmark mixes into a share of entries (``search_share``):
# Chinese, Japanese and Korean sentences, and compounds people spell several
# ways. Drawn from a random generator of their own, so the rest of the corpus
# is the same with or without them.
SEARCH_SENTENCES = (
    "来週の会議で新しい検索機能について説明する。",
    "四月の初めに京都で桜を見に行く予定。",
    "資料は金曜日までに準備します。",
    "周末去北京看朋友，顺便去故宫和长城。",  # noqa: RUF001
    "每天学习三十分钟中文，复习汉字和语法。",  # noqa: RUF001
    "서울에서 맛있는 비빔밥을 먹었다.",
    "내일 회의에서 내년 예산 계획을 발표할 예정이다.",
    "The Wi-Fi dropped again during the call.",
    "Booked the COVID-19 booster for Saturday.",
    "Sent the e-mail with the follow-up notes.",
    "Reset the WiFi router and the e-mail client.",
)

STATUSES = ("todo", "doing", "done")
TYPES = ("note", "task", "log")


def uuid_from(rng: random.Random) -> uuid.UUID:
    """Return a version-4 UUID drawn from ``rng`` (deterministic)."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _sentence(rng: random.Random, low: int = 5, high: int = 16) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice(".....?!")


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(1, 5)))


def markdown(rng: random.Random, target_chars: int) -> str:
    """Return Markdown of about ``target_chars`` characters: headings, prose, lists, code."""
    blocks: list[str] = []
    size = 0
    while size < target_chars:
        kind = rng.random()
        if kind < 0.55 or not blocks:
            block = _paragraph(rng)
        elif kind < 0.68:
            block = "## " + _sentence(rng, 2, 5).rstrip(".?!")
        elif kind < 0.82:
            block = "\n".join(f"- {_sentence(rng, 3, 9)}" for _ in range(rng.randint(2, 5)))
        elif kind < 0.90:
            block = "\n".join(
                f"- [{'x' if rng.random() < 0.5 else ' '}] {_sentence(rng, 2, 7)}"
                for _ in range(rng.randint(2, 4))
            )
        elif kind < 0.95:
            word = rng.choice(WORDS)
            block = f"See [{word}](https://example.org/{word}/{rng.randint(1, 999)}) and @{word}."
        else:
            block = f"```python\n{rng.choice(WORDS)} = {rng.randint(0, 999)}\n```"
        blocks.append(block)
        size += len(block) + 2
    return "\n\n".join(blocks)


def _search_sentence(rng: random.Random | None, share: float) -> str:
    if rng is None or rng.random() >= share:
        return ""
    return "\n\n" + rng.choice(SEARCH_SENTENCES)


def _zipf_tag(rng: random.Random) -> str:
    # Weight 1/rank: a few tags are everywhere, most are rare.
    return rng.choices(TAGS, weights=[1 / (i + 1) for i in range(len(TAGS))])[0]


def generate_entries(
    rng: random.Random,
    n: int,
    stream_ids: list[uuid.UUID],
    *,
    trashed_share: float = 0.01,
    search_rng: random.Random | None = None,
    search_share: float = 0.0,
) -> Iterator[tuple[EntryRecord, list[VersionRecord]]]:
    """Yield ``n`` entries with their version snapshots, in creation order.

    With ``search_rng``, a ``search_share`` of the entries end with one of
    :data:`SEARCH_SENTENCES` (drawn from ``search_rng``, so ``rng``'s draws and
    everything else about the entries are unchanged).
    """
    step = SPAN_DAYS * 86400 / max(n, 1)
    for i in range(n):
        created = EPOCH + timedelta(seconds=i * step + rng.random() * step)
        entry_date = (created - timedelta(days=rng.choice((0, 0, 0, 1, 2)))).date()
        length = int(min(12_000, max(40, rng.lognormvariate(math.log(600), 0.9))))
        tags = tuple(dict.fromkeys(_zipf_tag(rng) for _ in range(rng.choice((0, 1, 1, 2, 2, 3)))))
        in_stream = stream_ids and rng.random() < 0.8
        stream_id = rng.choice(stream_ids) if in_stream else None
        is_task = stream_id is not None and rng.random() < 0.2
        record = EntryRecord(
            entry_id=uuid_from(rng),
            stream_id=stream_id,
            title=_sentence(rng, 2, 6).rstrip(".?!") if rng.random() < 0.7 else None,
            content=markdown(rng, length) + _search_sentence(search_rng, search_share),
            entry_date=entry_date,
            tags=tags,
            status=rng.choice(STATUSES) if is_task else None,
            type=rng.choice(TYPES) if is_task else None,
            priority=rng.randint(0, 4) if is_task else 0,
            rating=rng.randint(0, 10) if stream_id and rng.random() < 0.1 else None,
            due_date=entry_date + timedelta(days=rng.randint(1, 30)) if is_task else None,
            is_pinned=rng.random() < 0.01,
            is_archived=rng.random() < 0.03,
            created_at=created,
            updated_at=created,
            version=1,
            last_edited_by="benchmark",
        )
        versions = [
            VersionRecord(
                entry_id=record.entry_id,
                version=1,
                action="create",
                written_by="benchmark",
                written_at=created,
                snapshot=record,
            )
        ]
        if rng.random() < 0.15:  # edited once, an hour to a week later
            edited = created + timedelta(seconds=rng.randint(3600, 7 * 86400))
            record = EntryRecord(
                **{
                    **{f: getattr(record, f) for f in record.__struct_fields__},
                    "content": record.content + "\n\n" + _paragraph(rng),
                    "updated_at": edited,
                    "version": 2,
                }
            )
            versions.append(
                VersionRecord(
                    entry_id=record.entry_id,
                    version=2,
                    action="update",
                    written_by="benchmark",
                    written_at=edited,
                    snapshot=record,
                )
            )
        if rng.random() < trashed_share:
            gone = record.updated_at + timedelta(days=1)
            record = EntryRecord(
                **{
                    **{f: getattr(record, f) for f in record.__struct_fields__},
                    "deleted_at": gone,
                    "updated_at": gone,
                    "version": record.version + 1,
                }
            )
            versions.append(
                VersionRecord(
                    entry_id=record.entry_id,
                    version=record.version,
                    action="delete",
                    written_by="benchmark",
                    written_at=gone,
                    snapshot=record,
                )
            )
        yield record, versions


def account_document(
    *,
    seed: int,
    account_index: int,
    entries: int,
    streams: int | None = None,
    search_share: float = 0.0,
) -> ExportDocument:
    """Return one account's data as an export document (deterministic in seed and index).

    Args:
        seed: the corpus seed.
        account_index: which account of the corpus (each gets its own random stream).
        entries: how many entries.
        streams: how many streams (default: 3 to 12, drawn from the seed).
        search_share: the share of entries ending with one of
            :data:`SEARCH_SENTENCES` (CJK, compounds); 0 leaves the corpus as it was.
    """
    rng = random.Random(f"{seed}/{account_index}")
    count = streams if streams is not None else rng.randint(3, len(STREAM_NAMES))
    names = rng.sample(STREAM_NAMES, k=min(count, len(STREAM_NAMES)))
    stream_records = []
    for i, name in enumerate(names):
        use_status = name in ("Tasks", "Work Log", "Meetings")
        stream_records.append(
            StreamRecord(
                stream_id=uuid_from(rng),
                name=name,
                description=f"{name} of account {account_index}",
                color=f"#{rng.randrange(0x1000000):06x}",
                icon=name.split()[0].lower(),
                entry_settings=EntrySettings(
                    use_status=True,
                    use_type=True,
                    use_priority=True,
                    use_rating=True,
                    use_duedates=True,
                    statuses=STATUSES,
                    types=TYPES,
                    default_status="todo" if use_status else None,
                    rating_type="numeric",
                ),
                created_at=EPOCH - timedelta(days=len(names) - i),
                updated_at=EPOCH - timedelta(days=len(names) - i),
            )
        )
    entry_records: list[EntryRecord] = []
    version_records: list[VersionRecord] = []
    search_rng = random.Random(f"{seed}/{account_index}/search") if search_share else None
    for record, versions in generate_entries(
        rng,
        entries,
        [s.stream_id for s in stream_records],
        search_rng=search_rng,
        search_share=search_share,
    ):
        entry_records.append(record)
        version_records.extend(versions)
    return ExportDocument(
        exported_at=EPOCH + timedelta(days=SPAN_DAYS + 1),
        account=AccountRecord(
            email=f"user{account_index}@bench.example",
            name=f"Bench User {account_index}",
            created_at=EPOCH - timedelta(days=30),
        ),
        streams=stream_records,
        entries=entry_records,
        versions=version_records,
    )


def today() -> date:
    """The corpus's notion of today: the day after its last entry."""
    return (EPOCH + timedelta(days=SPAN_DAYS + 1)).date()


def main(argv: list[str] | None = None) -> None:
    """Write one account's export document (JSON) for ``trace import``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--account", type=int, default=0, help="account index in the corpus")
    parser.add_argument("-o", "--output", default="-", help="file, or - for stdout")
    args = parser.parse_args(argv)
    data = encode_document(
        account_document(seed=args.seed, account_index=args.account, entries=args.entries)
    )
    if args.output == "-":
        sys.stdout.buffer.write(data)
    else:
        with open(args.output, "wb") as fh:
            fh.write(data)


if __name__ == "__main__":
    main()
