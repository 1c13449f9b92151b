"""The errors any image resolver may raise; the core turns them into a task failure that
names the cause ("cannot choose the container image: ..."). Part of the plugin API."""

from __future__ import annotations


class PolicyError(Exception):
    """The policy is malformed; the message names the tag and what is wrong."""


class PolicyUnavailable(Exception):
    """The policy could not be read (the hub did not answer) and no earlier answer is
    cached."""
