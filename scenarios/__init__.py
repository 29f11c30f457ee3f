"""The bundled scenarios (package data: ``bench run quick``, ``bench scenarios``)."""
