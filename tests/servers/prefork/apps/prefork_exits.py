"""An app module whose import ends the process: workers die before they are ready."""

import os

os._exit(1)
