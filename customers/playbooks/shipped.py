"""The playbooks every install starts with, switched off (a data migration adds them;
plain data, so the migration can read it). Names and texts are stored in English and
shown translated."""

from django.utils.translation import gettext_noop

PLAYBOOKS = [
    {
        "key": "onboarding",
        "name": gettext_noop("Onboarding: day 0, 3 and 7"),
        "trigger": "signup",
        "trigger_value": "0",
        "steps": [
            {"action": "email", "value": "welcome"},
            {"action": "wait", "value": "3"},
            {"action": "email", "value": "tips"},
            {"action": "wait", "value": "4"},
            {"action": "email", "value": "onboarding"},
        ],
        "exits": ["replied", "unsubscribed", "churned"],
        "reenter_days": None,
    },
    {
        "key": "rescue",
        "name": gettext_noop("Red-health rescue"),
        "trigger": "red",
        "trigger_value": "",
        "steps": [
            {"action": "email", "value": "rescue"},
            {"action": "wait", "value": "3"},
            {
                "action": "followup",
                "value": gettext_noop("Call: health is red and the rescue e-mail had no reply"),
            },
        ],
        "exits": ["replied", "healthy", "unsubscribed", "churned"],
        "reenter_days": 60,
    },
    {
        "key": "csat_after_ticket",
        "name": gettext_noop("CSAT after a resolved ticket"),
        "trigger": "ticket",
        "trigger_value": "",
        "steps": [{"action": "survey", "value": "csat"}],
        "exits": ["unsubscribed", "churned"],
        "reenter_days": 30,
    },
    {
        "key": "nps_quarterly",
        "name": gettext_noop("NPS every 90 days for active customers"),
        "trigger": "active",
        "trigger_value": "",
        "steps": [{"action": "survey", "value": "nps"}],
        "exits": ["unsubscribed", "churned"],
        "reenter_days": 90,
    },
    {
        "key": "winback",
        "name": gettext_noop("Win-back with an exit question"),
        "trigger": "cancelled",
        "trigger_value": "",
        "steps": [
            {"action": "wait", "value": "1"},
            {"action": "email", "value": "winback"},
            {"action": "tag", "value": "win-back"},
        ],
        "exits": ["replied", "unsubscribed"],
        "reenter_days": None,
    },
]
