"""What the force, its partners and the public say: templated sentences with varied details.

Each function returns a `Text` (entities included). The force writes in the measured style of
a police social media team; the public asks, thanks, complains, and sometimes overshares the
personal data (fictional, see `people`) that FOI redaction has to mask.
"""

from __future__ import annotations

import datetime as dt
import random

from archiver.demo import county as c
from archiver.demo.county import FORCE, PARTNERS, WEBSITE
from archiver.demo.people import HOSTILE, Person, email, landline, mobile, postcode, registration
from archiver.demo.text import Link, Named, Text, link_to

MAX_POST = 280 - 24  # X's limit, less a media link and its space
# kinds of the force's own posts, most frequent first
CATEGORIES = c.Zipf(
    (
        "appeal",
        "roads",
        "advice",
        "charged",
        "scam",
        "community",
        "missing",
        "operation",
        "recruitment",
        "rural",
    ),
    0.8,
)
_PARTNER_NEWS = (
    "Crews are dealing with a {what} in {town}. Please keep windows and doors closed.",
    "We're at the scene of a {what} on {street}, {town}. Avoid the area if you can.",
    "Reminder: test your smoke alarms this weekend. It takes ten seconds.",
    "Roadworks on the {road} near {junction} start on Monday for three weeks.",
    "Thank you to everyone who came to the {town} open day. See you next year!",
    "Winter gritting routes are now live for the {road} and main routes into {town}.",
    "Our volunteers were out in {town} today. Want to join them? Read more on our website.",
)
_PARTNER_WHAT = c.Zipf(
    (
        "house fire",
        "grass fire",
        "chimney fire",
        "vehicle fire",
        "chemical spill",
        "flooded road",
        "fallen tree",
        "gas leak",
    )
)
_QUESTIONS = (
    ("roads", "is the {road} still closed near {junction}? Trying to get to {town}."),
    ("roads", "any news on the accident on the {road}? Traffic is backed up past {junction}."),
    ("noise", "there's been loud music and shouting on {street}, {town} every night this week."),
    ("advice", "how do I report a scam text? Got one claiming to be from {scam}."),
    ("sighting", "helicopter circling over {town} for an hour, what's going on?"),
    ("advice", "where can I get my bike security marked in {town}?"),
    (
        "sighting",
        "a {colour} {vehicle} has been parked up on {street} with its engine running for ages.",
    ),
    ("noise", "youths on motorbikes tearing round the rec in {town} again. Someone will get hurt."),
    ("lost", "found a set of car keys outside {venue} in {town}. Who do I hand them to?"),
)
_ANSWERS = {
    "roads": "the road has now reopened in both directions. Thanks for your patience.",
    "noise": "thanks for letting us know. We've passed this to the {town} neighbourhood team, "
    "who will add it to their patrol plan.",
    "advice": "thanks for asking. You can find advice and report online at our website, or "
    "call 101.",
    "sighting": "thanks for the info. Please call 101 so we can log it, or 999 if a crime is "
    "happening now.",
    "lost": "please hand them in to {town} police station or any front counter. Thank you!",
}
_PUBLIC_REPLIES = c.Zipf(
    (
        "Shared 👍",
        "Thanks for the update",
        "Hope they find them soon 🙏",
        "Well done to all involved.",
        "About time! This has been going on for months.",
        "Any update on this?",
        "Saw blue lights on {street} last night, was that related?",
        "Where were you when my shed was broken into in {town}?",
        "Great work as always, {town} team.",
        "What about the speeding on {street}? Nobody ever does anything.",
        "Good to see officers out on foot in {town} for once.",
        "Shared in the {town} community group.",
        "My dashcam might have caught something, will check.",
        "Is {road} open yet?",
    )
)


def _fill(rng: random.Random, template: str) -> str:
    if "{" not in template:
        return template
    return template.format(
        town=c.TOWNS.pick(rng),
        street=c.STREETS.pick(rng),
        road=c.ROADS.pick(rng),
        junction=c.JUNCTIONS.pick(rng),
        colour=c.COLOURS.pick(rng),
        vehicle=c.VEHICLES.pick(rng),
        venue=c.VENUES.pick(rng),
        scam=c.SCAMS.pick(rng),
        what=_PARTNER_WHAT.pick(rng),
    )


def clock_time(rng: random.Random) -> str:
    hour, minute = rng.randrange(1, 13), rng.choice((0, 5, 10, 15, 20, 30, 40, 45, 50))
    return (
        f"{hour}.{minute:02d}{rng.choice(('am', 'pm'))}"
        if minute
        else f"{hour}{rng.choice(('am', 'pm'))}"
    )


def incident(rng: random.Random, when: dt.datetime) -> str:
    return f"incident {rng.randrange(1, 1400):04d} of {when.day} {when:%B}"


def _site(rng: random.Random, path: str) -> Link:
    return link_to(rng, f"{WEBSITE}/{path}")


def force_post(rng: random.Random, category: str, when: dt.datetime) -> Text:
    """An original post by the force in one of `CATEGORIES`, within X's 280 characters
    (less room for a media link); a draft that runs long is written again."""
    for _ in range(20):
        text = _compose(rng, category, when)
        if text.length <= MAX_POST:
            return text
    return _compose(rng, "advice", when)  # always short


def _compose(rng: random.Random, category: str, when: dt.datetime) -> Text:
    town, street = c.TOWNS.pick(rng), c.STREETS.pick(rng)
    t = Text()
    if category == "appeal":
        crime = c.CRIMES.pick(rng)
        t.hashtag("WitnessAppeal").add(
            f" We're appealing for witnesses after {crime} on {street}, {town} "
            f"at around {clock_time(rng)} on {c.DAYS.pick(rng)}. {_detail(rng, crime)} "
            f"Call 101 quoting {incident(rng, when)}. "
        ).hashtag("Exampleshire")
    elif category == "roads":
        direction = rng.choice(
            ("northbound", "southbound", "eastbound", "westbound", "in both directions")
        )
        t.hashtag("RoadClosure").add(
            f" The {c.ROADS.pick(rng)} is closed {direction} between {c.JUNCTIONS.pick(rng)} and "
            f"{c.JUNCTIONS.pick(rng)} following {c.INCIDENT_WORDS.pick(rng)}. Please avoid the "
            "area and allow extra time for your journey. "
        ).hashtag("Exampleshire")
        if rng.random() < 0.3:  # crews from partner bodies are often on scene too
            t.add(" Thanks to ").mention(rng.choice(PARTNERS[:4])).add(" for their help.")
    elif category == "advice":
        t.add(f"{c.ADVICE.pick(rng)} {c.ADVICE.pick(rng)} ").hashtag("CrimePrevention").add(" ")
        t.hashtag(town.split()[0])
    elif category == "charged":
        t.add(
            f"A {rng.randrange(17, 71)}-year-old {rng.choice(('man', 'woman'))} from {town} has "
            f"been charged with {c.OFFENCES.pick(rng)} following {c.INCIDENT_WORDS.pick(rng)} on "
            f"{street} last {c.DAYS.pick(rng)}. They will appear before Exampleford Magistrates' "
            f"Court on {(when + dt.timedelta(days=rng.randrange(1, 40))):%d %B}."
        )
    elif category == "scam":
        t.hashtag("ScamAlert").add(
            f" We've had reports of callers claiming to be from {c.SCAMS.pick(rng)} asking people "
            f"in {town} to {c.SCAM_ASKS.pick(rng)}. Hang up, wait five minutes and call your bank "
            "on a number you trust. "
        ).link(_site(rng, "advice/fraud"))
    elif category == "community":
        t.add(
            f"Officers from the {town} neighbourhood team will be at {c.VENUES.pick(rng)} on "
            f"{c.DAYS.pick(rng)} from {clock_time(rng)}. Pop along for a chat, bike marking and "
            "crime prevention advice. "
        ).hashtag(town.split()[0])
    elif category == "missing":
        who = c.FIRST_NAMES.pick(rng)
        t.hashtag("Missing").add(
            f" Have you seen {who}, {rng.randrange(13, 90)}? They were last seen in {town} on "
            f"{c.DAYS.pick(rng)} wearing a {c.GARMENTS.pick(rng)}. {who} is {c.BUILDS.pick(rng)} "
            f"with {c.HAIR.pick(rng)} and {c.FEATURES.pick(rng)}. If you see {who}, please call "
            f"999 quoting {incident(rng, when)}."
        )
    elif category == "operation":
        op = c.OPERATIONS.pick(rng)
        t.add(
            f"Operation {op}: over the weekend officers stopped {rng.randrange(20, 300)} vehicles, "
            f"seized {rng.randrange(2, 30)} for having no insurance and arrested "
            f"{rng.randrange(1, 15)} drivers on suspicion of drink or drug driving. "
        ).hashtag("Op" + op)
    elif category == "recruitment":
        t.add(
            f"Fancy a career with a difference? We're recruiting {c.ROLES.pick(rng)} across "
            f"{c.COUNTY}. Applications close on "
            f"{(when + dt.timedelta(days=rng.randrange(14, 60))):%d %B}. "
        ).link(_site(rng, f"careers/{when.year}")).add(" ").hashtag("JoinUs")
    else:  # rural
        t.hashtag("RuralCrime").add(
            f" A {c.COLOURS.pick(rng)} {c.VEHICLES.pick(rng)} was stolen from a farm near {town} "
            f"overnight, along with {c.ITEMS.pick(rng)} and {c.ITEMS.pick(rng)}. "
            f"{c.DETAILS.pick(rng)} Call 101 quoting {incident(rng, when)}."
        )
    return t


def _detail(rng: random.Random, crime: str) -> str:
    """What an appeal adds: what was taken, who was seen, or how the investigation stands."""
    draw = rng.random()
    if draw < 0.35 and any(w in crime for w in ("theft", "burglary", "robbery", "shoplifting")):
        return f"Items taken include {c.ITEMS.pick(rng)} and {c.ITEMS.pick(rng)}."
    if draw < 0.6:
        return (
            f"The suspect is described as {c.BUILDS.pick(rng)}, with {c.HAIR.pick(rng)} and "
            f"{c.FEATURES.pick(rng)}, wearing a {c.GARMENTS.pick(rng)}."
        )
    return c.DETAILS.pick(rng)


def thread_follow_up(rng: random.Random) -> Text:
    return Text().add(
        f"2/2 {c.DETAILS.pick(rng)} You can also report information anonymously online. "
        f"{c.DETAILS.pick(rng)}"
    )


def long_post(rng: random.Random, when: dt.datetime) -> Text:
    """Longer than 280 characters: X keeps it as a note tweet."""
    t = force_post(rng, "appeal", when)
    details, advice = rng.sample(c.DETAILS.items, 3), rng.sample(c.ADVICE.items, 3)
    t.add(" " + " ".join(f"{d} {a}" for d, a in zip(details, advice, strict=True)))
    return t.add(f" Thank you for your help, {c.COUNTY}.")


def partner_post(rng: random.Random) -> Text:
    return Text().add(_fill(rng, rng.choice(_PARTNER_NEWS)))


def quote_comment(rng: random.Random, partner: Named) -> Text:
    return Text().add(
        rng.choice(
            (
                "Please read and share. ",
                "Good advice from our partners. ",
                f"Working alongside {partner.name} today. ",
                "Roads in the area are affected: please plan ahead. ",
            )
        )
    )


def question(rng: random.Random) -> tuple[str, Text]:
    """A member of the public asks the force something: (topic, text mentioning the force)."""
    topic, template = rng.choice(_QUESTIONS)
    return topic, Text().mention(FORCE).add(" " + _fill(rng, template))


def answer(rng: random.Random, topic: str, asker: Person) -> Text:
    first = asker.name.split()[0] if asker.name[:1].isalpha() else "there"
    body = _fill(rng, _ANSWERS.get(topic, _ANSWERS["advice"]))
    return Text().mention(asker).add(f" Hi {first}, {body} {c.SIGN_OFFS.pick(rng)}")


def public_reply(rng: random.Random) -> Text:
    """A reply under one of the force's posts."""
    t = Text().mention(FORCE).add(" " + _fill(rng, _PUBLIC_REPLIES.pick(rng)))
    if rng.random() < 0.04:
        t.add(" " + overshare(rng))
    return t


def thanks(rng: random.Random) -> Text:
    return (
        Text()
        .mention(FORCE)
        .add(" " + rng.choice(("Thank you!", "Cheers 👍", "Brilliant, thanks.")))
    )


def overshare(rng: random.Random, which: int | None = None) -> str:
    """A sentence of (fictional) personal data, the kind FOI redaction must mask; `which`
    picks the kind (phone, email, address, vehicle, landline), else one at random."""
    which = rng.randrange(5) if which is None else which % 5
    if which == 0:
        return f"My number is {mobile(rng)} if you need a statement."
    if which == 1:
        return f"You can email me at {email(rng)}"
    if which == 2:
        return f"I live at {rng.randrange(1, 120)} {c.STREETS.pick(rng)}, {postcode(rng)}."
    if which == 3:
        return (
            f"The car was a {c.COLOURS.pick(rng)} {c.VEHICLES.pick(rng)}, reg {registration(rng)}."
        )
    return f"Ring my landline {landline(rng)} after 6."


def showcase(index: int, rng: random.Random) -> Text:
    """Replies every demo holds (at fixed places), so redaction and escaping always have
    something to work on: one per kind of personal data, one per hostile string."""
    pii = (
        f"I saw it all, call me on {mobile(rng)}",
        f"Please email me at {email(rng)} with the crime number",
        f"It happened outside my house, {rng.randrange(1, 60)} {c.STREETS.pick(rng)}, "
        f"{postcode(rng)}",
        f"The van was {registration(rng)}, it's always parked there",
        f"My landline is {landline(rng)}, ring any time",
    )
    items = pii + tuple(f"{h} is what the scam text said" for h in HOSTILE)
    return Text().mention(FORCE).add(" " + items[index % len(items)])


SHOWCASE_COUNT = 5 + len(HOSTILE)


def dm_exchange(rng: random.Random, index: int) -> list[tuple[bool, str]]:
    """A 1:1 conversation as (from_force, text) pairs, oldest first."""
    opener = rng.choice(
        (
            "Hi, I want to report something but don't want to be named. It's about "
            f"{c.STREETS.pick(rng)}.",
            f"Someone has been trying car doors on {c.STREETS.pick(rng)}, {c.TOWNS.pick(rng)}.",
            "How do I get a copy of a crime report for my insurance?",
            f"My neighbour's dog has been left alone for days in {c.TOWNS.pick(rng)}.",
        )
    )
    # the first conversations hold one of each kind of personal data and hostile string
    detail = f"{overshare(rng, index)} {HOSTILE[index]}" if index < len(HOSTILE) else overshare(rng)
    out = [
        (False, opener),
        (
            True,
            "Thanks for getting in touch. Please don't share personal details here; "
            f"call 101 or report online at {WEBSITE}/report ^{c.SIGN_OFFS.pick(rng)[1:]}",
        ),
        (False, detail),
    ]
    if rng.random() < 0.6:
        out.append((True, "Thank you, we've passed this to the local team, who will contact you."))
    if rng.random() < 0.4:
        out.append((False, "Thanks"))
    return out


def group_chat(rng: random.Random) -> str:
    return _fill(
        rng,
        rng.choice(
            (
                "Joint patrol in {town} confirmed for Friday evening.",
                "Can we align messaging on the {road} closure? Draft below.",
                "Fire investigation at {street}, {town} handed over to police.",
                "Reminder: multi-agency meeting moved to Thursday 10am.",
                "We'll post the road reopening once Highways confirm.",
                "Press enquiry about the {town} incident: please route to the police press office.",
            )
        ),
    )
