"""Container runtime plugin for podman, driven through its API service with podman-py."""
