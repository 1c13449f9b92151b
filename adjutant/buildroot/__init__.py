"""Buildroots: the container filesystem a task builds in, and how it is prepared."""
