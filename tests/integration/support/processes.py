from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

# The ``start`` fixture's type: starts ``gateway`` with these arguments, output to this log file.
SpawnGateway = Callable[[list[str], Path], "subprocess.Popen[bytes]"]
