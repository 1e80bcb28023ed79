"""The demo force's direct messages: 1:1 conversations with the public (direct-messages.js)
and group conversations with partner bodies (direct-messages-group.js), with the header files
X writes beside them. Messages are listed newest first, as in real archives.

DM text is served as typed (no HTML entities), so hostile text reaches the archive verbatim.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from archiver.demo import voices
from archiver.demo.clock import iso_ms, snowflake
from archiver.demo.county import FORCE, PARTNERS, WEBSITE
from archiver.demo.text import link_to, tco
from archiver.demo.timeline import DemoWorld

_ONE_TO_ONE, _GROUPS = 3, 6  # random streams (see DemoWorld.rng)
_GROUP_NAMES = (
    "Examplefordshire partners comms",
    "Roads and incidents desk",
    "Rural crime partnership",
)


@dataclass
class Conversation:
    """One conversation as the archive writes it, plus what the counts need."""

    entry: dict[str, Any]  # {"dmConversation": {...}}
    header: dict[str, Any]  # the same without text, urls or media
    messages: int = 0
    events: int = 0  # joins, leaves, renames: not messages
    media: list[tuple[str, str]] = field(default_factory=list)  # (file name, kind)


def conversation_count(world: DemoWorld) -> int:
    return max(6, world.posts // 150)


def group_count(world: DemoWorld) -> int:
    return 1 + world.posts // 20000


def _message(
    rng: random.Random, when: dt.datetime, sender: str, recipient: str | None, text: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(messageCreate, its header). A link to the force's website goes through t.co."""
    urls = []
    if WEBSITE in text:
        link = link_to(rng, f"{WEBSITE}/report")
        text = text.replace(f"{WEBSITE}/report", link.url, 1)
        urls.append({"url": link.url, "expanded": link.expanded, "display": link.display})
    mid = str(snowflake(rng, when))
    msg: dict[str, Any] = {"recipientId": recipient} if recipient else {}
    msg |= {
        "reactions": [],
        "urls": urls,
        "text": text,
        "mediaUrls": [],
        "senderId": sender,
        "id": mid,
        "createdAt": iso_ms(when),
        "editHistory": [],
    }
    header = {"id": mid, "senderId": sender}
    header |= {"recipientId": recipient} if recipient else {}
    header["createdAt"] = iso_ms(when)
    return msg, header


def one_to_one(world: DemoWorld) -> list[Conversation]:
    """Conversations with members of the public, newest conversation first."""
    count = conversation_count(world)
    who = random.Random(f"{world.seed}:dm-people").sample(range(len(world.people)), count)
    out = []
    for j in range(count - 1, -1, -1):
        rng = world.rng(_ONE_TO_ONE, j)
        person = world.people[who[j]]
        when = world.clock.anywhere((j + 0.8 * rng.random()) / count)
        events, headers, media = [], [], []
        for n, (from_force, text) in enumerate(voices.dm_exchange(rng, j)):
            sender, recipient = (FORCE.id, person.id) if from_force else (person.id, FORCE.id)
            msg, header = _message(rng, when, sender, recipient, text)
            if j == 0 and n == 2:  # the member of the public sends a photo
                name = "".join(
                    rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789", k=15)
                )
                msg["text"] += " " + tco(rng)
                msg["mediaUrls"] = [
                    f"https://ton.twitter.com/dm/{msg['id']}/{snowflake(rng, when)}/{name}.jpg"
                ]
                media.append((f"{msg['id']}-{name}.jpg", "photo"))
            events.append({"messageCreate": msg})
            headers.append({"messageCreate": header})
            when += dt.timedelta(minutes=rng.randrange(3, 600))
        low, high = sorted((person.id, FORCE.id), key=int)
        conv_id = f"{low}-{high}"
        out.append(
            Conversation(
                {"dmConversation": {"conversationId": conv_id, "messages": events[::-1]}},
                {"dmConversation": {"conversationId": conv_id, "messages": headers[::-1]}},
                messages=len(events),
                media=media,
            )
        )
    return out


def groups(world: DemoWorld) -> list[Conversation]:
    """Group conversations with partner bodies, newest first; the force was added by a
    partner (joinConversation, the oldest event), others join, leave and rename it."""
    out = []
    count = group_count(world)
    for g in range(count - 1, -1, -1):
        rng = world.rng(_GROUPS, g)
        members = rng.sample(PARTNERS, 4)
        when = world.clock.anywhere((g + 0.5 * rng.random()) / count)
        conv_id = str(snowflake(rng, when))
        events: list[dict[str, Any]] = [
            {
                "joinConversation": {
                    "initiatingUserId": members[0].id,
                    "participantsSnapshot": [m.id for m in members[:3]] + [FORCE.id],
                    "createdAt": iso_ms(when),
                }
            }
        ]
        headers = list(events)
        talkers = [FORCE, *members[:3]]
        for n in range(min(8 + world.posts // 1000, 400)):
            when += dt.timedelta(minutes=rng.randrange(5, 3000))
            if n == 2:
                events.append(
                    {
                        "participantsJoin": {
                            "initiatingUserId": members[0].id,
                            "userIds": [members[3].id],
                            "createdAt": iso_ms(when),
                        }
                    }
                )
                talkers.append(members[3])
            elif n == 4:
                events.append(
                    {
                        "conversationNameUpdate": {
                            "initiatingUserId": FORCE.id,
                            "name": rng.choice(_GROUP_NAMES),
                            "createdAt": iso_ms(when),
                        }
                    }
                )
            elif n == 7:
                events.append(
                    {"participantsLeave": {"userIds": [members[1].id], "createdAt": iso_ms(when)}}
                )
                talkers.remove(members[1])
            else:
                msg, header = _message(
                    rng, when, rng.choice(talkers).id, None, voices.group_chat(rng)
                )
                events.append({"messageCreate": msg})
                headers.append({"messageCreate": header})
                continue
            headers.append(events[-1])
        messages = sum("messageCreate" in e for e in events)
        out.append(
            Conversation(
                {"dmConversation": {"conversationId": conv_id, "messages": events[::-1]}},
                {"dmConversation": {"conversationId": conv_id, "messages": headers[::-1]}},
                messages=messages,
                events=len(events) - messages,
            )
        )
    return out
