"""The build server: a warm ``adjutant`` process that runs ``adjutant build`` for its user.

A local build spends most of its start loading Python (the engine SDK with requests,
pluggy, stevedore, adjutant itself); the container work after that is the same as a bare
``podman run``. A build server loads all of it once, in a process that listens on a
socket only its user can reach; ``adjutant build-server start`` starts one, and so does
a build that found none, in the background once it is done. ``adjutant build`` then
connects instead of loading: it hands over its arguments, working directory,
environment, umask and its standard input, output and error, and the server forks a
child that runs the build as the command would have, on that terminal, and sends back
the exit status. Signals the command receives are passed on to the child; a command that
goes away (killed, its terminal closed) stops the child's build, which removes its
containers.

Modules: :mod:`.wire` (where the socket is, and the messages, loaded by every
``adjutant build``, so standard library C modules only), :mod:`.client` (the command's
side), :mod:`.server` (the listening process and its children), :mod:`.control`
(start, stop, status for ``adjutant build-server``).
"""
