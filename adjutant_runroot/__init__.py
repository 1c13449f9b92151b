"""koji's ``runroot`` task for adjutant: a command run in a container of a tag's buildroot.

A plugin of its own (entry point ``runroot``), built only on the public plugin API
(``adjutant.plugin`` and ``adjutant.plugin.tasks``). It reads kojid's runroot plugin
config (``/etc/kojid/plugins/runroot.conf``, or the ``[adjutant]`` key
``runroot_config``) and maps its mounts to container bind mounts.
"""
