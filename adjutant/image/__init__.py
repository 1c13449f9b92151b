"""Container images adjutant builds itself (the default local buildroot image)."""
