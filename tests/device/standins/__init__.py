# STAND-IN — not the real port: fake timer APIs for unit tests only (see vhw.py).
