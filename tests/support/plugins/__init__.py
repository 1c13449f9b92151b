"""Plugins the tests load into worker processes with ``-p``/``ADJUTANT_PLUGINS_LOAD``."""
