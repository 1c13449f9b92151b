"""Task logs: named streams (build.log, root.log, ...) fanned out to configured sinks."""
