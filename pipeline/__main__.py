"""``python -m pipeline STAGE ...``."""

from .cli import main

raise SystemExit(main())
