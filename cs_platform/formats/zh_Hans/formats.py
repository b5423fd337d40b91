"""Django's Simplified Chinese formats, with thousands separated as in Chinese business
reports (1,236,328), so amounts read the same on every card and in every sentence."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
