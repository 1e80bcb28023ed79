"""The public who reply to, mention and message the demo force: fictional people, and the
fictional personal data they give away (which FOI redaction must mask).

Personal data stays in ranges reserved for drama and documentation, so none of it can reach
a real person: phones in Ofcom's 01632 960xxx / 07700 900xxx, email at example.org /
example.invalid, postcodes in the non-geographic ZZ99 area. Vehicle registrations follow the
current "AB12 CDE" shape with random letters.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass

from archiver.demo.clock import snowflake
from archiver.demo.county import FIRST_NAMES, HANDLE_WORDS, SURNAMES, TOWNS

# plate letters the DVLA uses (no I, Q or Z)
_PLATE_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXY"
_POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

# text that must come out escaped in HTML and neutralised in CSV, wherever it is shown
HOSTILE = (
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x")',
    "<img src=x onerror=alert(1)>",
    "+SUM(1,2)",
    "@SUM(1+1)*cmd|' /C calc'!A0",
)


# the follower review's examples among the public (see ops/docs/demo.md): people imitating
# the force (index -> handle, display name), of whom one mentions it without following it,
# and serial followers (index -> followers, following)
IMPOSTORS = {
    3: ("Exampleshire_Police", "Examplefordshire Police"),
    4: ("ExampIeshirePolice", "Exampleshire Police Help Desk"),
}
MENTIONS_ONLY = 4
SERIAL = {5: (35, 4_800), 6: (12, 5_210)}


@dataclass(frozen=True)
class Person:
    """A member of the public with an X account."""

    id: str
    username: str
    name: str
    created_at: dt.datetime
    location: str
    followers: int
    following: int
    posts: int


def mobile(rng: random.Random) -> str:
    return f"07700 900{rng.randrange(1000):03d}"


def landline(rng: random.Random) -> str:
    return f"01632 960{rng.randrange(1000):03d}"


def postcode(rng: random.Random) -> str:
    return f"ZZ99 {rng.randrange(10)}{''.join(rng.choices(_POSTCODE_LETTERS, k=2))}"


def registration(rng: random.Random) -> str:
    area = "".join(rng.choices(_PLATE_LETTERS, k=2))
    return f"{area}{rng.randrange(10, 75):02d} {''.join(rng.choices(_PLATE_LETTERS, k=3))}"


def email(rng: random.Random, person: Person | None = None) -> str:
    first, _, last = (person.name if person else "").partition(" ")
    local = (first or FIRST_NAMES.pick(rng)).lower() + "." + (last or SURNAMES.pick(rng)).lower()
    local = "".join(ch for ch in local if ch.isalnum() or ch == ".").strip(".")
    domain = rng.choice(("example.org", "example.invalid"))
    return f"{local}{rng.randrange(10, 99)}@{domain}"


def _username(rng: random.Random, first: str, last: str) -> str:
    shape = rng.randrange(5)
    if shape == 0:
        name = f"{first}{last}{rng.randrange(1, 99)}"
    elif shape == 1:
        name = f"{first}_{last[0]}"
    elif shape == 2:
        name = (
            f"{HANDLE_WORDS.pick(rng).title()}{HANDLE_WORDS.pick(rng).title()}{rng.randrange(100)}"
        )
    elif shape == 3:
        name = f"{first.lower()}{rng.randrange(1960, 2006)}"
    else:
        name = f"{TOWNS.pick(rng).split()[0]}{HANDLE_WORDS.pick(rng).title()}"
    return name[:15]


def _display_name(rng: random.Random, first: str, last: str) -> str:
    shape = rng.randrange(6)
    if shape == 0:
        return f"{first} {last[0]}."
    if shape == 1:
        return f"{first} 🐾"
    return f"{first} {last}"


def public(seed: int, size: int, start: dt.datetime) -> tuple[Person, ...]:
    """`size` fictional people, the same for the same seed; the first few have the names
    that test escaping (X allows almost anything in a display name)."""
    rng = random.Random(f"{seed}:people")
    seen: set[str] = set()
    people = []
    special = ["Jo <b>Bold</b> & Sons", '=HYPERLINK("http://x","Sam")', 'Chris "Quotes" O\'Neil']
    for n in range(size):
        first, last = FIRST_NAMES.pick(rng), SURNAMES.pick(rng)
        username = _username(rng, first, last)
        while username.lower() in seen:
            username = f"{username[:12]}{rng.randrange(100, 999)}"
        seen.add(username.lower())
        joined = start - dt.timedelta(days=rng.randrange(30, 4000), seconds=rng.randrange(86400))
        # accounts from before snowflake user ids (about 2013) have short sequential ids
        legacy = joined.year < 2013 or (joined.year < 2016 and rng.random() < 0.5)
        uid = str(rng.randrange(10**7, 3 * 10**9)) if legacy else str(snowflake(rng, joined))
        name = special[n] if n < len(special) else _display_name(rng, first, last)
        people.append(
            Person(
                id=uid,
                username=username,
                name=name,
                created_at=joined,
                location=f"{TOWNS.pick(rng)}, {'Examplefordshire' if rng.random() < 0.6 else 'UK'}",
                followers=int(rng.paretovariate(1.2) * 40),
                following=rng.randrange(20, 900),
                posts=rng.randrange(5, 20000),
            )
        )
    for n, (username, name) in IMPOSTORS.items():
        if n < len(people):
            people[n] = dataclasses.replace(people[n], username=username, name=name)
    for n, (followers, following) in SERIAL.items():
        if n < len(people):
            people[n] = dataclasses.replace(people[n], followers=followers, following=following)
    return tuple(people)


def stranger(rng: random.Random, uid: str, joined: dt.datetime, *, serial: bool = False) -> Person:
    """A silent follower, known by the lists only: `rng` is its own stream. A serial follower
    follows thousands and is followed by few (what the follower review looks for)."""
    first, last = FIRST_NAMES.pick(rng), SURNAMES.pick(rng)
    following = rng.randrange(2_000, 8_000) if serial else rng.randrange(20, 900)
    followers = rng.randrange(1, following // 12) if serial else int(rng.paretovariate(1.2) * 40)
    return Person(
        id=uid,
        username=f"{_username(rng, first, last)[:11]}{uid[-4:]}",  # unique: the id's end
        name=_display_name(rng, first, last),
        created_at=joined,
        location=f"{TOWNS.pick(rng)}, {'Examplefordshire' if rng.random() < 0.6 else 'UK'}",
        followers=followers,
        following=following,
        posts=rng.randrange(0, 3000),
    )
