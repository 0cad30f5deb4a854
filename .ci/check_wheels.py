"""Check the wheels `uv build --all-packages` made: metadata complete, every file inside.

    python .ci/check_wheels.py DIST_DIR

For each workspace package (``packages/*/pyproject.toml``) there must be one
wheel in DIST_DIR whose metadata has a name, version, summary, the README as
description, ``Requires-Python``, classifiers and keywords, and whose
dependencies on the other Trace packages pin exactly their versions (they are
released together). Every file git tracks under the package's ``src/`` (Python
modules, ``py.typed``, migrations, templates, static files) must be in the
wheel, and the license (MIT, the LICENSE file) with it. Project URLs are reported
when missing, not refused: no public repository is decided yet. Exits 1 naming every problem.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = (
    "Name",
    "Version",
    "Summary",
    "Requires-Python",
    "Description-Content-Type",
    "License-Expression",
    "License-File",
)
PLURAL = ("Classifier", "Keywords")
UNDECIDED = ("Project-URL",)


def _normalized(name: str) -> str:
    return name.lower().replace("_", "-")


def main(dist: Path) -> int:
    """Check every package's wheel in ``dist``; return the exit status."""
    projects = {}
    for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        projects[_normalized(project["name"])] = (pyproject.parent, project)
    versions = {name: project["version"] for name, (_, project) in projects.items()}
    problems: list[str] = []
    notices: set[str] = set()
    for name, (folder, project) in projects.items():
        wheels = list(dist.glob(f"{name.replace('-', '_')}-{project['version']}-*.whl"))
        if len(wheels) != 1:
            problems.append(f"{name}: expected one wheel in {dist}, found {len(wheels)}")
            continue
        with zipfile.ZipFile(wheels[0]) as wheel:
            files = set(wheel.namelist())
            info = f"{name.replace('-', '_')}-{project['version']}.dist-info"
            metadata = Parser().parsestr(wheel.read(f"{info}/METADATA").decode())
        for field in REQUIRED + PLURAL:
            if not metadata.get_all(field):
                problems.append(f"{name}: no {field} in the metadata")
        if len(metadata.get_payload() or "") < 100:
            problems.append(f"{name}: no README as the description")
        for field in UNDECIDED:
            if not metadata.get_all(field):
                notices.add(field)
        for requirement in metadata.get_all("Requires-Dist") or []:
            dependency = _normalized(requirement.split(";")[0].split("[")[0].split("=")[0])
            dependency = dependency.strip(" <>!~")
            if dependency in versions:
                pin = f"{dependency}=={versions[dependency]}"
                if not requirement.replace(" ", "").startswith(pin):
                    problems.append(f"{name}: requires {requirement!r}, not {pin}")
        tracked = subprocess.run(
            ["git", "ls-files", "src"],  # noqa: S607 - the checkout's git, as CI runs it
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for path in tracked:
            inside = path.removeprefix("src/")
            if inside not in files:
                problems.append(f"{name}: {inside} is not in the wheel")
        print(f"{wheels[0].name}: {len(tracked)} files, metadata checked")
    for field in sorted(notices):
        print(f"note: no {field} in the metadata yet (not decided for the project)")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
