"""The spoof detector's table: look-alikes of our accounts it must find, and innocent
near-names (neighbours, partners, the public) it must leave alone."""

from __future__ import annotations

import pytest

from archiver.spoofs import OwnAccount, find_imitation

OURS = [
    OwnAccount("ExampleshirePolice", "Exampleshire Police", "1200000000000000001"),
    OwnAccount("ExPoliceRoads", "Exampleshire Roads Policing", "1200000000000000002"),
]


@pytest.mark.parametrize(
    ("username", "name", "imitates", "why"),
    [
        ("ExampleshirePo1ice", "Exampleshire Po1ice", "ExampleshirePolice", "look-alike"),
        ("ExampIeshirePolice", "News", "ExampleshirePolice", "look-alike"),  # capital I for l
        ("ExampleshirePoIice", None, "ExampleshirePolice", "look-alike"),
        ("ExampleshirePollce", None, "ExampleshirePolice", "look-alike"),  # ll for li
        ("Examp1eshire_Police", None, "ExampleshirePolice", "look-alike"),
        ("ExampleshirePolice0", None, "ExampleshirePolice", "suffix"),
        ("Exampleshire_Police", None, "ExampleshirePolice", "underscores"),
        ("_ExampleshirePolice_", None, "ExampleshirePolice", "underscores"),
        ("ExampleshirePoliceUK", None, "ExampleshirePolice", "suffix"),
        ("RealExampleshirePolice", None, "ExampleshirePolice", "prefix"),
        ("ExampleshirePolice_official", None, "ExampleshirePolice", "suffix"),
        ("ExampleshirePolise", None, "ExampleshirePolice", "1 character"),
        ("ExampleshirPolce", None, "ExampleshirePolice", "2 characters"),
        ("ExPoIiceRoads", None, "ExPoliceRoads", "look-alike"),
        ("ExPoliceRoad", None, "ExPoliceRoads", "1 character"),
        ("jo_bloggs_1984", "Exampleshire Police", "ExampleshirePolice", "same display name"),
        ("helpful_neighbour", "EXAMPLESHIRE POLICE", "ExampleshirePolice", "same display name"),
        ("pcsosomeone", "ExampIeshirePolice", "ExampleshirePolice", "display name"),
    ],
)
def test_lookalikes_are_found_with_the_reason(username, name, imitates, why):
    found = find_imitation(username, name, OURS)
    assert found is not None, username
    assert found.imitates == imitates
    assert any(why in reason for reason in found.why), found.why


@pytest.mark.parametrize(
    ("username", "name"),
    [
        ("ExampleshirePolice", "Exampleshire Police"),  # ours
        ("exampleshirepolice", "anything"),  # ours, whatever the case
        ("ExampleshireFire", "Exampleshire Fire and Rescue"),
        ("ExampleshireCC", "Exampleshire County Council"),
        ("ExampleshirePCC", "Exampleshire Police and Crime Commissioner"),
        ("ExampleshirePoliceFed", "Exampleshire Police Federation"),
        ("DorsetPolice", "Dorset Police"),
        ("NorthExampleshirePolice", "North Exampleshire Police"),
        ("ExPoliceRoadsNorth", None),
        ("police_fan_99", "Police fan"),
        ("jo_public", "Jo Public"),
        ("ExampleshireParish", None),
        ("", None),
    ],
)
def test_innocent_near_names_are_not_flagged(username, name):
    assert find_imitation(username, name, OURS) is None


def test_our_own_id_is_never_flagged_even_after_a_rename():
    assert find_imitation("ExampleshirePo1ice", None, OURS, user_id="1200000000000000001") is None
