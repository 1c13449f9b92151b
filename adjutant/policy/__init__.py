"""Image policy: which container image a task runs in, decided from hub tag data."""
