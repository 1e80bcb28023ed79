"""The fictional county the demo account polices: its places, roads, partner accounts and the
words its posts are made of. Nothing here names a real person.

Every list is ordered most-common first and drawn with Zipf weights, so a few words are
everywhere and most are rare, as in real text, which is what makes searching the demo useful.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


def words(text: str) -> tuple[str, ...]:
    """A word list written as prose: comma-separated, line breaks ignored."""
    return tuple(" ".join(item.split()) for item in text.split(",") if item.strip())


def lines(text: str) -> tuple[str, ...]:
    """One item per line."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


class Zipf(Generic[T]):
    """Items drawn with probability ~ 1/rank**s (the first item is the most common)."""

    def __init__(self, items: tuple[T, ...] | list[T], s: float = 1.0) -> None:
        self.items = tuple(items)
        self._cum = list(itertools.accumulate(1 / (rank**s) for rank in range(1, len(items) + 1)))
        self._total = self._cum[-1]

    def pick(self, rng: random.Random) -> T:
        # what rng.choices(items, cum_weights=...) does for one item, without its overhead
        return self.items[bisect.bisect(self._cum, rng.random() * self._total)]


@dataclass(frozen=True)
class Account:
    """An X account of the fictional world (the police force itself or a partner body)."""

    id: str
    username: str
    name: str


# the account the demo archive belongs to
FORCE = Account("1200000000000000001", "ExampleshirePolice", "Examplefordshire Police")
COUNTY = "Examplefordshire"
WEBSITE = "https://www.exampleshire-police.example"

# partner bodies the force retweets, quotes, follows and talks to in its group DM
PARTNERS = (
    Account("1200000000000000002", "ExampleshireFire", "Examplefordshire Fire and Rescue"),
    Account("1200000000000000003", "ExampleshireCC", "Examplefordshire County Council"),
    Account("1200000000000000004", "ExampleshireAmb", "Examplefordshire Ambulance Service"),
    Account(
        "1200000000000000005", "ExampleshirePCC", "Examplefordshire Police & Crime Commissioner"
    ),
    Account("1200000000000000006", "ExRoadsPolicing", "Examplefordshire Roads Policing"),
    Account("1200000000000000007", "ExampleshireNHW", "Examplefordshire Neighbourhood Watch"),
    Account("1200000000000000008", "ExampleshireHwys", "Examplefordshire Highways"),
    Account("1200000000000000009", "ExCountyRescue", "Examplefordshire Lowland Rescue"),
)


TOWNS = Zipf(
    words(
        """
    Exampleford, Brackenmoor, Dunmarsh, Cresswold, Eastmere, Hollowbridge, Ambledown,
    Kestlewick, Marrowby, Thornwold, Saltcombe Magna, Gorsey Heath, Little Pindle, Upper
    Quenby, Wrexley, Fennick St Mary, Oxtoll, Barrowden Vale, Shalecross, Nettlebury,
    Ravensholt, Coldharbour Green, Elmstowe, Pellingham
"""
    )
)

STREETS = Zipf(
    words(
        """
    High Street, Station Road, Church Lane, Mill Road, London Road, Victoria Street, Market
    Place, Queens Road, Park Avenue, Bridge Street, Chapel Row, Orchard Close, Tanners Lane,
    Quarry Hill, Ropewalk, Cooper Street, Larkspur Way, Gasworks Lane, Saddlers Yard, Beacon
    Rise, Wharf Street, Ferry Approach, Kiln Close, Dovecote Mews
"""
    )
)

ROADS = Zipf(
    words(
        """
    A4120, A371, B3206, A39, M95, B4417, A4097, A3052, B1390, A610
"""
    )
)

JUNCTIONS = Zipf(
    lines(
        """
    the Exampleford bypass roundabout
    junction 14
    the Brackenmoor turn
    junction 15
    the Dunmarsh interchange
    Hollowbridge crossroads
    the Eastmere services
    the Cresswold flyover
    Kestlewick lights
    Marrowby Lane
"""
    )
)

CRIMES = Zipf(
    lines(
        """
    a burglary
    a theft from a vehicle
    an assault
    criminal damage
    a robbery
    the theft of a catalytic converter
    a shoplifting incident
    an arson attack
    a hit and run
    a distraction fraud
    the theft of a quad bike
    hare coursing
    fly-tipping
    the theft of tools from a van
    an indecent exposure
    the theft of diesel
    poaching
    the theft of lead from a church roof
"""
    )
)

OFFENCES = Zipf(
    lines(
        """
    burglary
    assault occasioning actual bodily harm
    possession with intent to supply
    dangerous driving
    robbery
    theft
    criminal damage
    drink driving
    possession of an offensive weapon
    handling stolen goods
    fraud by false representation
    causing death by dangerous driving
    stalking
    arson with intent
"""
    )
)

INCIDENT_WORDS = Zipf(
    lines(
        """
    a collision
    a report of a disturbance
    a break-in
    a fight outside a pub
    a police pursuit
    a search of a property
    a stop check
    a report of a man with a knife
    a fire at a barn
    reports of anti-social behaviour
"""
    )
)

COLOURS = Zipf(
    words(
        """
    black, silver, white, grey, blue, red, green, dark blue, maroon
"""
    )
)

VEHICLES = Zipf(
    words(
        """
    hatchback, van, saloon, pick-up truck, motorbike, estate car, moped, 4x4, tipper lorry,
    campervan, quad bike, horsebox
"""
    )
)

GARMENTS = Zipf(
    lines(
        """
    dark hooded top
    black puffer jacket
    grey tracksuit
    blue jeans and trainers
    high-visibility vest
    green parka
    red football shirt
    long beige coat
"""
    )
)

VENUES = Zipf(
    lines(
        """
    the library
    the community centre
    the Market Street car park
    the farmers' market
    the Exampleford retail park
    the leisure centre
    St Mary's church hall
    the village green
    the railway station
    Brackenmoor Primary School
"""
    )
)

ROLES = Zipf(
    lines(
        """
    police officers
    police staff
    PCSOs
    special constables
    999 call handlers
    detective constables
    volunteer cadet leaders
    forensic investigators
"""
    )
)

OPERATIONS = Zipf(
    words(
        """
    Kestrel, Harrier, Bramble, Nightjar, Foxglove, Lapwing, Sentinel, Hawthorn, Curlew,
    Millstone, Osprey, Tern, Wagtail, Yellowhammer, Dipper, Corncrake
"""
    )
)

DAYS = Zipf(
    words(
        """
    Saturday, Friday, Sunday, Monday, Thursday, Wednesday, Tuesday
"""
    ),
    0.3,
)

ADVICE = Zipf(
    lines(
        """
    Lock your doors and windows, even when you are at home.
    Never leave keys near the front door: thieves use hooks through letterboxes.
    Mark your tools with your postcode and keep a list of serial numbers.
    A timer switch on a lamp makes an empty house look lived in.
    Park in well-lit areas and keep valuables out of sight.
    Fit a lock to your catalytic converter or park close to a wall.
    Check the ID of anyone who calls at your door unexpectedly.
    Register your bike for free and lock it through the frame.
    Keep sheds and garages locked and out of view from the road.
    If something feels wrong, trust your instincts and call us.
    Do not post holiday photos until you are back home.
    Use a steering wheel lock: it is a visible deterrent.
    Secure ladders so they cannot be used to reach upstairs windows.
    Store farm machinery in locked buildings and fit trackers.
"""
    )
)

SCAMS = Zipf(
    lines(
        """
    the bank's fraud team
    HMRC
    a courier firm
    a broadband provider
    the police
    an energy company
    a parcel delivery service
    a cryptocurrency investment firm
"""
    )
)

SCAM_ASKS = Zipf(
    lines(
        """
    move money into a 'safe account'
    hand their bank card to a courier
    pay an overdue tax bill in gift cards
    install remote access software
    confirm their PIN over the phone
    pay a redelivery fee by text link
"""
    )
)

DETAILS = Zipf(
    lines(
        """
    Officers remain in the area to offer reassurance.
    Enquiries are ongoing.
    Thank you to everyone who has already come forward.
    Please share to help us reach as many people as possible.
    A scene guard is in place and forensic officers are at the address.
    The victim is being supported by specially trained officers.
    No one else is being sought in connection with the incident.
    We'd especially like to hear from anyone with dashcam or doorbell footage.
    There will be an increased police presence in the area this week.
    Patrols have been stepped up overnight.
    The road is expected to stay closed for several hours while investigators work.
    Our rural crime team is working with local landowners.
    The investigation is being led by the Major Crime Unit.
    An independent referral has been made, as is routine.
"""
    )
)

SIGN_OFFS = Zipf(
    words(
        """
    ^JB, ^SK, ^AM, ^RT, ^LP, ^DW, ^CH
"""
    )
)

# the county's residents are made of these (common names, combined at random: nobody real)
FIRST_NAMES = Zipf(
    words(
        """
    Sam, Alex, Jo, Chris, Jamie, Charlie, Sarah, Tom, Emma, Dan, Laura, Mark, Kate, Paul,
    Helen, Rob, Gemma, Steve, Rachel, Mike, Claire, Lee, Zoe, Gary, Nadia, Priya, Tariq,
    Aled, Morag, Femi, Ines, Wojtek, Bethan, Callum, Dawn, Eamon, Freya, Gus, Hattie, Ivo
"""
    ),
    0.6,
)

SURNAMES = Zipf(
    words(
        """
    Smith, Jones, Taylor, Brown, Williams, Wilson, Davies, Evans, Thomas, Roberts, Walker,
    Wright, Green, Hall, Wood, Harris, Clarke, Hughes, Patel, Khan, Lewis, Baker, Fletcher,
    Okafor, Nowak, Price, Mercer, Ashdown, Pennock, Tolley, Wragg, Quartermain, Fenwick,
    Bellamy
"""
    ),
    0.6,
)

HANDLE_WORDS = Zipf(
    words(
        """
    blue, kettle, walker, rider, moor, fox, vale, brook, garden, runner, cyclist, dad, mum,
    local, gull, heron, marsh, wold, hill, lane, baker, angler, birder, commuter, bus, farm,
    pony, terrier, spaniel
"""
    ),
    0.7,
)

# the long tail: things stolen, people described; most of these words appear a handful of times
ITEMS = Zipf(
    words(
        """
    a laptop, a mobile phone, a bicycle, a handbag, a wallet, a games console, power tools,
    jewellery, cash, a television, car keys, a passport, a watch, a tablet, a camera, a drone,
    a chainsaw, a strimmer, a leaf blower, a lawnmower, a trailer, a generator, a toolbox,
    a cordless drill, an angle grinder, a saddle, a bridle, horse rugs, fishing rods,
    golf clubs, a mountain bike, an e-scooter, an electric bike, a guitar, a violin,
    a trumpet, a coin collection, a stamp album, war medals, a wedding ring, an engagement ring,
    a pearl necklace, a gold bracelet, silver candlesticks, an antique clock, an oil painting,
    a garden statue, a stone birdbath, a bronze sundial, copper piping, lead flashing,
    scaffolding poles, roof tiles, solar panels, number plates, a satnav, a dashcam,
    a child seat, a pushchair, a mobility scooter, hearing aids, a charity collection tin,
    a lectern, a donation box, beehives, sheep, pheasants, ducks, chickens, red diesel,
    heating oil, fence panels, a hedge trimmer, a pressure washer, a welding kit,
    a workbench, a ladder, a wheelbarrow, a cement mixer, a canoe, a paddleboard, a telescope,
    a sewing machine, a microscope, a harp, a cello, a rocking horse, a model railway,
    a taxidermy owl, a ship in a bottle, a longcase clock, a weathervane, a millstone,
    an anvil, a butter churn, a cider press, a tandem, a penny-farthing, a sidecar
"""
    )
)
BUILDS = Zipf(
    words("slim, medium build, stocky, tall and thin, short and heavy-set, athletic build")
)
HAIR = Zipf(
    words(
        """
    short dark hair, short grey hair, a shaved head, long blonde hair, curly brown hair,
    ginger hair in a ponytail, receding fair hair, black braided hair, dyed blue hair,
    a grey ponytail, auburn hair in a bun, spiky bleached hair
"""
    )
)
FEATURES = Zipf(
    words(
        """
    a beard, glasses, a tattoo on the left hand, a nose piercing, a limp, a Welsh accent,
    a scar above one eyebrow, a Scottish accent, a gold tooth, freckles, a walking stick,
    a hearing aid, a moustache, a neck tattoo of a swallow, a West Country accent
"""
    )
)
