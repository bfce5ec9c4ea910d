"""A scenario shipped as content, for workers that do not share the caller's disk (a
cluster): the scenario file and every file it names by path (its algo files and
recorded data files, as ``meshrt.runtime.digest`` finds them for the scenario's digest),
each with its sha256, by its path relative to the scenario's folder; beside a Python
algo file, the other .py files of its folder, which it may import (its folder is
importable while it loads).

A worker writes them out once per scenario digest into a private temporary folder,
refusing a file whose content does not match its sha256, and loads the scenario from
there (``meshrt.jobs.scenarios.receive``). Algos named by module ("package.module:Class")
or defined in the scenario file itself are imported by name, like meshrt: the workers
must have them installed.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import attrs

from meshrt.runtime.digest import algo_file_name, data_files, scenario_sha256

if TYPE_CHECKING:
    from meshrt.scenario.definition import Scenario


class ShipmentError(Exception):
    """A scenario that cannot be shipped, or a shipped file that arrived corrupted."""


@attrs.frozen(slots=True)
class ShippedFile:
    path: str  # relative to the scenario's folder, "/"-separated
    sha256: str
    content: bytes


@attrs.frozen(slots=True)
class Shipment:
    scenario_sha256: str  # the digest of what the scenario is made of, as the caller found it
    scenario_file: str  # which of ``files`` is the scenario file
    files: tuple[ShippedFile, ...]


def ship(scenario: Scenario, digest: str) -> Shipment:
    """``scenario`` (loaded from its file, of digest ``digest``) as content; ShipmentError
    when it names a file by an absolute path or outside its folder (a worker could not
    find it), or when its files changed since ``digest`` was taken."""
    base = Path(scenario.base_dir)
    assert scenario.source_path is not None, "a scenario loaded from its file"
    source = Path(scenario.source_path).relative_to(base).as_posix()
    named = [algo_file_name(d.algo) for d in scenario.deployments]
    algos = [_relative(name) for name in named if name is not None]
    beside = [
        (Path(algo).parent / sibling.name).as_posix()
        for algo in algos
        if algo.endswith(".py")
        for sibling in sorted((base / algo).parent.glob("*.py"))
    ]
    data = [_relative(name) for _, name in data_files(scenario)]
    files: dict[str, ShippedFile] = {}
    for path in (source, *algos, *beside, *data):
        if path not in files:
            content = (base / path).read_bytes()
            files[path] = ShippedFile(path, hashlib.sha256(content).hexdigest(), content)
    if scenario_sha256(scenario)[0] != digest:  # the files read above are the digest's
        raise ShipmentError(f"{scenario.source_path}: the scenario changed since it was loaded")
    return Shipment(digest, source, tuple(files.values()))


def unpack(shipment: Shipment) -> Path:
    """Write the shipment's files into a new private folder (removed when this process
    ends), each checked against its sha256 first; the scenario file's path in it."""
    folder = Path(tempfile.mkdtemp(prefix=f"meshrt-{shipment.scenario_sha256[:12]}-"))
    try:
        for file in shipment.files:
            found = hashlib.sha256(file.content).hexdigest()
            if found != file.sha256:
                raise ShipmentError(
                    f"shipped file {file.path}: its content's sha256 is {found}, "
                    f"not the {file.sha256} it was shipped with"
                )
            target = folder / _relative(file.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.content)
    except BaseException:
        shutil.rmtree(folder)
        raise
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder / _relative(shipment.scenario_file)


def _relative(name: str) -> str:
    """``name`` normalized, if it is a path inside the scenario's folder; ShipmentError
    otherwise: a worker has only that folder."""
    if Path(name).is_absolute():
        raise ShipmentError(
            f"{name}: named by an absolute path, which a worker cannot read (it does not "
            "share this disk): name it relative to the scenario's folder"
        )
    normal = PurePosixPath(os.path.normpath(name).replace(os.sep, "/"))
    if normal.parts[:1] == ("..",):
        raise ShipmentError(
            f"{name}: outside the scenario's folder, which is all a worker gets: "
            "move it into the folder"
        )
    return normal.as_posix()
