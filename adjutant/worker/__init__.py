"""The Koji build worker: kojid's place on a build host, building in containers."""
