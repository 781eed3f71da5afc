"""Test tools (not product code): stand-ins for a bad link and a hostile board, on ptys."""
