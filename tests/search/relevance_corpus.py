"""A small hand-written notes corpus with queries and the entries a person would expect.

Each query lists its relevant entries, best first. The queries are what people
and assistants actually type: questions, word forms that differ from the text,
half-typed last words, stray punctuation, typos, Chinese/Japanese/Korean words
inside sentences, quoted phrases, excluded words, compounds spelled another way,
a stream's name or an attachment's file name among the words.

:data:`QUERIES` are the plain queries (the first fixture); :data:`CASES` adds
the categories of issue #13, each with the entries that must NOT be returned
(an excluded word, a phrase in the wrong order). :data:`STREAMS` puts some
entries in named streams, :data:`ATTACHMENTS` gives some entries image files.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

# key: (title, content, tags)
CORPUS: dict[str, tuple[str | None, str, tuple[str, ...]]] = {
    "pg-migration": (
        "Postgres migration plan",
        "Steps to migrate the reporting database from MySQL to PostgreSQL: dump the schema, "
        "convert the types, copy the data with pgloader, run both in parallel for a week.",
        ("work", "database"),
    ),
    "pg-tuning": (
        "Tuning shared_buffers",
        "After the move to Postgres the reporting queries were slow. Raised shared_buffers to "
        "4GB and work_mem to 64MB; vacuum analyze fixed the planner estimates.",
        ("work", "database"),
    ),
    "standup-0312": (
        "Standup 12 March",
        "Ana is blocked on the API keys rotation. Ben finished the invoice export. I pair with "
        "Chris on the flaky login test this afternoon.",
        ("work", "meeting"),
    ),
    "retro-q1": (
        "Q1 retrospective",
        "What went well: shipped search, fewer incidents. What didn't: estimates, too many "
        "meetings. Action items: no-meeting Wednesdays, smaller pull requests.",
        ("work", "meeting"),
    ),
    "incident-0228": (
        "Incident: checkout outage",
        "Checkout returned 502 for 40 minutes. Root cause: the payment provider rotated their "
        "TLS certificate and our pinned bundle was stale. Postmortem on Friday.",
        ("work", "incident"),
    ),
    "oncall": (
        "On-call handbook notes",
        "Page the secondary after 15 minutes. Runbooks live in the ops repo. Always write a "
        "timeline during an incident; the postmortem template is in the wiki.",
        ("work", "ops"),
    ),
    "hiring-backend": (
        "Backend hiring loop",
        "Interview plan for the backend engineer role: take-home exercise, system design "
        "interview, pairing session, values chat. Scorecards due within 24 hours.",
        ("work", "hiring"),
    ),
    "perf-review": (
        "Performance review draft",
        "Self-review: led the search project, mentored two juniors, improved on-call. Growth "
        "areas: delegation and writing design docs earlier.",
        ("work", "career"),
    ),
    "k8s-upgrade": (
        "Kubernetes upgrade to 1.30",
        "Upgrade the staging cluster first, then production. Check deprecated APIs with "
        "pluto, drain nodes one at a time, watch the ingress controller.",
        ("work", "infra"),
    ),
    "budget-2026": (
        "Team budget 2026",
        "Cloud spend forecast 18k per month, conference budget 6k, two new laptops. Finance "
        "wants the numbers by the end of the quarter.",
        ("work", "finance"),
    ),
    "sourdough": (
        "Sourdough bread",
        "Starter fed at 9am, levain ready by 1pm. 500g flour, 375g water, 10g salt. Bulk "
        "ferment 5 hours with stretch and folds, shape, cold proof overnight, bake at 250°C.",
        ("recipe", "baking"),
    ),
    "banana-bread": (
        "Banana bread",
        "Three overripe bananas, 75g melted butter, 150g sugar, one egg, 190g flour, a "
        "teaspoon of baking soda. Bake 60 minutes at 175°C.",
        ("recipe", "baking"),
    ),
    "curry": (
        "Weeknight chickpea curry",
        "Onion, garlic, ginger, curry paste, a tin of chickpeas and coconut milk. Simmer 20 "
        "minutes, finish with spinach and lime. Serve with rice.",
        ("recipe", "dinner"),
    ),
    "pasta": (
        "Lemon ricotta pasta",
        "Spaghetti with ricotta, lemon zest, parmesan and black pepper. Loosen with pasta "
        "water. Ready in 15 minutes.",
        ("recipe", "dinner"),
    ),
    "lisbon-trip": (
        "Lisbon trip itinerary",
        "Fly out Thursday. Alfama walk, tram 28, Belém pastries, day trip to Sintra on "
        "Saturday. Hotel near Praça do Comércio.",
        ("travel",),
    ),
    "japan-trip": (
        "Japan in April",
        "Tokyo five nights, then Kyoto four nights. JR pass for the Shinkansen. Book the "
        "Fushimi Inari sunrise walk and a ryokan in Hakone.",
        ("travel",),
    ),
    "packing": (
        "Packing list",
        "Passport, adapters, charger, rain jacket, walking shoes, medication, a paperback, "
        "earplugs for the flight.",
        ("travel", "checklist"),
    ),
    "passport": (
        "Renew passport",
        "Passport expires in June. Book an appointment, bring two photos and the old "
        "passport. Takes about three weeks.",
        ("admin",),
    ),
    "dentist": (
        "Dentist appointment",
        "Dentist on 14 May at 8:30 for a cleaning and the cracked molar. Ask about a night "
        "guard for grinding.",
        ("health",),
    ),
    "running": (
        "Half marathon training",
        "Week 6: long run 16 km, two easy runs, one interval session of 6x800m. Knee felt "
        "fine. Race in October.",
        ("health", "running"),
    ),
    "sleep": (
        "Sleep log",
        "Slept badly again: woke at 3am. Less coffee after noon, no screens in bed, keep the "
        "bedroom cool. Try magnesium.",
        ("health",),
    ),
    "doctor": (
        "GP visit",
        "Blood test results normal, vitamin D low: take supplements through winter. Follow-up "
        "in three months.",
        ("health",),
    ),
    "garden": (
        "Garden plans",
        "Raised beds on the south side: tomatoes, basil, courgettes. Compost delivery in "
        "March. Fix the leaking water butt.",
        ("home", "garden"),
    ),
    "boiler": (
        "Boiler service",
        "The boiler pressure keeps dropping. Plumber booked for Tuesday to check the "
        "expansion vessel; annual service due anyway.",
        ("home",),
    ),
    "renovation": (
        "Kitchen renovation quotes",
        "Three quotes for the kitchen: 14k, 17k and 21k. The middle one includes the "
        "worktops and the electrician. Decide by the end of the month.",
        ("home", "finance"),
    ),
    "insurance": (
        "Home insurance renewal",
        "Renewal premium went up 20%. Compare quotes, check the contents cover for the "
        "bikes, cancel the old policy only after the new one starts.",
        ("home", "finance", "admin"),
    ),
    "taxes": (
        "Tax return",
        "Self assessment due 31 January. Gather the P60, freelance invoices, pension "
        "contributions and the charity donations receipts.",
        ("finance", "admin"),
    ),
    "savings": (
        "Savings goals",
        "Emergency fund at six months of expenses. Next: max the pension contribution and "
        "start an index fund for the house deposit.",
        ("finance",),
    ),
    "book-dune": (
        "Dune",
        "Finished Dune. The ecology and the politics hold up; the appendices about the "
        "Bene Gesserit are worth reading.",
        ("books",),
    ),
    "book-list": (
        "Books to read",
        "The Left Hand of Darkness, Piranesi, Project Hail Mary, The Dispossessed, A Memory "
        "Called Empire.",
        ("books", "checklist"),
    ),
    "podcast": (
        "Podcast idea",
        "A podcast about the history of small software tools: grep, make, vi. Interview the "
        "people who still maintain them.",
        ("ideas",),
    ),
    "app-idea": (
        "App idea: plant watering reminders",
        "A tiny app that reminds you to water each plant based on species and season, with a "
        "photo log of growth.",
        ("ideas", "garden"),
    ),
    "birthday": (
        "Mum's birthday",
        "Birthday on 3 June. Ideas: a pottery class together, the new cookbook she mentioned, "
        "flowers. Book the restaurant early.",
        ("family",),
    ),
    "kids-school": (
        "School admissions",
        "Application deadline 15 January. Visit the two primary schools, check the catchment "
        "map, ask about after-school clubs.",
        ("family", "admin"),
    ),
    "car": (
        "Car MOT and service",
        "MOT due next month. The brake pads squeak and the tyres are near the limit; get the "
        "garage to quote for both.",
        ("admin",),
    ),
    "bike": (
        "Bike repair",
        "Rear derailleur out of alignment, chain worn. Replace the chain and cassette, true "
        "the back wheel.",
        ("running",),
    ),
    "guitar": (
        "Guitar practice",
        "Practice F barre chord transitions, learn the fingerpicking pattern for Blackbird, "
        "15 minutes of scales daily.",
        ("music",),
    ),
    "journal-0301": (
        None,
        "Quiet Sunday. Long walk by the river, read on the sofa, called grandma. Felt rested "
        "for the first time in weeks.",
        ("journal",),
    ),
    "journal-0315": (
        None,
        "Stressful week at work with the checkout outage and two late nights. Need to protect "
        "evenings better.",
        ("journal",),
    ),
    "journal-0322": (
        None,
        "Friends over for dinner: made the chickpea curry, played board games until "
        "midnight. Good evening.",
        ("journal",),
    ),
    "meeting-vendor": (
        "Vendor call: search engine",
        "Call with the search vendor about hosted pricing. They quoted per million documents; "
        "self-hosting Meilisearch looks cheaper for our size.",
        ("work", "meeting"),
    ),
    "api-design": (
        "API design notes",
        "Cursor pagination instead of offsets, idempotency keys on POST, error bodies with a "
        "machine-readable code and the offending field.",
        ("work", "design"),
    ),
    "security-review": (
        "Security review checklist",
        "Rotate API keys, enforce MFA for admins, review OAuth redirect URIs, scan "
        "dependencies, check the backups restore.",
        ("work", "security", "checklist"),
    ),
    "moving": (
        "Moving house checklist",
        "Redirect mail, update the address with the bank, book the van, measure the sofa for "
        "the new stairs, take meter readings.",
        ("home", "checklist"),
    ),
    "wifi": (
        "Wi-Fi dead spots",
        "The office upstairs drops the Wi-Fi. Try a mesh node on the landing or run an "
        "ethernet cable through the loft.",
        ("home",),
    ),
    # --- issue #13: compounds, CJK, phrases, exclusions, stream names ------------
    "wifi-password": (
        "Wi-Fi password for guests",
        "The guest network password is on the fridge door; the router admin login is in the "
        "password manager.",
        ("home",),
    ),
    "covid-booster": (
        "COVID-19 booster",
        "Booked the COVID-19 booster at the pharmacy for Saturday morning. Bring the "
        "vaccination card.",
        ("health",),
    ),
    "email-filters": (
        "Email filters",
        "Set up filters so receipts go to their own folder and newsletters skip the inbox.",
        ("admin",),
    ),
    "inbox-zero": (
        "Inbox zero",
        "Archive every e-mail older than a week; unsubscribe from the noisy mailing lists.",
        ("admin",),
    ),
    "sweet-potato-soup": (
        "Sweet potato soup",
        "Roast the sweet potato with cumin and chilli, blend with stock and coconut milk.",
        ("recipe", "dinner"),
    ),
    "potato-salad": (
        "Potato salad for the picnic",
        "New potatoes in a sweet mustard dressing with chives and capers. Make it the day before.",
        ("recipe",),
    ),
    "apple-crumble": (
        "Apple crumble",
        "An easy dessert: apples, oats, butter and brown sugar, baked for 40 minutes.",
        ("baking",),
    ),
    "fruit-dessert": (
        "Summer fruit dessert",
        "Mango, kiwi, berries and mint with a squeeze of lime. No oven needed.",
        ("dinner",),
    ),
    "strudel": (
        "Grandma's apple strudel",
        "Thin pastry, apples, raisins, cinnamon and breadcrumbs fried in butter. Roll it up "
        "and bake for 35 minutes; serve warm as a dessert.",
        ("baking",),
    ),
    "kyoto-sakura": (
        "京都の桜",
        "四月の初めに京都で桜を見に行く予定。哲学の道は上旬が見頃です。",
        ("travel",),
    ),
    "jp-meeting": (
        "会議メモ",
        "来週の会議で新しい検索機能について説明する。資料は金曜日までに準備します。",
        ("work",),
    ),
    "cn-weekend": (
        "周末计划",
        "周末去北京看朋友，顺便去故宫和长城。记得带护照和相机。",  # noqa: RUF001
        ("travel",),
    ),
    "cn-study": (
        "学习中文",
        "每天学习三十分钟中文，复习汉字和语法，周五上网课。",  # noqa: RUF001
        ("learning",),
    ),
    "kr-seoul": (
        "서울 여행",
        "서울에서 맛있는 비빔밥을 먹었다. 다음에는 부산에 가고 싶다.",
        ("travel",),
    ),
    "kr-meeting": (
        "회의 준비",
        "내일 회의에서 내년 예산 계획을 발표할 예정이다.",
        ("work",),
    ),
}

# Entries in named streams (the rest are in the Inbox): key -> stream name.
STREAMS: dict[str, str] = {
    "strudel": "Recipes",
    "sourdough": "Recipes",
    "curry": "Recipes",
    "podcast": "Side projects",
    "app-idea": "Side projects",
    "lisbon-trip": "Trips",
    "japan-trip": "Trips",
}

# Image files attached to entries: key -> file names.
ATTACHMENTS: dict[str, tuple[str, ...]] = {
    "boiler": ("boiler-pressure-gauge.jpg",),
    "moving": ("new-flat-floorplan.png",),
    "garden": ("raised-beds-sketch.png", "seedlings.png"),
}

# (query, relevant keys best first)
QUERIES: list[tuple[str, list[str]]] = [
    ("postgres migration", ["pg-migration", "pg-tuning"]),
    ("how do we migrate the database?", ["pg-migration"]),
    ("slow postgres queries", ["pg-tuning"]),
    ("checkout outage root cause", ["incident-0228"]),
    ("postmortem", ["incident-0228", "oncall"]),
    ("sourdough", ["sourdough"]),
    ("bread recipes", ["banana-bread", "sourdough"]),
    ("what to pack for the flight", ["packing"]),
    ("passport renewal", ["passport"]),
    ("japan itinerary kyoto", ["japan-trip"]),
    ("lisbon", ["lisbon-trip"]),
    ("dentist appointment", ["dentist"]),
    ("half marathon training plan", ["running"]),
    ("kitchen renovation quotes", ["renovation"]),
    ("insurance renewal", ["insurance"]),
    ("tax return documents", ["taxes"]),
    ("kubernetes upg", ["k8s-upgrade"]),
    ("chickpea curry", ["curry", "journal-0322"]),
    ("API keys", ["security-review", "standup-0312"]),
    ("boiler pressure plumber", ["boiler"]),
    ("interviewing backend engineers", ["hiring-backend"]),
    ('"meilisearch" pricing?', ["meeting-vendor"]),
]


class Case(NamedTuple):
    """A query, its relevant entries (best first) and the entries it must not return."""

    category: str
    query: str
    relevant: list[str]
    absent: Sequence[str] = ()


# Issue #13's categories. "relevant" is what a person expects, best first;
# "absent" must not be returned at all (an excluded word, a phrase in the
# wrong order).
CASES: list[Case] = [
    *(Case("plain", query, relevant) for query, relevant in QUERIES),
    # Typos: corrected from the account's own words, one edit for words of 4-7
    # letters, two above.
    Case("typo", "dentst", ["dentist"]),
    Case("typo", "dentist apointment", ["dentist"]),
    Case("typo", "pasport", ["passport", "packing"]),
    Case("typo", "itenirary", ["lisbon-trip"]),  # two edits in a 9-letter word
    Case("typo", "retorspective", ["retro-q1"]),  # two swapped pairs in 13 letters
    Case("typo", "sourdogh starter", ["sourdough"]),
    Case("typo", "chikpea curry", ["curry", "journal-0322"]),
    # Chinese, Japanese, Korean: any 2+ characters inside a sentence, one alone.
    Case("cjk", "哲学", ["kyoto-sakura"]),
    Case("cjk", "見頃", ["kyoto-sakura"]),
    Case("cjk", "桜", ["kyoto-sakura"]),
    Case("cjk", "検索機能", ["jp-meeting"]),
    Case("cjk", "会議", ["jp-meeting"]),
    Case("cjk", "京都 桜", ["kyoto-sakura"]),
    Case("cjk", "故宫", ["cn-weekend"]),
    Case("cjk", "长城", ["cn-weekend"]),
    Case("cjk", "汉字", ["cn-study"]),
    Case("cjk", "城", ["cn-weekend"]),
    Case("cjk", "비빔밥", ["kr-seoul"]),
    Case("cjk", "예산", ["kr-meeting"]),
    Case("cjk", "부산", ["kr-seoul"]),
    # Quoted phrases: the words next to each other, in this order.
    Case("phrase", '"sweet potato"', ["sweet-potato-soup"], ["potato-salad"]),
    Case("phrase", '"potato sweet"', [], ["sweet-potato-soup"]),
    Case("phrase", '"night guard"', ["dentist"]),
    Case("phrase", '"cold proof" bread', ["sourdough"]),
    # Exclusions and OR.
    Case("exclusion", "-baking dessert", ["fruit-dessert"], ["apple-crumble", "strudel"]),
    Case("exclusion", "bread -banana", ["sourdough"], ["banana-bread"]),
    Case("exclusion", "passport -renew", ["packing"], ["passport"]),
    Case("exclusion", "lisbon OR kyoto", ["lisbon-trip", "japan-trip"]),
    # Compounds spelled another way.
    Case("compound", "wifi", ["wifi", "wifi-password"]),
    Case("compound", "wifi password", ["wifi-password"]),
    Case("compound", "wi-fi", ["wifi", "wifi-password"]),
    Case("compound", "covid19", ["covid-booster"]),
    Case("compound", "covid-19 booster", ["covid-booster"]),
    Case("compound", "e-mail filters", ["email-filters"]),
    Case("compound", "email unsubscribe", ["inbox-zero"]),
    # A stream's name or an attachment's file name among the words.
    Case("field", "recipes apple", ["strudel"]),
    Case("field", "side projects podcast", ["podcast"]),
    Case("field", "trips sintra", ["lisbon-trip"]),
    Case("field", "gauge", ["boiler"]),
    Case("field", "floorplan", ["moving"]),
    Case("field", "seedlings", ["garden"]),
    # Relaxed fill: no entry has every word, the best any-word matches fill.
    Case("relaxed", "sourdough starter rye", ["sourdough"]),
    Case("relaxed", "garden compost shed", ["garden"]),
    Case("relaxed", "boiler pressure leak", ["boiler"]),
]
