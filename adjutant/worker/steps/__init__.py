"""The steps task pipelines are made of. Each takes the task's
:class:`~adjutant.worker.context.TaskContext` and returns what the next step needs:

- :mod:`.image`      choose the task's image (policy hooks) and have it locally
- :mod:`.containers` run one container with the task's labels, mounts and limits
- :mod:`.buildroot`  prepare the buildroot from the tag's repo and record it on the hub
- :mod:`.rpmbuild`   run rpmbuild in the buildroot; explain a failure
- :mod:`.results`    take results out of a build's directory safely; upload them
- :mod:`.srpm`       the SRPM-in-buildroot pipeline rebuildSRPM and buildSRPMFromSCM share
"""
