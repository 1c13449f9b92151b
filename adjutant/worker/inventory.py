"""The inventory of a buildroot image, for its SBOM.

An image's inventory is taken once: the buildroot install writes it (``install.sh`` runs
``inventory.sh`` last); any other image (a cache plugin's, the image used as it is) gets a
short container of its own, root with no network and no capabilities, writing only into a
directory of ours. Either way it is kept by image id in ``<cache_dir>/inventories``.
"""

from __future__ import annotations

from pathlib import Path

from adjutant.container.spec import Mount
from adjutant.container.untrusted import UnsafeFile, UntrustedDir, private_dir
from adjutant.logs.fanout import TaskLog
from adjutant.sbom.inventory import (
    INVENTORY_FILES,
    BuildrootInventory,
    InventoryStore,
    parse_inventory,
)
from adjutant.settings import WorkerSettings
from adjutant.worker.context import TaskContext
from adjutant.worker.errors import build_error
from adjutant.worker.scripts import staged_script
from adjutant.worker.steps.containers import container_spec, run_in_container

INVENTORY_SCRIPT = "/etc/adjutant/inventory.sh"
_OUT = "/adjutant-inventory"
#: The raw lists of a buildroot stay far below this; a bigger file is refused.
_LIST_LIMIT = 16 << 20


def inventory_store(settings: WorkerSettings) -> InventoryStore:
    return InventoryStore(Path(settings.cache_dir) / "inventories")


def read_inventory(written: UntrustedDir) -> BuildrootInventory:
    """The inventory from the lists ``inventory.sh`` wrote into ``written`` (a directory a
    container wrote: read without following links; a refused file is a BuildError)."""
    texts = {}
    for name in INVENTORY_FILES:
        try:
            texts[name] = written.read_text(name, _LIST_LIMIT)
        except UnsafeFile as exc:
            written.refuse(exc.relpath, exc.reason)
            raise build_error(f"the buildroot's inventory was refused: {exc}") from None
    return parse_inventory(texts)


def buildroot_inventory(ctx: TaskContext, image_id: str, log: TaskLog) -> BuildrootInventory:
    """The inventory of image ``image_id``: the stored one, else taken now and stored."""
    store = inventory_store(ctx.settings)
    found = store.get(image_id)
    if found is not None:
        return found
    out = private_dir(ctx.workdir / "inventory")  # the container's root owns it too
    script = staged_script(ctx.workdir, "inventory.sh")
    spec = container_spec(ctx, image_id, ("sh", INVENTORY_SCRIPT, _OUT), user="0:0",
                          timeout=300.0, mounts=(Mount(script, INVENTORY_SCRIPT),
                                                 Mount(out, _OUT, writable=True)))
    result = run_in_container(ctx, spec, log.write_output)
    if not result.ok:
        raise build_error(f"taking the inventory of the buildroot failed (exit "
                          f"{result.exit_code}); see {log.name}")
    inventory = read_inventory(UntrustedDir(out, log.line))
    store.put(image_id, inventory)
    return inventory
