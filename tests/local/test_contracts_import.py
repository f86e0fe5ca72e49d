"""`contracts` is importable by an upstream system with pydantic alone.

A fresh interpreter (a subprocess: this one has loaded everything already) imports the
package and everything in it, then lists what got loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
import contracts, contracts.schema_export
from contracts import SubmitJob, subjects, streams, raw
loaded = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps(loaded))
"""


def test_importing_contracts_loads_no_nats_client_and_no_service() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    loaded = set(json.loads(out))
    assert "pydantic" in loaded  # the probe really imported the models
    assert not loaded & {"nats", "faststream", "services", "asyncpg", "minio"}, loaded
