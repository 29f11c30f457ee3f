"""An app module that cannot be imported (the master must stop with one clear line)."""

raise RuntimeError("this module is broken on purpose")
