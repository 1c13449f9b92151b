"""Container runtime plugin for Docker, driven through dockerd's API with docker-py."""
