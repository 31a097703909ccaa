"""The names the account generator draws from: PBX stems, sites with their UTC offsets, queue,
ring group and people names, and the shape of 8x8 ids."""

from __future__ import annotations

import string

# 8x8 ids are 22-character url-safe base64 strings (e.g. "rXp_ceLVQs6RYjUp1Iqqwa").
ID_ALPHABET = string.ascii_letters + string.digits + "-_"
ID_LENGTH = 22

PBX_NAME_STEMS = (
    "acmecorp",
    "globexsupport",
    "initechprod",
    "umbrellaops",
    "hooliwork",
    "starkcare",
    "wayneservices",
    "cyberdynehq",
    "soylentsales",
    "tyrellcorp",
    "oscorpdesk",
    "vandelayind",
)

# (site name, fixed UTC offset in hours). The offset only drives the daily rhythm of the model;
# the Customer Data API has no time-zone field. DST is ignored on purpose (determinism).
SITE_CATALOGUE = (
    ("SanJose", -8),
    ("London", 0),
    ("Bucharest", 2),
    ("NewYork", -5),
    ("Chicago", -6),
    ("Denver", -7),
    ("Dublin", 0),
    ("Berlin", 1),
    ("Manila", 8),
    ("Sydney", 10),
    ("Toronto", -5),
    ("Austin", -6),
)

QUEUE_NAMES = (
    "Sales",
    "Support",
    "Billing",
    "Renewals",
    "Onboarding",
    "Escalations",
    "Technical Support",
    "Customer Care",
    "Accounts",
    "Partners",
    "Returns",
    "VIP Line",
)

FIRST_NAMES = (
    "Ava",
    "Liam",
    "Noah",
    "Emma",
    "Olivia",
    "Mateo",
    "Ioana",
    "Andrei",
    "Sofia",
    "Lucas",
    "Maya",
    "Ethan",
    "Chloe",
    "Arjun",
    "Yuki",
    "Elena",
    "Omar",
    "Grace",
    "Hugo",
    "Zara",
    "Felix",
    "Nora",
    "Leo",
    "Ines",
)
LAST_NAMES = (
    "Kutch",
    "Schoen",
    "Popescu",
    "Nguyen",
    "Garcia",
    "Smith",
    "Ionescu",
    "Kowalski",
    "Okafor",
    "Tanaka",
    "Silva",
    "Murphy",
    "Dubois",
    "Larsen",
    "Haddad",
    "Rossi",
    "Fischer",
    "Moreau",
)


RING_GROUP_NAMES = (
    "Front Desk",
    "Reception",
    "Sales Hunt",
    "IT Helpdesk",
    "Facilities",
    "Main Line",
    "Dispatch",
    "Operators",
    "Hotline",
    "Concierge",
    "Switchboard",
    "Service Desk",
)
