"""A small hand-written notes corpus with queries and the entries a person would expect.

Each query lists its relevant entries, best first. The queries are what people
and assistants actually type: questions, word forms that differ from the text,
half-typed last words, stray punctuation.
"""

from __future__ import annotations

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
