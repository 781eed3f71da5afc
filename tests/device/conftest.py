# The files in this folder are MicroPython scripts run ON a board by
# tests/test_device_scripts.py; CPython's pytest must not import them.
collect_ignore_glob = ["*.py"]
