"""Running rpmbuild in a container: the command, its environment and reading its failures."""
