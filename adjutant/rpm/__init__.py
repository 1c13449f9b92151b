"""Reading RPM package files without the rpm Python bindings."""
