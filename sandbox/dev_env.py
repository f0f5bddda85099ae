"""Write a local .env with a random development JWT secret, once (secrets have no defaults in code)."""

import secrets
import sys
from pathlib import Path

path = Path(sys.argv[1] if len(sys.argv) > 1 else ".env")
lines = path.read_text().splitlines() if path.exists() else []
if not any(line.startswith("HOCBA_JWT_SECRET=") for line in lines):
    lines.append(f"HOCBA_JWT_SECRET={secrets.token_urlsafe(32)}")
    path.write_text("\n".join(lines) + "\n")
    print(f"[setup] wrote a development JWT secret to {path}")
